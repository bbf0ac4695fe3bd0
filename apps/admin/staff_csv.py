"""Reading a CSV file of staff members to add (職員ID, 氏名, 所属), before anything is sent: the
file's encoding found (UTF-8 with or without a BOM, or Shift_JIS as Excel in Japan saves CSV),
its heading row matched in Japanese or English, and each row checked and given its outcome
(new, already there, or invalid with the reason) for the admin to see first.

No Qt and no network here: the import dialog (:mod:`apps.admin.import_dialog`) shows the rows
and adds the new ones through the admin API, which checks them again.
"""

from __future__ import annotations

import csv
import enum
import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace

from apps.admin.failures import InputMissing
from apps.admin.texts import tr
from core.admin_api import MAX_DEPARTMENT_LEN, MAX_FULL_NAME_LEN, MAX_LOGIN_LEN, has_invisible

# Most staff rows one import adds: a large town hall's whole staff list is split by department;
# each row is one API call, so this also bounds how long an import runs.
MAX_IMPORT_ROWS = 500
# Largest file read: MAX_IMPORT_ROWS rows of the longest names with room to spare.
MAX_IMPORT_BYTES = 1024 * 1024

# The columns, with the headings accepted for each (compared after NFKC and casefold).
COLUMNS: dict[str, tuple[str, ...]] = {
    "login": ("職員id", "login", "staff id", "staff_id"),
    "full_name": ("氏名", "名前", "full name", "full_name", "name"),
    "department": ("所属", "部署", "department", "dept"),
}
# The longest each column may be, and how a reason names it.
_LIMITS = {"login": MAX_LOGIN_LEN, "full_name": MAX_FULL_NAME_LEN, "department": MAX_DEPARTMENT_LEN}
_FIELD_KEYS = {"login": "col_login", "full_name": "col_full_name", "department": "col_department"}


class CsvRefused(InputMissing):
    """The file as a whole cannot be imported; the message, translated, says why (and the
    console's status bar shows it as it shows any input to correct)."""


class Outcome(enum.Enum):
    NEW = "new"
    EXISTS = "exists"
    INVALID = "invalid"


@dataclass(frozen=True)
class StaffRow:
    """One data row of the file: its line number (the heading is line 1), its values as they
    will be sent, its outcome and, if invalid, the reason (translated)."""

    line: int
    login: str
    full_name: str = ""
    department: str = ""
    outcome: Outcome = Outcome.NEW
    reason: str = ""

    def body(self) -> dict[str, str]:
        """The add-staff request for this row."""
        return {"login": self.login, "full_name": self.full_name, "department": self.department}


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the name of its encoding: UTF-8 (with or without a BOM), else
    Shift_JIS (Microsoft's cp932, what Excel writes); :class:`CsvRefused` if neither."""
    if len(data) > MAX_IMPORT_BYTES:
        raise CsvRefused(tr("import_too_large", maximum=MAX_IMPORT_BYTES))
    encodings: tuple[tuple[str, str], ...]
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = (("utf-8-sig", "UTF-8 (BOM)"),)
    else:
        encodings = (("utf-8", "UTF-8"), ("cp932", "Shift_JIS"))
    for codec, name in encodings:
        try:
            return data.decode(codec), name
        except UnicodeDecodeError:
            continue
    raise CsvRefused(tr("import_not_decodable"))


def _heading(cell: str) -> str:
    return unicodedata.normalize("NFKC", cell).strip().casefold()


def read_rows(text: str) -> list[StaffRow]:
    """The data rows of ``text`` (CSV with a heading row), each checked on its own and against
    the rows before it; blank rows are skipped. :class:`CsvRefused` if there is no heading
    naming the staff ID column, or more than :data:`MAX_IMPORT_ROWS` rows."""
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise CsvRefused(tr("import_not_csv", reason=str(exc))) from None
    numbered = [(n, r) for n, r in enumerate(records, start=1) if any(c.strip() for c in r)]
    if not numbered:
        raise CsvRefused(tr("import_no_header"))
    (_, heading), data = numbered[0], numbered[1:]
    where = {}
    for index, cell in enumerate(heading):
        for column, names in COLUMNS.items():
            if _heading(cell) in names and column not in where:
                where[column] = index
    if "login" not in where:
        raise CsvRefused(tr("import_no_header"))
    if len(data) > MAX_IMPORT_ROWS:
        raise CsvRefused(tr("import_too_many_rows", count=len(data), maximum=MAX_IMPORT_ROWS))
    rows = []
    first_line: dict[str, int] = {}
    for line, record in data:
        values = {
            column: record[index].strip() if index < len(record) else ""
            for column, index in where.items()
        }
        row = StaffRow(
            line, values["login"], values.get("full_name", ""), values.get("department", "")
        )
        reason = problem(row)
        if not reason and row.login in first_line:
            reason = tr("import_repeated", line=first_line[row.login])
        first_line.setdefault(row.login, line)
        rows.append(replace(row, outcome=Outcome.INVALID, reason=reason) if reason else row)
    return rows


def problem(row: StaffRow) -> str:
    """Why the relay would refuse the row's values (translated), or "" if it would not: as
    relay.store.inputs checks them, NFKC-normalised."""
    if not row.login:
        return tr("import_no_login")
    for column, limit in _LIMITS.items():
        value = unicodedata.normalize("NFKC", getattr(row, column))
        field = tr(_FIELD_KEYS[column])
        if len(value) > limit:
            return tr("import_too_long", field=field, maximum=limit)
        if has_invisible(value):
            return tr("import_not_text", field=field)
        if value != value.strip():
            return tr("import_spaces", field=field)
    return ""


def against(rows: Iterable[StaffRow], existing: Iterable[str]) -> list[StaffRow]:
    """The rows with the staff already in the tenant (their logins) marked as such."""
    known = {unicodedata.normalize("NFKC", login) for login in existing}
    return [
        replace(row, outcome=Outcome.EXISTS)
        if row.outcome is Outcome.NEW and unicodedata.normalize("NFKC", row.login) in known
        else row
        for row in rows
    ]
