"""The home-PC check at a real relay: the tenant's and the office PC's central policy refuse a
home PC that lacks what they require (audited, with the failed checks), the office PC's own
decision may refuse more, a resumed login is not checked again, and the tenant's login message
reaches the viewer."""

from __future__ import annotations

import pytest

from core.crypto.certs import generate_identity
from core.homecheck.report import HomeReport, Status
from core.protocol.control import RefusalReason
from tests.integration.relay_harness import TENANT, USER, login, wait_until
from transport.client import Decline, RefusedByRelay

GOOD = HomeReport("0.1.0", "Debian GNU/Linux 12", 1, *(Status.PASS,) * 4).to_wire()
NO_AV = {**GOOD, "antivirus": "not_available", "firewall": "fail"}


def otp(relay) -> str:
    (code,) = relay.directory.issue_codes(TENANT, USER, 1)
    return code


async def refused(relay, host_id, **kw) -> RefusedByRelay:
    with pytest.raises(RefusedByRelay) as caught:
        channel, _ = await login(relay, host_id, otp(relay), **kw)
        channel.close()
    return caught.value


def last_refusal(relay) -> dict[str, object]:
    return relay.directory.list_audit(event="login_refused")[0].detail


async def test_no_policy_lets_any_home_pc_in_and_passes_the_report_on(relay, host):
    channel, ok = await login(relay, host.host_id, otp(relay), home_check=NO_AV)
    channel.close()
    assert ok.login_message == ""
    assert host.offers[-1].home_check == HomeReport.from_wire(NO_AV).to_wire()
    channel, _ = await login(relay, host.host_id, otp(relay))  # an older viewer: no report
    channel.close()
    assert host.offers[-1].home_check == {}
    reported = [r.detail.get("home_check") for r in relay.directory.list_audit(event="login")]
    assert sorted(reported, key=bool) == [None, HomeReport.from_wire(NO_AV).to_wire()]


async def test_the_tenants_required_checks(relay, host):
    relay.directory.set_tenant_policy(TENANT, {"home_checks": ["antivirus", "firewall"]})
    refusal = await refused(relay, host.host_id, home_check=NO_AV)
    assert refusal.reason == RefusalReason.HOME_PC_CHECK_FAILED
    assert refusal.checks == ("antivirus", "firewall")
    detail = last_refusal(relay)
    assert detail["reason"] == "home_pc_check_failed"
    assert detail["checks"] == ["antivirus", "firewall"]
    assert detail["home_check"]["antivirus"] == "not_available"
    assert not host.offers  # refused before the office PC was asked
    refusal = await refused(relay, host.host_id)  # no report at all
    assert refusal.reason == RefusalReason.HOME_PC_UNCHECKED
    channel, _ = await login(relay, host.host_id, otp(relay), home_check=GOOD)
    channel.close()


async def test_an_old_viewer_and_deny_unchecked(relay, host):
    relay.directory.set_tenant_policy(TENANT, {"min_viewer_version": "0.2"})
    refusal = await refused(relay, host.host_id, home_check=GOOD)
    assert refusal.reason == RefusalReason.VIEWER_TOO_OLD
    assert refusal.checks == ("viewer_version",)
    assert (await refused(relay, host.host_id)).reason == RefusalReason.VIEWER_TOO_OLD
    relay.directory.set_tenant_policy(TENANT, {"deny_unchecked": True})
    assert (await refused(relay, host.host_id)).reason == RefusalReason.HOME_PC_UNCHECKED
    channel, _ = await login(relay, host.host_id, otp(relay), home_check=NO_AV)
    channel.close()


async def test_the_office_pcs_central_policy_counts_at_the_relay(relay, host):
    relay.directory.set_host_policy(TENANT, host.host_id, {"home_checks": ["firewall"]})
    refusal = await refused(relay, host.host_id, home_check=NO_AV)
    assert refusal.checks == ("firewall",)
    # ... and is pushed to the office PC, without the tenant's login message.
    relay.directory.set_tenant_policy(TENANT, {"login_message": "保守: 17時まで"})
    pushed = relay.directory.effective_policy(host.host_id)
    assert pushed["home_checks"] == ["firewall"] and "login_message" not in pushed


async def test_the_office_pc_refuses_by_its_own_policy(relay, host):
    host.refuse_with = Decline(RefusalReason.HOME_PC_CHECK_FAILED, ("disk_encryption", "bogus"))
    refusal = await refused(relay, host.host_id, home_check=GOOD)
    assert refusal.reason == RefusalReason.HOME_PC_CHECK_FAILED
    assert refusal.checks == ("disk_encryption",)  # a name that is no check is dropped
    assert last_refusal(relay) == {
        "reason": "home_pc_check_failed",
        "checks": ["disk_encryption"],
    }


async def test_the_login_message_reaches_the_viewer(relay, host):
    relay.directory.set_tenant_policy(TENANT, {"login_message": "本日17時から保守のため停止します"})
    channel, ok = await login(relay, host.host_id, otp(relay), home_check=GOOD)
    channel.close()
    assert ok.login_message == "本日17時から保守のため停止します"


async def test_a_resumed_login_is_not_checked_again(relay, host):
    relay.directory.set_tenant_policy(TENANT, {"home_checks": ["firewall"]})
    device = generate_identity("home-pc")
    channel, ok = await login(relay, host.host_id, otp(relay), device, home_check=GOOD)
    channel.close()
    await wait_until(lambda: not relay.server.sessions)
    # The policy now wants more than the OTP login was checked for: the chain's check holds.
    relay.directory.set_tenant_policy(TENANT, {"home_checks": ["firewall", "antivirus"]})
    channel, _ = await login(
        relay, host.host_id, "", device, home_check=NO_AV, resume_ticket=ok.resume_ticket
    )
    channel.close()
    # A new OTP login is checked again.
    refusal = await refused(relay, host.host_id, device=device, home_check=NO_AV)
    assert refusal.reason == RefusalReason.HOME_PC_CHECK_FAILED
