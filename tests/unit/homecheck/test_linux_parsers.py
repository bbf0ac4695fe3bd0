"""The Linux parsers against recorded files and command outputs (fixtures/linux)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core.homecheck import linux
from core.homecheck.report import Status

FIXTURES = Path(__file__).parent / "fixtures" / "linux"


def recorded(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_apt_history_last_successful_upgrade():
    # 12 June's run failed, 13 June's only removed: 10 June is the last good one.
    assert linux.last_apt_upgrade(recorded("apt_history.log")) == dt.datetime(2024, 6, 10, 6, 25, 9)
    assert linux.last_apt_upgrade("") is None
    assert linux.last_apt_upgrade("Start-Date: garbage\nEnd-Date: 2024-13-40  99:00:00") is None


def test_unattended_upgrades_log_counts_a_run_with_nothing_to_do():
    # 14 June found nothing to install (up to date); 15 June's run failed.
    assert linux.last_unattended_run(recorded("unattended-upgrades.log")) == dt.datetime(
        2024, 6, 14, 6, 41, 5
    )


def test_dnf_log():
    assert linux.last_dnf_upgrade(recorded("dnf.rpm.log")) == dt.datetime(2024, 6, 3, 8, 15, 21)


def test_age_in_days():
    now = dt.datetime(2024, 6, 20, 12, 0)
    assert linux.age_in_days(dt.datetime(2024, 6, 10, 6, 25), now) == 10
    assert linux.age_in_days(dt.datetime(2024, 7, 1), now) == 0  # a clock set wrong
    assert linux.age_in_days(None, now) is None


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("lsblk_root_luks.txt", Status.PASS),
        ("lsblk_root_lvm_on_luks.txt", Status.PASS),
        ("lsblk_root_plain.txt", Status.FAIL),
    ],
)
def test_root_encryption(name, status):
    assert linux.root_encryption(recorded(name)).status is status


def test_root_encryption_without_devices():
    assert linux.root_encryption("").status is Status.NOT_AVAILABLE


def test_dm_uuid():
    assert linux.is_crypt_uuid("CRYPT-LUKS2-1b2c3d4e5f60718293a4b5c6d7e8f901-luks-1b2c\n")
    assert not linux.is_crypt_uuid("LVM-Xh2kT8d9Qm")


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("ufw_status_active.txt", Status.PASS),
        ("ufw_status_inactive.txt", Status.FAIL),
        ("ufw.conf", Status.PASS),
    ],
)
def test_ufw(name, status):
    assert linux.ufw_state(recorded(name)) is status


def test_ufw_disabled_conf_and_nothing():
    assert linux.ufw_state("ENABLED=no\n") is Status.FAIL
    assert linux.ufw_state("") is Status.NOT_AVAILABLE


def test_nft_and_iptables():
    assert linux.nft_state(recorded("nft_drop.txt")) is Status.PASS
    assert linux.nft_state(recorded("nft_accept_all.txt")) is Status.FAIL
    assert linux.nft_state("") is Status.FAIL
    assert linux.iptables_state(recorded("iptables_open.txt")) is Status.FAIL
    assert linux.iptables_state(recorded("iptables_reject.txt")) is Status.PASS
    assert linux.iptables_state("iptables: Permission denied") is Status.NOT_AVAILABLE


def test_firewalld():
    assert linux.firewalld_state("running\n") is Status.PASS
    assert linux.firewalld_state("not running\n") is Status.FAIL
    assert linux.firewalld_state("") is Status.NOT_AVAILABLE


def test_firewall_combines_the_tools():
    assert linux.firewall([Status.NOT_AVAILABLE, Status.PASS]).status is Status.PASS
    assert linux.firewall([Status.FAIL, Status.NOT_AVAILABLE]).status is Status.FAIL
    assert linux.firewall([Status.NOT_AVAILABLE]).status is Status.NOT_AVAILABLE
    assert linux.firewall([]).status is Status.NOT_AVAILABLE


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("os-release-ubuntu-2404", Status.PASS),
        ("os-release-ubuntu-2004", Status.FAIL),  # ended 31 May 2025
        ("os-release-rocky-94", Status.PASS),  # a minor release of a supported major
        ("os-release-arch", Status.NOT_AVAILABLE),  # not in the table
    ],
)
def test_os_supported(name, status):
    fields = linux.os_release(recorded(name))
    assert linux.os_supported(fields, dt.date(2025, 6, 1)).status is status


def test_os_supported_says_the_release():
    fields = linux.os_release(recorded("os-release-ubuntu-2004"))
    assert "Ubuntu 20.04.6 LTS" in linux.os_supported(fields, dt.date(2025, 6, 1)).detail
