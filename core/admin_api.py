"""What the relay's admin API and its clients (the console, ``telework-ctl``) agree on: its path
prefix, which carries the API's version, the admins' roles, and what a staff member's names may
be (the console checks a CSV file's rows by these before it sends any)."""

from __future__ import annotations

import unicodedata
from enum import StrEnum

API_PREFIX = "/api/v1"

# Staff logins: 64 characters like most directory services.
MAX_LOGIN_LEN = 64
# A staff member's full name ("山田 太郎") and department ("税務課 市民税係"), as the
# municipality's staff register writes them: 64 and 100 characters fit the longest in use.
MAX_FULL_NAME_LEN = 64
MAX_DEPARTMENT_LEN = 100


class AdminRole(StrEnum):
    """What an admin of the console may do; each API route names the roles it lets in."""

    OPERATOR = "operator"  # every tenant, and the relay-wide settings
    TENANT_ADMIN = "tenant_admin"  # everything of one tenant
    AUDITOR = "auditor"  # reads everything of one tenant, changes nothing
    HELPDESK = "helpdesk"  # one tenant's staff list, their one-time passwords and authenticators


# Issuer shown next to an admin's account in authenticator apps (the API and the CLI alike).
ADMIN_TOTP_ISSUER = "Telework admin"
# The roles of a tenant's own admins (an operator has no tenant).
TENANT_ROLES = frozenset({AdminRole.TENANT_ADMIN, AdminRole.AUDITOR, AdminRole.HELPDESK})
# The roles each role may give an admin it adds or changes: none above its own.
GRANTABLE_ROLES: dict[AdminRole, frozenset[AdminRole]] = {
    AdminRole.OPERATOR: frozenset(AdminRole),
    AdminRole.TENANT_ADMIN: TENANT_ROLES,
    AdminRole.AUDITOR: frozenset(),
    AdminRole.HELPDESK: frozenset(),
}
# Unicode categories no name may hold: controls, formats, surrogates, private use, unassigned
# (all "C*"), and the line and paragraph separators (U+2028, U+2029), which log viewers and
# terminals take for a line break: a name holding one could forge a log line.
_INVISIBLE_CATEGORIES = ("C", "Zl", "Zp")


def has_invisible(text: str) -> bool:
    """True if ``text`` holds a control, format, line-breaking or other invisible character
    (names and passwords must not: they could not be read back or typed, and in a log or an
    audit record they could forge a line)."""
    return any(unicodedata.category(ch).startswith(_INVISIBLE_CATEGORIES) for ch in text)
