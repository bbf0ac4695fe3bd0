"""The viewer's client against the real relay: drops it must survive, refusals that need no new
OTP, and a cancel that comes while a login is finishing.

It drives :class:`ViewerClient` itself (the app adds only widgets), so timeouts can be scaled and
its clock moved on: an hour of work takes no real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

from apps.viewer.client import Credentials, ViewerClient
from apps.viewer.reconnect import REFUSAL_TICKET_TTL_S
from core.crypto.certs import generate_identity
from core.protocol.control import RefusalReason, SessionOffer
from core.protocol.notices import CloseReason
from core.protocol.session import Close
from tests.integration.relay_harness import TENANT, USER, HostAgent, wait_until

MACS = ["02:00:00:00:00:01"]


class MovableClock:
    """Monotonic time that a test can move forward (sleeps still take real time)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


class Recorder:
    """Every signal the client emits, in order, as (name, *arguments)."""

    NAMES = (
        "progress",
        "loggedIn",
        "refused",
        "failed",
        "needOtp",
        "closed",
        "retrying",
        "reconnectIn",
    )

    def __init__(self, client: ViewerClient) -> None:
        self.events: list[tuple] = []
        for name in self.NAMES:
            getattr(client, name).connect(lambda *args, n=name: self.events.append((n, *args)))

    def named(self, name: str) -> list[tuple]:
        return [e for e in self.events if e[0] == name]


@dataclass
class Run:
    client: ViewerClient
    seen: Recorder
    task: asyncio.Task | None = None
    clock: MovableClock = field(default_factory=MovableClock)

    def start(self, credentials: Credentials) -> None:
        self.task = asyncio.ensure_future(self.client.run(credentials))

    async def finish(self) -> None:
        await self.client.hang_up()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self.task, 5)


def make_run(relay, **options) -> Run:
    clock = MovableClock()
    client = ViewerClient(relay.endpoint, generate_identity("home-pc"), MACS, clock, **options)
    return Run(client, Recorder(client), clock=clock)


def credentials(host, otp: str) -> Credentials:
    return Credentials(TENANT, USER, host.host_id, otp)


def wrong_otp(relay) -> str:
    return "000000" if relay.totp_now() != "000000" else "111111"


async def test_a_silent_office_pc_is_a_drop_and_the_viewer_resumes(qapp, relay, office, host):
    office.heartbeat_s = None  # the link died without a reset: nothing arrives, nothing closes
    run = make_run(relay, silence_timeout_s=0.5)
    run.start(credentials(host, relay.totp_now()))
    try:
        await wait_until(lambda: len(run.seen.named("loggedIn")) == 2, timeout=10)
        assert ("progress", "reconnecting") in run.seen.events
        # The office counts its session once it runs it, a moment after the viewer's login.
        await wait_until(lambda: office.sessions == 2, timeout=10)
        assert len(host.offers) == 2  # resumed with the ticket
    finally:
        await run.finish()


async def test_a_drop_is_the_viewers_own_and_an_offline_pc_is_said_on_reconnect(
    qapp, relay, office, host
):
    office.heartbeat_s = 0.05
    run = make_run(relay)
    run.start(credentials(host, relay.totp_now()))
    try:
        await wait_until(lambda: run.client.session is not None, timeout=10)
        await host.stop()  # the office PC goes away with the session: the relay says offline
        await wait_until(lambda: len(run.seen.named("retrying")) >= 2, timeout=10)
        lost, refused = run.seen.named("retrying")[:2]
        assert lost == ("retrying", "viewer_lost")
        assert refused == ("retrying", RefusalReason.HOST_OFFLINE)
        assert run.seen.named("needOtp") == [] and run.seen.named("closed") == []
    finally:
        await run.finish()


async def test_a_quiet_office_pc_that_sends_heartbeats_is_no_drop(qapp, relay, office, host):
    office.heartbeat_s = 0.1
    run = make_run(relay, silence_timeout_s=0.5)
    run.start(credentials(host, relay.totp_now()))
    try:
        await wait_until(lambda: run.client.session is not None, timeout=10)
        await wait_until(lambda: run.client.session.frames_shown >= 1, timeout=10)
        await asyncio.sleep(1.5)  # three silence timeouts of a still screen
        assert len(run.seen.named("loggedIn")) == 1 and office.sessions == 1
    finally:
        await run.finish()


async def test_a_drop_long_after_the_login_still_resumes(qapp, relay, office, host):
    office.heartbeat_s = 0.05
    run = make_run(relay)
    run.start(credentials(host, relay.totp_now()))
    try:
        await wait_until(lambda: run.client.session is not None, timeout=10)
        session = run.client.session
        ok = run.seen.named("loggedIn")[0][1]
        run.clock.offset += ok.resume_ttl_s * 2  # two ticket lifetimes of work
        heard = session.stats.received_bytes
        await wait_until(lambda: session.stats.received_bytes > heard)  # still hearing the PC
        (live,) = relay.server.sessions
        relay.server.end_session(live, "test drop")  # as if the line went down
        await wait_until(lambda: len(run.seen.named("loggedIn")) == 2, timeout=10)
        assert run.seen.named("needOtp") == []
    finally:
        await run.finish()


async def test_a_refused_first_login_keeps_its_ticket_so_no_new_otp_is_needed(
    qapp, relay, office, host
):
    host.refuse_with = RefusalReason.HOST_BUSY
    run = make_run(relay)
    run.start(credentials(host, relay.totp_now()))
    await run.task
    assert run.seen.named("refused") == [("refused", RefusalReason.HOST_BUSY, 0, (), ())]
    assert run.client.holds_ticket

    host.refuse_with = None
    run.start(credentials(host, wrong_otp(relay)))  # the OTP is not what gets it in
    try:
        await wait_until(lambda: run.seen.named("loggedIn"), timeout=10)
        assert len(host.offers) == 2
    finally:
        await run.finish()


async def test_a_kept_ticket_that_no_longer_works_falls_back_to_the_otp_given(
    qapp, relay, office, host
):
    host.refuse_with = RefusalReason.HOST_BUSY
    run = make_run(relay)
    run.start(credentials(host, relay.totp_now()))
    await run.task
    assert run.client.plan is not None
    now = time.time()  # the relay's clock: an admin could end the ticket like this
    assert relay.directory.set_resume_ticket_expiry(run.client.plan.ticket, now, now)

    host.refuse_with = None
    (code,) = relay.directory.issue_codes(TENANT, USER, 1)
    run.start(credentials(host, code))
    try:
        await wait_until(lambda: run.seen.named("loggedIn"), timeout=10)
        assert len(run.seen.named("refused")) == 1  # only the first, busy one
    finally:
        await run.finish()


async def test_a_kept_ticket_is_not_used_after_its_time(qapp, relay, office, host):
    host.refuse_with = RefusalReason.HOST_BUSY
    run = make_run(relay)
    run.start(credentials(host, relay.totp_now()))
    await run.task
    run.clock.offset += REFUSAL_TICKET_TTL_S
    assert not run.client.holds_ticket


@dataclass
class SlowHost(HostAgent):
    """A host that answers only when the test lets it."""

    answer: asyncio.Event = field(default_factory=asyncio.Event)

    async def _decide(self, offer: SessionOffer) -> str | None:
        await self.answer.wait()
        return await super()._decide(offer)


async def test_cancel_while_the_login_finishes_ends_it_as_the_user_asked(qapp, relay, office):
    host = await SlowHost(relay, session=office.run_session).start()
    relay.directory.grant(TENANT, USER, host.host_id)
    run = make_run(relay)
    try:
        run.start(credentials(host, relay.totp_now()))
        await wait_until(lambda: ("progress", "waiting_for_host") in run.seen.events)
        await run.client.hang_up()  # Cancel: the app then waits a little for the login
        host.answer.set()
        await asyncio.wait_for(run.task, 10)
        await wait_until(lambda: Close(CloseReason.VIEWER_QUIT) in office.received, timeout=10)
        assert run.seen.named("loggedIn") == [] and run.client.session is None
        assert not [e for e in run.seen.events if e[0] != "progress"]
    finally:
        await run.finish()
        await host.stop()


async def test_the_home_pc_check_runs_once_and_a_refusal_names_the_failed_checks(
    qapp, relay, office, host
):
    report = {"viewer_version": "0.1.0", "os_name": "Debian", "firewall": "fail"}
    gathered = []

    def home_check() -> dict:
        gathered.append(1)
        return report

    relay.directory.set_tenant_policy(TENANT, {"home_checks": ["firewall"]})
    run = make_run(relay, home_check=home_check)
    run.start(credentials(host, relay.totp_now()))
    await run.task
    assert run.seen.named("refused") == [
        ("refused", RefusalReason.HOME_PC_CHECK_FAILED, 0, ("firewall",), ())
    ]
    assert ("progress", "checking_home_pc") in run.seen.events and gathered == [1]
    assert not run.client.holds_ticket  # a new OTP once it is put right
