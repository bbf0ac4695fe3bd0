"""The Windows parsers against outputs in the form Windows 10 and 11 print them (fixtures/)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core.homecheck import windows
from core.homecheck.report import Status

FIXTURES = Path(__file__).parent / "fixtures" / "windows"


def recorded(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_update_history_takes_the_last_success_of_either_powershell():
    # PowerShell 5.1's /Date(ms)/: the failed (4) entry on 13 June does not count.
    assert windows.last_update_from_history(recorded("update_history_ps51.json")) == dt.datetime(
        2024, 6, 10, 6, 0
    )
    assert windows.last_update_from_history(recorded("update_history_ps7.json")) == dt.datetime(
        2024, 6, 10, 6, 0
    )
    assert windows.last_update_from_history("") is None
    assert windows.last_update_from_history('[{"ResultCode": 4, "Date": "2024-01-01"}]') is None


@pytest.mark.parametrize("name", ["hotfix_en.txt", "hotfix_ja.txt"])
def test_hotfix_table_in_either_culture(name):
    assert windows.last_update_from_hotfixes(recorded(name)) == dt.datetime(2024, 6, 12)


def test_hotfix_table_without_dates():
    assert windows.last_update_from_hotfixes("Source Description HotFixID\n------") is None


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("securitycenter_defender_on.json", Status.PASS),
        ("securitycenter_third_party.json", Status.PASS),  # Defender off, ESET on
        ("securitycenter_outdated.json", Status.FAIL),
    ],
)
def test_security_center_antivirus(name, status):
    assert windows.antivirus_from_security_center(recorded(name)).status is status


def test_security_center_silent_or_garbage_is_not_available():
    for text in ("", "[]", "not json", '{"displayName": "x"}'):
        found = windows.antivirus_from_security_center(text)
        assert found.status is Status.NOT_AVAILABLE, text


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("mpcomputerstatus_on.txt", Status.PASS),
        ("mpcomputerstatus_realtime_off.txt", Status.FAIL),
        ("mpcomputerstatus_stale.txt", Status.FAIL),
    ],
)
def test_defender_status(name, status):
    assert windows.antivirus_from_defender(recorded(name)).status is status


def test_defender_not_answering():
    text = "Get-MpComputerStatus : 0x800106ba"
    assert windows.antivirus_from_defender(text).status is Status.NOT_AVAILABLE


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("netsh_all_on_en.txt", Status.PASS),
        ("netsh_public_off_en.txt", Status.FAIL),
        ("netsh_private_off_ja.txt", Status.FAIL),
    ],
)
def test_netsh_firewall(name, status):
    assert windows.firewall_from_netsh(recorded(name)).status is status


def test_netsh_names_the_profile_that_is_off():
    assert "Public" in windows.firewall_from_netsh(recorded("netsh_public_off_en.txt")).detail
    found = windows.firewall_from_netsh(recorded("netsh_private_off_ja.txt"))
    assert "プライベート" in found.detail


def test_netsh_japanese_all_on():
    text = recorded("netsh_private_off_ja.txt").replace("オフ", "オン")
    assert windows.firewall_from_netsh(text).status is Status.PASS
    assert windows.firewall_from_netsh("").status is Status.NOT_AVAILABLE


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("manage_bde_on_en.txt", Status.PASS),
        ("manage_bde_on_ja.txt", Status.PASS),
        ("manage_bde_off_en.txt", Status.FAIL),
        ("manage_bde_denied_en.txt", Status.NOT_AVAILABLE),  # not an administrator
    ],
)
def test_manage_bde(name, status):
    assert windows.bitlocker_from_manage_bde(recorded(name)).status is status


@pytest.mark.parametrize(
    ("value", "status"),
    [("1", Status.PASS), ("5\r\n", Status.PASS), ("2", Status.FAIL), ("", Status.NOT_AVAILABLE)],
)
def test_bitlocker_shell_property(value, status):
    assert windows.bitlocker_from_shell(value).status is status


def test_supported_builds():
    today = dt.date(2025, 6, 1)
    build = windows.build_from_reg_query(recorded("reg_currentbuild_23h2.txt"))
    assert build == 22631
    assert windows.os_supported(build, today).status is Status.PASS
    assert windows.os_supported(build, dt.date(2025, 11, 12)).status is Status.FAIL
    old = windows.build_from_reg_query(recorded("reg_currentbuild_21h2.txt"))
    assert windows.os_supported(old, today).status is Status.FAIL  # 21H2: not listed, older
    assert windows.os_supported(22621, today).status is Status.FAIL  # listed, ended
    assert windows.os_supported(26200, today).status is Status.PASS  # newer than the table
    assert windows.os_supported(None, today).status is Status.NOT_AVAILABLE
    assert windows.build_from_reg_query("ERROR: The system was unable to find") is None
