"""The input dispatcher over a recording backend: scaling, view-only, refusals, release."""

from __future__ import annotations

import logging

import pytest

from core.input.dispatch import MAX_HELD_KEYS, InputDispatcher
from core.input.keymap import ALT_L, CTRL_L, DELETE, ZENKAKU_HANKAKU
from core.input.pointer import MAX_WHEEL_NOTCHES, WHEEL_STEP, ScreenMap, WheelAccumulator
from core.protocol.session import (
    Button,
    Feedback,
    Key,
    MouseButton,
    Pointer,
    SpecialKey,
    SpecialKeys,
    Wheel,
)


class Recorder:
    can_inject_secure_attention = False

    def __init__(self):
        self.calls = []

    def key(self, keysym, scancode, text, down):
        self.calls.append(("key", keysym, down))

    def move(self, x, y):
        self.calls.append(("move", x, y))

    def button(self, button, down):
        self.calls.append(("button", button, down))

    def scroll(self, dx, dy):
        self.calls.append(("scroll", dx, dy))

    def secure_attention(self):
        self.calls.append(("sas",))

    def close(self):
        pass


# Second monitor at x=1920, shown to the viewer downscaled to 1280x720.
SCREEN = ScreenMap(1920, 0, 1920, 1080, 1280, 720)


def test_pointer_is_scaled_from_picture_to_monitor_and_clamped():
    assert SCREEN.to_desktop(0, 0) == (1920, 0)
    assert SCREEN.to_desktop(640, 360) == (1920 + 960, 540)
    assert SCREEN.to_desktop(5000, -3) == (1920 + 1918, 0)
    assert SCREEN.to_picture(1920 + 960, 540) == (640, 360)


def test_wheel_keeps_remainders_of_partial_notches():
    wheel = WheelAccumulator()
    assert wheel.add(0, 60) == (0, 0)
    assert wheel.add(0, 60) == (0, 1)
    assert wheel.add(0, -240) == (0, -2)
    assert wheel.add(-130, 0) == (-1, 0)


def test_one_wheel_message_scrolls_at_most_the_cap_and_the_excess_is_dropped():
    wheel = WheelAccumulator()
    huge = 273 * WHEEL_STEP  # what one 4-byte message can ask for
    assert wheel.add(-huge, huge) == (-MAX_WHEEL_NOTCHES, MAX_WHEEL_NOTCHES)
    assert wheel.add(0, 0) == (0, 0)  # nothing was carried over


def test_input_is_injected_and_counted():
    rec = Recorder()
    d = InputDispatcher(rec, SCREEN, view_only=False)
    assert d.handle(Key(True, ZENKAKU_HANKAKU, 0x29, 0))
    assert d.handle(Key(False, ZENKAKU_HANKAKU, 0x29, 0))
    assert d.handle(Pointer(640, 360))
    assert d.handle(Button(MouseButton.LEFT, True, 0, 0))
    assert d.handle(Button(MouseButton.LEFT, False, 0, 0))
    assert d.handle(Wheel(0, 120))
    assert not d.handle(Feedback(1, 2, 3, 4))
    assert rec.calls == [
        ("key", ZENKAKU_HANKAKU, True),
        ("key", ZENKAKU_HANKAKU, False),
        ("move", 2880, 540),
        ("move", 1920, 0),
        ("button", MouseButton.LEFT, True),
        ("move", 1920, 0),
        ("button", MouseButton.LEFT, False),
        ("scroll", 0, 1),
    ]


def test_view_only_injects_nothing_but_still_counts_as_activity():
    rec = Recorder()
    d = InputDispatcher(rec, SCREEN, view_only=True)
    assert d.handle(Key(True, 0x61, 0, 0))
    assert d.handle(Pointer(1, 1))
    assert rec.calls == []


def test_ctrl_alt_del_is_refused_with_a_log_line(caplog):
    rec = Recorder()
    d = InputDispatcher(rec, SCREEN, view_only=False)
    with caplog.at_level(logging.WARNING, "telework.host.input"):
        d.handle(SpecialKeys(SpecialKey.CTRL_ALT_DEL))
        d.handle(Key(True, CTRL_L, 0, 0))
        d.handle(Key(True, ALT_L, 0, 0))
        d.handle(Key(True, DELETE, 0, 0))
        d.handle(Key(False, DELETE, 0, 0))
    assert d.refused_secure_attention == 2
    assert "Ctrl+Alt+Del refused" in caplog.text
    assert ("key", DELETE, True) not in rec.calls and ("key", DELETE, False) not in rec.calls


XF86_POWER_OFF, XF86_SLEEP, XF86_SWITCH_VT_1 = 0x1008FF2A, 0x1008FF2F, 0x1008FE01
TERMINATE_SERVER, STICKY_KEYS_ENABLE, F1, F4, BACKSPACE = 0xFED5, 0xFE75, 0xFFBE, 0xFFC1, 0xFF08


@pytest.mark.parametrize(
    "keysym", [XF86_POWER_OFF, XF86_SLEEP, XF86_SWITCH_VT_1, TERMINATE_SERVER, STICKY_KEYS_ENABLE]
)
def test_keys_that_act_on_the_machine_are_never_injected(keysym):
    rec = Recorder()
    d = InputDispatcher(rec, SCREEN, view_only=False)
    d.handle(Key(True, keysym, 0, 0))
    d.handle(Key(False, keysym, 0, 0))
    assert rec.calls == [] and d.refused_machine_keys == 1


def test_ctrl_alt_function_keys_and_backspace_are_refused_but_the_keys_alone_pass():
    rec = Recorder()
    d = InputDispatcher(rec, SCREEN, view_only=False)
    for keysym in (F1, BACKSPACE):  # alone, and with Alt (Alt+F4 closes a window)
        d.handle(Key(True, keysym, 0, 0))
        d.handle(Key(False, keysym, 0, 0))
    d.handle(Key(True, ALT_L, 0, 0))
    d.handle(Key(True, F4, 0, 0))
    d.handle(Key(False, F4, 0, 0))
    d.handle(Key(True, CTRL_L, 0, 0))  # now Ctrl+Alt: F1 would switch VT, BackSpace end X
    for keysym in (F1, BACKSPACE):
        d.handle(Key(True, keysym, 0, 0))
        d.handle(Key(False, keysym, 0, 0))
    keys = [call[1:] for call in rec.calls]
    assert keys[:4] == [(F1, True), (F1, False), (BACKSPACE, True), (BACKSPACE, False)]
    assert (F4, True) in keys and keys.count((F1, True)) == 1
    assert keys.count((BACKSPACE, True)) == 1
    assert d.refused_machine_keys == 2


def test_everything_held_is_released_at_the_end():
    rec = Recorder()
    d = InputDispatcher(rec, SCREEN, view_only=False)
    d.handle(Key(True, 0xFFE1, 0, 0))
    d.handle(Key(True, 0x61, 0, 0))
    d.handle(Button(MouseButton.RIGHT, True, 0, 0))
    d.handle(Button(MouseButton.MIDDLE, False, 0, 0))  # never pressed: not injected
    rec.calls.clear()
    d.release_all()
    assert rec.calls == [
        ("key", 0x61, False),
        ("key", 0xFFE1, False),
        ("button", MouseButton.RIGHT, False),
    ]
    d.release_all()
    assert len(rec.calls) == 3


def test_no_backend_means_view_only():
    d = InputDispatcher(None, SCREEN, view_only=False)
    assert d.view_only and d.handle(Key(True, 0x61, 0, 0))
    d.release_all()


def test_held_keys_are_bounded_and_releases_still_work():
    rec = Recorder()
    d = InputDispatcher(rec, SCREEN, view_only=False)
    first, extra = 0x10000, 100
    keysyms = range(first, first + MAX_HELD_KEYS + extra)
    for keysym in keysyms:  # a hostile viewer: distinct key-downs, never released
        d.handle(Key(True, keysym, 0, 0))
    held, ignored = keysyms[:MAX_HELD_KEYS], keysyms[MAX_HELD_KEYS:]
    assert len(d._keys) == MAX_HELD_KEYS
    assert rec.calls == [("key", k, True) for k in held]

    rec.calls.clear()
    d.handle(Key(True, held[0], 0, 0))  # auto-repeat of a held key still passes when full
    d.handle(Key(False, ignored[0], 0, 0))  # release of a key never injected: ignored
    d.handle(Key(False, held[1], 0, 0))
    d.handle(Key(True, ignored[1], 0, 0))  # room again after that release
    assert rec.calls == [
        ("key", held[0], True),
        ("key", held[1], False),
        ("key", ignored[1], True),
    ]
    assert len(d._keys) == MAX_HELD_KEYS

    rec.calls.clear()
    d.release_all()
    assert sorted(rec.calls) == sorted(
        [("key", k, False) for k in held if k != held[1]] + [("key", ignored[1], False)]
    )
    assert not d._keys
