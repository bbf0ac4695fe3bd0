"""Encoder and decoder: fidelity, keyframes on request, static cost, odd sizes, broken input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from core.errors import LocalError
from core.media import decoder as decoder_module
from core.media.decoder import H264Decoder
from core.media.encoder import H264Encoder, VideoPacket
from core.media.frames import even_view
from core.media.quality import psnr, ssim

from .conftest import text_screen


def roomy(encoder: H264Encoder) -> H264Encoder:
    encoder.set_vbv(2_000_000, 2_000_000)  # no budget pressure: judge the codec, not the cap
    return encoder


def test_decoded_frame_matches_source(screen: np.ndarray) -> None:
    encoder, decoder = roomy(H264Encoder(320, 240, crf=16)), H264Decoder()
    packet = encoder.encode(screen, capture_us=0)
    result = decoder.decode(packet)
    assert packet.keyframe and packet.frame_index == 0
    assert result.image is not None and not result.need_keyframe
    assert result.image.shape == (240, 320, 4) and result.image.flags.c_contiguous
    assert ssim(screen, result.image) > 0.95
    assert psnr(screen, result.image) > 30


def test_default_settings_converge_on_the_source(screen: np.ndarray) -> None:
    """At the shipped CRF a still screen is refined frame by frame until it is crisp."""
    encoder, decoder = H264Encoder(320, 240), H264Decoder()
    encoder.set_vbv(80_000, 80_000)
    first = decoder.decode(encoder.encode(screen, capture_us=0)).image
    for i in range(1, 90):
        last = decoder.decode(encoder.encode(screen, capture_us=i)).image
    assert first is not None and last is not None
    assert ssim(screen, last) > 0.98 > 0.9 > ssim(screen, first)


def test_one_packet_per_frame_with_consecutive_indices(screen: np.ndarray) -> None:
    encoder, decoder = roomy(H264Encoder(320, 240)), H264Decoder()
    for i in range(5):
        frame = screen.copy()
        frame[100:110, 10 * i : 10 * i + 8] = 0  # typing
        packet = encoder.encode(frame, capture_us=100 * i)
        assert packet.frame_index == i and packet.capture_us == 100 * i
        assert decoder.decode(packet).image is not None
    assert encoder.frames_encoded == 5


def test_keyframe_only_on_request(screen: np.ndarray) -> None:
    encoder = roomy(H264Encoder(320, 240))
    kinds = [encoder.encode(screen, capture_us=i).keyframe for i in range(4)]
    encoder.request_keyframe()
    kinds += [encoder.encode(screen, capture_us=i).keyframe for i in range(3)]
    assert kinds == [True, False, False, False, True, False, False]


def test_a_late_keyframe_starts_a_fresh_decoder(screen: np.ndarray) -> None:
    encoder = roomy(H264Encoder(320, 240))
    for i in range(3):
        encoder.encode(screen, capture_us=i)
    encoder.request_keyframe()
    key = encoder.encode(screen, capture_us=3)
    result = H264Decoder().decode(key)
    assert result.image is not None and ssim(screen, result.image) > 0.9


def test_refined_still_screen_gives_tiny_packets(screen: np.ndarray) -> None:
    """Thanks to the qpmin floor x264 stops refining: then a frame is a few dozen bytes."""
    encoder = H264Encoder(320, 240)
    encoder.set_vbv(80_000, 80_000)
    sizes = [len(encoder.encode(screen, capture_us=i).data) for i in range(120)]
    assert max(sizes[-15:]) < 40, sizes


def test_odd_capture_sizes_are_made_even() -> None:
    odd = text_screen(321, 241)
    frame = even_view(odd)
    assert frame.shape[:2] == (240, 320)
    encoder, decoder = H264Encoder(320, 240), H264Decoder()
    result = decoder.decode(encoder.encode(frame, capture_us=0))
    assert result.image is not None and result.image.shape == (240, 320, 4)


@pytest.mark.parametrize("size", [(321, 240), (320, 241), (8, 8)])
def test_encoder_refuses_odd_or_tiny_sizes(size: tuple[int, int]) -> None:
    with pytest.raises(LocalError):
        H264Encoder(*size)


def test_encoder_refuses_a_frame_of_the_wrong_size(screen: np.ndarray) -> None:
    with pytest.raises(LocalError):
        H264Encoder(320, 240).encode(screen[:100], capture_us=0)


def test_economy_output_is_downscaled(screen: np.ndarray) -> None:
    encoder = H264Encoder(320, 240, output_size=(160, 120))
    packet = encoder.encode(screen, capture_us=0)
    assert (packet.width, packet.height) == (160, 120)
    image = H264Decoder().decode(packet).image
    assert image is not None and image.shape == (120, 160, 4)


def _stream(screen: np.ndarray, n: int) -> list[VideoPacket]:
    encoder = roomy(H264Encoder(320, 240))
    out = []
    for i in range(n):
        frame = screen.copy()
        frame[50:60, 20 * i : 20 * i + 15] = 0
        out.append(encoder.encode(frame, capture_us=i))
    return out


def test_corrupt_packet_asks_for_a_keyframe_and_does_not_crash(screen: np.ndarray) -> None:
    packets = _stream(screen, 4)
    decoder = H264Decoder()
    assert decoder.decode(packets[0]).image is not None
    rng = np.random.default_rng(7)
    garbage = dataclasses.replace(packets[1], data=rng.bytes(len(packets[1].data)))
    result = decoder.decode(garbage)
    assert result.need_keyframe and result.image is None
    # Until a keyframe comes, later P-frames are refused the same way.
    assert decoder.decode(packets[2]).need_keyframe
    assert decoder.waiting_for_keyframe


@pytest.mark.parametrize("data", [b"", b"\x00\x00\x00\x01", b"\xff" * 100, bytes(range(256))])
def test_junk_keyframes_never_raise(data: bytes) -> None:
    junk = VideoPacket(data=data, frame_index=0, capture_us=0, keyframe=True, width=320, height=240)
    assert H264Decoder().decode(junk).need_keyframe


def test_lost_packet_asks_for_a_keyframe_then_recovers(screen: np.ndarray) -> None:
    encoder = roomy(H264Encoder(320, 240))
    decoder = H264Decoder()
    assert decoder.decode(encoder.encode(screen, capture_us=0)).image is not None
    encoder.encode(screen, capture_us=1)  # lost on the way
    assert decoder.decode(encoder.encode(screen, capture_us=2)).need_keyframe
    encoder.request_keyframe()
    result = decoder.decode(encoder.encode(screen, capture_us=3))
    assert result.image is not None and not result.need_keyframe


def test_a_keyframe_after_a_gap_is_decoded_at_once(screen: np.ndarray) -> None:
    encoder, decoder = roomy(H264Encoder(320, 240)), H264Decoder()
    assert decoder.decode(encoder.encode(screen, capture_us=0)).image is not None
    encoder.encode(screen, capture_us=1)  # lost
    encoder.request_keyframe()
    result = decoder.decode(encoder.encode(screen, capture_us=2))
    assert result.image is not None and not result.need_keyframe


def test_a_picture_over_the_size_cap_is_refused(
    screen: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    h, w = screen.shape[:2]
    key = H264Encoder(w, h).encode(screen, capture_us=0)
    monkeypatch.setattr(decoder_module, "MAX_PICTURE_PIXELS", w * h - 2)  # one pixel pair short
    result = H264Decoder().decode(key)
    assert result.image is None and result.need_keyframe


def test_a_picture_whose_size_differs_from_its_message_is_refused(screen: np.ndarray) -> None:
    h, w = screen.shape[:2]
    key = H264Encoder(w, h).encode(screen, capture_us=0)
    lying = dataclasses.replace(key, width=w * 2)
    result = H264Decoder().decode(lying)
    assert result.image is None and result.need_keyframe
    assert H264Decoder().decode(key).image is not None  # the honest packet decodes
