"""Parsers of what a Windows home PC shows about itself, from recorded command outputs.

The commands (apps/viewer/home_check.py runs them) are not run on this project's Linux
machines: only these parsers are tested, with outputs in the form Windows 10 and 11 print them
in English and Japanese (tests/unit/homecheck/fixtures/windows/, written out by hand from that
form, not captured by a test run). The commands:

- Windows Update history (``Microsoft.Update.Session`` ``QueryHistory``, as JSON) and, where
  that fails, ``Get-HotFix``'s table: the last successful update.
- Security Center's ``AntiVirusProduct`` (``root/SecurityCenter2``, as JSON) — any product,
  not just Defender — and ``Get-MpComputerStatus`` as a list for Defender alone.
- ``netsh advfirewall show allprofiles`` (localised: English and Japanese words).
- ``manage-bde -status C:`` (needs an administrator: a normal user's viewer gets "access
  denied" and reports not available) and the Shell's ``System.Volume.BitLockerProtection``.
- The ``CurrentBuild`` value of ``HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion``
  (``reg query``) against :data:`SUPPORTED_BUILDS`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from core.homecheck.report import Finding, Status

# Security Center's productState: bits 12-15 say whether real-time protection is on (1),
# bits 4-7 whether signatures are out of date (non-zero).
_AV_ENABLED_MASK, _AV_ENABLED = 0xF000, 0x1000
_AV_OUTDATED_MASK = 0x00F0
# Defender's signatures older than this many days are out of date (Defender updates daily).
MAX_SIGNATURE_AGE_DAYS = 7
# Windows Update's IUpdateHistoryEntry.ResultCode: 2 succeeded, 3 succeeded with errors.
_UPDATE_SUCCEEDED = (2, 3)

# When the table below was last checked against Microsoft's lifecycle pages. Build -> last day
# of security updates for Home and Pro editions (Enterprise and Education get longer; the
# shorter end is the safe one). A build newer than every one listed is a release after this
# table: supported. One older and not listed is out of support.
SUPPORTED_BUILDS_CHECKED = dt.date(2025, 6, 1)
SUPPORTED_BUILDS: dict[int, tuple[str, dt.date]] = {
    19045: ("Windows 10 22H2", dt.date(2025, 10, 14)),
    22621: ("Windows 11 22H2", dt.date(2024, 10, 8)),
    22631: ("Windows 11 23H2", dt.date(2025, 11, 11)),
    26100: ("Windows 11 24H2", dt.date(2026, 10, 13)),
}


def _json_list(text: str) -> list[dict[str, Any]]:
    """ConvertTo-Json prints one object bare and several as a list."""
    try:
        value = json.loads(text)
    except ValueError:
        return []
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


_MS_DATE = re.compile(r"/Date\((-?\d+)\)/")


def _json_date(value: Any) -> dt.datetime | None:
    """Windows PowerShell 5.1 writes ``/Date(ms)/``; PowerShell 7 an ISO 8601 time."""
    if not isinstance(value, str):
        return None
    if match := _MS_DATE.search(value):
        return dt.datetime.fromtimestamp(int(match[1]) / 1000, dt.UTC).replace(tzinfo=None)
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def last_update_from_history(json_text: str) -> dt.datetime | None:
    """The last successful entry of Windows Update's history (UTC), from
    ``QueryHistory(...) | Select-Object Date,ResultCode,Title | ConvertTo-Json``."""
    dates = [
        when
        for entry in _json_list(json_text)
        if entry.get("ResultCode") in _UPDATE_SUCCEEDED
        and (when := _json_date(entry.get("Date"))) is not None
    ]
    return max(dates, default=None)


# Get-HotFix's InstalledOn as the console's culture prints it: en-US M/D/YYYY, ja-JP YYYY/MM/DD.
_US_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_JA_DATE = re.compile(r"\b(\d{4})/(\d{1,2})/(\d{1,2})\b")


def last_update_from_hotfixes(table: str) -> dt.datetime | None:
    """The latest InstalledOn date in ``Get-HotFix``'s table (a date only: midnight)."""
    dates = []
    for line in table.splitlines():
        if match := _JA_DATE.search(line):
            year, month, day = int(match[1]), int(match[2]), int(match[3])
        elif match := _US_DATE.search(line):
            month, day, year = int(match[1]), int(match[2]), int(match[3])
        else:
            continue
        try:
            dates.append(dt.datetime(year, month, day))
        except ValueError:
            continue
    return max(dates, default=None)


def antivirus_from_security_center(json_text: str) -> Finding:
    """``Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct |
    Select-Object displayName,productState | ConvertTo-Json``: passes when any product has
    real-time protection on and its signatures up to date."""
    products = [p for p in _json_list(json_text) if isinstance(p.get("productState"), int)]
    if not products:
        return Finding(Status.NOT_AVAILABLE, "Security Center lists no antivirus")
    for product in products:
        state = product["productState"]
        if state & _AV_ENABLED_MASK == _AV_ENABLED and not state & _AV_OUTDATED_MASK:
            return Finding(Status.PASS, f"{product.get('displayName', '?')}: on, up to date")
    names = ", ".join(str(p.get("displayName", "?")) for p in products)
    return Finding(Status.FAIL, f"{names}: off or out of date")


def _list_fields(text: str) -> dict[str, str]:
    """PowerShell's ``Format-List`` output: ``Name : value`` lines."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            fields[key.strip()] = value.strip()
    return fields


def antivirus_from_defender(text: str) -> Finding:
    """``Get-MpComputerStatus | Format-List`` (Defender only)."""
    fields = _list_fields(text)
    if "AntivirusEnabled" not in fields:
        return Finding(Status.NOT_AVAILABLE, "Defender did not answer")
    on = all(fields.get(k) == "True" for k in ("AntivirusEnabled", "RealTimeProtectionEnabled"))
    try:
        age = int(fields.get("AntivirusSignatureAge", ""))
    except ValueError:
        age = None
    if not on:
        return Finding(Status.FAIL, "Defender real-time protection is off")
    if age is None or age > MAX_SIGNATURE_AGE_DAYS:
        return Finding(Status.FAIL, f"Defender signatures are {age} days old")
    return Finding(Status.PASS, f"Defender on, signatures {age} days old")


_PROFILE = re.compile(r"^(.*(Profile Settings|プロファイル 設定)):\s*$")
_STATE = re.compile(r"^(State|状態)\s+(\S+)\s*$")
_ON, _OFF = ("ON", "オン"), ("OFF", "オフ")


def firewall_from_netsh(text: str) -> Finding:
    """``netsh advfirewall show allprofiles``: passes when every profile's State is ON."""
    states: dict[str, bool] = {}
    profile = None
    for raw in text.splitlines():
        line = raw.strip()
        if match := _PROFILE.match(line):
            profile = match[1]
        elif profile is not None and (match := _STATE.match(line)) and profile not in states:
            word = match[2].upper()
            if word in _ON or word in _OFF:
                states[profile] = word in _ON
    if not states:
        return Finding(Status.NOT_AVAILABLE, "netsh showed no profile")
    off = [name for name, on in states.items() if not on]
    if off:
        return Finding(Status.FAIL, f"firewall off: {', '.join(off)}")
    return Finding(Status.PASS, f"firewall on in {len(states)} profiles")


_BDE_PROTECTION = re.compile(r"^(Protection Status|保護状態):\s*(.+)$")


def bitlocker_from_manage_bde(text: str) -> Finding:
    """``manage-bde -status C:``: passes when the volume's protection is on."""
    for raw in text.splitlines():
        if match := _BDE_PROTECTION.match(raw.strip()):
            value = match[2].strip()
            if value in ("Protection On", "保護はオンです"):
                return Finding(Status.PASS, "BitLocker protection on")
            return Finding(Status.FAIL, f"BitLocker: {value}")
    return Finding(Status.NOT_AVAILABLE, "manage-bde did not answer (administrator needed)")


def bitlocker_from_shell(value: str) -> Finding:
    """The Shell's ``System.Volume.BitLockerProtection`` of C: (readable without an
    administrator): 1 on, 3 encrypting, 5 on and unlocked; 2 off, 4 decrypting, 6 off."""
    code = value.strip()
    if code in ("1", "3", "5"):
        return Finding(Status.PASS, f"BitLocker protection on ({code})")
    if code in ("2", "4", "6"):
        return Finding(Status.FAIL, f"BitLocker protection off ({code})")
    return Finding(Status.NOT_AVAILABLE, "BitLocker state unknown")


_REG_BUILD = re.compile(r"^\s*CurrentBuild(Number)?\s+REG_SZ\s+(\d+)\s*$", re.MULTILINE)


def build_from_reg_query(text: str) -> int | None:
    """``reg query "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion" /v CurrentBuild``."""
    match = _REG_BUILD.search(text)
    return int(match[2]) if match else None


def os_supported(build: int | None, today: dt.date) -> Finding:
    """Whether this Windows build still gets security updates, by :data:`SUPPORTED_BUILDS`."""
    if build is None:
        return Finding(Status.NOT_AVAILABLE, "Windows build unknown")
    known = SUPPORTED_BUILDS.get(build)
    if known is None:
        if build > max(SUPPORTED_BUILDS):
            return Finding(Status.PASS, f"build {build}: newer than the table's releases")
        return Finding(Status.FAIL, f"build {build}: no longer supported")
    name, end = known
    if today > end:
        return Finding(Status.FAIL, f"{name}: security updates ended {end.isoformat()}")
    return Finding(Status.PASS, f"{name}: supported until {end.isoformat()}")
