import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import LocalError, ProtocolError
from core.media.cursor import CursorPosition, CursorShape, CursorShapeRef
from core.protocol.framing import Frame
from core.protocol.session import (
    MESSAGE_CLASSES,
    SENDERS,
    Button,
    Close,
    Cursor,
    Feedback,
    Key,
    KeyframeRequest,
    MouseButton,
    Notice,
    Pointer,
    Role,
    ScreenInfo,
    SessionChannel,
    SessionType,
    SpecialKey,
    SpecialKeys,
    Video,
    Wheel,
    decode_session,
)

HOST_MESSAGES = [
    Video(True, 7, 123456789, 1920, 1080, b"\x00\x00\x00\x01\x67"),
    Cursor(CursorPosition(100, 200, True)),
    Cursor(CursorShape(2, 1, 1, 0, bytes(range(8)))),
    Cursor(CursorShapeRef(0x1234)),
    Notice({"watermark": "2026-11-26 tanaka PC-01 3f2a"}),
]
VIEWER_MESSAGES = [
    Key(True, 0xFF2A, 0x29, 0, ""),  # 半角/全角 (Zenkaku_Hankaku)
    Key(False, 0x61, 0x1E, 4, "a"),
    Pointer(1919, 1079),
    Button(MouseButton.RIGHT, True, 5, 6),
    Wheel(0, -120),
    Feedback(10, 5000, 80, 95),
    KeyframeRequest(9),
    SpecialKeys(SpecialKey.CTRL_ALT_DEL),
    ScreenInfo({"monitor": 1}),
    Close("bye"),
]


def test_every_type_has_a_class_and_senders():
    assert set(MESSAGE_CLASSES) == set(SessionType) == set(SENDERS)


@pytest.mark.parametrize("message", HOST_MESSAGES)
def test_host_messages_round_trip(message):
    host, viewer = SessionChannel(Role.HOST), SessionChannel(Role.VIEWER)
    assert viewer.receive_data(host.send(message)) == [message]


@pytest.mark.parametrize("message", VIEWER_MESSAGES)
def test_viewer_messages_round_trip(message):
    host, viewer = SessionChannel(Role.HOST), SessionChannel(Role.VIEWER)
    assert host.receive_data(viewer.send(message)) == [message]


def test_pointer_move_is_tiny():
    assert len(SessionChannel(Role.VIEWER).send(Pointer(1000, 500))) == 6 + 4


def test_direction_is_enforced_both_ways():
    host, viewer = SessionChannel(Role.HOST), SessionChannel(Role.VIEWER)
    with pytest.raises(LocalError):
        host.send(Key(True, 1, 1, 0))
    with pytest.raises(LocalError):
        viewer.send(Video(False, 1, 1, 2, 2, b""))
    # A hostile host that forges input messages is refused by the viewer... and vice versa.
    forged_host = SessionChannel(Role.VIEWER)
    with pytest.raises(ProtocolError):
        viewer.receive_data(forged_host.send(Key(True, 1, 1, 0)))
    forged_viewer = SessionChannel(Role.HOST)
    with pytest.raises(ProtocolError):
        host.receive_data(forged_viewer.send(Video(False, 1, 1, 2, 2, b"")))


def test_no_clipboard_file_or_print_message_exists():
    names = " ".join(t.name for t in SessionType).lower()
    for word in ("clip", "file", "print", "paste", "copy", "transfer"):
        assert word not in names


@pytest.mark.parametrize(
    "frame",
    [
        Frame(SessionType.VIDEO, b"\x01"),
        Frame(SessionType.CURSOR, b""),
        Frame(SessionType.CURSOR, b"\x01\x00"),
        Frame(SessionType.CURSOR, b"\x02" + b"\x00" * 12 + b"garbage"),
        Frame(SessionType.KEY, b"\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\xff"),  # bad UTF-8
        Frame(SessionType.BUTTON, b"\x07\x01\x00\x00\x00\x00"),
        Frame(SessionType.NOTICE, b"[]"),
        Frame(SessionType.SPECIAL_KEYS, b"\x09"),
        Frame(0x7F, b""),
    ],
)
def test_malformed_messages_raise_protocol_error(frame):
    with pytest.raises(ProtocolError):
        decode_session(frame)


@given(st.sampled_from(sorted(SessionType)), st.binary(max_size=300))
def test_any_payload_decodes_or_raises_protocol_error(frame_type, payload):
    try:
        decode_session(Frame(frame_type, payload))
    except ProtocolError:
        pass
