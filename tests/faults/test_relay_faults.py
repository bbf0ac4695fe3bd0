"""The real relay process under faults: its data directory's disk filled to 100 %, and a
SIGKILL mid-session. Nothing stays stuck, nothing is lost, usage is counted right."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from relay.admin.usage import daily_usage
from relay.store.directory import Directory
from tests.e2e.rig import Accounts, timeout
from tests.faults.conftest import OfficePc, log_in
from tests.integration.relay_harness import wait_until
from transport.client import RefusedByRelay


def fill(disk: Path) -> Path:
    """Write until the file system is full; the filler file, to delete to free the space."""
    filler = disk / "filler"
    try:
        with filler.open("wb") as out:
            while True:
                out.write(b"\0" * 4096)
                out.flush()
    except OSError:  # ENOSPC: full
        pass
    return filler


async def echoes(channel) -> bool:
    await channel.write(b"ping")
    return await asyncio.wait_for(channel.read(), timeout(10)) == b"echo:ping"


async def test_a_full_disk_keeps_sessions_and_office_pcs_and_refuses_logins_clearly(
    relay_on, tmpfs
):
    relay = relay_on(tmpfs / "relay")
    accounts = Accounts.create(relay)
    other = OfficePc(relay, accounts)
    await other.start()
    pc = OfficePc(relay, accounts)
    await pc.start()
    codes = relay.manage(
        "user", "codes", "--tenant", accounts.tenant, "--count", "3", accounts.user
    )["codes"]
    try:
        await wait_until(lambda: relay.metrics()["telework_hosts_online"] == 2, timeout(10))
        channel, _ = await log_in(relay, accounts, pc.host_id, accounts.totp_now())
        filler = fill(tmpfs)

        assert await echoes(channel)  # the live session keeps going
        for code in codes[:2]:
            with pytest.raises(RefusedByRelay) as refused:
                await log_in(relay, accounts, pc.host_id, code)
            assert refused.value.reason == "server_error"
        await pc.stop()  # the office PC reconnects on the full disk: it comes online again
        await pc.reconnect()
        await wait_until(lambda: relay.metrics()["telework_hosts_online"] == 2, timeout(10))
        channel.close()  # a session ending on the full disk is gone from the live list
        await wait_until(lambda: relay.metrics()["telework_live_sessions"] == 0, timeout(10))
        metrics = relay.metrics()
        assert metrics["telework_store_errors_total"] >= 2
        assert metrics["telework_audit_backlog"] >= 1
        assert "Traceback" not in relay.tail()

        filler.unlink()  # space returns: the backlog is written, logins work again
        await wait_until(lambda: relay.metrics()["telework_audit_backlog"] == 0, timeout(20))
        channel, _ = await log_in(relay, accounts, pc.host_id, codes[2])
        assert await echoes(channel)
        channel.close()
        await wait_until(lambda: relay.metrics()["telework_live_sessions"] == 0, timeout(10))
        events = [r["event"] for r in relay.manage("audit", "--limit", "1000")["records"]]
        # Both sessions' ends and every online record (two enrolments, one reconnect): none lost.
        assert events.count("session_end") == 2 and events.count("host_online") == 3
    finally:
        await pc.stop()
        await other.stop()


async def test_a_relay_killed_mid_session_ends_it_on_restart_and_usage_counts_one(
    relay_on, tmp_path
):
    relay = relay_on(tmp_path / "relay")
    accounts = Accounts.create(relay)
    pc, later = OfficePc(relay, accounts), OfficePc(relay, accounts)
    await pc.start()
    try:
        channel, _ = await log_in(relay, accounts, pc.host_id, accounts.totp_now())
        assert await echoes(channel)
        await later.start()  # its host_online: the relay's last sign of life
        await wait_until(lambda: relay.metrics()["telework_hosts_online"] == 2, timeout(10))
        relay.kill()
        relay.start()
    finally:
        await pc.stop()
        await later.stop()
    records = relay.manage("audit", "--limit", "1000")["records"]
    (end,) = [r for r in records if r["event"] == "session_end"]
    assert end["detail"]["reason"] == "relay_restart"
    with Directory.open(relay.data_dir) as directory:
        audit = directory.list_audit(limit=1000)
    today = dt.date.today()
    (usage,) = daily_usage(audit, today, today, now=audit[-1].ts + 8 * 3600)
    assert (usage.sessions, usage.peak_concurrent) == (1, 1)
    assert usage.hours < 0.1  # not growing with the clock after the crash
