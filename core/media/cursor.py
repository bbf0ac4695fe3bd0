"""The cursor channel: pointer position and shape, sent apart from the video.

The video never contains the cursor (capture leaves it out), so pointer motion costs a 6-byte
position message instead of re-encoded pixels, and the viewer draws the cursor itself with no
video latency. A shape is sent once, when it changes; a shape the viewer has already seen is
named by its 4-byte id. Each message encodes itself; ``from_bytes`` raises only
:class:`core.errors.ProtocolError` on bad bytes. Reading the real cursor is the platform's
business (:mod:`desktop.x11_cursor`).
"""

from __future__ import annotations

import struct
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field

from core.errors import ProtocolError

MAX_CURSOR_SIDE = 256  # Windows and X11 cursors are at most 256x256 even on HiDPI
MAX_CACHED_SHAPES = 32  # shapes both ends remember; an app cycles through a handful
SHAPE_COMPRESSION = 6  # zlib level: a 32x32 cursor shrinks from 4 kB to a few hundred bytes

TAG_POSITION = 0x01
TAG_SHAPE = 0x02
TAG_SHAPE_REF = 0x03

_POSITION = struct.Struct(">Bhhb")
_SHAPE_HEAD = struct.Struct(">BIHHHH")
_SHAPE_REF = struct.Struct(">BI")


@dataclass(frozen=True)
class CursorPosition:
    """Hot-spot position in captured-frame pixels; ``visible`` False hides the cursor."""

    x: int
    y: int
    visible: bool = True

    def to_bytes(self) -> bytes:
        x = max(-32768, min(32767, self.x))
        y = max(-32768, min(32767, self.y))
        return _POSITION.pack(TAG_POSITION, x, y, 1 if self.visible else 0)

    @classmethod
    def from_bytes(cls, data: bytes) -> CursorPosition:
        if len(data) != _POSITION.size or data[0] != TAG_POSITION:
            raise ProtocolError("bad cursor position message")
        _, x, y, flags = _POSITION.unpack(data)
        if flags not in (0, 1):
            raise ProtocolError("bad cursor position flags")
        return cls(x, y, bool(flags))


@dataclass(frozen=True)
class CursorShape:
    """A cursor image: ``pixels`` is ``width * height`` BGRA pixels, row by row, with
    premultiplied alpha as XFixes delivers them (``QImage.Format_ARGB32_Premultiplied``)."""

    width: int
    height: int
    hot_x: int
    hot_y: int
    pixels: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not (1 <= self.width <= MAX_CURSOR_SIDE and 1 <= self.height <= MAX_CURSOR_SIDE):
            raise ValueError(f"cursor size {self.width}x{self.height} out of range")
        if not (0 <= self.hot_x < self.width and 0 <= self.hot_y < self.height):
            raise ValueError("cursor hot spot outside the image")
        if len(self.pixels) != self.width * self.height * 4:
            raise ValueError("cursor pixels do not match its size")

    @property
    def shape_id(self) -> int:
        """A stable 32-bit name for this exact shape."""
        head = struct.pack(">HHHH", self.width, self.height, self.hot_x, self.hot_y)
        return zlib.crc32(self.pixels, zlib.crc32(head))

    def to_bytes(self) -> bytes:
        head = _SHAPE_HEAD.pack(
            TAG_SHAPE, self.shape_id, self.width, self.height, self.hot_x, self.hot_y
        )
        return head + zlib.compress(self.pixels, SHAPE_COMPRESSION)

    @classmethod
    def from_bytes(cls, data: bytes) -> CursorShape:
        if len(data) <= _SHAPE_HEAD.size or data[0] != TAG_SHAPE:
            raise ProtocolError("bad cursor shape message")
        _, shape_id, w, h, hx, hy = _SHAPE_HEAD.unpack_from(data)
        if not (1 <= w <= MAX_CURSOR_SIDE and 1 <= h <= MAX_CURSOR_SIDE and hx < w and hy < h):
            raise ProtocolError("bad cursor shape header")
        expected = w * h * 4
        inflater = zlib.decompressobj()
        try:
            # Bounded: a zip bomb stops at one byte past the size the header promised.
            pixels = inflater.decompress(data[_SHAPE_HEAD.size :], expected + 1)
        except zlib.error as exc:
            raise ProtocolError("bad cursor shape data") from exc
        if len(pixels) != expected or not inflater.eof or inflater.unused_data:
            raise ProtocolError("cursor shape data does not match its size")
        shape = cls(w, h, hx, hy, pixels)
        if shape.shape_id != shape_id:
            raise ProtocolError("cursor shape id does not match its data")
        return shape


@dataclass(frozen=True)
class CursorShapeRef:
    """Switch back to a shape sent earlier in this session."""

    shape_id: int

    def to_bytes(self) -> bytes:
        return _SHAPE_REF.pack(TAG_SHAPE_REF, self.shape_id)

    @classmethod
    def from_bytes(cls, data: bytes) -> CursorShapeRef:
        if len(data) != _SHAPE_REF.size or data[0] != TAG_SHAPE_REF:
            raise ProtocolError("bad cursor shape reference")
        return cls(_SHAPE_REF.unpack(data)[1])


CursorMessage = CursorPosition | CursorShape | CursorShapeRef


def parse_cursor_message(data: bytes) -> CursorMessage:
    """Decode any cursor message; raises only ProtocolError."""
    if not data:
        raise ProtocolError("empty cursor message")
    match data[0]:
        case 0x01:
            return CursorPosition.from_bytes(data)
        case 0x02:
            return CursorShape.from_bytes(data)
        case 0x03:
            return CursorShapeRef.from_bytes(data)
    raise ProtocolError("unknown cursor message")


class _ShapeMemory:
    """The ids of the last ``MAX_CACHED_SHAPES`` shapes, identically on both ends."""

    def __init__(self) -> None:
        self.shapes: OrderedDict[int, CursorShape | None] = OrderedDict()

    def remember(self, shape_id: int, shape: CursorShape | None) -> None:
        self.shapes[shape_id] = shape
        self.shapes.move_to_end(shape_id)
        while len(self.shapes) > MAX_CACHED_SHAPES:
            self.shapes.popitem(last=False)

    def recall(self, shape_id: int) -> CursorShape | None:
        if shape_id not in self.shapes:
            return None
        self.shapes.move_to_end(shape_id)
        return self.shapes[shape_id]


class CursorTracker:
    """Host side: turns sampled cursor states into the few messages that say what changed."""

    def __init__(self) -> None:
        self._position: CursorPosition | None = None
        self._shape_id: int | None = None
        self._sent = _ShapeMemory()

    def update(
        self, position: CursorPosition, shape: CursorShape | None = None
    ) -> list[CursorMessage]:
        out: list[CursorMessage] = []
        if shape is not None and shape.shape_id != self._shape_id:
            sid = shape.shape_id
            known = sid in self._sent.shapes
            out.append(CursorShapeRef(sid) if known else shape)
            self._sent.remember(sid, None)
            self._shape_id = sid
        if position != self._position:
            out.append(position)
            self._position = position
        return out


class CursorState:
    """Viewer side: applies messages and knows what to draw."""

    def __init__(self) -> None:
        self.position: CursorPosition | None = None
        self.shape: CursorShape | None = None
        self._seen = _ShapeMemory()

    def apply(self, message: CursorMessage) -> None:
        """Apply one message; an unknown shape reference is the peer's fault."""
        match message:
            case CursorPosition():
                self.position = message
            case CursorShape():
                self._seen.remember(message.shape_id, message)
                self.shape = message
            case CursorShapeRef(shape_id):
                shape = self._seen.recall(shape_id)
                if shape is None:
                    raise ProtocolError("cursor shape reference to an unknown shape")
                self.shape = shape
