"""The home-PC check, gathered: read this machine's files and run its commands, hand the texts
to :mod:`core.homecheck`'s parsers, and build the report a login carries.

Qt-free and never raising: a file that cannot be read or a command that fails, is missing or
hangs (:data:`COMMAND_TIMEOUT_S`) makes its check "not available", and the policy decides.

Linux is what this project runs and tests. The Windows commands are written out (PowerShell,
``netsh``, ``manage-bde``, ``reg``) but not run here: only their parsers are tested, with
outputs in the form Windows prints them.

Every answer is the home PC's own statement about itself (SECURITY.md says what it is worth).
"""

from __future__ import annotations

import datetime as dt
import gzip
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apps.viewer.settings import VIEWER_VERSION
from core.homecheck import linux, windows
from core.homecheck.evaluate import judge, required, statuses
from core.homecheck.report import (
    MAX_OS_NAME_CHARS,
    REQUIRABLE_CHECKS,
    Check,
    Finding,
    HomeReport,
    Status,
)
from core.policy import Policy

# One command's longest run (PowerShell's first start on a slow PC takes a few seconds).
COMMAND_TIMEOUT_S = 10.0
# The most read of one log file (apt's history grows for months before it is rotated).
MAX_LOG_BYTES = 4 * 1024 * 1024
# What `--home-pc-check` judges by without `--policy`: every check required.
STRICTEST = Policy(home_checks=frozenset(REQUIRABLE_CHECKS))

Run = Callable[[list[str]], str | None]
Read = Callable[[Path], str | None]


def run_command(argv: list[str]) -> str | None:
    """The command's standard output, or None if it could not run or did not succeed."""
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # Windows: no console flashing up
    try:
        done = subprocess.run(  # noqa: S603 - fixed commands, no shell, no user input
            argv,
            capture_output=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
            creationflags=flags,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", errors="replace")


def read_text(path: Path) -> str | None:
    """The file's text (gzip-compressed rotated logs too), its last MAX_LOG_BYTES at most."""
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as f:
            data = f.read(MAX_LOG_BYTES * 4)
    except (OSError, EOFError, gzip.BadGzipFile):
        return None
    return data[-MAX_LOG_BYTES:].decode("utf-8", errors="replace")


# -- Linux -------------------------------------------------------------------------------------

APT_HISTORY = ("/var/log/apt/history.log", "/var/log/apt/history.log.1.gz")
UNATTENDED_LOG = (
    "/var/log/unattended-upgrades/unattended-upgrades.log",
    "/var/log/unattended-upgrades/unattended-upgrades.log.1.gz",
)
DNF_LOG = ("/var/log/dnf.rpm.log",)
OS_RELEASE = ("/etc/os-release", "/usr/lib/os-release")


def _linux_last_update(read: Read) -> dt.datetime | None:
    found = []
    for paths, parse in (
        (APT_HISTORY, linux.last_apt_upgrade),
        (UNATTENDED_LOG, linux.last_unattended_run),
        (DNF_LOG, linux.last_dnf_upgrade),
    ):
        for path in paths:
            text = read(Path(path))
            if text is not None and (when := parse(text)) is not None:
                found.append(when)
    return max(found, default=None)


def _root_device(read: Read) -> str | None:
    for line in (read(Path("/proc/self/mounts")) or "").splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[1] == "/" and fields[0].startswith("/dev/"):
            return fields[0]
    return None


def _linux_encryption(run: Run, read: Read) -> Finding:
    device = _root_device(read)
    if device is None:
        return Finding(Status.NOT_AVAILABLE, "the root file system is not on a block device")
    listed = run(["lsblk", "-s", "-n", "-o", "TYPE", device])
    if listed is not None:
        return linux.root_encryption(listed)
    # No lsblk: a device-mapper root whose mapping is dm-crypt's.
    name = Path(device).resolve().name
    uuid = read(Path("/sys/block") / name / "dm" / "uuid")
    if uuid is None:
        return Finding(Status.NOT_AVAILABLE, "lsblk could not be run")
    if linux.is_crypt_uuid(uuid):
        return Finding(Status.PASS, "root on dm-crypt (LUKS)")
    return Finding(Status.FAIL, "root file system not encrypted")


def _linux_firewall(run: Run, read: Read) -> Finding:
    states = [linux.ufw_state(read(Path("/etc/ufw/ufw.conf")) or "")]
    for argv, parse in (
        (["ufw", "status"], linux.ufw_state),  # root only; the conf file says it otherwise
        (["firewall-cmd", "--state"], linux.firewalld_state),
        (["nft", "list", "ruleset"], linux.nft_state),  # root only
        (["iptables", "-S"], linux.iptables_state),  # root only
    ):
        out = run(argv)
        if out is not None:
            states.append(parse(out))
    return linux.firewall(states)


def _linux(run: Run, read: Read, now: dt.datetime) -> tuple[str, int | None, dict[Check, Finding]]:
    fields = linux.os_release(next(filter(None, map(read, map(Path, OS_RELEASE))), ""))
    last = _linux_last_update(read)
    findings = {
        Check.OS_UPDATES: _update_finding(last),
        Check.ANTIVIRUS: Finding(Status.NOT_AVAILABLE, "Linux has no antivirus status to ask"),
        Check.FIREWALL: _linux_firewall(run, read),
        Check.DISK_ENCRYPTION: _linux_encryption(run, read),
        Check.OS_SUPPORTED: linux.os_supported(fields, now.date()),
    }
    return fields.get("PRETTY_NAME", "Linux"), linux.age_in_days(last, now), findings


# -- Windows (written, not run by this project's tests) -----------------------------------------

POWERSHELL = ["powershell.exe", "-NoProfile", "-NonInteractive", "-Command"]
UPDATE_HISTORY_PS = (
    "$s = (New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher(); "
    "$n = [Math]::Min($s.GetTotalHistoryCount(), 100); "
    "$s.QueryHistory(0, $n) | Select-Object Date,ResultCode,Title | ConvertTo-Json"
)
HOTFIX_PS = "Get-HotFix | Format-Table -AutoSize | Out-String -Width 200"
SECURITY_CENTER_PS = (
    "Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct | "
    "Select-Object displayName,productState | ConvertTo-Json"
)
DEFENDER_PS = "Get-MpComputerStatus | Format-List"
BITLOCKER_SHELL_PS = (
    "(New-Object -ComObject Shell.Application).NameSpace('C:').Self"
    ".ExtendedProperty('System.Volume.BitLockerProtection')"
)
CURRENT_VERSION_KEY = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion"


def _windows(run: Run, now: dt.datetime) -> tuple[str, int | None, dict[Check, Finding]]:
    def ps(script: str) -> str:
        return run([*POWERSHELL, script]) or ""

    last = windows.last_update_from_history(ps(UPDATE_HISTORY_PS))
    if last is None:
        last = windows.last_update_from_hotfixes(ps(HOTFIX_PS))
    antivirus = windows.antivirus_from_security_center(ps(SECURITY_CENTER_PS))
    if antivirus.status is Status.NOT_AVAILABLE:
        antivirus = windows.antivirus_from_defender(ps(DEFENDER_PS))
    encryption = windows.bitlocker_from_shell(ps(BITLOCKER_SHELL_PS))
    if encryption.status is Status.NOT_AVAILABLE:
        encryption = windows.bitlocker_from_manage_bde(run(["manage-bde", "-status", "C:"]) or "")
    firewall = run(["netsh", "advfirewall", "show", "allprofiles"]) or ""
    build = windows.build_from_reg_query(
        run(["reg", "query", CURRENT_VERSION_KEY, "/v", "CurrentBuild"]) or ""
    )
    findings = {
        Check.OS_UPDATES: _update_finding(last),
        Check.ANTIVIRUS: antivirus,
        Check.FIREWALL: windows.firewall_from_netsh(firewall),
        Check.DISK_ENCRYPTION: encryption,
        Check.OS_SUPPORTED: windows.os_supported(build, now.date()),
    }
    name = f"Windows (build {build})" if build else "Windows"
    return name, linux.age_in_days(last, now), findings


# -- both --------------------------------------------------------------------------------------


def _update_finding(last: dt.datetime | None) -> Finding:
    """The update check's facts; pass or fail is the policy's (its number of days)."""
    if last is None:
        return Finding(Status.NOT_AVAILABLE, "no record of a successful update")
    return Finding(Status.PASS, f"last successful update {last:%Y-%m-%d %H:%M}")


def gather(
    run: Run = run_command,
    read: Read = read_text,
    platform: str = sys.platform,
    now: dt.datetime | None = None,
) -> tuple[HomeReport, dict[Check, Finding]]:
    """This machine's report, and each check's finding with its reason for people."""
    if platform == "win32":
        os_name, age, findings = _windows(run, now or dt.datetime.now(dt.UTC).replace(tzinfo=None))
    else:
        os_name, age, findings = _linux(run, read, now or dt.datetime.now())
    report = HomeReport(
        VIEWER_VERSION,
        os_name[:MAX_OS_NAME_CHARS],
        age,
        findings[Check.ANTIVIRUS].status,
        findings[Check.FIREWALL].status,
        findings[Check.DISK_ENCRYPTION].status,
        findings[Check.OS_SUPPORTED].status,
    )
    return report, findings


def gather_wire() -> dict[str, Any]:
    """The report as a login carries it (what the viewer client runs, off the event loop)."""
    return gather()[0].to_wire()


def check_result(
    report: HomeReport, findings: dict[Check, Finding], policy: Policy
) -> tuple[dict[str, Any], bool]:
    """``--home-pc-check``'s JSON object, and whether ``policy`` would let this PC in."""
    status = statuses(report, policy)
    wanted = required(policy)
    checks: dict[str, Any] = {}
    for check in Check:
        finding = findings.get(check)
        if check is Check.VIEWER_VERSION:
            minimum = policy.min_viewer_version or "-"
            detail = f"viewer {report.viewer_version}, minimum {minimum}"
        elif check is Check.OS_UPDATES and report.updates_age_days is not None:
            days, limit = report.updates_age_days, policy.update_age_limit_days
            detail = f"{finding.detail if finding else ''} ({days} days old, {limit} allowed)"
        else:
            detail = finding.detail if finding else ""
        checks[check.value] = {
            "status": status[check].value,
            "required": check in wanted,
            "detail": detail,
        }
    verdict = judge(report, policy)
    result = {
        "viewer_version": report.viewer_version,
        "os": report.os_name,
        "checks": checks,
        "passed": verdict.refusal is None,
        "refusal": verdict.refusal.value if verdict.refusal else None,
    }
    return result, verdict.refusal is None
