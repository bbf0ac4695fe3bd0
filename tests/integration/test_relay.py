"""The relay on real loopback sockets: enrolment, login, pairing, refusals, hostile input."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import threading
import time
from dataclasses import replace

import pyotp
import pytest

from core.auth import lockout as lockout_limits
from core.crypto.certs import fingerprint, generate_identity, pem_to_der
from core.protocol.control import RefusalReason
from core.protocol.framing import HEADER, MAX_CONTROL_PAYLOAD, PROTOCOL_VERSION
from relay.context import NOISY_SOURCE_MAX_RECORDS
from relay.forwarding import Forwarder
from relay.hooks import RelayHooks
from tests.integration.relay_harness import (
    FAST,
    TENANT,
    USER,
    HostAgent,
    login,
    login_message,
    start_relay,
    wait_until,
)
from transport import client as client_module
from transport.client import RefusedByRelay, viewer_login
from transport.link_stream import PeerGone


@pytest.fixture
async def relay(tmp_path, database_url):
    """A relay on each directory engine (SQLite, PostgreSQL)."""
    relay = await start_relay(tmp_path, database=database_url)
    yield relay
    await relay.close()


async def expect_refusal(reason: RefusalReason, coro):
    with pytest.raises(RefusedByRelay) as caught:
        channel, _ = await coro
        channel.close()
    assert caught.value.reason == reason.value
    return caught.value


async def test_login_with_totp_pairs_and_exchanges_data_end_to_end(relay, host):
    channel, ok = await login(relay, host.host_id, relay.totp_now())
    await channel.write(b"hello office")
    assert await channel.read() == b"echo:hello office"
    assert ok.resume_ticket and ok.resume_ttl_s > 0
    assert len(relay.server.sessions) == 1
    (offer,) = host.offers
    assert offer.user == USER and offer.macs == ["02:00:00:00:00:01"]
    channel.close()
    # session_end is written after the session leaves the live list: wait for the record.
    await wait_until(lambda: "session_end" in relay.audit_events())
    assert not relay.server.sessions
    events = relay.audit_events()
    for event in ("host_enrolled", "host_online", "login", "session_start", "session_end"):
        assert event in events
    end = relay.directory.list_audit(event="session_end")[0]
    assert end.detail["bytes_to_viewer"] > 0 and end.detail["bytes_to_host"] > 0


async def test_session_durations_come_from_the_relays_monotonic_clock(relay, host):
    offset = [0.0]
    relay.server.context.monotonic = lambda: time.monotonic() + offset[0]
    channel, _ = await login(relay, host.host_id, relay.totp_now())
    await channel.write(b"hello office")
    assert await channel.read() == b"echo:hello office"
    offset[0] = 3600.0  # an hour passes on the relay's clock, not in the test
    channel.close()
    # session_end is written after the session leaves the live list: wait for the record.
    await wait_until(lambda: "session_end" in relay.audit_events())
    end = relay.directory.list_audit(event="session_end")[0]
    assert 3600 <= end.detail["duration_s"] < 3660


async def test_closing_the_relay_waits_for_directory_calls_still_running(relay, host, monkeypatch):
    real_verify = relay.directory.verify_otp
    started, finished = threading.Event(), threading.Event()

    def slow_verify(*args, **kwargs):
        started.set()
        time.sleep(1.0)  # a slow disk, in the store's worker thread
        try:
            return real_verify(*args, **kwargs)
        finally:
            finished.set()

    monkeypatch.setattr(relay.directory, "verify_otp", slow_verify)
    attempt = asyncio.create_task(login(relay, host.host_id, relay.totp_now()))
    await asyncio.to_thread(started.wait, 10)
    # The login's task is cancelled while its OTP check runs on in a thread: close must not
    # return (and the caller close the store) before that call is done with the database.
    await relay.server.close()
    assert finished.is_set()
    with pytest.raises((PeerGone, RefusedByRelay)):  # the relay went away mid-login
        await attempt


async def test_login_with_single_use_code(relay, host):
    (code,) = relay.directory.issue_codes(TENANT, USER, 1)
    channel, _ = await login(relay, host.host_id, code)
    channel.close()
    await expect_refusal(RefusalReason.WRONG_OTP, login(relay, host.host_id, code))


async def test_wrong_otp_refused_and_nothing_joined(relay, host):
    await expect_refusal(RefusalReason.WRONG_OTP, login(relay, host.host_id, "000000"))
    assert host.offers == [] and not relay.server.sessions
    assert "login_refused" in relay.audit_events()


async def test_unknown_user_looks_like_wrong_otp(relay, host):
    await expect_refusal(
        RefusalReason.WRONG_OTP, login(relay, host.host_id, relay.totp_now(), user="nobody")
    )


async def test_replayed_totp_refused(relay, host):
    code = relay.totp_now()
    channel, _ = await login(relay, host.host_id, code)
    channel.close()
    await expect_refusal(RefusalReason.WRONG_OTP, login(relay, host.host_id, code))


async def test_lockout_after_repeated_failures_even_with_right_code(relay, host):
    for _ in range(4):
        await expect_refusal(RefusalReason.WRONG_OTP, login(relay, host.host_id, "000000"))
    refusal = await expect_refusal(RefusalReason.LOCKED_OUT, login(relay, host.host_id, "000000"))
    assert refusal.retry_after > time.time()
    await expect_refusal(RefusalReason.LOCKED_OUT, login(relay, host.host_id, relay.totp_now()))
    assert host.offers == []


def full_width(text: str) -> str:
    """ASCII letters as their full-width forms (NFKC turns them back)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


async def test_lockout_counts_every_spelling_of_a_name_as_one_user(relay, host):
    # Five spellings the directory resolves to the same user, each with one wrong OTP.
    spellings = [USER[:i] + full_width(USER[i]) + USER[i + 1 :] for i in range(5)]
    assert len(set(spellings)) == 5
    for spelling in spellings[:4]:
        await expect_refusal(
            RefusalReason.WRONG_OTP, login(relay, host.host_id, "000000", user=spelling)
        )
    await expect_refusal(
        RefusalReason.LOCKED_OUT, login(relay, host.host_id, "000000", user=spellings[4])
    )
    await expect_refusal(RefusalReason.LOCKED_OUT, login(relay, host.host_id, relay.totp_now()))


async def test_a_full_width_login_joins_the_stored_account(relay, host):
    device = generate_identity("home-pc")
    message = replace(
        login_message(relay, host.host_id, relay.totp_now(), device),
        tenant=full_width(TENANT),
        user=full_width(USER),
    )
    channel, _ = await viewer_login(relay.endpoint, message, device)
    await channel.write(b"ping")
    assert await channel.read() == b"echo:ping"
    channel.close()
    assert (host.offers[0].tenant, host.offers[0].user) == (TENANT, USER)


async def test_an_attach_that_never_comes_leaves_nothing_behind(relay, host, monkeypatch):
    async def never_attach(*args, **kwargs):
        await asyncio.sleep(3600)

    monkeypatch.setattr(client_module, "attach", never_attach)
    await expect_refusal(RefusalReason.HOST_TIMEOUT, login(relay, host.host_id, relay.totp_now()))
    assert relay.server.channels._awaiting_attach == {}  # nothing kept per abandoned session


async def test_a_parallel_burst_of_logins_is_checked_no_more_than_the_lockout_allows(relay, host):
    guesses = [f"{n:06d}" for n in range(12)]
    results = await asyncio.gather(
        *(login(relay, host.host_id, otp) for otp in guesses), return_exceptions=True
    )
    assert all(isinstance(r, RefusedByRelay) for r in results)
    reasons = [r.reason for r in results]
    assert reasons.count(RefusalReason.WRONG_OTP.value) <= lockout_limits.USER_MAX_FAILURES - 1
    refused = relay.directory.list_audit(event="login_refused")
    checked = [r for r in refused if r.detail.get("reason") != "locked_out"]
    assert len(checked) <= lockout_limits.USER_MAX_FAILURES  # OTPs really compared
    await expect_refusal(RefusalReason.LOCKED_OUT, login(relay, host.host_id, relay.totp_now()))


async def test_hammering_a_locked_name_locks_the_source_and_stops_the_audit_records(relay, host):
    # The name locks after its 5th failure; then the same address keeps trying it.
    for _ in range(lockout_limits.USER_MAX_FAILURES + 3 * lockout_limits.SOURCE_MAX_FAILURES):
        with pytest.raises(RefusedByRelay):
            await login(relay, host.host_id, "000000")
    refused = relay.directory.list_audit(event="login_refused")
    assert len(refused) <= lockout_limits.SOURCE_MAX_FAILURES + 1


async def test_ungranted_host_refused(relay, host):
    relay.directory.revoke(TENANT, USER, host.host_id)
    await expect_refusal(RefusalReason.NOT_GRANTED, login(relay, host.host_id, relay.totp_now()))
    assert host.offers == []


async def test_access_withdrawn_while_the_office_pc_decides_refuses_the_login(relay, host):
    class WithdrawOnOffer(list):
        def append(self, offer):  # the host's decision is under way: the admin acts now
            relay.directory.revoke(TENANT, USER, host.host_id)
            super().append(offer)

    host.offers = WithdrawOnOffer()
    await expect_refusal(RefusalReason.NOT_GRANTED, login(relay, host.host_id, relay.totp_now()))
    assert len(host.offers) == 1 and not relay.server.sessions


async def test_offline_host_refused(relay, host):
    await host.stop()
    await wait_until(lambda: host.host_id not in relay.server.hosts)
    await expect_refusal(RefusalReason.HOST_OFFLINE, login(relay, host.host_id, relay.totp_now()))


async def test_host_refusal_reason_reaches_viewer(relay, host):
    host.refuse_with = RefusalReason.MAC_NOT_REGISTERED.value
    await expect_refusal(
        RefusalReason.MAC_NOT_REGISTERED, login(relay, host.host_id, relay.totp_now())
    )
    host.refuse_with = "some free text from a host"
    await expect_refusal(
        RefusalReason.REFUSED_BY_HOST,
        login(relay, host.host_id, pyotp.TOTP(relay.totp_secret).at(time.time() + 30)),
    )
    assert not relay.server.sessions


async def test_resume_ticket_reconnects_without_otp_once(relay, host):
    device = generate_identity("home-pc")
    channel, ok = await login(relay, host.host_id, relay.totp_now(), device=device)
    channel.close()
    await wait_until(lambda: not relay.server.sessions)
    again, ok2 = await login(relay, host.host_id, "", device=device, resume_ticket=ok.resume_ticket)
    await again.write(b"back")
    assert await again.read() == b"echo:back"
    again.close()
    await expect_refusal(
        RefusalReason.BAD_RESUME_TICKET,
        login(relay, host.host_id, "", device=device, resume_ticket=ok.resume_ticket),
    )
    # A ticket is bound to the device that got it.
    await expect_refusal(
        RefusalReason.BAD_RESUME_TICKET,
        login(relay, host.host_id, "", resume_ticket=ok2.resume_ticket),
    )


async def test_bad_enrollment_token_refused(relay):
    from transport.client import enroll

    with pytest.raises(RefusedByRelay) as caught:
        await enroll(relay.endpoint, "not-a-token", generate_identity("pc"), "PC", "test")
    assert caught.value.reason == RefusalReason.BAD_ENROLLMENT_TOKEN.value
    assert relay.directory.list_hosts(TENANT) == []


def _raw_tls(relay, minimum=ssl.TLSVersion.TLSv1_3, maximum=ssl.TLSVersion.TLSv1_3):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version, context.maximum_version = minimum, maximum
    sock = socket.create_connection((relay.endpoint.host, relay.endpoint.port), timeout=5)
    return context.wrap_socket(sock)


async def test_tls12_client_refused(relay):
    with pytest.raises(ssl.SSLError):
        await asyncio.to_thread(_raw_tls, relay, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
    assert relay.server.metrics.refusals["tls_handshake"] == 1


def _send_and_read(relay, data: bytes) -> bytes:
    with _raw_tls(relay) as tls:
        tls.sendall(data)
        chunks = []
        while chunk := tls.recv(4096):
            chunks.append(chunk)
        return b"".join(chunks)


async def test_oversized_frame_closes_the_connection(relay, host):
    header = HEADER.pack(MAX_CONTROL_PAYLOAD + 1, PROTOCOL_VERSION, 0x0D)
    assert await asyncio.to_thread(_send_and_read, relay, header) == b""
    assert relay.server.metrics.refusals[RefusalReason.PROTOCOL_ERROR] == 1
    channel, _ = await login(relay, host.host_id, relay.totp_now())  # the relay still serves
    channel.close()


async def test_garbage_bytes_close_the_connection(relay):
    assert await asyncio.to_thread(_send_and_read, relay, b"GET / HTTP/1.1\r\n\r\n") == b""
    assert "protocol_error" in relay.audit_events()


async def test_silent_connection_dropped(relay):
    started = time.monotonic()
    assert await asyncio.to_thread(_send_and_read, relay, b"") == b""
    assert time.monotonic() - started < relay.server.settings.handshake_timeout_s + 2


async def test_silent_host_control_channel_declared_dead(relay):
    from transport.client import host_login

    agent = await HostAgent(relay).start()
    await agent.stop()
    stream, _ = await host_login(relay.endpoint, agent.host_id, agent.secret, "test")
    await wait_until(lambda: agent.host_id in relay.server.hosts)
    # We never answer pings: the relay must give up within dead_after_s.
    await wait_until(
        lambda: agent.host_id not in relay.server.hosts,
        timeout=relay.server.settings.dead_after_s + 2,
    )
    await stream.close()


async def test_relay_forwards_no_plaintext(relay, host, monkeypatch):
    seen = bytearray()
    real_write = Forwarder._write

    def tapping_write(self, data):
        seen.extend(data)
        real_write(self, data)

    monkeypatch.setattr(Forwarder, "_write", tapping_write)
    channel, _ = await login(relay, host.host_id, relay.totp_now())
    secret_text = b"TOP-SECRET residents register 12345"
    await channel.write(secret_text)
    assert await channel.read() == b"echo:" + secret_text
    channel.close()
    await wait_until(lambda: not relay.server.sessions)
    assert len(seen) > 1000  # the handshakes and both messages went through the tap
    assert secret_text not in seen and b"TOP-SECRET" not in seen and b"echo:" not in seen


async def test_policy_pushed_on_connect_and_on_demand(tmp_path):
    hooks = RelayHooks(policy_for_host=lambda host_id: {"idle_timeout_s": 600})
    relay = await start_relay(tmp_path, hooks=hooks)
    agent = await HostAgent(relay).start()
    try:
        await wait_until(lambda: agent.policies == [{"idle_timeout_s": 600}])
        assert await relay.server.push_policy(agent.host_id, {"view_only": True})
        await wait_until(lambda: agent.policies[-1] == {"view_only": True})
        assert not await relay.server.push_policy("NOSUCHHOSTAAAAAAAAAA", {})
    finally:
        await agent.stop()
        await relay.server.close()
        relay.directory.close()


async def test_admin_can_end_a_live_session(relay, host):
    channel, _ = await login(relay, host.host_id, relay.totp_now())
    (session_id,) = relay.server.sessions
    assert relay.server.end_session(session_id, "ended_by_admin")
    assert await channel.read() == b""  # the viewer sees the stream end
    channel.close()
    await wait_until(lambda: host.ended == [(session_id, "ended_by_admin")])
    assert not relay.server.end_session(session_id, "again")
    end = relay.directory.list_audit(event="session_end")[0]
    assert end.detail["reason"] == "ended_by_admin"


async def test_tenant_rate_limit_lowers_live_session_pace(relay, host):
    channel, _ = await login(relay, host.host_id, relay.totp_now())
    (session,) = relay.server.sessions.values()
    relay.server.limit_tenant_rate(TENANT, 50_000)
    assert [b.rate for b in session.buckets] == [50_000 / 8, 50_000 / 8]
    relay.server.limit_tenant_rate(TENANT, 10**9)  # never above the relay's own setting
    assert session.buckets[0].rate == relay.server.settings.session_rate_bps / 8
    channel.close()


async def test_a_transient_host_refusal_hands_back_a_fresh_ticket(relay, host):
    device = generate_identity("home-pc")
    channel, ok = await login(relay, host.host_id, relay.totp_now(), device=device)
    channel.close()
    await wait_until(lambda: not relay.server.sessions)
    host.refuse_with = RefusalReason.HOST_BUSY.value
    refusal = await expect_refusal(
        RefusalReason.HOST_BUSY,
        login(relay, host.host_id, "", device=device, resume_ticket=ok.resume_ticket),
    )
    assert refusal.resume_ticket and refusal.resume_ticket != ok.resume_ticket
    host.refuse_with = None
    again, _ = await login(
        relay, host.host_id, "", device=device, resume_ticket=refusal.resume_ticket
    )
    again.close()
    # A wrong OTP is no transient refusal: no ticket for that.
    wrong = await expect_refusal(RefusalReason.WRONG_OTP, login(relay, host.host_id, "000000"))
    assert wrong.resume_ticket == ""


async def test_connections_per_source_are_capped(tmp_path):
    relay = await start_relay(tmp_path, replace(FAST, max_connections_per_source=2))
    try:
        held = [await asyncio.to_thread(_raw_tls, relay) for _ in range(2)]
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            extra = await asyncio.to_thread(_raw_tls, relay)
            extra.recv(1)  # closed before TLS: the handshake or the first read fails
        assert relay.server.metrics.refusals[RefusalReason.TOO_MANY_CONNECTIONS] == 1
        for sock in held:
            sock.close()
        await wait_until(lambda: not relay.server.admission._per_source)
        again = await asyncio.to_thread(_raw_tls, relay)  # room again once they are gone
        again.close()
    finally:
        await relay.server.close()
        relay.directory.close()


@pytest.mark.parametrize(
    "cap",
    [
        "max_half_open",  # in total
        "max_half_open_per_source",  # one client cannot take every slot
    ],
)
async def test_half_open_connections_are_capped(tmp_path, cap):
    relay = await start_relay(tmp_path, replace(FAST, **{cap: 1}))
    try:
        silent = await asyncio.to_thread(_raw_tls, relay)  # TLS done, first message pending
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            extra = await asyncio.to_thread(_raw_tls, relay)
            extra.recv(1)
        assert relay.server.metrics.refusals[RefusalReason.TOO_MANY_CONNECTIONS] == 1
        silent.close()
    finally:
        await relay.server.close()
        relay.directory.close()


async def test_a_first_message_trickled_a_byte_at_a_time_is_cut_at_the_deadline(tmp_path):
    relay = await start_relay(tmp_path, replace(FAST, handshake_timeout_s=0.6))
    trickler = await asyncio.to_thread(_raw_tls, relay)
    try:
        frame = HEADER.pack(MAX_CONTROL_PAYLOAD, PROTOCOL_VERSION, 1) + b"x" * 20  # 16 KiB due
        started, cut_after = time.monotonic(), None
        for byte in frame:  # each byte well inside the timeout, the whole far past it
            await asyncio.sleep(0.2)
            try:
                await asyncio.to_thread(trickler.sendall, bytes([byte]))
            except (ssl.SSLError, OSError):
                cut_after = time.monotonic() - started
                break
        assert cut_after is not None and cut_after < 0.6 + 1.5
    finally:
        trickler.close()
        await relay.server.close()
        relay.directory.close()


async def test_a_source_sending_garbage_is_quieted_in_the_audit_log_but_not_locked_out(relay, host):
    for _ in range(NOISY_SOURCE_MAX_RECORDS + 5):
        await asyncio.to_thread(_send_and_read, relay, b"\x00garbage\x00")
    assert relay.audit_events().count("protocol_error") == NOISY_SOURCE_MAX_RECORDS
    assert relay.server.metrics.audit_records_quieted == 5
    # Garbage guesses no password: the same address still logs in, and office PCs get in.
    channel, _ = await login(relay, host.host_id, relay.totp_now())
    channel.close()
    other = await HostAgent(relay).start()
    await other.stop()


async def test_office_pcs_behind_an_address_that_floods_garbage_and_stale_credentials_stay_online(
    relay, host
):
    """Every office PC of a municipality shares its NAT address: a broken machine behind it
    (garbage, a retired PC's credential, a stale enrolment token) must not keep the others
    offline, however long it goes on."""
    from transport.client import enroll, host_login

    retired = await HostAgent(relay).start()
    await retired.stop()
    relay.directory.retire_host(TENANT, retired.host_id)
    for _ in range(lockout_limits.SOURCE_MAX_FAILURES + 5):
        await asyncio.to_thread(_send_and_read, relay, b"\x16garbage")
        await expect_refusal(
            RefusalReason.BAD_HOST_CREDENTIAL,
            host_login(relay.endpoint, retired.host_id, retired.secret, "test"),
        )
        with pytest.raises(RefusedByRelay):
            await enroll(relay.endpoint, "stale-token", generate_identity("pc"), "PC", "test")
    await host.stop()  # the enrolled office PC reconnects from the same address
    stream, ready = await host_login(relay.endpoint, host.host_id, host.secret, "test")
    assert ready.host_id == host.host_id
    await stream.close()
    newcomer = await HostAgent(relay).start()  # and a new one enrols
    await newcomer.stop()
    refused = relay.audit_events()
    assert refused.count("host_auth_refused") + refused.count("enroll_refused") <= (
        NOISY_SOURCE_MAX_RECORDS
    )


async def test_a_resumed_login_waits_for_its_office_pc_to_come_back(relay, host):
    """After a relay restart the viewer is often back before its office PC: its resuming login
    is held (up to resume_host_wait_s) instead of refused, so the picture returns as soon as
    the office PC does. A first login to an office PC that is offline is refused at once."""
    (code,) = relay.directory.issue_codes(TENANT, USER, 1)  # a new sheet ends tickets: first
    device = generate_identity("home-pc")
    channel, ok = await login(relay, host.host_id, relay.totp_now(), device)
    channel.close()
    await wait_until(lambda: not relay.server.sessions)
    await host.stop()
    await wait_until(lambda: host.host_id not in relay.server.hosts)
    started = time.monotonic()
    await expect_refusal(RefusalReason.HOST_OFFLINE, login(relay, host.host_id, code))
    assert time.monotonic() - started < relay.server.settings.resume_host_wait_s

    resumed = asyncio.ensure_future(
        login(relay, host.host_id, "", device, resume_ticket=ok.resume_ticket)
    )
    await asyncio.sleep(relay.server.settings.resume_host_wait_s / 3)
    assert not resumed.done()  # held, not refused
    await host.reconnect()
    channel, _ = await resumed
    await channel.write(b"back")
    assert await channel.read() == b"echo:back"
    channel.close()


async def test_a_resumed_login_is_refused_when_its_office_pc_stays_away(relay, host):
    device = generate_identity("home-pc")
    channel, ok = await login(relay, host.host_id, relay.totp_now(), device)
    channel.close()
    await wait_until(lambda: not relay.server.sessions)
    await host.stop()
    await wait_until(lambda: host.host_id not in relay.server.hosts)
    started = time.monotonic()
    refusal = await expect_refusal(
        RefusalReason.HOST_OFFLINE,
        login(relay, host.host_id, "", device, resume_ticket=ok.resume_ticket),
    )
    assert time.monotonic() - started >= relay.server.settings.resume_host_wait_s
    assert refusal.resume_ticket  # a fresh ticket: the viewer tries again without a new OTP
    assert not relay.server.channels._arrivals  # nothing left waiting


async def test_a_relay_shutting_down_cuts_sessions_as_a_crash_would_so_viewers_resume(
    tmp_path,
):
    """Stopping the relay (SIGTERM: an upgrade, a restart) cuts each session without telling
    either side it is over, so the viewer reconnects and resumes with its ticket instead of
    showing "session ended"; the session is recorded as ended by the shutdown."""
    relay = await start_relay(tmp_path)
    host = await HostAgent(relay).start()
    relay.directory.grant(TENANT, USER, host.host_id)
    device = generate_identity("home-pc")
    channel, ok = await login(relay, host.host_id, relay.totp_now(), device)
    await channel.write(b"hello")
    assert await channel.read() == b"echo:hello"
    try:
        await relay.server.close()
        await asyncio.get_running_loop().shutdown_default_executor()
        with pytest.raises((PeerGone, ConnectionError, OSError)):
            await channel.write(b"still there?")
            await channel.read()
        assert host.ended == []  # the office PC heard no "session over" either
        end = relay.directory.list_audit(event="session_end")[0]
        assert end.detail["reason"] == "relay_shutdown"
        # The ticket stays good for the resume once a relay is back.
        assert relay.directory.redeem_resume_ticket(
            ok.resume_ticket, host.host_id, fingerprint(pem_to_der(device.cert_pem)), time.time()
        )
    finally:
        channel.close()
        await host.stop()
        relay.directory.close()


async def test_a_login_naming_a_certificate_bundle_is_a_protocol_error(relay, host):
    """The device-certificate field holds exactly one certificate: the relay records the
    first of a bundle, while TLS at the office PC would trust them all."""
    device, other = generate_identity("home-pc"), generate_identity("another-pc")
    message = login_message(relay, host.host_id, relay.totp_now(), device)
    bundle = replace(message, device_cert=(device.cert_pem + other.cert_pem).decode())
    with pytest.raises(RefusedByRelay) as caught:
        await viewer_login(relay.endpoint, bundle, device)
    assert caught.value.reason == RefusalReason.PROTOCOL_ERROR.value
    assert host.offers == []


async def test_a_name_that_fails_validation_cannot_forge_a_log_line(relay, host, caplog):
    forged = "x\nINFO telework.relay: audit login tenant=example-city user=tanaka\u2028"
    device = generate_identity("home-pc")
    message = replace(
        login_message(relay, host.host_id, "000000", device), tenant=forged, user=forged
    )
    with caplog.at_level(logging.INFO, "telework.relay"), pytest.raises(RefusedByRelay):
        await viewer_login(relay.endpoint, message, device)
    lines = caplog.text.splitlines()
    assert not any(line.startswith("INFO telework.relay: audit login") for line in lines)
    assert not any("\u2028" in line for line in lines)
    (refused,) = relay.directory.list_audit(event="login_refused")
    assert "\n" not in refused.user and refused.user.startswith("x\\u000a")
