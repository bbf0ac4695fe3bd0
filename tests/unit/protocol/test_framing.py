import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import FrameTooLarge, ProtocolError, UnsupportedVersion
from core.protocol.framing import HEADER_SIZE, PROTOCOL_VERSION, Frame, FrameDecoder, encode_frame


def test_frame_round_trip_exact_bytes():
    data = encode_frame(0x0D, b"abc", max_payload=10)
    assert data == b"\x00\x00\x00\x03" + bytes([PROTOCOL_VERSION, 0x0D]) + b"abc"
    assert FrameDecoder(10).frames(data) == [Frame(0x0D, b"abc")]


def test_decoder_reassembles_any_split():
    data = (
        encode_frame(1, b"hello", 100) + encode_frame(2, b"", 100) + encode_frame(3, b"x" * 50, 100)
    )
    for cut in range(len(data) + 1):
        decoder = FrameDecoder(100)
        frames = decoder.frames(data[:cut]) + decoder.frames(data[cut:])
        assert frames == [Frame(1, b"hello"), Frame(2, b""), Frame(3, b"x" * 50)]
        assert decoder.buffered == 0


def test_oversized_frame_refused_from_header_alone():
    decoder = FrameDecoder(1024)
    header = (1025).to_bytes(4, "big") + bytes([PROTOCOL_VERSION, 1])
    with pytest.raises(FrameTooLarge):
        decoder.feed(header)  # refused before any payload arrives


def test_encoder_refuses_what_the_peer_would_refuse():
    with pytest.raises(FrameTooLarge):
        encode_frame(1, b"x" * 11, max_payload=10)


def test_unknown_version_refused():
    with pytest.raises(UnsupportedVersion):
        FrameDecoder(10).frames(b"\x00\x00\x00\x00\x09\x01")


def test_take_buffered_hands_over_partial_bytes():
    decoder = FrameDecoder(100)
    assert decoder.frames(encode_frame(1, b"a", 100) + b"\x16\x03") == [Frame(1, b"a")]
    assert decoder.take_buffered() == b"\x16\x03"
    assert decoder.buffered == 0


@given(st.binary(max_size=4096), st.integers(min_value=1, max_value=64))
def test_arbitrary_bytes_only_raise_protocol_errors_and_stay_bounded(data, chunk):
    decoder = FrameDecoder(256)
    try:
        for i in range(0, len(data), chunk):
            decoder.frames(data[i : i + chunk])
            assert decoder.buffered < HEADER_SIZE + 256 + chunk
    except ProtocolError:
        pass
