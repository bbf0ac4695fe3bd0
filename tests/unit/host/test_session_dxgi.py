"""HostMedia on Windows: the DXGI duplication is capture and damage source at once, a monitor
switch hands both over, and without duplication mss and whole-frame comparison stand in. The
duplication and mss are stand-ins here (the real ones need Windows and a display)."""

from __future__ import annotations

from typing import ClassVar

import pytest

from apps.host import session
from apps.host.session import HostMedia
from core.input.pointer import ScreenMap
from desktop.win_dxgi import DxgiUnavailable

MONITORS = [
    {"left": 0, "top": 0, "width": 1920, "height": 1080},
    {"left": 1920, "top": 0, "width": 1280, "height": 1024},
]


class FakeDuplication:
    made: ClassVar[list[FakeDuplication]] = []
    refuse: ClassVar[bool] = False

    def __init__(self, monitor):
        if FakeDuplication.refuse:
            raise DxgiUnavailable("no DXGI output")
        self.monitor = monitor
        self.size = monitor[2], monitor[3]
        self.closed = 0
        self.drawn: list | None = []
        FakeDuplication.made.append(self)

    def take(self):
        return self.drawn

    def close(self):
        self.closed += 1


class FakeScreenCapture:
    def __init__(self, target, display=None):
        self.target = target
        self.closed = False

    def close(self):
        self.closed = True


@pytest.fixture
def media(monkeypatch):
    monkeypatch.setattr(session, "DxgiDuplication", FakeDuplication)
    monkeypatch.setattr(session, "ScreenCapture", FakeScreenCapture)
    FakeDuplication.made, FakeDuplication.refuse = [], False
    media = HostMedia.__new__(HostMedia)  # the monitors and sources, without mss or a sender
    media.monitors, media.display = MONITORS, None
    media.capture = media.damage_source = None
    media.cursor_source = media.focus_source = None
    media._whole_compare_at = -session.WHOLE_FRAME_COMPARE_S
    return media


def test_the_duplication_is_both_capture_and_damage_source_and_a_switch_hands_both_over(media):
    media.capture = media._windows_capture(2)
    first = FakeDuplication.made[0]
    assert media.capture is first and media.damage_source is first
    assert first.monitor == (1920, 0, 1280, 1024)
    # Rectangles come in desktop pixels; the sender gets them in the frame's.
    media.screen = ScreenMap(1920, 0, 1280, 1024, 1280, 1024)
    media._whole_compare_at = 0.0
    first.drawn = [(1930, 20, 4, 1), (100, 100, 5, 5)]
    assert media._drawn(1.0) == [(10, 20, 4, 1)]
    # Back to the first monitor: Windows allows one duplication per output and process, so
    # the old one is closed before the new one is made.
    media.capture = media._windows_capture(1)
    assert first.closed == 1
    assert media.damage_source is FakeDuplication.made[1] is media.capture
    media.close()
    assert FakeDuplication.made[1].closed >= 1  # closing twice (capture, damage) is harmless


def test_without_duplication_mss_captures_and_whole_frames_are_compared(media):
    media.capture = media._windows_capture(1)
    FakeDuplication.refuse = True
    capture = media._windows_capture(2)
    assert isinstance(capture, FakeScreenCapture)
    assert media.damage_source is None
    assert media._drawn(10.0) is None
