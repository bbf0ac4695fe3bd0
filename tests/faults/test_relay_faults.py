"""The real relay process under faults: its data directory's disk filled to 100 %, and a
SIGKILL mid-session. Nothing stays stuck, nothing is lost, usage is counted right."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from pathlib import Path

import pytest

from core.crypto.certs import Identity, fingerprint, generate_identity, pem_to_der
from relay.admin.usage import daily_usage
from relay.context import NOISY_SOURCE_MAX_RECORDS
from relay.store.directory import Directory
from tests.e2e.rig import Accounts, timeout
from tests.faults.conftest import OfficePc, log_in, send_garbage
from tests.integration.relay_harness import wait_until
from transport.client import RefusedByRelay
from transport.link_stream import PeerGone

BURST_LOGINS = 10  # a sheet holds at most 10 codes (MAX_CODES_PER_ISSUE)
FLOOD_CONNECTIONS = 200


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


def device_fingerprint(device: Identity) -> str:
    return fingerprint(pem_to_der(device.cert_pem.decode()))


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


async def test_a_relay_killed_during_a_login_burst_loses_no_answered_login_and_tickets_resume(
    relay_on, tmp_path
):
    """Ten viewers log in at once with single-use codes; the relay is SIGKILLed while
    their logins are under way. Every login that was answered OK has its record, every code
    used up has its record, every session that started gets its end on restart, usage counts
    each once, and a viewer that was in gets back in with its resume ticket, without a new
    code."""
    relay = relay_on(tmp_path / "relay")
    accounts = Accounts.create(relay)
    pc = OfficePc(relay, accounts)
    await pc.start()
    codes = relay.manage(
        "user", "codes", "--tenant", accounts.tenant, "--count", str(BURST_LOGINS), accounts.user
    )["codes"]
    answered: list[tuple[Identity, str]] = []  # (home PC, resume ticket) of each login OK

    async def one(code: str) -> None:
        device = generate_identity("home-pc")
        with contextlib.suppress(RefusedByRelay, PeerGone, OSError, asyncio.TimeoutError):
            channel, ticket = await log_in(relay, accounts, pc.host_id, code, device=device)
            answered.append((device, ticket))
        if any(d is device for d, _ in answered):
            with contextlib.suppress(Exception):  # held until the relay dies under it
                await channel.read()
            channel.close()

    burst = [asyncio.create_task(one(code)) for code in codes]
    try:
        await wait_until(lambda: len(answered) >= 3, timeout(20))
        relay.kill()
        await asyncio.wait_for(asyncio.gather(*burst), timeout(30))
        relay.start()
        records = relay.manage("audit", "--limit", "1000")["records"]
        logged_in = {r["detail"]["device"] for r in records if r["event"] == "login"}
        assert {device_fingerprint(device) for device, _ in answered} <= logged_in
        starts = {r["detail"]["session"] for r in records if r["event"] == "session_start"}
        ends = {r["detail"]["session"] for r in records if r["event"] == "session_end"}
        assert starts and starts <= ends  # each cut session ended on restart
        with Directory.open(relay.data_dir) as directory:
            unused = directory.unused_code_count(accounts.tenant, accounts.user)
        used = [r for r in records if r["event"] == "otp_used"]
        assert len(used) == BURST_LOGINS - unused  # no code used up without a trace

        await pc.stop()
        await pc.reconnect()
        device, ticket = answered[0]
        channel, _ = await log_in(relay, accounts, pc.host_id, "", ticket, device=device)
        assert await echoes(channel)  # resumed with its ticket: no new code
        channel.close()
        await wait_until(lambda: relay.metrics()["telework_live_sessions"] == 0, timeout(10))
    finally:
        for task in burst:
            task.cancel()
        await pc.stop()
    with Directory.open(relay.data_dir) as directory:
        audit = directory.list_audit(limit=1000)
    today = dt.date.today()
    (usage,) = daily_usage(audit, today, today, now=audit[-1].ts + 8 * 3600)
    assert usage.sessions == len(starts)  # the resumed one continues its cut session
    assert usage.hours < 0.1


async def test_office_pcs_stay_online_through_a_flood_of_garbage_from_their_shared_address(
    relay_on, tmp_path
):
    """Every office PC here shares 127.0.0.1, as a municipality's office PCs share its NAT
    address. A flood of malformed connections from it neither keeps them offline when they
    reconnect nor stops a new one enrolling, and the audit log takes only a bounded part."""
    relay = relay_on(tmp_path / "relay")
    accounts = Accounts.create(relay)
    pcs = [OfficePc(relay, accounts) for _ in range(3)]
    for pc in pcs:
        await pc.start()
    try:
        await wait_until(lambda: relay.metrics()["telework_hosts_online"] == 3, timeout(10))
        flood = asyncio.gather(
            *(asyncio.to_thread(send_garbage, relay) for _ in range(FLOOD_CONNECTIONS))
        )
        for pc in pcs:  # each office PC drops and comes back during the flood
            await pc.stop()
            await pc.reconnect()
        newcomer = OfficePc(relay, accounts)
        await newcomer.start()
        pcs.append(newcomer)
        await flood
        await wait_until(lambda: relay.metrics()["telework_hosts_online"] == 4, timeout(10))
        metrics = relay.metrics()
        assert metrics["telework_audit_records_quieted_total"] > 0
        events = [r["event"] for r in relay.manage("audit", "--limit", "1000")["records"]]
        assert events.count("protocol_error") <= NOISY_SOURCE_MAX_RECORDS
        channel, _ = await log_in(relay, accounts, pcs[0].host_id, accounts.totp_now())
        assert await echoes(channel)  # and staff still log in from that address
        channel.close()
    finally:
        for pc in pcs:
            await pc.stop()
