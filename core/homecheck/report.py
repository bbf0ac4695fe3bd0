"""The checks a home PC runs on itself, and the report of them a login carries.

The report holds facts, not verdicts, where the verdict depends on the policy: the age of the
last successful OS update (the policy names how old is too old) and the viewer's version (the
policy names the minimum). The other checks are reported as a :class:`Status` directly.

On the wire (``Login.home_check``) a report is a flat JSON object of at most
:data:`MAX_REPORT_KEYS` keys; :meth:`HomeReport.from_wire` checks every value, so what the
relay and the office PC read is bounded however a viewer fills it.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

from core.admin_api import has_invisible
from core.errors import ProtocolError


class Check(enum.StrEnum):
    """One check; the values are the names policies, refusals and the CLI use."""

    OS_UPDATES = "os_updates"  # the last successful OS update is recent enough
    ANTIVIRUS = "antivirus"  # antivirus active and its signatures up to date
    FIREWALL = "firewall"
    DISK_ENCRYPTION = "disk_encryption"  # the system disk (BitLocker, LUKS)
    OS_SUPPORTED = "os_supported"  # the OS release still gets security updates
    VIEWER_VERSION = "viewer_version"  # at least the minimum the policy names


# The checks a policy may require by name (the viewer's version is required by naming a
# minimum version instead).
REQUIRABLE_CHECKS = (
    Check.OS_UPDATES,
    Check.ANTIVIRUS,
    Check.FIREWALL,
    Check.DISK_ENCRYPTION,
    Check.OS_SUPPORTED,
)


class Status(enum.StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    NOT_AVAILABLE = "not_available"  # this OS cannot tell (antivirus on Linux), or it failed


# A report is small: the keys below and nothing else (unknown keys from newer viewers are
# dropped, but a report may not carry more than this many).
MAX_REPORT_KEYS = 16
# The OS's name as the viewer reports it (for the audit log), and its version string.
MAX_OS_NAME_CHARS = 64
MAX_VERSION_CHARS = 32
# Versions are dotted numbers, at most four of them: 1.2.3, 10.0.19045.
_VERSION = re.compile(r"^\d{1,6}(\.\d{1,6}){0,3}$")
# An update age past this is as good as never (and keeps the integer small).
MAX_REPORTED_AGE_DAYS = 10_000

_STATUS_KEYS = ("antivirus", "firewall", "disk_encryption", "os_supported")


def parse_version(text: str) -> tuple[int, ...] | None:
    """``"1.2.3"`` -> ``(1, 2, 3)``; None for anything else. ``1.2`` equals ``1.2.0``."""
    if not isinstance(text, str) or not _VERSION.match(text):
        return None
    parts = [int(p) for p in text.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


@dataclass(frozen=True)
class Finding:
    """One check's outcome on this machine, with a short reason for people (never sent)."""

    status: Status
    detail: str = ""


@dataclass(frozen=True)
class HomeReport:
    """What a viewer says about its own machine."""

    viewer_version: str
    os_name: str
    updates_age_days: int | None  # days since the last successful update; None: cannot tell
    antivirus: Status
    firewall: Status
    disk_encryption: Status
    os_supported: Status

    def status_of(self, check: Check) -> Status:
        """The reported status of one of the checks reported as a status."""
        value: Status = getattr(self, check.value)
        return value

    def to_wire(self) -> dict[str, Any]:
        return {
            "viewer_version": self.viewer_version,
            "os_name": self.os_name,
            "updates_age_days": self.updates_age_days,
            **{key: getattr(self, key).value for key in _STATUS_KEYS},
        }

    @classmethod
    def from_wire(cls, value: Any) -> HomeReport | None:
        """The report a login carried; None for an empty object (no check was run).

        Raises :class:`ProtocolError` (the peer's fault) for anything malformed."""
        if not isinstance(value, dict) or len(value) > MAX_REPORT_KEYS:
            raise ProtocolError(f"home_check: an object of at most {MAX_REPORT_KEYS} keys")
        if not value:
            return None
        version = value.get("viewer_version")
        # Plain text only: both are kept in audit records and shown to admins as they are.
        if not isinstance(version, str) or len(version) > MAX_VERSION_CHARS:
            raise ProtocolError("home_check.viewer_version: a short string")
        if has_invisible(version):
            raise ProtocolError("home_check.viewer_version: control or invisible characters")
        os_name = value.get("os_name", "")
        if not isinstance(os_name, str) or len(os_name) > MAX_OS_NAME_CHARS:
            raise ProtocolError("home_check.os_name: a short string")
        if has_invisible(os_name):
            raise ProtocolError("home_check.os_name: control or invisible characters")
        age = value.get("updates_age_days")
        if age is not None and (
            not isinstance(age, int)
            or isinstance(age, bool)
            or not 0 <= age <= MAX_REPORTED_AGE_DAYS
        ):
            raise ProtocolError("home_check.updates_age_days: a number of days or null")
        statuses = {}
        for key in _STATUS_KEYS:
            try:
                statuses[key] = Status(value.get(key, Status.NOT_AVAILABLE))
            except (ValueError, TypeError):
                raise ProtocolError(f"home_check.{key}: pass, fail or not_available") from None
        return cls(version, os_name.strip(), age, **statuses)
