"""Generated local content for the corpus scenes: fixed text and numbers, no network.

A large spreadsheet with three sheets and a multi-page Japanese and English document, both in
OpenDocument's flat XML (LibreOffice opens them as they are), a PDF converted from that document
by LibreOffice headless, a business form page and a long regulations page for the browser. The
text is the synthetic office scene's (bench/scenes/office.py), so all scenes read alike.
"""

from __future__ import annotations

import random
import subprocess
from html import escape
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from bench.scenes.office import DOC_PARAGRAPHS, SHEET_HEADERS, SHEET_ROWS

SEED = 20240601
SHEET_NAMES = ("集計", "明細", "前年度")
SHEET_DATA_ROWS = 600  # a large sheet: about 15 screens to scroll through
DOC_COPIES = 3  # DOC_PARAGRAPHS x 3 (itself three copies): twelve A4 pages in Writer
CONVERT_TIMEOUT_S = 120.0

NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"'
)


def _cell(value: object) -> str:
    if isinstance(value, int):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    return f'<table:table-cell office:value-type="string"><text:p>{xml_escape(str(value))}</text:p></table:table-cell>'  # noqa: E501


def spreadsheet(path: Path) -> None:
    """Three sheets of section-by-month figures, SHEET_DATA_ROWS rows each."""
    rng = random.Random(SEED)
    tables = []
    for name in SHEET_NAMES:
        rows = [
            "<table:table-row>" + "".join(_cell(h) for h in SHEET_HEADERS) + "</table:table-row>"
        ]
        for r in range(SHEET_DATA_ROWS):
            months = [rng.randrange(100, 9999) for _ in range(6)]
            note = "要確認" if r % 7 == 3 else ""
            values = [f"{SHEET_ROWS[r % len(SHEET_ROWS)]} {r // len(SHEET_ROWS) + 1}", *months]
            values += [sum(months), f"{rng.randrange(80, 125)}%", note]
            rows.append("<table:table-row>" + "".join(map(_cell, values)) + "</table:table-row>")
        tables.append(f'<table:table table:name="{name}">{"".join(rows)}</table:table>')
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<office:document {NS} office:mimetype="application/vnd.oasis.opendocument.spreadsheet">'
        f"<office:body><office:spreadsheet>{''.join(tables)}</office:spreadsheet></office:body>"
        "</office:document>",
        encoding="utf-8",
    )


def paragraphs() -> list[str]:
    return DOC_PARAGRAPHS * DOC_COPIES


def document(path: Path) -> None:
    """The guideline text as a multi-page flat ODT, each section a heading and its paragraph."""
    body = "".join(
        f'<text:h text:outline-level="1">{xml_escape(" ".join(p.split(" ")[:2]))}</text:h>'
        f"<text:p>{xml_escape(p)}</text:p>"
        for p in paragraphs()
    )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<office:document {NS} office:mimetype="application/vnd.oasis.opendocument.text">'
        f"<office:body><office:text>{body}</office:text></office:body></office:document>",
        encoding="utf-8",
    )


def pdf(path: Path) -> None:
    """The document converted to PDF by LibreOffice headless (its own throwaway profile)."""
    source = path.with_suffix(".fodt")
    document(source)
    profile = path.parent.parent / "libreoffice-convert"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(path.parent),
            str(source),
        ],
        capture_output=True,
        check=True,
        timeout=CONVERT_TIMEOUT_S,
    )
    if not path.exists():
        raise RuntimeError(f"LibreOffice did not write {path}")


PAGE_STYLE = """
body { font-family: "Noto Sans CJK JP", sans-serif; font-size: 15px; margin: 24px 48px; }
table { border-collapse: collapse; } td, th { border: 1px solid #999; padding: 4px 8px; }
label { display: inline-block; width: 12em; } .row { margin: 8px 0; }
input, select, textarea { font-size: 15px; padding: 3px; }
"""

FORM_FIELDS = [
    ("name", "氏名 (Name)"),
    ("kana", "フリガナ"),
    ("section", "所属 (Section)"),
    ("ext", "内線番号 (Extension)"),
    ("date", "在宅勤務日 (Date)"),
    ("pc", "職場PCの番号 (Office PC)"),
]


def form_page(path: Path) -> None:
    """A telework application form: text fields, a select, a textarea and a reference table."""
    fields = "".join(
        f'<div class="row"><label for="{key}">{escape(label)}</label>'
        f'<input id="{key}" name="{key}" size="40"></div>'
        for key, label in FORM_FIELDS
    )
    options = "".join(f"<option>{escape(s)}</option>" for s in SHEET_ROWS)
    table = "".join(
        f"<tr><td>{escape(building)}</td><td>{escape(s)}</td><td>内線 {2000 + 11 * i}</td>"
        f"<td>{8 + i % 3}:30-17:15</td></tr>"
        for building in ("本庁舎", "第二庁舎", "北支所")
        for i, s in enumerate(SHEET_ROWS)
    )
    path.write_text(
        "<!DOCTYPE html><html lang='ja'><head><meta charset='utf-8'>"
        f"<title>在宅勤務申請書</title><style>{PAGE_STYLE}</style></head><body>"
        "<h1>在宅勤務申請書 (Telework application)</h1>"
        f"<form>{fields}"
        f'<div class="row"><label for="kind">区分</label><select id="kind">{options}</select></div>'
        '<div class="row"><label for="work">業務内容 (Work)</label>'
        '<textarea id="work" rows="6" cols="60"></textarea></div>'
        "<button type='button'>申請 (Submit)</button></form>"
        f"<h2>各課の連絡先</h2><table><tr><th>庁舎</th><th>課</th><th>内線</th><th>受付</th></tr>{table}</table>"
        "</body></html>",
        encoding="utf-8",
    )


def long_page(path: Path) -> None:
    """The guideline text as one long page (headings, paragraphs and tables), ~40 screens."""
    rng = random.Random(SEED)
    parts = []
    for i, p in enumerate(paragraphs() * 2):
        parts.append(f"<h2>{i + 1}. {escape(' '.join(p.split(' ')[:2]))}</h2><p>{escape(p)}</p>")
        if i % 5 == 4:
            rows = "".join(
                f"<tr><td>{escape(s)}</td>"
                + "".join(f"<td>{rng.randrange(100, 9999)}</td>" for _ in range(6))
                + "</tr>"
                for s in SHEET_ROWS[:6]
            )
            head = "".join(f"<th>{escape(h)}</th>" for h in SHEET_HEADERS[:7])
            parts.append(f"<table><tr>{head}</tr>{rows}</table>")
    path.write_text(
        "<!DOCTYPE html><html lang='ja'><head><meta charset='utf-8'>"
        f"<title>テレワーク実施要領</title><style>{PAGE_STYLE}</style></head><body>"
        f"<h1>テレワーク実施要領 (Telework guideline)</h1>{''.join(parts)}</body></html>",
        encoding="utf-8",
    )
