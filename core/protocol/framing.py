"""Length-prefixed binary frames: the one framing used on every link of the system.

A frame is ``length:u32be | version:u8 | type:u8 | payload``; ``length`` counts the payload
only. The decoder checks the announced length against a per-connection maximum *before*
buffering the payload, so a peer can never make us hold more than ``HEADER_SIZE +
max_payload`` bytes of one frame. It raises only :mod:`core.errors` protocol errors.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from core.errors import FrameTooLarge, UnsupportedVersion

PROTOCOL_VERSION = 1
HEADER = struct.Struct(">IBB")
HEADER_SIZE = HEADER.size

# Relay handshake and control frames are small JSON objects; 16 KiB leaves room for a host
# certificate at enrolment while keeping an unauthenticated peer's buffer tiny.
MAX_CONTROL_PAYLOAD = 16 * 1024
# Session frames inside the end-to-end channel carry H.264 access units. Keyframes under the
# VBV cap are ~8 kB; 1 MiB bounds a pathological uncapped keyframe with a wide margin.
MAX_SESSION_PAYLOAD = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Frame:
    type: int
    payload: bytes


def encode_frame(frame_type: int, payload: bytes, max_payload: int) -> bytes:
    """Return the wire bytes of one frame. Refuses to build a frame the peer would reject."""
    if not 0 <= frame_type <= 0xFF:
        raise ValueError(f"frame type {frame_type} out of range")
    if len(payload) > max_payload:
        raise FrameTooLarge(f"payload of {len(payload)} bytes exceeds {max_payload}")
    return HEADER.pack(len(payload), PROTOCOL_VERSION, frame_type) + payload


class FrameDecoder:
    """Incremental decoder: feed bytes in any split, get whole frames out."""

    def __init__(self, max_payload: int) -> None:
        self._max_payload = max_payload
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        """Buffer ``data``; frames are taken out one at a time with :meth:`next_frame`."""
        self._buffer += data
        self._check_header()

    def next_frame(self) -> Frame | None:
        """The next whole frame, or ``None`` until more bytes arrive. Taking frames one at a
        time lets a caller stop parsing mid-buffer (a link that switches to forwarding)."""
        self._check_header()
        if len(self._buffer) < HEADER_SIZE:
            return None
        length, _, frame_type = HEADER.unpack_from(self._buffer)
        end = HEADER_SIZE + length
        if len(self._buffer) < end:
            return None
        frame = Frame(frame_type, bytes(self._buffer[HEADER_SIZE:end]))
        del self._buffer[:end]
        return frame

    def frames(self, data: bytes) -> list[Frame]:
        """Feed ``data`` and take every whole frame: for links that never stop parsing."""
        self.feed(data)
        frames = []
        while (frame := self.next_frame()) is not None:
            frames.append(frame)
        return frames

    def _check_header(self) -> None:
        # Refuse a bad header as soon as it is complete, before its payload is buffered.
        if len(self._buffer) < HEADER_SIZE:
            return
        length, version, _ = HEADER.unpack_from(self._buffer)
        if version != PROTOCOL_VERSION:
            raise UnsupportedVersion(f"protocol version {version}, expected {PROTOCOL_VERSION}")
        if length > self._max_payload:
            raise FrameTooLarge(f"frame announces {length} bytes, limit {self._max_payload}")

    def take_buffered(self) -> bytes:
        """Hand over bytes not yet decoded (used when a link switches to raw forwarding)."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        return rest

    @property
    def buffered(self) -> int:
        return len(self._buffer)
