"""The keysym -> OS key mapping, every Japanese and JIS key included."""

from __future__ import annotations

import pytest

from core.input import keymap
from core.input.keymap import (
    JAPANESE_KEYSYMS,
    JIS_SCANCODE_VK,
    WindowsKey,
    char_for_keysym,
    is_ctrl_alt_del,
    keysym_for_text,
    windows_key,
    x11_keysym,
)

JAPANESE_WINDOWS = {
    "Zenkaku_Hankaku": (0xFF2A, keymap.VK_KANJI),
    "Zenkaku": (0xFF28, keymap.VK_KANJI),
    "Hankaku": (0xFF29, keymap.VK_KANJI),
    "Kanji": (0xFF21, keymap.VK_KANJI),
    "Henkan": (0xFF23, 0x1C),
    "Muhenkan": (0xFF22, 0x1D),
    "Hiragana_Katakana": (0xFF27, 0xF2),
    "Hiragana": (0xFF25, 0xF2),
    "Katakana": (0xFF26, 0xF1),
    "Romaji": (0xFF24, 0xF5),
    "Eisu_toggle": (0xFF30, 0xF0),
    "yen": (0x00A5, 0xDC),
}


@pytest.mark.parametrize("name", sorted(JAPANESE_WINDOWS))
def test_every_japanese_key_has_its_keysym_and_windows_vk(name):
    keysym, vk = JAPANESE_WINDOWS[name]
    assert JAPANESE_KEYSYMS[name] == keysym
    assert windows_key(keysym).vk == vk
    assert x11_keysym(keysym) == keysym  # X11 injects the keysym itself


def test_the_four_keys_of_the_brief_have_the_x11_values():
    assert keymap.ZENKAKU_HANKAKU == 0xFF2A
    assert keymap.HENKAN == 0xFF23
    assert keymap.MUHENKAN == 0xFF22
    assert keymap.HIRAGANA_KATAKANA == 0xFF27


@pytest.mark.parametrize(
    ("scancode", "vk"),
    [(0x29, 0x19), (0x70, 0xF2), (0x79, 0x1C), (0x7B, 0x1D), (0x7D, 0xDC), (0x73, 0xE2)],
)
def test_jis_physical_keys_go_by_scancode_on_windows(scancode, vk):
    # A key the viewer's toolkit did not know, on a JIS keyboard: the scancode says which.
    assert windows_key(0, scancode).vk == vk
    assert JIS_SCANCODE_VK[scancode] == vk


def test_the_ro_and_yen_keys_are_told_apart_by_scancode():
    # Both carry "\" on some layouts.
    assert windows_key(keymap.BACKSLASH, 0x73).vk == keymap.VK_OEM_102
    assert windows_key(keymap.BACKSLASH, 0x7D).vk == keymap.VK_OEM_5


def test_a_jis_scancode_with_another_keys_keysym_is_that_key():
    # A US keyboard's ` key has 半角/全角's scancode; it must type a backtick, not toggle the IME.
    assert windows_key(ord("`"), 0x29) == WindowsKey(None, char="`")
    assert windows_key(ord("f"), 0x29).vk == ord("F")
    assert windows_key(0xFF57, 0x73).vk == windows_key(0xFF57).vk  # End is End


def test_named_keys_letters_and_digits():
    assert windows_key(0xFF0D) == WindowsKey(0x0D, scancode=0x1C)
    assert windows_key(0xFFBE).vk == 0x70  # F1
    assert windows_key(0xFFC9).vk == 0x7B  # F12
    assert windows_key(0xFFB5).vk == 0x65  # KP_5
    assert windows_key(ord("a")).vk == ord("A")
    assert windows_key(ord("Q")).vk == ord("Q")
    assert windows_key(ord("7")).vk == ord("7")
    assert windows_key(0xFFEB).vk == 0x5B  # Super_L: the Windows key


def test_printable_symbols_are_typed_by_character_on_windows():
    assert windows_key(ord("@")) == WindowsKey(None, char="@")
    assert windows_key(keysym_for_text("あ")) == WindowsKey(None, char="あ")
    assert windows_key(0, text="ー") == WindowsKey(None, char="ー")
    assert windows_key(0xFE50) is None  # a dead key we do not know


def test_text_and_unicode_keysyms_round_trip():
    assert keysym_for_text("a") == 0x61
    assert keysym_for_text("¥") == 0xA5
    assert keysym_for_text("漢") == 0x01000000 + ord("漢")
    assert keysym_for_text("ab") == 0
    assert char_for_keysym(0x01000000 + ord("漢")) == "漢"
    assert char_for_keysym(keymap.KANA_PROLONGEDSOUND) == "ー"
    assert char_for_keysym(0xFF0D) is None
    assert x11_keysym(0, "é") == 0xE9
    assert x11_keysym(0, "") is None


def test_ctrl_alt_del_is_recognised_only_with_both_modifiers():
    assert is_ctrl_alt_del({keymap.CTRL_L, keymap.ALT_L}, keymap.DELETE)
    assert is_ctrl_alt_del({keymap.CTRL_R, keymap.ALT_R}, 0xFF9F)
    assert not is_ctrl_alt_del({keymap.CTRL_L}, keymap.DELETE)
    assert not is_ctrl_alt_del({keymap.CTRL_L, keymap.ALT_L}, ord("d"))
