"""Checks of the names, IDs and numbers the directory is given, and the names in canonical form.

Operator input that fails a check raises :class:`InvalidInput` with a clear message; lookups fed
by a peer use :func:`canonical_names` or :func:`is_host_id` and never raise.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TypeGuard

from core.admin_api import has_invisible
from relay.store.errors import InvalidInput
from relay.store.schema import (
    MAX_DEPARTMENT_LEN,
    MAX_DEVICE_FINGERPRINT_LEN,
    MAX_FULL_NAME_LEN,
    MAX_HOST_ID_LEN,
    MAX_LOGIN_LEN,
    MAX_TENANT_NAME_LEN,
)

# Most rows one page of a list holds (the admin API's ``limit`` on staff, office PCs, grants).
MAX_PAGE_ROWS = 10_000

_HOST_ID_PATTERN = re.compile(rf"[\x21-\x7e]{{1,{MAX_HOST_ID_LEN}}}")


def clean_name(value: object, what: str, max_len: int) -> str:
    """NFKC-normalised ``value``; :class:`InvalidInput` if empty, too long or not plain text."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text")
    text = unicodedata.normalize("NFKC", value)
    if not text:
        raise InvalidInput(f"{what} must not be empty")
    if len(text) > max_len:
        raise InvalidInput(f"{what} is longer than {max_len} characters")
    if text != text.strip():
        raise InvalidInput(f"{what} must not start or end with spaces")
    if has_invisible(text):
        raise InvalidInput(f"{what} must not contain control or invisible characters")
    return text


def canonical_tenant(value: object) -> str:
    return clean_name(value, "tenant name", MAX_TENANT_NAME_LEN)


def canonical_login(value: object) -> str:
    """A login as the directory stores and compares it (NFKC: "ｓａｔｏ" is "sato");
    :class:`InvalidInput` if no login can be spelled so."""
    return clean_name(value, "login", MAX_LOGIN_LEN)


def optional_name(value: object, what: str, max_len: int) -> str:
    """Like :func:`clean_name`, but "" (not given) is allowed."""
    return "" if value == "" else clean_name(value, what, max_len)


def checked_full_name(value: object) -> str:
    """A staff member's full name as stored ("" for none); :class:`InvalidInput` if too long
    or not printable text."""
    return optional_name(value, "full name", MAX_FULL_NAME_LEN)


def checked_department(value: object) -> str:
    """A staff member's department as stored ("" for none); as :func:`checked_full_name`."""
    return optional_name(value, "department", MAX_DEPARTMENT_LEN)


def canonical_names(tenant: object, login: object) -> tuple[str, str] | None:
    """Cleaned names for a lookup, or None if they cannot name anything (peer input)."""
    try:
        return canonical_tenant(tenant), canonical_login(login)
    except InvalidInput:
        return None


def account_key(*names: str) -> str:
    """What lockouts count an account's failures by: its names as the directory compares them
    (NFKC), so "ａｌｉｃｅ" and "alice", which find the same account, share one count."""
    return "\x00".join(unicodedata.normalize("NFKC", name) for name in names)


def is_host_id(value: object) -> TypeGuard[str]:
    """True if ``value`` can be a host ID (peer input is checked with this, never raising)."""
    return isinstance(value, str) and _HOST_ID_PATTERN.fullmatch(value) is not None


def checked_host_id(value: object) -> str:
    if not is_host_id(value):
        raise InvalidInput(f"host ID must be 1 to {MAX_HOST_ID_LEN} printable ASCII characters")
    return value


def checked_device_fingerprint(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_DEVICE_FINGERPRINT_LEN:
        raise InvalidInput(
            f"device fingerprint must be 1 to {MAX_DEVICE_FINGERPRINT_LEN} characters"
        )
    return value


def lifetime(ttl_s: float, maximum: float, what: str) -> float:
    """``ttl_s`` as a float; :class:`InvalidInput` unless it is above 0 and at most ``maximum``."""
    if not 0 < ttl_s <= maximum:
        raise InvalidInput(f"{what} lifetime must be more than 0 and at most {maximum:g} s")
    return float(ttl_s)


def page_rows(limit: int | None) -> int | None:
    """A list's page size (None: no limit); :class:`InvalidInput` unless 1 to MAX_PAGE_ROWS."""
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_ROWS
    ):
        raise InvalidInput(f"a page holds 1 to {MAX_PAGE_ROWS} rows")
    return limit


def clip(value: str | None, max_len: int) -> str | None:
    """``value`` cut to ``max_len`` characters (for names from a peer that must be recorded)."""
    return None if value is None else value[:max_len]
