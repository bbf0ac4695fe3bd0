"""The end-to-end channel between viewer and host, inside the relayed stream.

TLS 1.3 over memory BIOs rather than ``StreamWriter.start_tls``: bytes that arrived together
with the relay's last handshake message (the peer's first TLS record, read into our buffer)
would be lost by ``start_tls``; here they are simply fed in first. The host is the TLS server
and is pinned by its host ID; the viewer presents its device certificate, which the host
accepts only if it is exactly the certificate the relay's offer named. No plaintext fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl

from core.crypto.certs import Identity
from core.crypto.tls import check_host_id, pinned_client_context, server_context
from core.errors import CryptoError, PinMismatch
from transport.link_stream import ByteReader, ByteWriter, PeerGone

E2E_HANDSHAKE_TIMEOUT_S = 15.0
READ_CHUNK_BYTES = 64 * 1024


class SecureChannel:
    def __init__(
        self,
        reader: ByteReader,
        writer: ByteWriter,
        ssl_object: ssl.SSLObject,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._ssl = ssl_object
        self._incoming = incoming
        self._outgoing = outgoing
        self.bytes_in = 0  # outer (encrypted) bytes, for bandwidth accounting
        self.bytes_out = 0

    @classmethod
    async def as_host(
        cls,
        reader: ByteReader,
        writer: ByteWriter,
        first: bytes,
        identity: Identity,
        viewer_cert_pem: bytes,
        timeout: float = E2E_HANDSHAKE_TIMEOUT_S,
    ) -> SecureChannel:
        context = server_context(identity, client_cert_pem=viewer_cert_pem)
        channel = cls._wrap(reader, writer, context, server_side=True)
        await channel._handshake(first, timeout)
        return channel

    @classmethod
    async def as_viewer(
        cls,
        reader: ByteReader,
        writer: ByteWriter,
        first: bytes,
        device: Identity,
        host_id: str,
        timeout: float = E2E_HANDSHAKE_TIMEOUT_S,
    ) -> SecureChannel:
        channel = cls._wrap(reader, writer, pinned_client_context(device), server_side=False)
        await channel._handshake(first, timeout)
        check_host_id(channel._ssl, host_id)  # before a single byte of session data
        return channel

    @classmethod
    def _wrap(
        cls,
        reader: ByteReader,
        writer: ByteWriter,
        context: ssl.SSLContext,
        server_side: bool,
    ) -> SecureChannel:
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        ssl_object = context.wrap_bio(incoming, outgoing, server_side=server_side)
        return cls(reader, writer, ssl_object, incoming, outgoing)

    async def _handshake(self, first: bytes, timeout: float) -> None:
        if first:
            self._feed(first)
        try:
            async with asyncio.timeout(timeout):
                while True:
                    try:
                        self._ssl.do_handshake()
                        break
                    except ssl.SSLWantReadError:
                        await self._flush()
                        await self._receive()
                await self._flush()
        except ssl.SSLError as exc:
            await self._flush_quietly()
            raise PinMismatch(f"end-to-end TLS handshake failed: {exc.reason}") from exc
        except TimeoutError as exc:
            raise PeerGone("end-to-end TLS handshake timed out") from exc
        if self._ssl.version() != "TLSv1.3":
            raise CryptoError("end-to-end channel is not TLS 1.3")

    async def read(self) -> bytes:
        """Decrypted bytes; ``b""`` at the end of the stream."""
        while True:
            try:
                return self._ssl.read(READ_CHUNK_BYTES)
            except ssl.SSLWantReadError:
                if not await self._receive(eof_ok=True):
                    return b""
            except ssl.SSLZeroReturnError:
                return b""
            except ssl.SSLError as exc:
                raise PeerGone(f"end-to-end channel broken: {exc.reason}") from exc

    async def write(self, data: bytes) -> None:
        self._ssl.write(data)
        await self._flush()

    def close(self) -> None:
        try:
            self._ssl.unwrap()
        except ssl.SSLError:
            pass
        pending = self._outgoing.read()
        if pending and not self._writer.is_closing():
            self._writer.write(pending)
        self._writer.close()

    async def wait_closed(self) -> None:
        """After :meth:`close`: wait until the connection is really gone."""
        with contextlib.suppress(ConnectionError, OSError, ssl.SSLError):
            await self._writer.wait_closed()

    def _feed(self, data: bytes) -> None:
        self.bytes_in += len(data)
        self._incoming.write(data)

    async def _receive(self, eof_ok: bool = False) -> bool:
        data = await self._reader.read(READ_CHUNK_BYTES)
        if not data:
            self._incoming.write_eof()
            if eof_ok:
                return False
            raise PeerGone("relayed stream closed during the end-to-end handshake")
        self._feed(data)
        return True

    async def _flush(self) -> None:
        data = self._outgoing.read()
        if data:
            self.bytes_out += len(data)
            self._writer.write(data)
            await self._writer.drain()

    async def _flush_quietly(self) -> None:
        try:
            await self._flush()
        except (ConnectionError, OSError):
            pass
