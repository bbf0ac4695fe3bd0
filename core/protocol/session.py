"""Messages of the end-to-end session between viewer and host (inside the inner TLS channel).

Binary and fixed-layout, because video and input are frequent and the budget is 0.1 Mbps: a
pointer move costs 6 bytes of payload. There is deliberately no message type for clipboard,
files or printing: the host has no way to send them and the viewer no way to ask.

Who may send what is the table :data:`SENDERS`; :class:`SessionChannel` enforces it.
"""

from __future__ import annotations

import enum
import json
import struct
from dataclasses import dataclass
from typing import Any, ClassVar

from core.errors import LocalError, ProtocolError
from core.media.cursor import CursorMessage, parse_cursor_message
from core.protocol.framing import (
    HEADER_SIZE,
    MAX_SESSION_PAYLOAD,
    Frame,
    FrameDecoder,
    encode_frame,
)

# The office network allots 0.1 Mbps to each session, each direction: the office PC's video,
# cursor and heartbeats stay under it (core.media.rate), and the relay paces each side to it.
SESSION_BUDGET_BPS = 100_000
# Liveness (docs/contracts.md). A still screen sends nothing, so after this long without sending
# the office PC sends the cursor position again: the viewer tells a quiet office PC from a dead
# link by it. About 56 bytes on the wire each time, ~0.2 kbit/s, counted against the budget.
HEARTBEAT_INTERVAL_S = 2.0
# Hearing nothing from the office PC for five heartbeats means the link is gone though TCP has
# not noticed (Wi-Fi lost, a NAT entry expired): the viewer reconnects rather than show a frozen
# picture for minutes.
HOST_SILENCE_TIMEOUT_S = 5 * HEARTBEAT_INTERVAL_S
# The viewer reports every 0.5 s (Feedback); nothing from it for this long means its network is
# gone though TCP has not noticed. The office PC ends the session as if the viewer had left, so
# it is free again when the viewer resumes.
VIEWER_SILENCE_TIMEOUT_S = 10.0

# Text a key event may carry (one grapheme cluster from an IME-less keyboard, in UTF-8).
MAX_KEY_TEXT_BYTES = 32
# Session notices (policy, screen layout) are small JSON objects.
MAX_NOTICE_BYTES = 4 * 1024
MAX_REASON_BYTES = 256


class SessionType(enum.IntEnum):
    VIDEO = 0x40
    CURSOR = 0x41
    KEY = 0x43
    POINTER = 0x44
    BUTTON = 0x45
    WHEEL = 0x46
    FEEDBACK = 0x47
    KEYFRAME_REQUEST = 0x48
    NOTICE = 0x49
    SCREEN_INFO = 0x4A
    CLOSE = 0x4B
    SPECIAL_KEYS = 0x4C


class Role(enum.Enum):
    HOST = "host"
    VIEWER = "viewer"


class SessionMessage:
    TYPE: ClassVar[SessionType]

    def payload(self) -> bytes:
        raise NotImplementedError

    @classmethod
    def parse(cls, payload: bytes) -> SessionMessage:
        raise NotImplementedError


def _unpack(fmt: struct.Struct, payload: bytes, name: str) -> tuple[Any, ...]:
    if len(payload) < fmt.size:
        raise ProtocolError(f"{name}: {len(payload)} bytes, need at least {fmt.size}")
    return fmt.unpack_from(payload)


def _utf8(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"{name}: text is not UTF-8") from exc


def _json_object(data: bytes, name: str) -> dict[str, Any]:
    if len(data) > MAX_NOTICE_BYTES:
        raise ProtocolError(f"{name}: longer than {MAX_NOTICE_BYTES} bytes")
    try:
        value = json.loads(_utf8(data, name))
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"{name}: not JSON") from exc
    if not isinstance(value, dict):
        raise ProtocolError(f"{name}: not a JSON object")
    return value


@dataclass(frozen=True, slots=True)
class Video(SessionMessage):
    """One H.264 access unit. ``capture_us`` is the host's monotonic capture time (latency)."""

    TYPE = SessionType.VIDEO
    HEADER: ClassVar = struct.Struct(">BIQHH")
    FLAG_KEYFRAME: ClassVar = 0x01
    keyframe: bool
    seq: int
    capture_us: int
    width: int
    height: int
    data: bytes

    def payload(self) -> bytes:
        flags = self.FLAG_KEYFRAME if self.keyframe else 0
        return (
            self.HEADER.pack(flags, self.seq, self.capture_us, self.width, self.height) + self.data
        )

    @classmethod
    def parse(cls, payload: bytes) -> Video:
        flags, seq, capture_us, width, height = _unpack(cls.HEADER, payload, "Video")
        return cls(
            bool(flags & cls.FLAG_KEYFRAME),
            seq,
            capture_us,
            width,
            height,
            payload[cls.HEADER.size :],
        )


@dataclass(frozen=True, slots=True)
class Cursor(SessionMessage):
    """Pointer position, shape or shape reference, in :mod:`core.media.cursor`'s encoding.

    Apart from the video, so a moving pointer costs a few bytes; shapes go only on change."""

    TYPE = SessionType.CURSOR
    message: CursorMessage

    def payload(self) -> bytes:
        return self.message.to_bytes()

    @classmethod
    def parse(cls, payload: bytes) -> Cursor:
        return cls(parse_cursor_message(payload))


class Modifier(enum.IntFlag):
    SHIFT = 1
    CONTROL = 2
    ALT = 4
    META = 8  # Windows / Super key


@dataclass(frozen=True, slots=True)
class Key(SessionMessage):
    """A key press or release: ``keysym`` in the X11 keysym space (layout-independent, and
    it names the Japanese keys: Zenkaku_Hankaku 0xFF2A, Henkan 0xFF23, Muhenkan 0xFF22,
    Hiragana_Katakana 0xFF27, Eisu_toggle 0xFF30) for the office PC's IME to interpret; the
    viewer's native ``scancode`` when known (0 otherwise); the :class:`Modifier` bits held;
    and the text the key would type on the viewer side, if any."""

    TYPE = SessionType.KEY
    HEADER: ClassVar = struct.Struct(">BIIH")
    down: bool
    keysym: int
    scancode: int
    modifiers: int
    text: str = ""

    def payload(self) -> bytes:
        text = self.text.encode("utf-8")
        if len(text) > MAX_KEY_TEXT_BYTES:
            raise LocalError("key text too long")
        return self.HEADER.pack(int(self.down), self.keysym, self.scancode, self.modifiers) + text

    @classmethod
    def parse(cls, payload: bytes) -> Key:
        down, keysym, scancode, modifiers = _unpack(cls.HEADER, payload, "Key")
        text = payload[cls.HEADER.size :]
        if len(text) > MAX_KEY_TEXT_BYTES:
            raise ProtocolError(f"Key: text longer than {MAX_KEY_TEXT_BYTES} bytes")
        return cls(bool(down), keysym, scancode, modifiers, _utf8(text, "Key"))


@dataclass(frozen=True, slots=True)
class Pointer(SessionMessage):
    """Absolute pointer position in the picture's pixel coordinates."""

    TYPE = SessionType.POINTER
    FORMAT: ClassVar = struct.Struct(">HH")
    x: int
    y: int

    def payload(self) -> bytes:
        return self.FORMAT.pack(self.x, self.y)

    @classmethod
    def parse(cls, payload: bytes) -> Pointer:
        return cls(*_unpack(cls.FORMAT, payload, "Pointer"))


class MouseButton(enum.IntEnum):
    LEFT = 1
    MIDDLE = 2
    RIGHT = 3
    BACK = 8
    FORWARD = 9


@dataclass(frozen=True, slots=True)
class Button(SessionMessage):
    TYPE = SessionType.BUTTON
    FORMAT: ClassVar = struct.Struct(">BBHH")
    button: MouseButton
    down: bool
    x: int
    y: int

    def payload(self) -> bytes:
        return self.FORMAT.pack(self.button, int(self.down), self.x, self.y)

    @classmethod
    def parse(cls, payload: bytes) -> Button:
        button, down, x, y = _unpack(cls.FORMAT, payload, "Button")
        try:
            return cls(MouseButton(button), bool(down), x, y)
        except ValueError as exc:
            raise ProtocolError(f"Button: unknown button {button}") from exc


@dataclass(frozen=True, slots=True)
class Wheel(SessionMessage):
    """Wheel steps in 1/120 units (as Qt and Windows report them), signed."""

    TYPE = SessionType.WHEEL
    FORMAT: ClassVar = struct.Struct(">hh")
    dx: int
    dy: int

    def payload(self) -> bytes:
        return self.FORMAT.pack(self.dx, self.dy)

    @classmethod
    def parse(cls, payload: bytes) -> Wheel:
        return cls(*_unpack(cls.FORMAT, payload, "Wheel"))


@dataclass(frozen=True, slots=True)
class Feedback(SessionMessage):
    """Receiver report for rate control: what arrived, how late, how fast."""

    TYPE = SessionType.FEEDBACK
    FORMAT: ClassVar = struct.Struct(">IIHH")
    highest_seq: int
    received_bytes: int
    delay_ms: int
    receive_kbps: int

    def payload(self) -> bytes:
        return self.FORMAT.pack(
            self.highest_seq,
            self.received_bytes,
            min(self.delay_ms, 0xFFFF),
            min(self.receive_kbps, 0xFFFF),
        )

    @classmethod
    def parse(cls, payload: bytes) -> Feedback:
        return cls(*_unpack(cls.FORMAT, payload, "Feedback"))


@dataclass(frozen=True, slots=True)
class KeyframeRequest(SessionMessage):
    TYPE = SessionType.KEYFRAME_REQUEST
    FORMAT: ClassVar = struct.Struct(">I")
    last_good_seq: int

    def payload(self) -> bytes:
        return self.FORMAT.pack(self.last_good_seq)

    @classmethod
    def parse(cls, payload: bytes) -> KeyframeRequest:
        return cls(*_unpack(cls.FORMAT, payload, "KeyframeRequest"))


class _JsonMessage(SessionMessage):
    body: dict[str, Any]

    def payload(self) -> bytes:
        data = json.dumps(self.body, separators=(",", ":"), ensure_ascii=False).encode()
        if len(data) > MAX_NOTICE_BYTES:
            raise LocalError(f"{type(self).__name__} longer than {MAX_NOTICE_BYTES} bytes")
        return data

    @classmethod
    def parse(cls, payload: bytes) -> SessionMessage:
        return cls(_json_object(payload, cls.__name__))  # type: ignore[call-arg]


@dataclass(frozen=True, slots=True)
class Notice(_JsonMessage):
    """Policy notices from host to viewer: watermark text, idle timeout, shutdown warning."""

    TYPE = SessionType.NOTICE
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ScreenInfo(_JsonMessage):
    """The office PC's monitors (viewer side: choose one) or the viewer's choice (host side)."""

    TYPE = SessionType.SCREEN_INFO
    body: dict[str, Any]


class SpecialKey(enum.IntEnum):
    CTRL_ALT_DEL = 1


@dataclass(frozen=True, slots=True)
class SpecialKeys(SessionMessage):
    """A key combination the viewer's OS would intercept, sent as a request (menu action)."""

    TYPE = SessionType.SPECIAL_KEYS
    FORMAT: ClassVar = struct.Struct(">B")
    which: SpecialKey

    def payload(self) -> bytes:
        return self.FORMAT.pack(self.which)

    @classmethod
    def parse(cls, payload: bytes) -> SpecialKeys:
        (which,) = _unpack(cls.FORMAT, payload, "SpecialKeys")
        try:
            return cls(SpecialKey(which))
        except ValueError as exc:
            raise ProtocolError(f"SpecialKeys: unknown combination {which}") from exc


@dataclass(frozen=True, slots=True)
class Close(SessionMessage):
    TYPE = SessionType.CLOSE
    reason: str

    def payload(self) -> bytes:
        return self.reason.encode("utf-8")[:MAX_REASON_BYTES]

    @classmethod
    def parse(cls, payload: bytes) -> Close:
        if len(payload) > MAX_REASON_BYTES:
            raise ProtocolError(f"Close: reason longer than {MAX_REASON_BYTES} bytes")
        return cls(_utf8(payload, "Close"))


H, V = Role.HOST, Role.VIEWER
SENDERS: dict[SessionType, frozenset[Role]] = {
    SessionType.VIDEO: frozenset({H}),
    SessionType.CURSOR: frozenset({H}),
    SessionType.NOTICE: frozenset({H}),
    SessionType.KEY: frozenset({V}),
    SessionType.POINTER: frozenset({V}),
    SessionType.BUTTON: frozenset({V}),
    SessionType.WHEEL: frozenset({V}),
    SessionType.FEEDBACK: frozenset({V}),
    SessionType.KEYFRAME_REQUEST: frozenset({V}),
    SessionType.SPECIAL_KEYS: frozenset({V}),
    SessionType.SCREEN_INFO: frozenset({H, V}),
    SessionType.CLOSE: frozenset({H, V}),
}

MESSAGE_CLASSES: dict[int, type[SessionMessage]] = {
    cls.TYPE: cls
    for cls in (
        Video,
        Cursor,
        Key,
        Pointer,
        Button,
        Wheel,
        Feedback,
        KeyframeRequest,
        Notice,
        ScreenInfo,
        SpecialKeys,
        Close,
    )
}


def encode_session(message: SessionMessage) -> bytes:
    return encode_frame(message.TYPE, message.payload(), MAX_SESSION_PAYLOAD)


def decode_session(frame: Frame) -> SessionMessage:
    cls = MESSAGE_CLASSES.get(frame.type)
    if cls is None:
        raise ProtocolError(f"unknown session message type {frame.type:#04x}")
    try:
        return cls.parse(frame.payload)
    except (struct.error, OverflowError) as exc:  # pragma: no cover - guarded by _unpack
        raise ProtocolError(f"{cls.__name__}: malformed") from exc


class SessionChannel:
    """One end of the session. Enforces who may send what, in both directions."""

    def __init__(self, role: Role) -> None:
        self.role = role
        self._peer = Role.VIEWER if role is Role.HOST else Role.HOST
        self._decoder = FrameDecoder(MAX_SESSION_PAYLOAD)

    def send(self, message: SessionMessage) -> bytes:
        if self.role not in SENDERS[message.TYPE]:
            raise LocalError(f"a {self.role.value} does not send {message.TYPE.name}")
        return encode_session(message)

    def receive_data(self, data: bytes) -> list[SessionMessage]:
        return [message for message, _ in self.receive_sized(data)]

    def receive_sized(self, data: bytes) -> list[tuple[SessionMessage, int]]:
        """Like :meth:`receive_data`, with each message's size as framed on the wire (for
        receivers that count bytes: re-encoding a message to count it may not give its size)."""
        messages = []
        for frame in self._decoder.frames(data):
            message = decode_session(frame)
            if self._peer not in SENDERS[message.TYPE]:
                raise ProtocolError(f"a {self._peer.value} may not send {message.TYPE.name}")
            messages.append((message, HEADER_SIZE + len(frame.payload)))
        return messages
