"""An office PC enrolled with ``telework-host --enroll`` stays online, as its admin expects."""

from __future__ import annotations

import time

import pytest

from tests.e2e.rig import HostAgent, timeout

pytestmark = pytest.mark.x11

# The relay pings a host's control channel every 10 s (relay/settings.py KEEPALIVE_INTERVAL_S);
# watch the freshly enrolled agent for longer than that.
WATCH_S = 13.0


def test_freshly_enrolled_office_pc_keeps_its_control_channel(
    relay, accounts, office_screen, tmp_path
):
    agent = HostAgent(tmp_path / "host-pc03", tmp_path, "PC-03")
    try:
        agent.start(relay, office_screen, accounts.enrolment_token())
        host_id = agent.host_id
        time.sleep(timeout(WATCH_S))  # the thing watched is time passing without a drop
        audit = relay.manage("audit", "--tenant", accounts.tenant, "--limit", "1000")
        events = [r["event"] for r in audit["records"] if r.get("host_id") == host_id]
        assert agent.status()["connected"]
        assert "host_offline" not in events, events
    finally:
        agent.stop()
