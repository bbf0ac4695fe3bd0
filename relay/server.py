"""The relay: TLS 1.3 listener, host control channels, viewer login, pairing, forwarding.

An asyncio adapter over ``core``: each connection gets a :class:`LinkStream` whose sans-I/O
link enforces the handshake's state table; this module decides (with the directory) who is
let in, asks the host, joins the two streams and pumps bytes it cannot read. Every decision
goes to the audit log before the peer hears of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import ssl
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from core.auth import lockout as lockout_limits
from core.auth.lockout import Attempt, Lockout, source_key
from core.crypto.certs import (
    Identity,
    fingerprint,
    host_id_for_certificate,
    parse_host_id,
    pem_to_der,
)
from core.crypto.tls import server_context
from core.errors import CryptoError, LocalError, ProtocolError
from core.protocol.control import (
    Attach,
    Attached,
    ControlMessage,
    Enroll,
    Enrolled,
    HostAuth,
    HostReady,
    Login,
    LoginOk,
    Ping,
    Policy,
    Pong,
    Progress,
    RefusalReason,
    Refused,
    SessionAnswer,
    SessionEnd,
    SessionOffer,
)
from core.protocol.notices import CloseReason
from core.protocol.relay_link import Side
from core.ratelimit import TokenBucket
from relay.errors import Refusal
from relay.forwarding import STALLED, pump
from relay.metrics import RelayMetrics
from relay.sessions import HostChannel, LiveSession, PendingAttach
from relay.settings import WRITE_HIGH_WATER_BYTES, RelaySettings
from relay.store.directory import Directory, OtpResult, account_key, canonical_names
from relay.store.errors import EnrollmentRefused
from transport.link_stream import LinkStream, PeerGone, peer_address

log = logging.getLogger("telework.relay")
T = TypeVar("T")
# Typed names that name no account are kept in the audit log cut to this many characters.
AUDIT_NAME_CHARS = 64

# Reasons a host may give for refusing a viewer that the viewer is told as they are; any other
# text from a host becomes the generic REFUSED_BY_HOST (a host's free text never reaches users).
HOST_REASONS = frozenset(
    {
        RefusalReason.MAC_NOT_REGISTERED,
        RefusalReason.OUTSIDE_HOURS,
        RefusalReason.HOST_PAUSED,
        RefusalReason.HOST_BUSY,
    }
)


# Refusals after the viewer proved its identity that say "the office PC is not ready": the
# viewer gets a fresh resume ticket with them, so it can retry without typing a new OTP.
TRANSIENT_HOST_REASONS = frozenset(
    {
        RefusalReason.HOST_OFFLINE,
        RefusalReason.HOST_BUSY,
        RefusalReason.HOST_TIMEOUT,
    }
)


class RelayServer:
    def __init__(
        self,
        directory: Directory,
        identity: Identity,
        settings: RelaySettings | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self.settings = settings or RelaySettings()
        self.identity = identity  # the admin API serves the same certificate
        self.fingerprint = fingerprint(identity.cert_der)
        # Hooks the admin layer replaces. The policy pushed when a host connects (blocking: it
        # runs off the loop); none by default.
        self.policy_for_host: Callable[[str], dict[str, Any]] = lambda host_id: {}
        # A tenant's per-session budget for new sessions (a hard cap may lower it; it is never
        # raised above the relay's own setting).
        self.session_rate_bps: Callable[[str], int] = lambda tenant: self.settings.session_rate_bps
        self._tls = server_context(identity)
        self._wall = wall_clock
        self.hosts: dict[str, HostChannel] = {}
        self.sessions: dict[str, LiveSession] = {}
        self._awaiting_attach: dict[str, PendingAttach] = {}
        self._half_open = 0
        self._half_open_per_source: Counter[str] = Counter()
        self._per_source: Counter[str] = Counter()
        self._connections: set[asyncio.Task[Any]] = set()
        self._server: asyncio.Server | None = None
        self.metrics = RelayMetrics(
            live_sessions=lambda: len(self.sessions), hosts_online=lambda: len(self.hosts)
        )
        self.user_lockout = Lockout(
            lockout_limits.USER_MAX_FAILURES,
            lockout_limits.USER_WINDOW_S,
            lockout_limits.USER_LOCK_S,
            clock=wall_clock,
        )
        self.source_lockout = Lockout(
            lockout_limits.SOURCE_MAX_FAILURES,
            lockout_limits.SOURCE_WINDOW_S,
            lockout_limits.SOURCE_LOCK_S,
            clock=wall_clock,
        )

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._on_connection, host, port)
        address = self._server.sockets[0].getsockname()
        return str(address[0]), int(address[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for session in list(self.sessions.values()):
            session.request_end("relay_shutdown")
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    # -- hooks for the admin API -----------------------------------------------------------

    async def push_policy(self, host_id: str, policy: dict[str, Any]) -> bool:
        """Send a policy to a host now; False if the host is not online."""
        channel = self.hosts.get(host_id)
        if channel is None:
            return False
        try:
            await channel.stream.send(Policy(policy))
        except (ConnectionError, OSError, LocalError):
            return False
        return True

    def end_session(self, session_id: str, reason: str) -> bool:
        """Ask a live session to end (an admin's action); False if there is no such session."""
        session = self.sessions.get(session_id)
        if session is None:
            return False
        session.request_end(reason)
        return True

    def limit_tenant_rate(self, tenant: str, rate_bps: int) -> None:
        """Lower (or restore) the pace of a tenant's live sessions, without cutting them."""
        rate = min(rate_bps, self.settings.session_rate_bps) / 8
        now = time.monotonic()
        for session in self.sessions.values():
            if session.tenant == tenant:
                for bucket in session.buckets:
                    bucket.set_rate(rate, now)

    # -- connection admission -------------------------------------------------------------

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        source = peer_address(writer)
        counted_as = source_key(source)
        limits = self.settings
        if (
            self._half_open >= limits.max_half_open
            or self._half_open_per_source[counted_as] >= limits.max_half_open_per_source
            or self._per_source[counted_as] >= limits.max_connections_per_source
        ):
            self.metrics.refusals[RefusalReason.TOO_MANY_CONNECTIONS] += 1
            writer.close()
            self._connections.discard(task)
            return
        self._half_open += 1
        self._half_open_per_source[counted_as] += 1
        self._per_source[counted_as] += 1
        half_open = True
        stream: LinkStream | None = None
        try:
            try:
                await writer.start_tls(self._tls, ssl_handshake_timeout=limits.handshake_timeout_s)
            except (ssl.SSLError, TimeoutError, ConnectionError, OSError) as exc:
                log.info("TLS handshake from %s failed: %s", source, type(exc).__name__)
                self.metrics.refusals["tls_handshake"] += 1
                return
            writer.transport.set_write_buffer_limits(high=WRITE_HIGH_WATER_BYTES)
            stream = LinkStream(reader, writer, Side.RELAY)
            first = await stream.next_message(timeout=limits.handshake_timeout_s)
            self._end_half_open(counted_as)
            half_open = False
            await self._dispatch(stream, first)
        except Refusal as refusal:
            assert stream is not None
            await self._refuse(stream, refusal)
        except ProtocolError as exc:
            log.info("protocol error from %s: %s", source, exc)
            # Garbage counts like a wrong password: a source that keeps sending it is locked
            # out (its logins refused), and once locked it no longer writes to the audit log,
            # so a flood of garbage cannot fill the disk.
            already_locked = self.source_lockout.locked_until(counted_as) is not None
            self.source_lockout.record_failure(counted_as)
            if stream is not None and not already_locked:
                await self._audit(
                    "protocol_error", source=source, detail={"error": type(exc).__name__}
                )
                await self._refuse(stream, Refusal(RefusalReason.PROTOCOL_ERROR))
        except (PeerGone, ConnectionError):
            pass  # the peer left (or reset) mid-way: nothing to answer
        except asyncio.CancelledError:
            # Only close() cancels connection tasks; ending quietly lets the server shut down
            # without every open connection reporting its cancellation as an error.
            pass
        except Exception:
            log.exception("unexpected error on a connection from %s", source)
            if stream is not None:
                await self._refuse(stream, Refusal(RefusalReason.SERVER_ERROR))
        finally:
            if half_open:
                self._end_half_open(counted_as)
            self._per_source[counted_as] -= 1
            if self._per_source[counted_as] <= 0:
                del self._per_source[counted_as]
            if stream is not None:
                await stream.close()
            else:
                writer.close()
            self._connections.discard(task)

    async def _dispatch(self, stream: LinkStream, first: ControlMessage) -> None:
        if isinstance(first, Login):
            await self._login(stream, first)
        elif isinstance(first, HostAuth):
            await self._host_auth(stream, first)
        elif isinstance(first, Attach):
            await self._attach(stream, first)
        elif isinstance(first, Enroll):
            await self._enroll(stream, first)
        else:  # pragma: no cover - the link's state table admits only the four above
            raise ProtocolError(f"unexpected first message {type(first).__name__}")

    async def _refuse(self, stream: LinkStream, refusal: Refusal) -> None:
        """Count and send a refusal; the decision itself was audited where it was made."""
        self.metrics.refusals[refusal.reason] += 1
        with contextlib.suppress(LocalError, ConnectionError, OSError):
            # LocalError: the link's state does not allow a refusal (e.g. before any message).
            await stream.send(
                Refused(refusal.reason.value, refusal.retry_after, refusal.resume_ticket)
            )

    # -- host enrolment and control channel -------------------------------------------------

    def _end_half_open(self, counted_as: str) -> None:
        """Count a connection as past its first message (or gone)."""
        self._half_open -= 1
        self._half_open_per_source[counted_as] -= 1
        if self._half_open_per_source[counted_as] <= 0:
            del self._half_open_per_source[counted_as]

    def _check_source(self, source_block: str) -> None:
        until = self.source_lockout.locked_until(source_block)
        if until is not None:
            raise Refusal(RefusalReason.LOCKED_OUT, int(until) + 1)

    async def _enroll(self, stream: LinkStream, message: Enroll) -> None:
        self._check_source(stream.source_key)
        try:
            host_id = host_id_for_certificate(pem_to_der(message.cert_pem))
        except CryptoError as exc:
            raise ProtocolError("enrolment certificate is not a valid certificate") from exc
        try:
            tenant, secret = await self._db(
                self.directory.redeem_enrollment_token,
                message.token,
                host_id,
                message.cert_pem,
                message.name,
                message.agent_version,
                self._wall(),
            )
        except EnrollmentRefused as exc:
            self.source_lockout.record_failure(stream.source_key)
            await self._audit("enroll_refused", source=stream.source, detail={"reason": str(exc)})
            raise Refusal(RefusalReason.BAD_ENROLLMENT_TOKEN) from exc
        await self._audit(
            "host_enrolled",
            tenant=tenant,
            host_id=host_id,
            source=stream.source,
            detail={"name": message.name, "agent_version": message.agent_version},
        )
        keepalive = int(self.settings.keepalive_interval_s)
        await stream.send(Enrolled(host_id, secret, tenant, keepalive))
        await self._serve_control(stream, host_id, tenant)

    async def _authenticate_host(self, stream: LinkStream, host_id: str, secret: str) -> str:
        """Return the host's tenant, or refuse (and count the failure against the source)."""
        self._check_source(stream.source_key)
        host = await self._db(self.directory.authenticate_host, host_id, secret, self._wall())
        if host is None:
            self.source_lockout.record_failure(stream.source_key)
            await self._audit(
                "host_auth_refused", host_id=host_id[:AUDIT_NAME_CHARS], source=stream.source
            )
            raise Refusal(RefusalReason.BAD_HOST_CREDENTIAL)
        return host.tenant

    async def _host_auth(self, stream: LinkStream, message: HostAuth) -> None:
        tenant = await self._authenticate_host(stream, message.host_id, message.secret)
        await stream.send(
            HostReady(message.host_id, tenant, int(self.settings.keepalive_interval_s))
        )
        await self._serve_control(stream, message.host_id, tenant)

    async def _serve_control(self, stream: LinkStream, host_id: str, tenant: str) -> None:
        channel = HostChannel(host_id, tenant, stream)
        previous = self.hosts.get(host_id)
        if previous is not None:  # the host reconnected before we noticed the old channel died
            previous.fail_pending()
            await previous.stream.close()
        self.hosts[host_id] = channel
        await self._audit("host_online", tenant=tenant, host_id=host_id, source=stream.source)
        policy = await self._db(self.policy_for_host, host_id)
        if policy:
            await stream.send(Policy(policy))
        keepalive = asyncio.create_task(self._keepalive(channel))
        try:
            while True:
                message = await stream.next_message(timeout=self.settings.dead_after_s)
                if isinstance(message, Ping):
                    await stream.send(Pong(message.nonce))
                elif isinstance(message, SessionAnswer):
                    future = channel.answers.pop(message.session_id, None)
                    if future is not None and not future.done():
                        future.set_result(message)
        finally:
            keepalive.cancel()
            channel.fail_pending()
            if self.hosts.get(host_id) is channel:
                del self.hosts[host_id]
                await self._audit(
                    "host_offline", tenant=tenant, host_id=host_id, source=stream.source
                )

    async def _keepalive(self, channel: HostChannel) -> None:
        nonce = 0
        with contextlib.suppress(ConnectionError, OSError, LocalError):
            while True:
                await asyncio.sleep(self.settings.keepalive_interval_s)
                nonce += 1
                await channel.stream.send(Ping(nonce))

    async def _attach(self, stream: LinkStream, message: Attach) -> None:
        await self._authenticate_host(stream, message.host_id, message.secret)
        pending = self._awaiting_attach.get(message.session_id)
        if pending is None or pending.host_id != message.host_id or pending.stream.done():
            raise Refusal(RefusalReason.HOST_TIMEOUT)
        pending.stream.set_result(stream)
        await pending.over.wait()  # the viewer's handler runs the session and sets this

    # -- viewer login ----------------------------------------------------------------------

    async def _login(self, stream: LinkStream, message: Login) -> None:
        now = self._wall()
        user_key = account_key(message.tenant, message.user)
        self._check_source(stream.source_key)
        until = self.user_lockout.locked_until(user_key)
        if until is not None:
            # Counts against the source too: once it is locked, _check_source refuses it
            # before this audit record, so hammering a locked name cannot fill the disk.
            self.source_lockout.record_failure(stream.source_key)
            tenant, user = typed_names(message)
            await self._audit(
                "login_refused",
                tenant=tenant,
                user=user,
                source=stream.source,
                detail={"reason": "locked_out"},
            )
            raise Refusal(RefusalReason.LOCKED_OUT, int(until) + 1)
        try:
            device_fp = fingerprint(pem_to_der(message.device_cert))
            host_id = parse_host_id(message.host_id)
        except CryptoError as exc:
            raise ProtocolError(f"login: {exc}") from exc

        tenant, user = await self._check_credentials(
            stream, message, user_key, host_id, device_fp, now
        )
        who = {"tenant": tenant, "user": user, "host_id": host_id, "source": stream.source}
        if not await self._db(self.directory.is_granted, tenant, user, host_id):
            await self._audit("login_refused", **who, detail={"reason": "not_granted"})
            raise Refusal(RefusalReason.NOT_GRANTED)
        try:
            channel = self.hosts.get(host_id)
            if channel is None or channel.tenant != tenant:
                await self._audit("login_refused", **who, detail={"reason": "host_offline"})
                raise Refusal(RefusalReason.HOST_OFFLINE)
            await stream.send(Progress("waiting_for_host"))
            session_id = secrets.token_urlsafe(18)
            host_stream, pending = await self._ask_host(
                channel, session_id, message, tenant, user, stream.source, who
            )
        except Refusal as refusal:
            if refusal.reason in TRANSIENT_HOST_REASONS:
                # The user proved who they are; the office PC is just not ready. A fresh
                # ticket lets the viewer retry without a new OTP (the used one is gone).
                refusal.resume_ticket = await self._issue_ticket(tenant, user, host_id, device_fp)
            raise
        try:
            # Asked again: an admin may have withdrawn the grant or disabled the user while
            # the office PC was deciding, and their action only ends sessions already running.
            if not await self._db(self.directory.is_granted, tenant, user, host_id):
                await self._audit("login_refused", **who, detail={"reason": "not_granted"})
                raise Refusal(RefusalReason.NOT_GRANTED)
            ticket = await self._issue_ticket(tenant, user, host_id, device_fp)
            self.metrics.logins += 1
            await self._audit("login", **who, detail={"device": device_fp})
            await host_stream.send(Attached(session_id))
            await stream.send(LoginOk(session_id, ticket, self.settings.resume_ticket_ttl_s))
            session = LiveSession(
                session_id, tenant, user, host_id, device_fp, stream.source, self._wall()
            )
            session.resume_ticket = ticket
            await self._run_session(session, stream, host_stream, channel)
        finally:
            pending.over.set()

    async def _issue_ticket(self, tenant: str, user: str, host_id: str, device_fp: str) -> str:
        ttl = self.settings.resume_ticket_ttl_s
        return await self._db(
            self.directory.issue_resume_ticket, tenant, user, host_id, device_fp, ttl, self._wall()
        )

    async def _keep_ticket_alive(self, ticket: str) -> None:
        """Renew a live session's ticket: a drop after hours of work may still resume."""
        settings = self.settings
        while ticket:
            await asyncio.sleep(settings.resume_ticket_renew_s)
            now = self._wall()
            expires_at = now + settings.resume_ticket_ttl_s
            if not await self._db(self.directory.set_resume_ticket_expiry, ticket, expires_at, now):
                return  # used already: the viewer resumed while this session was dying

    async def _ticket_after_session(self, session: LiveSession) -> None:
        """Start the ticket's time when its session ends, so the viewer may resume for the whole
        lifetime after a drop; a session an admin ended takes its ticket with it. Done before
        the session leaves ``self.sessions``: once it is gone, a resume must meet the new expiry."""
        if not session.resume_ticket:
            return
        now = self._wall()
        by_admin = session.end_reason == CloseReason.ENDED_BY_ADMIN
        expires_at = now if by_admin else now + self.settings.resume_ticket_ttl_s
        # Shielded like the audit: a relay shutting down must still leave the ticket usable.
        await asyncio.shield(
            self._db(
                self.directory.set_resume_ticket_expiry, session.resume_ticket, expires_at, now
            )
        )

    async def _check_credentials(
        self,
        stream: LinkStream,
        message: Login,
        user_key: str,
        host_id: str,
        device_fp: str,
        now: float,
    ) -> tuple[str, str]:
        """Check the OTP or resume ticket; count failures against the user and the source.

        The attempt counts while it is checked, so a burst of parallel guesses cannot all be
        checked before the first failure counts."""
        attempt = Attempt((self.source_lockout, stream.source_key), (self.user_lockout, user_key))
        retry_at = attempt.begin()
        if retry_at is not None:
            raise Refusal(RefusalReason.LOCKED_OUT, int(retry_at) + 1)
        try:
            names, reason, detail = await self._verify(message, host_id, device_fp, now)
        except BaseException:
            attempt.end(failed=False)  # no answer (an error, a cancellation): nothing to count
            raise
        locked_until = attempt.end(failed=names is None)
        if names is not None:
            self.user_lockout.record_success(user_key)
            return names
        tenant, user = typed_names(message)
        who = {"tenant": tenant, "user": user, "host_id": host_id, "source": stream.source}
        await self._audit("login_refused", **who, detail={"reason": detail})
        if locked_until is not None:
            raise Refusal(RefusalReason.LOCKED_OUT, int(locked_until) + 1)
        raise Refusal(reason)

    async def _verify(
        self, message: Login, host_id: str, device_fp: str, now: float
    ) -> tuple[tuple[str, str] | None, RefusalReason, str]:
        """Who the login proves to be (tenant, user as stored), or None with the refusal for
        the viewer and the real cause for the audit log."""
        if message.resume_ticket:
            resumed = await self._db(
                self.directory.redeem_resume_ticket, message.resume_ticket, host_id, device_fp, now
            )
            # The ticket, not the typed names, says who this is.
            return resumed, RefusalReason.BAD_RESUME_TICKET, "bad_resume_ticket"
        result = await self._db(
            self.directory.verify_otp, message.tenant, message.user, message.otp, now
        )
        names = canonical_names(message.tenant, message.user)
        if result in (OtpResult.TOTP_OK, OtpResult.CODE_OK) and names is not None:
            return names, RefusalReason.WRONG_OTP, ""  # as stored: the typed may be full-width
        # The viewer hears "wrong OTP" whatever the cause, so user names stay secret; the
        # audit log (admins only) keeps the real cause.
        return None, RefusalReason.WRONG_OTP, result.name.lower()

    async def _ask_host(
        self,
        channel: HostChannel,
        session_id: str,
        message: Login,
        tenant: str,
        user: str,
        source: str,
        who: dict[str, str],
    ) -> tuple[LinkStream, PendingAttach]:
        """Offer the session to the host; return its data connection once it accepts, and the
        attach to release (``over``) when the session ends."""
        loop = asyncio.get_running_loop()
        answer_future: asyncio.Future[SessionAnswer] = loop.create_future()
        channel.answers[session_id] = answer_future
        pending = PendingAttach(channel.host_id, loop.create_future())
        self._awaiting_attach[session_id] = pending
        attached = False
        try:
            await channel.stream.send(
                SessionOffer(session_id, tenant, user, message.device_cert, message.macs, source)
            )
            answer = await asyncio.wait_for(answer_future, self.settings.host_answer_timeout_s)
            if not answer.accept:
                reason = (
                    RefusalReason(answer.reason)
                    if answer.reason in HOST_REASONS
                    else RefusalReason.REFUSED_BY_HOST
                )
                await self._audit("login_refused", **who, detail={"reason": reason.value})
                raise Refusal(reason)
            host_stream = await asyncio.wait_for(pending.stream, self.settings.attach_timeout_s)
            attached = True
        except (TimeoutError, PeerGone, ConnectionError, OSError) as exc:
            await self._audit("login_refused", **who, detail={"reason": "host_timeout"})
            raise Refusal(RefusalReason.HOST_TIMEOUT) from exc
        finally:
            channel.answers.pop(session_id, None)
            # Gone on every path: an attach that never came (its future cancelled by the
            # timeout) must not stay behind, one entry per abandoned session.
            self._awaiting_attach.pop(session_id, None)
            if not attached:
                pending.over.set()  # a host that attached in the last instant is let go
        return host_stream, pending

    # -- forwarding ------------------------------------------------------------------------

    async def _run_session(
        self, session: LiveSession, viewer: LinkStream, host: LinkStream, channel: HostChannel
    ) -> None:
        self.sessions[session.session_id] = session
        self.metrics.sessions_started += 1
        await self._audit(
            "session_start",
            tenant=session.tenant,
            user=session.user,
            host_id=session.host_id,
            source=session.source,
            detail={"session": session.session_id},
        )
        now = time.monotonic()
        rate = min(self.session_rate_bps(session.tenant), self.settings.session_rate_bps) / 8
        burst = self.settings.session_burst_bytes
        session.buckets = (TokenBucket(rate, burst, now), TokenBucket(rate, burst, now))

        def to_viewer(n: int) -> None:
            session.count_to_viewer(n)
            self.metrics.bytes_to_viewer += n

        def to_host(n: int) -> None:
            session.count_to_host(n)
            self.metrics.bytes_to_host += n

        tasks = [
            asyncio.create_task(
                pump(
                    host.reader,
                    viewer.writer,
                    session.buckets[0],
                    to_viewer,
                    host.take_trailing(),
                )
            ),
            asyncio.create_task(
                pump(
                    viewer.reader,
                    host.writer,
                    session.buckets[1],
                    to_host,
                    viewer.take_trailing(),
                )
            ),
            asyncio.create_task(session.end_requested.wait()),
        ]
        renewing = asyncio.create_task(self._keep_ticket_alive(session.resume_ticket))
        told_host = False
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if tasks[2] in done:
                # Ended on request (an admin): ask the host to close the session itself, so
                # the viewer hears why (and does not just reconnect); cut it after a grace.
                told_host = await self._tell_host_session_ended(channel, session)
                await asyncio.wait(
                    tasks[:2],
                    timeout=self.settings.end_grace_s,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            elif not session.end_reason:
                session.end_reason = _end_reason(tasks[0], tasks[1])
        finally:
            for task in (*tasks, renewing):
                task.cancel()
            await asyncio.gather(*tasks, renewing, return_exceptions=True)
            await self._ticket_after_session(session)
            del self.sessions[session.session_id]
            if not told_host:
                await self._tell_host_session_ended(channel, session)
            await self._audit(
                "session_end",
                tenant=session.tenant,
                user=session.user,
                host_id=session.host_id,
                source=session.source,
                detail={
                    "session": session.session_id,
                    "reason": session.end_reason,
                    "bytes_to_viewer": session.bytes_to_viewer,
                    "bytes_to_host": session.bytes_to_host,
                    "duration_s": round(session.duration_s, 3),
                },
            )

    async def _tell_host_session_ended(self, channel: HostChannel, session: LiveSession) -> bool:
        if self.hosts.get(session.host_id) is not channel:
            return False
        with contextlib.suppress(ConnectionError, OSError, LocalError):
            await channel.stream.send(SessionEnd(session.session_id, session.end_reason))
            return True
        return False

    # -- helpers ---------------------------------------------------------------------------

    async def _db(self, function: Callable[..., T], *args: Any) -> T:
        """Run a blocking directory call off the event loop (scrypt and SQLite both block)."""
        return await asyncio.to_thread(partial(function, *args))

    async def _audit(
        self,
        event: str,
        *,
        tenant: str | None = None,
        user: str | None = None,
        host_id: str | None = None,
        source: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        log.info(
            "audit %s tenant=%s user=%s host=%s source=%s %s",
            event,
            tenant,
            user,
            host_id,
            source,
            detail or "",
        )
        # Shielded: a record that was decided must be written even if shutdown interrupts us.
        await asyncio.shield(
            self._db(
                partial(
                    self.directory.audit,
                    event,
                    tenant=tenant,
                    user=user,
                    host_id=host_id,
                    source=source,
                    detail=detail,
                    now=self._wall(),
                )
            )
        )


def typed_names(message: Login) -> tuple[str, str]:
    """The names a login typed, for the audit log: as stored where they can name an account
    (so a full-width spelling is found under the tenant), else cut to a printable length."""
    return canonical_names(message.tenant, message.user) or (
        message.tenant[:AUDIT_NAME_CHARS],
        message.user[:AUDIT_NAME_CHARS],
    )


def _end_reason(to_viewer: asyncio.Task[Any], to_host: asyncio.Task[Any]) -> str:
    """Why forwarding ended, from the pump that finished: its source left, or its
    destination stopped reading."""
    if to_host.done() and not to_host.cancelled() and to_host.exception() is None:
        return "host_stalled" if to_host.result() == STALLED else "viewer_left"
    if to_viewer.done() and not to_viewer.cancelled() and to_viewer.exception() is None:
        return "viewer_stalled" if to_viewer.result() == STALLED else "host_left"
    return "viewer_left" if to_host.done() else "host_left"
