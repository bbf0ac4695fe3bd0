"""The report a login carries, and how a policy judges it."""

from __future__ import annotations

import pytest

from core.errors import ProtocolError
from core.homecheck.evaluate import judge, required, statuses
from core.homecheck.report import Check, HomeReport, Status, parse_version
from core.policy import DEFAULT_UPDATE_AGE_DAYS, Policy
from core.protocol.control import RefusalReason

GOOD = HomeReport("1.2.0", "Ubuntu 24.04 LTS", 3, *(Status.PASS,) * 4)


def report(**changes):
    wire = {**GOOD.to_wire(), **changes}
    return HomeReport.from_wire(wire)


def test_wire_round_trip_and_empty():
    assert HomeReport.from_wire(GOOD.to_wire()) == GOOD
    assert HomeReport.from_wire({}) is None
    # Newer viewers may add keys; missing statuses are "cannot tell".
    assert report(future_key=1) == GOOD
    wire = GOOD.to_wire()
    del wire["antivirus"]
    assert HomeReport.from_wire(wire).antivirus is Status.NOT_AVAILABLE


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"os_name": "x"},  # no version
        {"viewer_version": "1" * 33},
        {"viewer_version": "1", "updates_age_days": -1},
        {"viewer_version": "1", "updates_age_days": True},
        {"viewer_version": "1", "updates_age_days": 10**9},
        {"viewer_version": "1", "firewall": "yes"},
        {"viewer_version": "1", "firewall": ["pass"]},
        {"viewer_version": "1", "os_name": "x" * 65},
        {f"k{i}": i for i in range(17)},
    ],
)
def test_malformed_reports_are_the_peers_protocol_error(bad):
    with pytest.raises(ProtocolError):
        HomeReport.from_wire(bad)


def test_versions():
    assert parse_version("1.2") == parse_version("1.2.0") == (1, 2)
    assert parse_version("10.0.19045") > parse_version("9.9")
    for bad in ("", "1.x", "v1", "1..2", "1.2.3.4.5", None):
        assert parse_version(bad) is None


def test_no_policy_lets_everyone_in():
    assert judge(None, Policy()).refusal is None
    assert judge(report(firewall="fail"), Policy()).refusal is None


def test_required_checks_must_pass_and_not_available_fails_them():
    policy = Policy(home_checks=frozenset({"firewall", "antivirus"}))
    assert judge(GOOD, policy).refusal is None
    verdict = judge(report(firewall="fail", antivirus="not_available"), policy)
    assert verdict.refusal is RefusalReason.HOME_PC_CHECK_FAILED
    assert verdict.failed == (Check.ANTIVIRUS, Check.FIREWALL)
    # A check not required may fail.
    assert judge(report(disk_encryption="fail"), policy).refusal is None


def test_update_age_against_the_policys_days():
    policy = Policy(home_checks=frozenset({"os_updates"}))
    assert judge(report(updates_age_days=DEFAULT_UPDATE_AGE_DAYS), policy).refusal is None
    late = judge(report(updates_age_days=DEFAULT_UPDATE_AGE_DAYS + 1), policy)
    assert late.failed == (Check.OS_UPDATES,)
    strict = Policy(home_checks=frozenset({"os_updates"}), update_max_age_days=2)
    assert judge(GOOD, strict).failed == (Check.OS_UPDATES,)
    unknown = judge(report(updates_age_days=None), policy)
    assert unknown.failed == (Check.OS_UPDATES,)
    assert statuses(report(updates_age_days=None), policy)[Check.OS_UPDATES] is (
        Status.NOT_AVAILABLE
    )


def test_minimum_viewer_version():
    policy = Policy(min_viewer_version="1.2")
    assert judge(GOOD, policy).refusal is None
    assert judge(report(viewer_version="1.1.9"), policy).refusal is RefusalReason.VIEWER_TOO_OLD
    assert judge(report(viewer_version="dev"), policy).refusal is RefusalReason.VIEWER_TOO_OLD
    # A viewer that sends no report at all predates the check: too old for any minimum.
    assert judge(None, policy).refusal is RefusalReason.VIEWER_TOO_OLD
    assert required(policy) == (Check.VIEWER_VERSION,)


def test_unchecked_home_pcs():
    assert judge(None, Policy(deny_unchecked=True)).refusal is RefusalReason.HOME_PC_UNCHECKED
    needs = Policy(home_checks=frozenset({"firewall"}))
    assert judge(None, needs).refusal is RefusalReason.HOME_PC_UNCHECKED
    # Checked, with nothing required: in.
    assert judge(report(firewall="fail"), Policy(deny_unchecked=True)).refusal is None
