"""The viewer's gathering of the home-PC check on Linux, with each outcome: the files it reads
and the commands it runs are stood in for by recorded texts (tests/unit/homecheck/fixtures)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from apps.viewer.home_check import STRICTEST, check_result, gather, read_text, run_command
from apps.viewer.settings import VIEWER_VERSION
from core.homecheck.report import Check, Status
from core.policy import Policy

FIXTURES = Path(__file__).parents[1] / "homecheck" / "fixtures" / "linux"
NOW = dt.datetime(2024, 6, 20, 12, 0)
ROOT_ON_DISK = "/dev/nvme0n1p2 / ext4 rw,relatime 0 0\n"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def machine(files: dict[str, str], commands: dict[str, str]):
    """``read`` and ``run`` over the given files and command outputs (anything else: absent)."""

    def read(path: Path) -> str | None:
        return files.get(str(path))

    def run(argv: list[str]) -> str | None:
        return commands.get(" ".join(argv[:2]))

    return run, read


GOOD_FILES = {
    "/etc/os-release": fixture("os-release-ubuntu-2404"),
    "/var/log/apt/history.log": fixture("apt_history.log"),
    "/etc/ufw/ufw.conf": fixture("ufw.conf"),
    "/proc/self/mounts": ROOT_ON_DISK,
}
GOOD_COMMANDS = {"lsblk -s": fixture("lsblk_root_luks.txt")}


def test_a_well_kept_ubuntu_machine():
    report, findings = gather(*machine(GOOD_FILES, GOOD_COMMANDS), "linux", NOW)
    assert report.viewer_version == VIEWER_VERSION and report.os_name == "Ubuntu 24.04 LTS"
    assert report.updates_age_days == 10  # 10 June 06:25, the last good apt run
    assert (report.firewall, report.disk_encryption, report.os_supported) == (Status.PASS,) * 3
    assert report.antivirus is Status.NOT_AVAILABLE  # Linux: the policy decides
    result, passed = check_result(
        report, findings, Policy(home_checks=STRICTEST.home_checks - {"antivirus"})
    )
    assert passed and result["checks"]["os_updates"]["status"] == "pass"
    assert not check_result(report, findings, STRICTEST)[1]


def test_each_check_failing():
    files = {
        **GOOD_FILES,
        "/etc/os-release": fixture("os-release-ubuntu-2004"),
        "/etc/ufw/ufw.conf": "ENABLED=no\n",
    }
    commands = {
        "lsblk -s": fixture("lsblk_root_plain.txt"),
        "iptables -S": fixture("iptables_open.txt"),
    }
    report, findings = gather(*machine(files, commands), "linux", NOW.replace(year=2025))
    assert report.updates_age_days > 365
    assert (report.firewall, report.disk_encryption, report.os_supported) == (Status.FAIL,) * 3
    result, passed = check_result(report, findings, STRICTEST)
    assert not passed and result["refusal"] == "home_pc_check_failed"
    statuses = {name: check["status"] for name, check in result["checks"].items()}
    assert statuses == {
        "os_updates": "fail",
        "antivirus": "not_available",
        "firewall": "fail",
        "disk_encryption": "fail",
        "os_supported": "fail",
        "viewer_version": "pass",
    }


def test_nothing_to_tell():
    """A container: no logs, no firewall tool, root on an overlay, an unknown distribution."""
    files = {
        "/etc/os-release": fixture("os-release-arch"),
        "/proc/self/mounts": "overlay / overlay rw 0 0\n",
    }
    report, findings = gather(*machine(files, {}), "linux", NOW)
    assert report.updates_age_days is None
    for check in (Check.ANTIVIRUS, Check.FIREWALL, Check.DISK_ENCRYPTION, Check.OS_SUPPORTED):
        assert report.status_of(check) is Status.NOT_AVAILABLE, check
    result, passed = check_result(report, findings, STRICTEST)
    assert {c["status"] for c in result["checks"].values()} == {"not_available", "pass"}
    assert not passed
    assert check_result(report, findings, Policy())[1]  # nothing required: in


def test_a_dm_crypt_root_without_lsblk():
    files = {**GOOD_FILES, "/proc/self/mounts": "/dev/dm-0 / ext4 rw 0 0\n"}
    files["/sys/block/dm-0/dm/uuid"] = "CRYPT-LUKS2-0123456789abcdef-root\n"
    report, _ = gather(*machine(files, {}), "linux", NOW)
    assert report.disk_encryption is Status.PASS


def test_commands_and_files_that_fail_are_none(tmp_path):
    assert run_command(["false"]) is None
    assert run_command(["/nonexistent/command"]) is None
    assert run_command(["echo", "ok"]) == "ok\n"
    assert read_text(tmp_path / "missing") is None
    (tmp_path / "bad.gz").write_bytes(b"not gzip")
    assert read_text(tmp_path / "bad.gz") is None


@pytest.mark.parametrize("platform", ["win32"])
def test_windows_gathering_with_nothing_answering(platform):
    """Not run on Windows here: with every command failing it reports "cannot tell"."""
    report, _ = gather(lambda argv: None, lambda path: None, platform, NOW)
    assert report.os_name == "Windows" and report.updates_age_days is None
    assert {report.status_of(c) for c in (Check.ANTIVIRUS, Check.FIREWALL)} == {
        Status.NOT_AVAILABLE
    }
