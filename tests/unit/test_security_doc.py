"""SECURITY.md names every limit constant, in the file that defines it, and nothing that is gone.

The constants are found by reading the source (module-level assignments whose names look like
limits), so a module that gains a limit, or a limit that moves, is checked without a list here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PACKAGES = ("core", "desktop", "storage", "transport", "relay", "apps")
LIMIT_NAME = re.compile(
    r"^(MAX|MIN)_|_(TIMEOUT_S|TTL_S|RATE_BPS|BURST_BYTES|FAILURES|LOCK_S|WINDOW_S)$"
)
CONSTANT_NAME = re.compile(r"^[A-Z][A-Z0-9_]+$")
NAME_IN_CELL = re.compile(r"`([A-Z][A-Z0-9_]+)`")


def module_constants(path: Path) -> set[str]:
    """Upper-case names assigned at the top level of ``path`` (not imported)."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return {n for n in names if CONSTANT_NAME.match(n)}


def source_files() -> dict[str, set[str]]:
    """Relative path -> the constants it defines, for every production module."""
    files = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                files[path.relative_to(ROOT).as_posix()] = module_constants(path)
    return files


def documented() -> dict[str, set[str]]:
    """Constant -> the files its rows in SECURITY.md's limits table name."""
    rows: dict[str, set[str]] = {}
    for line in (ROOT / "SECURITY.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and line.startswith("|"):
            for name in NAME_IN_CELL.findall(cells[0]):
                rows.setdefault(name, set()).add(cells[2])
    return rows


SOURCES = source_files()
DOCUMENTED = documented()


@pytest.mark.parametrize("path", [p for p, names in SOURCES.items() if names])
def test_every_limit_is_documented_where_it_is_defined(path):
    limits = sorted(n for n in SOURCES[path] if LIMIT_NAME.search(n))
    missing = [n for n in limits if n not in DOCUMENTED]
    assert not missing, f"{path}: add {missing} to SECURITY.md"
    elsewhere = {n: DOCUMENTED[n] for n in limits if path not in DOCUMENTED[n]}
    assert not elsewhere, f"{path} defines these, but SECURITY.md says: {elsewhere}"


def test_every_documented_limit_exists_in_the_file_named():
    stale = {
        (name, where)
        for name, files in DOCUMENTED.items()
        for where in files
        if name not in SOURCES.get(where, set())
    }
    assert not stale, f"SECURITY.md names constants that are not (or no longer) there: {stale}"


def test_the_scan_sees_the_limits():
    # Guards the test itself: a broken scan would find nothing and pass everything.
    assert "MAX_CONTROL_PAYLOAD" in SOURCES["core/protocol/framing.py"]
    assert DOCUMENTED["MAX_CONTROL_PAYLOAD"] == {"core/protocol/framing.py"}
    assert len(DOCUMENTED) > 80


def threat_model_rows() -> list[str]:
    """The rows of SECURITY.md's threat model table (after its header lines)."""
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    section = text.split("## Threat model", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][
        1:
    ]


TEST_FILE = re.compile(r"(tests/[\w/]+\.py)")
TEST_NAME = re.compile(r"`(test_\w+)`")


def test_the_threat_model_names_tests_that_exist():
    """Each row's evidence: the test files it names exist and hold the tests it names after
    them (a renamed or deleted test makes the table say something no test shows)."""
    rows = threat_model_rows()
    assert len(rows) >= 6
    for row in rows:
        evidence = row.rstrip(" |").rsplit("|", 1)[1]
        for part in evidence.split(";"):
            files = TEST_FILE.findall(part)
            if not files:
                continue
            source = (ROOT / files[0]).read_text(encoding="utf-8")
            for name in TEST_NAME.findall(part):
                assert re.search(rf"def {name}\(", source), f"{files[0]} has no {name}"
