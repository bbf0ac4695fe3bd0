"""Who may open a connection to the relay, and each connection's life up to its first message:
caps on connections in total, half-open and per source, and a source locked out for failed
logins (checked as the connection is made, before any byte of it is read, so a refused one
costs no TLS work), the TLS 1.3 handshake, the deadline for the first message, and how a
failure anywhere after it is answered (a typed refusal, never exception text)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from core.auth.lockout import source_key
from core.errors import LocalError, ProtocolError
from core.protocol.control import ControlMessage, RefusalReason, Refused
from core.protocol.relay_link import Side
from relay.context import RelayContext
from relay.errors import Refusal, StoreUnavailable
from relay.settings import WRITE_HIGH_WATER_BYTES
from transport.link_stream import LinkStream, PeerGone, peer_address
from transport.tls_protocol import TlsConnection

log = logging.getLogger("telework.relay")

# The metrics' reason for a connection from a locked-out source closed before its TLS handshake.
LOCKED_BEFORE_TLS = "locked_out_before_tls"
# What a connection becomes once its first message arrived (it raises Refusal to refuse).
Dispatch = Callable[[LinkStream, ControlMessage], Awaitable[None]]


class Admission:
    """Counts and caps the relay's connections, and runs each one."""

    def __init__(
        self,
        context: RelayContext,
        tls: ssl.SSLContext,
        dispatch: Dispatch,
        office_pc_source: Callable[[str], bool] = lambda counted_as: False,
    ) -> None:
        self._context = context
        self._tls = tls
        self._dispatch = dispatch
        # Whether an office PC's control channel is online from this source (as counted):
        # such a source is never refused for a lockout before its first message (see _locked).
        self._office_pc_source = office_pc_source
        self._half_open = 0
        self._half_open_per_source: Counter[str] = Counter()
        self._per_source: Counter[str] = Counter()
        self._connections: set[asyncio.Task[Any]] = set()

    async def close(self) -> None:
        """End every open connection."""
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)

    def connection(self) -> TlsConnection:
        """A new connection's protocol (the listener's factory)."""
        return TlsConnection(
            self._tls,
            server_side=True,
            on_made=self._on_made,
            write_high_water=WRITE_HIGH_WATER_BYTES,
        )

    def _on_made(self, connection: TlsConnection) -> bool:
        """Admit a connection as it is made, before any byte of it is read (so before any TLS
        work): False (and it is closed) if one of the caps is reached. A connection from a
        trusted balancer is admitted by the client address its PROXY header names, once read
        (still before any TLS work)."""
        source = peer_address(connection)
        if source in self._context.settings.trusted_proxies:
            if self._half_open >= self._context.settings.max_half_open:
                self._context.metrics.refusals[RefusalReason.TOO_MANY_CONNECTIONS] += 1
                return False
            connection.expect_proxy_header(self._on_proxied)
            loop = asyncio.get_running_loop()
            loop.call_later(self._context.settings.handshake_timeout_s, _drop_if_silent, connection)
            return True
        return self._admit_and_run(connection, source)

    def _on_proxied(self, connection: TlsConnection) -> bool:
        """A trusted balancer's connection, its PROXY header read: admit it by its client."""
        return self._admit_and_run(connection, peer_address(connection))

    def _admit_and_run(self, connection: TlsConnection, source: str) -> bool:
        counted_as = source_key(source)
        if self._locked(counted_as):
            self._context.metrics.refusals[LOCKED_BEFORE_TLS] += 1
            return False
        if not self._admit(counted_as):
            self._context.metrics.refusals[RefusalReason.TOO_MANY_CONNECTIONS] += 1
            return False
        task = asyncio.get_running_loop().create_task(self._run(connection, source, counted_as))
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)
        return True

    async def _run(self, connection: TlsConnection, source: str, counted_as: str) -> None:
        """One admitted connection's life: TLS, its first message, then what that makes it."""
        context = self._context
        # The TLS handshake and the first message must each be done within this.
        deadline_s = context.settings.handshake_timeout_s
        half_open = True
        stream: LinkStream | None = None
        try:
            try:
                async with asyncio.timeout(deadline_s):
                    await connection.handshake()
            except (ssl.SSLError, TimeoutError, ConnectionError, OSError) as exc:
                log.info("TLS handshake from %s failed: %s", source, type(exc).__name__)
                context.metrics.refusals["tls_handshake"] += 1
                return
            stream = LinkStream(connection, connection, Side.RELAY)
            first = await stream.next_message(timeout=deadline_s)
            self._end_half_open(counted_as)
            half_open = False
            await self._dispatch(stream, first)
        except Refusal as refusal:
            assert stream is not None
            await self._refuse(stream, refusal)
        except ProtocolError as exc:
            log.info("protocol error from %s: %s", source, exc)
            # Garbage proves nothing about the source (see NOISY_SOURCE_MAX_RECORDS): it is
            # audited until the source is quieted, and never locks the source out.
            if stream is not None:
                await context.audit_noise(
                    "protocol_error",
                    counted_as,
                    source=source,
                    detail={"error": type(exc).__name__},
                )
                await self._refuse(stream, Refusal(RefusalReason.PROTOCOL_ERROR))
        except (PeerGone, ConnectionError):
            pass  # the peer left (or reset) mid-way: nothing to answer
        except StoreUnavailable:
            # Counted and logged (once a minute, not a traceback each) where it happened.
            if stream is not None:
                await self._refuse(stream, Refusal(RefusalReason.SERVER_ERROR))
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
            self._end_open(counted_as)
            if stream is not None:
                await stream.close()
            else:
                connection.close()

    def _locked(self, counted_as: str) -> bool:
        """Whether the source is locked out (on this node) for failed logins: its connection is
        closed before the TLS handshake, so hammering the relay from it costs the relay no TLS
        work and holds no half-open slot. Not a source an office PC is online from: office
        PCs are never locked out by address (a municipality's office PCs share one NAT
        address, and a viewer failing there must not keep them offline); its logins are still
        refused after their first message, as LOCKED_OUT with the time the lock ends. Not
        audited per connection (that would let a locked source fill the disk): counted in the
        metrics (``telework_refusals_total{reason="locked_out_before_tls"}``)."""
        if self._context.lockouts.source.local.locked_until(counted_as) is None:
            return False
        return not self._office_pc_source(counted_as)

    def _admit(self, counted_as: str) -> bool:
        """Count a new connection from ``counted_as`` as open and half-open, unless that is
        one over a cap."""
        limits = self._context.settings
        if (
            self._half_open >= limits.max_half_open
            or self._half_open_per_source[counted_as] >= limits.max_half_open_per_source
            or self._per_source[counted_as] >= limits.max_connections_per_source
        ):
            return False
        self._half_open += 1
        self._half_open_per_source[counted_as] += 1
        self._per_source[counted_as] += 1
        return True

    def _end_open(self, counted_as: str) -> None:
        """Count a connection as gone."""
        self._per_source[counted_as] -= 1
        if self._per_source[counted_as] <= 0:
            del self._per_source[counted_as]

    def _end_half_open(self, counted_as: str) -> None:
        """Count a connection as past its first message (or gone)."""
        self._half_open -= 1
        self._half_open_per_source[counted_as] -= 1
        if self._half_open_per_source[counted_as] <= 0:
            del self._half_open_per_source[counted_as]

    async def _refuse(self, stream: LinkStream, refusal: Refusal) -> None:
        """Count and send a refusal; the decision itself was audited where it was made."""
        self._context.metrics.refusals[refusal.reason] += 1
        with contextlib.suppress(LocalError, ConnectionError, OSError):
            # LocalError: the link's state does not allow a refusal (e.g. before any message).
            await stream.send(
                Refused(
                    refusal.reason.value,
                    refusal.retry_after,
                    refusal.resume_ticket,
                    list(refusal.checks),
                    list(refusal.hours),
                )
            )


def _drop_if_silent(connection: TlsConnection) -> None:
    """A balancer's connection whose PROXY header has not come in time is dropped."""
    if connection.awaiting_proxy_header:
        connection.abort()
