"""Cursor channel: messages round-trip, shapes are sent once, bad bytes raise ProtocolError."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ProtocolError
from core.media.cursor import (
    MAX_CACHED_SHAPES,
    CursorPosition,
    CursorShape,
    CursorShapeRef,
    CursorState,
    CursorTracker,
    parse_cursor_message,
)


def shape(seed: int, w: int = 16, h: int = 24) -> CursorShape:
    pixels = np.random.default_rng(seed).integers(0, 256, (h, w, 4), dtype=np.uint8).tobytes()
    return CursorShape(width=w, height=h, hot_x=w // 2, hot_y=1, pixels=pixels)


@given(st.integers(-32768, 32767), st.integers(-32768, 32767), st.booleans())
def test_position_round_trips_in_six_bytes(x: int, y: int, visible: bool) -> None:
    data = CursorPosition(x, y, visible).to_bytes()
    assert len(data) == 6
    assert parse_cursor_message(data) == CursorPosition(x, y, visible)


def test_shape_round_trips_and_is_compact() -> None:
    arrow = np.zeros((32, 32, 4), np.uint8)
    arrow[:20, :10] = (255, 255, 255, 255)
    original = CursorShape(32, 32, 0, 0, arrow.tobytes())
    data = original.to_bytes()
    assert len(data) < 200  # 4 kB of pixels
    decoded = parse_cursor_message(data)
    assert decoded == original and isinstance(decoded, CursorShape)
    assert decoded.shape_id == original.shape_id


def test_shape_ref_round_trips() -> None:
    assert parse_cursor_message(CursorShapeRef(0xDEADBEEF).to_bytes()) == CursorShapeRef(0xDEADBEEF)


def test_tracker_sends_shape_only_when_it_changes_and_refs_known_ones() -> None:
    tracker, viewer = CursorTracker(), CursorState()
    arrow, beam = shape(1), shape(2)
    sent = []
    for pos, shp in [
        ((1, 1), arrow),
        ((2, 1), arrow),
        ((2, 1), arrow),
        ((3, 3), beam),
        ((4, 4), arrow),
    ]:
        messages = tracker.update(CursorPosition(*pos), shp)
        for m in messages:
            viewer.apply(parse_cursor_message(m.to_bytes()))
        sent.append([type(m).__name__ for m in messages])
    assert sent == [
        ["CursorShape", "CursorPosition"],
        ["CursorPosition"],
        [],
        ["CursorShape", "CursorPosition"],
        ["CursorShapeRef", "CursorPosition"],
    ]
    assert viewer.shape == arrow and viewer.position == CursorPosition(4, 4)


def test_tracker_resends_a_shape_the_viewer_has_forgotten() -> None:
    tracker = CursorTracker()
    first = shape(0)
    tracker.update(CursorPosition(0, 0), first)
    for i in range(1, MAX_CACHED_SHAPES + 1):
        tracker.update(CursorPosition(0, 0), shape(i))
    again = tracker.update(CursorPosition(0, 0), first)
    assert isinstance(again[0], CursorShape)


def test_unknown_shape_ref_is_the_peers_fault() -> None:
    with pytest.raises(ProtocolError):
        CursorState().apply(CursorShapeRef(42))


def _shape_bytes(w: int, h: int, hx: int, hy: int, payload: bytes, sid: int = 0) -> bytes:
    return struct.pack(">BIHHHH", 2, sid, w, h, hx, hy) + payload


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x09",
        b"\x01\x00\x00\x00",  # short position
        b"\x01\x00\x00\x00\x00\x07",  # bad flags
        b"\x01\x00\x00\x00\x00\x01\x00",  # trailing byte
        b"\x03\x00\x00",  # short ref
        _shape_bytes(0, 10, 0, 0, zlib.compress(b"")),  # zero width
        _shape_bytes(300, 10, 0, 0, zlib.compress(b"\0" * 12000)),  # too wide
        _shape_bytes(4, 4, 4, 0, zlib.compress(b"\0" * 64)),  # hot spot outside
        _shape_bytes(4, 4, 0, 0, zlib.compress(b"\0" * 63)),  # too few pixels
        _shape_bytes(4, 4, 0, 0, zlib.compress(b"\0" * 65)),  # too many pixels
        _shape_bytes(4, 4, 0, 0, b"not zlib"),
        _shape_bytes(4, 4, 0, 0, zlib.compress(b"\0" * 64) + b"x"),  # trailing data
        _shape_bytes(4, 4, 0, 0, zlib.compress(b"\0" * 64), sid=1),  # wrong id
        _shape_bytes(256, 256, 0, 0, zlib.compress(b"\0" * 10_000_000)),  # bomb
    ],
)
def test_bad_bytes_raise_protocol_error_only(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_cursor_message(data)


@given(st.binary(max_size=300))
def test_fuzzed_bytes_raise_nothing_but_protocol_error(data: bytes) -> None:
    try:
        parse_cursor_message(data)
    except ProtocolError:
        pass


@given(st.binary(max_size=64))
def test_fuzzed_shape_payloads_raise_nothing_but_protocol_error(payload: bytes) -> None:
    try:
        parse_cursor_message(_shape_bytes(4, 4, 0, 0, payload))
    except ProtocolError:
        pass
