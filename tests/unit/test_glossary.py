"""The apps call each thing by the one name docs/ja/glossary.md gives it: no catalog uses a
name the glossary lists as not used."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from apps.common.i18n import DOMAINS, read_catalog

GLOSSARY = Path(__file__).resolve().parents[2] / "docs" / "ja" / "glossary.md"
FIELD = re.compile(r"\{[^}]*\}")


def glossary() -> list[dict[str, str]]:
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] not in ("日本語", "---"):
            ja, en, _, avoid_ja, avoid_en = cells
            rows.append({"ja": ja, "en": en, "avoid_ja": avoid_ja, "avoid_en": avoid_en})
    return rows


def avoided(language: str) -> list[str]:
    names = []
    for row in glossary():
        cell = row[f"avoid_{language}"]
        names += [n.strip() for n in re.split("[、,]", cell) if n.strip()]
    return names


def used(name: str, text: str) -> bool:
    """Whether ``name`` is in ``text`` as itself, not as the start of a glossary term
    (中継サーバ in 中継サーバー, "the relay" in "the relay server")."""
    pattern = re.escape(name) + r"(?!ー| server)"
    return re.search(pattern, FIELD.sub("", text), re.IGNORECASE) is not None


def test_the_glossary_has_its_terms():
    terms = {row["ja"]: row["en"] for row in glossary()}
    assert terms["中継サーバー"] == "relay server"
    assert terms["職場PCのID"] == "office PC ID"
    assert terms["中継サーバーのフィンガープリント"] == "relay server fingerprint"
    assert "ホストID" in avoided("ja") and "host ID" in avoided("en")


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("domain", DOMAINS)
def test_no_catalog_uses_a_name_the_glossary_replaced(domain, language):
    names = avoided(language)
    found = [
        (message.id, name)
        for message in read_catalog(domain, language)
        if message.id
        for name in names
        if used(name, message.string)
    ]
    assert found == []


def test_a_term_is_not_mistaken_for_the_name_it_replaced():
    assert not used("中継サーバ", "中継サーバーに接続しています")
    assert used("中継サーバ", "中継サーバに接続しています")
    assert not used("the relay", "Cannot reach the relay server.")
    assert used("the relay", "Cannot reach the relay.")
    assert not used("tenant", "municipality: {tenant}")
