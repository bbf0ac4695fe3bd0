"""TLS over ``ssl.MemoryBIO`` in a plain asyncio Protocol: a connection that holds what OpenSSL
needs and the plaintext not taken yet, nothing more.

asyncio's own TLS (``SSLProtocol``, behind ``start_tls`` and ``ssl=``) gives every connection a
256 KiB receive buffer; with tens of thousands of mostly idle office PCs that buffer was most
of the relay's memory. Here (as websockets and trio do it) ciphertext goes from the socket into
the TLS object and plaintext comes out of it, either into a small buffer a reader awaits
(:meth:`TlsConnection.read`, for message links) or straight to a receiver callback
(:meth:`TlsConnection.set_receiver`, for forwarding): no task switch, no extra copy per chunk.

A :class:`TlsConnection` is a :class:`~transport.link_stream.ByteReader` and
:class:`~transport.link_stream.ByteWriter` both, so a ``LinkStream`` runs on it. It needs only
the Protocol/Transport interface, so it runs on asyncio's event loop and on uvloop's.

Backpressure both ways: plaintext a reader has not taken stops the socket being read at
:data:`MAX_UNREAD_BYTES`; a receiver stops it with :meth:`pause_reading`; the transport's write
buffer high-water mark makes :meth:`drain` wait (and :attr:`writing_paused` true).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from typing import Any, cast

from core.errors import ProtocolError
from core.protocol.proxy_header import parse_proxy_v2

# Plaintext taken out of TLS at a time: the most a receiver is handed in one call (one TLS
# record carries at most 16 KiB).
READ_CHUNK_BYTES = 16 * 1024
# Plaintext kept for a reader that has not taken it: past this the socket is no longer read
# until the reader catches up (a message link's peer cannot grow our memory).
MAX_UNREAD_BYTES = 64 * 1024

_HANDSHAKING, _OPEN, _CLOSING, _CLOSED = 0, 1, 2, 3

Receiver = Callable[[bytes], None]


class TlsConnection(asyncio.Protocol):
    """One TLS connection, either side. ``on_made`` runs in ``connection_made``, before any
    byte is read or TLS state allocated: returning False closes the connection there."""

    __slots__ = (
        "_buffer",
        "_closed",
        "_context",
        "_drain_waiters",
        "_eof",
        "_error",
        "_incoming",
        "_on_eof",
        "_on_made",
        "_outgoing",
        "_paused",
        "_prelude",
        "_prelude_bytes",
        "_proxied_peer",
        "_read_waiter",
        "_reading",
        "_receiver",
        "_secured",
        "_server_hostname",
        "_server_side",
        "_ssl",
        "_ssl_io",
        "_state",
        "_transport",
        "_write_high_water",
        "on_drained",
        "writing_paused",
    )

    def __init__(
        self,
        context: ssl.SSLContext,
        *,
        server_side: bool,
        server_hostname: str | None = None,
        on_made: Callable[[TlsConnection], bool] | None = None,
        write_high_water: int | None = None,
    ) -> None:
        self._context: ssl.SSLContext | None = context
        self._server_side = server_side
        self._server_hostname = server_hostname
        self._on_made = on_made
        self._write_high_water = write_high_water
        self._transport: asyncio.Transport | None = None
        self._incoming: ssl.MemoryBIO | None = None
        self._outgoing: ssl.MemoryBIO | None = None
        self._ssl: ssl.SSLObject | None = None
        self._ssl_io: Any = None  # what reads and writes records (see connection_made)
        self._state = _HANDSHAKING
        self._error: Exception | None = None  # why the connection failed, raised to readers
        self._eof = False  # the peer ended its side (close_notify, FIN or a reset)
        self._secured: asyncio.Future[None] | None = None
        self._buffer = bytearray()
        self._read_waiter: asyncio.Future[None] | None = None
        self._receiver: Receiver | None = None
        self._on_eof: Callable[[], None] | None = None
        self._paused = False
        self._reading = False  # inside _read_plaintext (a receiver may resume us from there)
        # The transport's write buffer is above its high-water mark (read per forwarded chunk:
        # an attribute, not a property).
        self.writing_paused = False
        self._drain_waiters: list[asyncio.Future[None]] | None = None
        self.on_drained: Callable[[], None] | None = None  # called when writing resumes
        self._closed: asyncio.Future[None] | None = None
        # A trusted balancer's PROXY header, expected before TLS (see expect_proxy_header).
        self._prelude: Callable[[TlsConnection], bool] | None = None
        self._prelude_bytes = b""
        self._proxied_peer: tuple[str, int] | None = None

    # -- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses; both have its methods.
        transport = cast(asyncio.Transport, transport)
        self._transport = transport
        on_made, self._on_made = self._on_made, None
        if on_made is not None and not on_made(self):
            self._state = _CLOSING
            self._context = None
            transport.close()
            return
        if self._write_high_water is not None:
            transport.set_write_buffer_limits(high=self._write_high_water)
        context, self._context = self._context, None
        assert context is not None
        self._incoming, self._outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._ssl = context.wrap_bio(
            self._incoming,
            self._outgoing,
            server_side=self._server_side,
            server_hostname=self._server_hostname,
        )
        # SSLObject's read and write are Python wrappers around the C object it holds; the
        # relay calls them for every forwarded chunk, so it calls that object directly (the
        # same methods and errors), or the wrapper should a Python version not have it.
        self._ssl_io = getattr(self._ssl, "_sslobj", self._ssl)
        if not self._server_side:
            self._step_handshake()  # the client speaks first

    def expect_proxy_header(self, on_client: Callable[[TlsConnection], bool]) -> None:
        """The connection comes from a trusted balancer: a PROXY v2 header precedes TLS.
        Once it is read, ``peername`` is the client's address and ``on_client`` decides
        (False closes the connection before any TLS work)."""
        self._prelude = on_client

    @property
    def awaiting_proxy_header(self) -> bool:
        return self._prelude is not None

    def _read_prelude(self, data: bytes) -> bytes | None:
        """Take the PROXY header off ``data``; the bytes after it, or None (more needed, or
        the connection was closed)."""
        buffered = self._prelude_bytes + data
        try:
            parsed = parse_proxy_v2(buffered)
        except ProtocolError:
            self.abort()
            return None
        if parsed is None:
            self._prelude_bytes = buffered
            return None
        length, client = parsed
        on_client, self._prelude, self._prelude_bytes = self._prelude, None, b""
        if client is not None:
            self._proxied_peer = client
        assert on_client is not None
        if not on_client(self):
            self.abort()
            return None
        return buffered[length:]

    def data_received(self, data: bytes) -> None:
        if self._state >= _CLOSING or self._incoming is None:
            return
        if self._prelude is not None:
            rest = self._read_prelude(data)
            if not rest:
                return
            data = rest
        self._incoming.write(data)
        if self._state == _HANDSHAKING:
            self._step_handshake()
            if self._state != _OPEN:
                return
        if not self._paused:
            self._read_plaintext()

    def eof_received(self) -> bool:
        if self._incoming is not None:
            self._incoming.write_eof()
        if self._state == _HANDSHAKING:
            self._fail(ConnectionResetError("connection closed during the TLS handshake"))
        elif not self._paused:
            self._read_plaintext()
        return False  # no half-open TLS: the transport closes

    def connection_lost(self, exc: Exception | None) -> None:
        was_handshaking = self._state == _HANDSHAKING
        self._state = _CLOSED
        if exc is not None and self._error is None:
            self._error = exc if isinstance(exc, ConnectionError) else ConnectionResetError(exc)
        if was_handshaking and self._error is None:
            self._error = ConnectionResetError("connection closed during the TLS handshake")
        if self._secured is not None and not self._secured.done():
            assert self._error is not None
            self._secured.set_exception(self._error)
            self._secured.exception()  # retrieved: an awaiter may have timed out already
        if self._incoming is not None and not self._incoming.eof:
            self._incoming.write_eof()
        if not self._paused and self._ssl is not None and not was_handshaking:
            self._read_plaintext()  # what arrived before the end, then the end itself
        if self._ssl is None or was_handshaking:
            self._at_eof()
        self._wake_drainers(ConnectionResetError("connection lost"))
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._wake_drainers(None)
        if self.on_drained is not None:
            self.on_drained()

    # -- the TLS machinery ----------------------------------------------------------------------

    def _step_handshake(self) -> None:
        assert self._ssl is not None
        try:
            self._ssl.do_handshake()
        except ssl.SSLWantReadError:
            self._flush()
            return
        except ssl.SSLError as exc:
            self._flush()  # the alert, so the peer learns why
            self._fail(exc)
            return
        self._flush()
        self._state = _OPEN
        if self._secured is not None and not self._secured.done():
            self._secured.set_result(None)

    def _read_plaintext(self) -> None:
        """Take the plaintext the TLS object can give, until it needs more bytes, the end, or
        someone pauses reading."""
        if self._reading or self._ssl is None:
            return
        self._reading = True
        read, incoming = self._ssl_io.read, self._incoming
        assert incoming is not None
        buffered = False
        try:
            while not self._paused:
                try:
                    data = read(READ_CHUNK_BYTES)
                except ssl.SSLWantReadError:
                    break
                except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                    self._at_eof()
                    break
                except ssl.SSLError as exc:
                    self._fail(exc)
                    break
                if not data:  # close_notify
                    self._at_eof()
                    break
                receiver = self._receiver
                if receiver is not None:
                    receiver(data)
                else:
                    self._buffer += data
                    buffered = True
                    if len(self._buffer) >= MAX_UNREAD_BYTES:
                        self.pause_reading()
                # All taken (no ciphertext left, and a read shorter than asked has emptied
                # its record): spares the failing read, an exception, per chunk.
                if len(data) < READ_CHUNK_BYTES and not incoming.pending and not incoming.eof:
                    break
        finally:
            self._reading = False
        if buffered:
            self._wake_reader()
        if self._outgoing is not None and self._outgoing.pending:
            self._flush()  # TLS 1.3 post-handshake messages (a key update's answer)

    def _flush(self) -> None:
        assert self._outgoing is not None and self._transport is not None
        if self._outgoing.pending and not self._transport.is_closing():
            self._transport.write(self._outgoing.read())

    def _at_eof(self) -> None:
        if self._eof:
            return
        self._eof = True
        on_eof = self._on_eof
        if on_eof is not None:
            on_eof()
        self._wake_reader()

    def _fail(self, exc: Exception) -> None:
        if self._error is None:
            self._error = exc
        if self._secured is not None and not self._secured.done():
            self._secured.set_exception(exc)
            self._secured.exception()
        if self._state < _CLOSING:
            self._state = _CLOSING
            assert self._transport is not None
            self._transport.close()  # after what is buffered (a TLS alert)
        self._at_eof()

    def _wake_reader(self) -> None:
        waiter = self._read_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_drainers(self, exc: Exception | None) -> None:
        waiters, self._drain_waiters = self._drain_waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                if exc is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(exc)
                    waiter.exception()

    # -- what users of the connection call ------------------------------------------------------

    async def handshake(self) -> None:
        """Wait until TLS is established; the handshake's error (``ssl.SSLError``) or
        ``ConnectionError`` if it failed. The caller bounds the wait."""
        if self._state == _HANDSHAKING:
            if self._secured is None:
                self._secured = asyncio.get_running_loop().create_future()
            await self._secured
        elif self._ssl is None or (self._error is not None and not self._handshake_done()):
            raise self._error or ConnectionResetError("connection refused before TLS")

    def _handshake_done(self) -> bool:
        return self._ssl is not None and self._ssl.version() is not None

    async def read(self, n: int = -1) -> bytes:
        """Plaintext received, at most ``n`` bytes (all that is buffered if ``n`` < 0);
        ``b""`` at the end of the stream; the connection's error if it failed."""
        while not self._buffer:
            if self._eof or self._state == _CLOSED:
                if self._error is not None:
                    raise self._error
                return b""
            waiter = asyncio.get_running_loop().create_future()
            self._read_waiter = waiter
            try:
                await waiter
            finally:
                self._read_waiter = None
        buffer = self._buffer
        if n < 0 or n >= len(buffer):
            data = bytes(buffer)
            buffer.clear()
        else:
            data = bytes(buffer[:n])
            del buffer[:n]
        if self._paused and self._receiver is None and len(buffer) < MAX_UNREAD_BYTES:
            self.resume_reading()
        return data

    def set_receiver(
        self, receiver: Receiver | None, on_eof: Callable[[], None] | None = None
    ) -> None:
        """Hand plaintext to ``receiver`` as it is decrypted (first what is buffered), and call
        ``on_eof`` at the end of the stream; ``None`` buffers it for :meth:`read` again."""
        self._receiver, self._on_eof = receiver, on_eof
        if receiver is None:
            return
        if self._paused:  # by a full buffer, or a receiver before this one: ours to decide now
            self._paused = False
            if self._state < _CLOSING and self._transport is not None:
                self._transport.resume_reading()
        if self._buffer:
            data = bytes(self._buffer)
            self._buffer.clear()
            receiver(data)
        if self._eof and not self._buffer and on_eof is not None:
            on_eof()
        elif not self._paused:
            self._read_plaintext()

    def pause_reading(self) -> None:
        """Stop reading the socket (and handing out plaintext) until :meth:`resume_reading`."""
        if not self._paused:
            self._paused = True
            if self._state < _CLOSING and self._transport is not None:
                self._transport.pause_reading()

    def resume_reading(self) -> None:
        if not self._paused:
            return
        self._paused = False
        if self._state < _CLOSING and self._transport is not None:
            self._transport.resume_reading()
        if self._state != _HANDSHAKING:
            self._read_plaintext()  # what was already received (or its end)

    def write(self, data: bytes) -> None:
        """Encrypt and send ``data``; dropped once the connection is closing (as a transport
        does)."""
        if self._state != _OPEN:
            if self._state == _HANDSHAKING:
                raise ConnectionError("TLS handshake not done")
            return
        assert self._ssl is not None and self._outgoing is not None
        self._ssl_io.write(data)
        transport = self._transport
        assert transport is not None
        if not transport.is_closing():
            transport.write(self._outgoing.read())

    async def drain(self) -> None:
        """Wait until the write buffer is below its high-water mark; ``ConnectionError`` if
        the connection is gone."""
        if self._state == _CLOSED:
            raise self._error or ConnectionResetError("connection lost")
        if not self.writing_paused:
            return
        waiter = asyncio.get_running_loop().create_future()
        if self._drain_waiters is None:
            self._drain_waiters = []
        self._drain_waiters.append(waiter)
        await waiter

    def close(self) -> None:
        """Send TLS's close_notify, then close the socket once what is buffered is sent."""
        if self._state >= _CLOSING:
            return
        if self._state == _OPEN and self._ssl is not None:
            try:
                self._ssl.unwrap()
            except ssl.SSLError:
                pass  # waits for the peer's close_notify: we do not
            self._flush()
        self._state = _CLOSING
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Close at once, dropping what is buffered."""
        if self._state < _CLOSED and self._transport is not None:
            self._state = max(self._state, _CLOSING)
            self._transport.abort()

    def is_closing(self) -> bool:
        return self._state >= _CLOSING

    async def wait_closed(self) -> None:
        if self._state == _CLOSED or self._transport is None:
            return
        if self._closed is None:
            self._closed = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._closed)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "ssl_object":
            return self._ssl
        if name == "peername" and self._proxied_peer is not None:
            return self._proxied_peer
        if self._transport is None:
            return default
        return self._transport.get_extra_info(name, default)


async def open_tls(
    context: ssl.SSLContext,
    host: str,
    port: int,
    *,
    server_hostname: str | None = None,
    local_addr: tuple[str, int] | None = None,
) -> TlsConnection:
    """Connect and finish the TLS handshake (a client with this light connection: the relay's
    load bench opens tens of thousands)."""
    loop = asyncio.get_running_loop()
    _, connection = await loop.create_connection(
        lambda: TlsConnection(context, server_side=False, server_hostname=server_hostname),
        host,
        port,
        local_addr=local_addr,
    )
    try:
        await connection.handshake()
    except BaseException:
        connection.abort()
        raise
    return connection
