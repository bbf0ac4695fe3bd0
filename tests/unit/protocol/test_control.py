import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ProtocolError
from core.protocol.control import (
    MAX_LIST_ITEMS,
    MAX_STRING_CHARS,
    MESSAGE_CLASSES,
    ControlType,
    Login,
    LoginOk,
    Policy,
    Refused,
    SessionAnswer,
    decode_control,
    encode_control,
)
from core.protocol.framing import MAX_CONTROL_PAYLOAD, Frame, FrameDecoder


def roundtrip(message):
    (frame,) = FrameDecoder(MAX_CONTROL_PAYLOAD).frames(encode_control(message))
    return decode_control(frame)


def test_every_type_is_registered_once():
    assert set(MESSAGE_CLASSES) == set(ControlType)


@pytest.mark.parametrize(
    "message",
    [
        Login("city", "tanaka", "123456", "ABCDEFGHIJKLMNOPQRST", "-----PEM-----", ["aa:bb"], ""),
        SessionAnswer("s1", False, "mac_not_registered"),
        Refused("locked_out", 1_800_000_000),
        Login("city", "tanaka", "", "A" * 20, "pem", [], "ticket", {"viewer_version": "0.1.0"}),
        LoginOk("s1", "ticket", 600, "本日は17時まで"),
        Refused("home_pc_check_failed", checks=["firewall", "os_updates"]),
        SessionAnswer("s1", False, "home_pc_check_failed", ["antivirus"]),
        Policy({"idle_timeout_s": 600, "watermark": True}),
    ],
)
def test_round_trip(message):
    assert roundtrip(message) == message


def test_optional_field_defaults_when_absent():
    frame = Frame(
        ControlType.SESSION_ANSWER, json.dumps({"session_id": "s", "accept": True}).encode()
    )
    assert decode_control(frame) == SessionAnswer("s", True, "")


def test_a_login_of_an_older_viewer_has_no_home_check():
    body = {"tenant": "t", "user": "u", "otp": "1", "host_id": "h", "device_cert": "c"}
    message = decode_control(Frame(ControlType.LOGIN, json.dumps({**body, "macs": []}).encode()))
    assert message.home_check == {} and message.resume_ticket == ""
    too_big = {**body, "macs": [], "home_check": {f"k{i}": 1 for i in range(65)}}
    with pytest.raises(ProtocolError):
        decode_control(Frame(ControlType.LOGIN, json.dumps(too_big).encode()))


@pytest.mark.parametrize(
    "payload",
    [
        b"\xff\xfe",  # not UTF-8
        b"[1, 2]",  # not an object
        b'{"session_id": "s"}',  # missing field
        b'{"session_id": 5, "accept": true}',  # wrong type
        b'{"session_id": "s", "accept": 1}',  # int is not a bool
        b"[" * 5000 + b"]" * 5000,  # nesting bomb
        b'{"session_id": "s", "accept": true, "reason": "' + b"x" * (MAX_STRING_CHARS + 1) + b'"}',
    ],
)
def test_bad_payloads_raise_protocol_error(payload):
    with pytest.raises(ProtocolError):
        decode_control(Frame(ControlType.SESSION_ANSWER, payload))


def test_too_many_macs_refused():
    body = {
        "tenant": "t",
        "user": "u",
        "otp": "1",
        "host_id": "h",
        "device_cert": "c",
        "macs": ["m"] * (MAX_LIST_ITEMS + 1),
    }
    with pytest.raises(ProtocolError):
        decode_control(Frame(ControlType.LOGIN, json.dumps(body).encode()))


def test_unknown_type_refused():
    with pytest.raises(ProtocolError):
        decode_control(Frame(0x3F, b"{}"))


@given(st.integers(min_value=0, max_value=255), st.binary(max_size=512))
def test_decoder_raises_only_protocol_errors(frame_type, payload):
    try:
        decode_control(Frame(frame_type, payload))
    except ProtocolError:
        pass


@given(
    st.dictionaries(
        st.sampled_from(["session_id", "accept", "reason", "x"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(allow_nan=True),
            st.text(max_size=20),
            st.lists(st.integers(), max_size=3),
        ),
    )
)
def test_structured_garbage_raises_only_protocol_errors(body):
    try:
        decoded = decode_control(Frame(ControlType.SESSION_ANSWER, json.dumps(body).encode()))
    except ProtocolError:
        return
    assert isinstance(decoded.session_id, str) and isinstance(decoded.accept, bool)
