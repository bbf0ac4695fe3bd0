"""The relay's client side, for the host agent and the viewer: enrol, log in, attach, serve.

Each call opens its own TLS link (pinned), walks the handshake through the shared state table
and returns either a message stream (a host's control channel) or the end-to-end channel.
Refusals come back as :class:`Refused` with the relay's reason code, for the apps to translate.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from core.admin_api import has_invisible
from core.crypto.certs import Identity, pem_to_der
from core.errors import CryptoError, Error, LocalError, PeerError, ProtocolError
from core.policy import HoursSpan, hours_from_wire
from core.protocol.control import (
    DEAD_AFTER_S,
    Attach,
    Attached,
    ControlMessage,
    DeviceList,
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
    ProgressStage,
    RefusalReason,
    Refused,
    SessionAnswer,
    SessionEnd,
    SessionOffer,
    Wake,
)
from transport.connect import RelayEndpoint, open_link, parse_host_port
from transport.e2e import E2E_HANDSHAKE_TIMEOUT_S, SecureChannel
from transport.link_stream import LinkStream, PeerGone
from transport.wake import Waker, lan_card_of_socket

log = logging.getLogger("telework.client")
# The agent's one waker: its per-MAC send limit holds across control channels.
AGENT_WAKER = Waker()

# How long we wait for the relay's answer to a handshake message. A viewer's login includes
# the host's decision, which the relay bounds itself; this is the outer bound.
HANDSHAKE_REPLY_TIMEOUT_S = 60.0


class RefusedByRelay(Error):
    """The relay (or the host through it) said no. ``reason`` is a RefusalReason value."""

    def __init__(
        self,
        reason: str,
        retry_after: int = 0,
        resume_ticket: str = "",
        checks: tuple[str, ...] = (),
        hours: tuple[HoursSpan, ...] = (),
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.resume_ticket = resume_ticket
        self.checks = checks  # the home-PC checks that failed, by name
        self.hours = hours  # outside the allowed hours: when they are (checked spans)


def _lan_of(stream: LinkStream) -> tuple[str, str]:
    """The office PC's network card this link left through, as HostAuth and Enroll carry it
    (for Wake-on-LAN); blanks when it has none with a MAC."""
    card = lan_card_of_socket(stream.writer.get_extra_info("sockname"))
    return (card.mac, card.wire_address) if card is not None else ("", "")


async def _reply(stream: LinkStream, timeout: float = HANDSHAKE_REPLY_TIMEOUT_S) -> ControlMessage:
    message = await stream.next_message(timeout)
    if isinstance(message, Refused):
        raise RefusedByRelay(
            message.reason,
            message.retry_after,
            message.resume_ticket,
            tuple(message.checks),
            hours_from_wire(message.hours),
        )
    return message


@contextlib.asynccontextmanager
async def _closed_on_error(stream: LinkStream) -> AsyncIterator[LinkStream]:
    """Hand the stream to the caller on success; close it on any failure or cancellation."""
    try:
        yield stream
    except BaseException:
        await asyncio.shield(stream.close())
        raise


async def enroll(
    endpoint: RelayEndpoint, token: str, identity: Identity, name: str, agent_version: str
) -> tuple[LinkStream, Enrolled]:
    """Redeem an enrolment token; the link stays open as the new host's control channel."""
    async with _closed_on_error(await open_link(endpoint)) as stream:
        cert = identity.cert_pem.decode()
        await stream.send(Enroll(token, name, agent_version, cert, *_lan_of(stream)))
        reply = await _reply(stream)
        assert isinstance(reply, Enrolled)  # guaranteed by the link's state table
        plain_names(reply, "tenant")
        return stream, reply


async def host_login(
    endpoint: RelayEndpoint, host_id: str, secret: str, agent_version: str
) -> tuple[LinkStream, HostReady]:
    async with _closed_on_error(await open_link(endpoint)) as stream:
        await stream.send(HostAuth(host_id, secret, agent_version, *_lan_of(stream)))
        reply = await _reply(stream)
        assert isinstance(reply, HostReady)
        plain_names(reply, "tenant")
        return stream, reply


async def attach(
    endpoint: RelayEndpoint,
    host_id: str,
    secret: str,
    session_id: str,
    identity: Identity,
    viewer_cert_pem: bytes,
    e2e_timeout_s: float = E2E_HANDSHAKE_TIMEOUT_S,
) -> SecureChannel:
    """Open the host's data connection for an accepted session and secure it end to end."""
    async with _closed_on_error(await open_link(endpoint)) as stream:
        await stream.send(Attach(host_id, secret, session_id))
        reply = await _reply(stream)
        assert isinstance(reply, Attached)
        return await SecureChannel.as_host(
            stream.reader,
            stream.writer,
            stream.take_trailing(),
            identity,
            viewer_cert_pem,
            e2e_timeout_s,
        )


async def viewer_login(
    endpoint: RelayEndpoint,
    login: Login,
    device: Identity,
    on_progress: Callable[[ProgressStage], None] = lambda stage: None,
) -> tuple[SecureChannel, LoginOk]:
    """Log in and return the end-to-end channel to the office PC, its identity checked.

    ``on_progress`` hears each stage; one the relay names that this client does not know (a
    newer relay's) is passed over, so what the user sees stays at the stage before."""
    on_progress(ProgressStage.CONNECTING_TO_RELAY)
    async with _closed_on_error(await open_link(endpoint)) as stream:
        await stream.send(login)
        while True:
            reply = await _reply(stream)
            if isinstance(reply, Progress):
                if reply.stage in ProgressStage:
                    on_progress(ProgressStage(reply.stage))
                continue
            assert isinstance(reply, LoginOk)
            break
        on_progress(ProgressStage.SECURING_CHANNEL)
        channel = await SecureChannel.as_viewer(
            stream.reader, stream.writer, stream.take_trailing(), device, login.host_id
        )
        return channel, reply


def plain_names(message: ControlMessage, *fields: str) -> None:
    """ProtocolError if a name the relay sent holds a control, line-breaking or invisible
    character: the office PC trusts no relay, and logs, shows and forwards these names (its
    log, its tray, its syslog), where such a name could forge a line."""
    for name in fields:
        if has_invisible(getattr(message, name)):
            raise ProtocolError(f"{type(message).__name__}.{name}: control or invisible characters")


def attach_endpoint(endpoint: RelayEndpoint, attach_to: str) -> RelayEndpoint:
    """Where an accepted session's data connection goes: the relay node the offer names (in a
    cluster, the node the viewer is on), trusted exactly as the relay (same pin or CA), else
    the relay's own address. A malformed address is the relay's protocol error."""
    if not attach_to:
        return endpoint
    try:
        host, port = parse_host_port(attach_to)
    except LocalError as exc:
        raise ProtocolError("SessionOffer.attach_to is not HOST:PORT") from exc
    return dataclasses.replace(endpoint, host=host, port=port)


@dataclasses.dataclass(frozen=True)
class Decline:
    """A host's refusal of an offer: the RefusalReason value, and for a home-PC check, the
    checks that failed; outside the allowed hours, the hours (core.policy.hours_to_wire)."""

    reason: str
    checks: tuple[str, ...] = ()
    hours: tuple[str, ...] = ()


# What a host decides of an offer: None accepts; a reason (or a Decline) refuses.
Decide = Callable[[SessionOffer], Awaitable[str | Decline | None]]
"""A host's decision on an offer: ``None`` accepts, a RefusalReason value refuses."""
RunSession = Callable[[SessionOffer, SecureChannel], Awaitable[None]]
Release = Callable[[str], None]
"""Called with the session ID once an accepted offer is over: its session ended, or it never
started (the answer or the attach failed, timed out or was cancelled). The host frees there
whatever its :data:`Decide` held for the session, so a failed start never leaves it busy."""


async def serve_control(
    stream: LinkStream,
    endpoint: RelayEndpoint,
    host_id: str,
    secret: str,
    identity: Identity,
    decide: Decide,
    run_session: RunSession,
    on_policy: Callable[[dict[str, object]], None] = lambda policy: None,
    on_session_end: Callable[[str, str], None] = lambda sid, reason: None,
    on_device_list: Callable[[DeviceList], None] = lambda message: None,
    release: Release = lambda session_id: None,
    dead_after_s: float = DEAD_AFTER_S,
    e2e_timeout_s: float = E2E_HANDSHAKE_TIMEOUT_S,
    waker: Waker = AGENT_WAKER,
) -> None:
    """Run a host's control channel until the relay goes away (then :class:`PeerGone`).

    A :class:`Wake` is carried out by ``waker`` (one per agent: its limits outlive a channel),
    from the network card this channel left through.

    An accepted offer's attach cannot hang: connecting, the relay's answer and the end-to-end
    handshake each have their own timeout, and a failure of any kind reaches ``release``.
    """
    sessions: set[asyncio.Task[None]] = set()
    waker.own = lan_card_of_socket(stream.writer.get_extra_info("sockname"))

    async def handle_offer(offer: SessionOffer) -> None:
        try:
            plain_names(offer, "tenant", "user", "source")
            pem_to_der(offer.device_cert)  # exactly one home-PC certificate, or no session
            data_endpoint = attach_endpoint(endpoint, offer.attach_to)
        except (CryptoError, ProtocolError) as exc:
            log.warning("refused an offer: %s", exc)
            await stream.send(SessionAnswer(offer.session_id, False, RefusalReason.REFUSED_BY_HOST))
            return
        verdict = await decide(offer)
        if verdict is not None:
            declined = Decline(verdict) if isinstance(verdict, str) else verdict
            answer = SessionAnswer(
                offer.session_id,
                False,
                declined.reason,
                list(declined.checks),
                list(declined.hours),
            )
            await stream.send(answer)
            return
        try:
            await stream.send(SessionAnswer(offer.session_id, True, ""))
            channel = await attach(
                data_endpoint,
                host_id,
                secret,
                offer.session_id,
                identity,
                offer.device_cert.encode(),
                e2e_timeout_s,
            )
            try:
                await run_session(offer, channel)
            finally:
                channel.close()
        finally:
            release(offer.session_id)

    try:
        while True:
            message = await stream.next_message(dead_after_s)
            if isinstance(message, Ping):
                await stream.send(Pong(message.nonce))
            elif isinstance(message, SessionOffer):
                task = asyncio.create_task(_logged(handle_offer(message), message.session_id))
                sessions.add(task)
                task.add_done_callback(sessions.discard)
            elif isinstance(message, Policy):
                on_policy(message.policy)
            elif isinstance(message, DeviceList):
                on_device_list(message)
            elif isinstance(message, SessionEnd):
                on_session_end(message.session_id, message.reason)
            elif isinstance(message, Wake):
                await asyncio.to_thread(waker.wake, message.mac, message.address)
    except Exception:
        # The control channel is lost, not the sessions: each runs on its own data connection
        # (in a cluster often through another relay node than this channel's), so they go on
        # while the agent reconnects, and end when their own connection does.
        _OUTLIVING.update(sessions)
        for task in sessions:
            task.add_done_callback(_OUTLIVING.discard)
        raise
    except BaseException:  # cancelled: the agent is stopping, and its sessions with it
        for task in sessions:
            task.cancel()
        raise
    finally:
        with contextlib.suppress(Exception):
            await stream.close()


# Sessions whose control channel was lost, held here until they end (a task nobody holds may
# be collected while it runs).
_OUTLIVING: set[asyncio.Task[None]] = set()


async def _logged(work: Awaitable[None], session_id: str) -> None:
    """Run one offer's work as a task of its own, so its failure is logged here and never left
    unretrieved: the peer's doing by type and reason code only (never the text, which may quote
    the peer), a bug of ours with its traceback."""
    short_id = session_id[:8]
    try:
        await work
    except (PeerGone, ProtocolError, RefusedByRelay, ConnectionError, OSError) as exc:
        log.info("session %s ended: %s", short_id, _summary(exc))
    except CryptoError as exc:  # PinMismatch too: not the device the relay named, or no TLS 1.3
        log.warning("session %s failed the end-to-end check: %s", short_id, _summary(exc))
    except Exception:  # a bug of ours: keep the traceback, keep the control channel serving
        log.exception("session %s failed unexpectedly", short_id)


def _summary(exc: Exception) -> str:
    """The exception's type and, where it has one, its safe reason code."""
    reason = exc.reason if isinstance(exc, (PeerError, RefusedByRelay)) else ""
    return f"{type(exc).__name__} ({reason})" if reason else type(exc).__name__
