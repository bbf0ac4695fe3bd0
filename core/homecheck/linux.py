"""Parsers of what a Linux home PC shows about itself: package logs, block devices, firewall
state, the OS release. Each takes the text of a file or command output (the viewer reads and
runs them: apps/viewer/home_check.py) and never raises on odd text — it answers "cannot tell".
"""

from __future__ import annotations

import datetime as dt
import re

from core.homecheck.report import Finding, Status

# When the table below was last checked against the vendors' published ends of security
# support. A release missing from it is "not available" (the policy decides), not a failure.
SUPPORTED_RELEASES_CHECKED = dt.date(2025, 6, 1)
# (os-release ID, VERSION_ID) -> last day of security support. Ubuntu: standard support of LTS
# and interim releases (not Ubuntu Pro); Debian: LTS included (it is security support); RHEL and
# its rebuilds: end of maintenance.
SUPPORTED_RELEASES: dict[tuple[str, str], dt.date] = {
    ("ubuntu", "20.04"): dt.date(2025, 5, 31),
    ("ubuntu", "22.04"): dt.date(2027, 4, 30),
    ("ubuntu", "24.04"): dt.date(2029, 4, 30),
    ("ubuntu", "24.10"): dt.date(2025, 7, 10),
    ("ubuntu", "25.04"): dt.date(2026, 1, 31),
    ("debian", "11"): dt.date(2026, 8, 31),
    ("debian", "12"): dt.date(2028, 6, 30),
    ("rhel", "8"): dt.date(2029, 5, 31),
    ("rhel", "9"): dt.date(2032, 5, 31),
    ("rocky", "8"): dt.date(2029, 5, 31),
    ("rocky", "9"): dt.date(2032, 5, 31),
    ("almalinux", "8"): dt.date(2029, 5, 31),
    ("almalinux", "9"): dt.date(2032, 5, 31),
}
# Distributions whose minor releases share their major's support (RHEL 9.4 is RHEL 9).
_MAJOR_ONLY = frozenset({"rhel", "rocky", "almalinux", "debian"})

_APT_DATE = re.compile(r"^(Start|End)-Date:\s*(\d{4}-\d{2}-\d{2})\s+(\d{2}:\d{2}:\d{2})\s*$")
# unattended-upgrades says one of these when it ends a run with nothing left to install.
_UU_DONE = re.compile(
    r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})[,.]\d+ INFO "
    r"(All upgrades installed|No packages found that can be upgraded unattended)"
)
_DNF_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})\S* SUBDEBUG (Upgrade|Upgraded):")


def _stamp(day: str, time: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(f"{day}T{time}")
    except ValueError:
        return None


def last_apt_upgrade(history: str) -> dt.datetime | None:
    """The end of the last apt run in ``/var/log/apt/history.log`` that upgraded or installed
    packages without an ``Error:`` line (local time, as apt writes it)."""
    latest: dt.datetime | None = None
    changed = failed = False
    for line in history.splitlines():
        match = _APT_DATE.match(line.strip())
        if match and match[1] == "Start":
            changed = failed = False
        elif match and match[1] == "End":
            end = _stamp(match[2], match[3])
            if end is not None and changed and not failed and (latest is None or end > latest):
                latest = end
        elif line.startswith(("Upgrade:", "Install:")):
            changed = True
        elif line.startswith("Error:"):
            failed = True
    return latest


def last_unattended_run(log: str) -> dt.datetime | None:
    """The last run of unattended-upgrades that left nothing to install (it installed all, or
    found nothing): ``/var/log/unattended-upgrades/unattended-upgrades.log``."""
    latest = None
    for line in log.splitlines():
        if (match := _UU_DONE.match(line)) and (when := _stamp(match[1], match[2])):
            latest = when if latest is None or when > latest else latest
    return latest


def last_dnf_upgrade(log: str) -> dt.datetime | None:
    """The last package upgraded by dnf (Fedora, RHEL): ``/var/log/dnf.rpm.log``."""
    latest = None
    for line in log.splitlines():
        if (match := _DNF_LINE.match(line)) and (when := _stamp(match[1], match[2])):
            latest = when if latest is None or when > latest else latest
    return latest


def age_in_days(last: dt.datetime | None, now: dt.datetime) -> int | None:
    """Whole days from ``last`` to ``now`` (0 for a time in the future: a clock set wrong)."""
    if last is None:
        return None
    return max(0, (now - last).days)


def root_encryption(lsblk_inverse: str) -> Finding:
    """``lsblk -s -n -o TYPE <root device>``: the root device and every device under it; any
    ``crypt`` among them is LUKS (dm-crypt) under the root file system."""
    types = [line.strip() for line in lsblk_inverse.splitlines() if line.strip()]
    if not types:
        return Finding(Status.NOT_AVAILABLE, "lsblk listed no device")
    if "crypt" in types:
        return Finding(Status.PASS, "root file system on dm-crypt (LUKS)")
    return Finding(Status.FAIL, "root file system not encrypted")


def is_crypt_uuid(dm_uuid: str) -> bool:
    """``/sys/block/dm-N/dm/uuid`` of a LUKS mapping starts ``CRYPT-`` (``CRYPT-LUKS2-...``)."""
    return dm_uuid.strip().startswith("CRYPT-")


def ufw_state(text: str) -> Status:
    """``ufw status`` (root), or ``/etc/ufw/ufw.conf`` (readable by anyone)."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Status:"):
            return Status.PASS if line.split(":", 1)[1].strip() == "active" else Status.FAIL
        if line.startswith("ENABLED="):
            value = line.split("=", 1)[1].strip().strip("\"'").lower()
            return Status.PASS if value == "yes" else Status.FAIL
    return Status.NOT_AVAILABLE


def firewalld_state(text: str) -> Status:
    """``firewall-cmd --state``: ``running`` or ``not running``."""
    word = text.strip()
    if word == "running":
        return Status.PASS
    return Status.FAIL if word == "not running" else Status.NOT_AVAILABLE


_NFT_INPUT = re.compile(r"type filter hook input priority \S+; policy (accept|drop)")


def nft_state(ruleset: str) -> Status:
    """``nft list ruleset`` (root): on if an input chain drops by default or has any rule that
    drops or rejects."""
    if not ruleset.strip():
        return Status.FAIL  # nft ran and there is no rule at all
    in_input = False
    for line in ruleset.splitlines():
        line = line.strip()
        if match := _NFT_INPUT.search(line):
            if match[1] == "drop":
                return Status.PASS
            in_input = True
        elif line.startswith("chain "):
            in_input = False
        elif in_input and re.search(r"\b(drop|reject)\b", line):
            return Status.PASS
    return Status.FAIL


def iptables_state(rules: str) -> Status:
    """``iptables -S`` (root): on if INPUT drops by default or a rule on it drops or rejects."""
    lines = [line.strip() for line in rules.splitlines() if line.strip()]
    if not any(line.startswith("-P INPUT") for line in lines):
        return Status.NOT_AVAILABLE
    for line in lines:
        if line in ("-P INPUT DROP", "-P INPUT REJECT"):
            return Status.PASS
        if line.startswith("-A INPUT") and re.search(r"-j (DROP|REJECT)\b", line):
            return Status.PASS
    return Status.FAIL


def firewall(states: list[Status]) -> Finding:
    """One answer from what each firewall tool said: on if any is on."""
    if Status.PASS in states:
        return Finding(Status.PASS, "a firewall is on")
    if Status.FAIL in states:
        return Finding(Status.FAIL, "no firewall is on")
    return Finding(Status.NOT_AVAILABLE, "no firewall tool could be asked")


def os_release(text: str) -> dict[str, str]:
    """``/etc/os-release`` as a dict (quotes removed)."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip().isidentifier():
            fields[key.strip()] = value.strip().strip("\"'")
    return fields


def os_supported(fields: dict[str, str], today: dt.date) -> Finding:
    """Whether the release still gets security updates, by :data:`SUPPORTED_RELEASES`."""
    name = fields.get("PRETTY_NAME", "Linux")
    distro, version = fields.get("ID", "").lower(), fields.get("VERSION_ID", "")
    if distro in _MAJOR_ONLY:
        version = version.split(".")[0]
    end = SUPPORTED_RELEASES.get((distro, version))
    if end is None:
        checked = SUPPORTED_RELEASES_CHECKED.isoformat()
        return Finding(Status.NOT_AVAILABLE, f"{name}: not in the table of {checked}")
    if today > end:
        return Finding(Status.FAIL, f"{name}: security support ended {end.isoformat()}")
    return Finding(Status.PASS, f"{name}: supported until {end.isoformat()}")
