"""From the viewer's key events (X11 keysyms) to what the office PC's OS injects.

The session carries the **X11 keysym** of each key (see :class:`core.protocol.session.Key`):
it is layout-independent and names the Japanese keys. On an X11 host the keysym is injected
as is (the injector finds or borrows a keycode for it). On Windows it becomes a virtual-key
code (``VK_*``), a Unicode character, or, for the keys only a JIS keyboard has, the VK that
Windows' Japanese layout (kbd106) gives that physical key.

Pure tables and functions: nothing here touches the OS.
"""

from __future__ import annotations

from dataclasses import dataclass

# X11 keysyms of the Japanese keys (X11/keysymdef.h).
KANJI = 0xFF21
MUHENKAN = 0xFF22
HENKAN = 0xFF23
ROMAJI = 0xFF24
HIRAGANA = 0xFF25
KATAKANA = 0xFF26
HIRAGANA_KATAKANA = 0xFF27
ZENKAKU = 0xFF28
HANKAKU = 0xFF29
ZENKAKU_HANKAKU = 0xFF2A
EISU_TOGGLE = 0xFF30
YEN = 0x00A5
BACKSLASH = 0x005C
UNDERSCORE = 0x005F
KANA_PROLONGEDSOUND = 0x04B0

CTRL_L, CTRL_R, ALT_L, ALT_R, DELETE = 0xFFE3, 0xFFE4, 0xFFE9, 0xFFEA, 0xFFFF
UNICODE_KEYSYM_OFFSET = 0x01000000  # keysyms 0x01000000 + code point name any character
MAX_KEYSYM = 0x1FFFFFFF

# Windows virtual-key codes of the Japanese (DBE) keys, as kbd106 produces them.
VK_KANJI = 0x19  # toggles the IME: what 半角/全角 and Alt+` do
VK_CONVERT = 0x1C
VK_NONCONVERT = 0x1D
VK_DBE_ALPHANUMERIC = 0xF0  # 英数 (Caps Lock position on JIS)
VK_DBE_KATAKANA = 0xF1
VK_DBE_HIRAGANA = 0xF2  # カタカナ/ひらがな/ローマ字
VK_DBE_ROMAN = 0xF5
VK_OEM_5 = 0xDC  # ¥ | on JIS
VK_OEM_102 = 0xE2  # \ _ ろ on JIS


@dataclass(frozen=True)
class WindowsKey:
    """How to inject one key on Windows: a virtual key, or a character when ``vk`` is None."""

    vk: int | None
    char: str | None = None
    scancode: int = 0  # set-1 make code on a JIS (106/109) keyboard, 0 when irrelevant


# keysym -> (VK, JIS set-1 scancode). The Japanese keys, then the named keys.
_NAMED: dict[int, tuple[int, int]] = {
    ZENKAKU_HANKAKU: (VK_KANJI, 0x29),
    ZENKAKU: (VK_KANJI, 0x29),
    HANKAKU: (VK_KANJI, 0x29),
    KANJI: (VK_KANJI, 0x29),
    HENKAN: (VK_CONVERT, 0x79),
    MUHENKAN: (VK_NONCONVERT, 0x7B),
    HIRAGANA_KATAKANA: (VK_DBE_HIRAGANA, 0x70),
    HIRAGANA: (VK_DBE_HIRAGANA, 0x70),
    KATAKANA: (VK_DBE_KATAKANA, 0x70),
    ROMAJI: (VK_DBE_ROMAN, 0x70),
    EISU_TOGGLE: (VK_DBE_ALPHANUMERIC, 0x3A),
    YEN: (VK_OEM_5, 0x7D),
    0xFF08: (0x08, 0x0E),  # BackSpace
    0xFF09: (0x09, 0x0F),  # Tab
    0xFF0D: (0x0D, 0x1C),  # Return
    0xFF13: (0x13, 0),  # Pause
    0xFF14: (0x91, 0x46),  # Scroll_Lock
    0xFF1B: (0x1B, 0x01),  # Escape
    0xFF50: (0x24, 0),  # Home
    0xFF51: (0x25, 0),  # Left
    0xFF52: (0x26, 0),  # Up
    0xFF53: (0x27, 0),  # Right
    0xFF54: (0x28, 0),  # Down
    0xFF55: (0x21, 0),  # Prior (Page Up)
    0xFF56: (0x22, 0),  # Next (Page Down)
    0xFF57: (0x23, 0),  # End
    0xFF61: (0x2C, 0),  # Print: the office PC's own screenshot, which stays there
    0xFF63: (0x2D, 0),  # Insert
    0xFF67: (0x5D, 0),  # Menu
    0xFF7F: (0x90, 0x45),  # Num_Lock
    0xFF8D: (0x0D, 0),  # KP_Enter
    0xFFAA: (0x6A, 0x37),  # KP_Multiply
    0xFFAB: (0x6B, 0x4E),  # KP_Add
    0xFFAD: (0x6D, 0x4A),  # KP_Subtract
    0xFFAE: (0x6E, 0x53),  # KP_Decimal
    0xFFAF: (0x6F, 0),  # KP_Divide
    0xFFE1: (0xA0, 0x2A),  # Shift_L
    0xFFE2: (0xA1, 0x36),  # Shift_R
    CTRL_L: (0xA2, 0x1D),
    CTRL_R: (0xA3, 0),
    0xFFE5: (0x14, 0x3A),  # Caps_Lock (a US keyboard's; JIS sends Eisu_toggle there)
    ALT_L: (0xA4, 0x38),
    ALT_R: (0xA5, 0),
    0xFFEB: (0x5B, 0),  # Super_L (Windows key)
    0xFFEC: (0x5C, 0),  # Super_R
    DELETE: (0x2E, 0),
    0x0020: (0x20, 0x39),  # space
}
_NAMED.update({0xFFB0 + i: (0x60 + i, 0) for i in range(10)})  # KP_0 .. KP_9
_NAMED.update({0xFFBE + i: (0x70 + i, 0) for i in range(24)})  # F1 .. F24

# Physical keys only a JIS keyboard has, by the set-1 scancode the viewer reports: on Windows
# these are injected by VK so that, e.g., the ろ key types "\" even when "\" is also on the ¥ key.
JIS_SCANCODE_VK: dict[int, int] = {
    0x29: VK_KANJI,  # 半角/全角
    0x70: VK_DBE_HIRAGANA,  # カタカナ/ひらがな
    0x79: VK_CONVERT,  # 変換
    0x7B: VK_NONCONVERT,  # 無変換
    0x7D: VK_OEM_5,  # ¥
    0x73: VK_OEM_102,  # ろ (\ _)
}
# The keysyms each of those keys may arrive with (0: the viewer's toolkit did not know the key).
# The scancode decides only then: a US keyboard's ` key has 半角/全角's scancode 0x29.
JIS_SCANCODE_KEYSYMS: dict[int, frozenset[int]] = {
    0x29: frozenset({0, ZENKAKU_HANKAKU, ZENKAKU, HANKAKU, KANJI}),
    0x70: frozenset({0, HIRAGANA_KATAKANA, HIRAGANA, KATAKANA}),
    0x79: frozenset({0, HENKAN}),
    0x7B: frozenset({0, MUHENKAN}),
    0x7D: frozenset({0, YEN, BACKSLASH, ord("|")}),
    0x73: frozenset({0, BACKSLASH, ord("_")}),
}

JAPANESE_KEYSYMS: dict[str, int] = {
    "Zenkaku_Hankaku": ZENKAKU_HANKAKU,
    "Zenkaku": ZENKAKU,
    "Hankaku": HANKAKU,
    "Kanji": KANJI,
    "Henkan": HENKAN,
    "Muhenkan": MUHENKAN,
    "Hiragana_Katakana": HIRAGANA_KATAKANA,
    "Hiragana": HIRAGANA,
    "Katakana": KATAKANA,
    "Romaji": ROMAJI,
    "Eisu_toggle": EISU_TOGGLE,
    "yen": YEN,
}


def keysym_for_text(text: str) -> int:
    """The keysym that types one character: Latin-1 maps to itself, the rest to Unicode keysyms."""
    if len(text) != 1:
        return 0
    code = ord(text)
    if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF:
        return code
    return UNICODE_KEYSYM_OFFSET + code


def char_for_keysym(keysym: int) -> str | None:
    """The character a printable keysym types, or None for a function key."""
    if 0x20 <= keysym <= 0x7E or 0xA0 <= keysym <= 0xFF:
        return chr(keysym)
    if UNICODE_KEYSYM_OFFSET + 0xA0 <= keysym <= UNICODE_KEYSYM_OFFSET + 0x10FFFF:
        return chr(keysym - UNICODE_KEYSYM_OFFSET)
    if keysym == KANA_PROLONGEDSOUND:
        return "ー"
    return None


def x11_keysym(keysym: int, text: str = "") -> int | None:
    """The keysym to inject on X11 for a Key message (``text`` when the keysym is unknown)."""
    if 0 < keysym <= MAX_KEYSYM:
        return keysym
    fallback = keysym_for_text(text)
    return fallback or None


def windows_key(keysym: int, scancode: int = 0, text: str = "") -> WindowsKey | None:
    """How Windows should inject a Key message, or None if it names nothing we can type."""
    if keysym in JIS_SCANCODE_KEYSYMS.get(scancode, ()):
        return WindowsKey(JIS_SCANCODE_VK[scancode], scancode=scancode)
    named = _NAMED.get(keysym)
    if named is not None:
        return WindowsKey(named[0], scancode=named[1])
    if 0x61 <= keysym <= 0x7A:  # a-z: the letter key, whatever the layout
        return WindowsKey(keysym - 0x20)
    if 0x41 <= keysym <= 0x5A or 0x30 <= keysym <= 0x39:  # A-Z, 0-9
        return WindowsKey(keysym)
    char = char_for_keysym(keysym) or (text if len(text) == 1 else None)
    if char is not None:
        return WindowsKey(None, char=char)  # the host's layout decides which key types it
    return None


# Keys that act on the office PC itself or its display server rather than on applications, which
# no remote viewer may press (a hostile or modified viewer can send any keysym):
# - XF86 vendor keysyms: power off, sleep, suspend, hibernate, log off, switch VT, RF kill,
#   display and grab controls of the X server (none types text or drives an application);
XF86_KEYSYMS = range(0x10080000, 0x10090000)
# - the X server's own: Terminate_Server, and the accessibility toggles (AccessX_Enable,
#   StickyKeys_Enable, MouseKeys_Enable, ...) and Pointer_* keys that change the keyboard and
#   mouse under the local user; Sys_Req (Alt+SysRq is the kernel's magic key);
TERMINATE_SERVER = 0xFED5
ACCESSX_KEYSYMS = range(0xFE70, 0xFE7B)
POINTER_KEYSYMS = range(0xFEE0, 0xFF00)
SYS_REQ = 0xFF15
# - keys whose XKB action with Ctrl+Alt is the same: Ctrl+Alt+F1..F12 switch virtual terminal,
#   Ctrl+Alt+BackSpace ends the X server where that option is on.
F1, F12, BACKSPACE = 0xFFBE, 0xFFC9, 0xFF08


def acts_on_the_machine(held: set[int], keysym: int) -> bool:
    """True for a key that must not be injected: pressing ``keysym`` now, with ``held`` keys
    down, would act on the office PC or its display server (power, VT, ending the session's X
    server, accessibility toggles) rather than on its applications."""
    if (
        keysym in XF86_KEYSYMS
        or keysym in ACCESSX_KEYSYMS
        or keysym in POINTER_KEYSYMS
        or keysym in (TERMINATE_SERVER, SYS_REQ)
    ):
        return True
    ctrl_alt = bool(held & {CTRL_L, CTRL_R}) and bool(held & {ALT_L, ALT_R})
    return ctrl_alt and (F1 <= keysym <= F12 or keysym == BACKSPACE)


def is_ctrl_alt_del(held: set[int], keysym: int) -> bool:
    """True when pressing ``keysym`` now, with ``held`` keys down, would make Ctrl+Alt+Del."""
    ctrl = bool(held & {CTRL_L, CTRL_R})
    alt = bool(held & {ALT_L, ALT_R})
    return keysym in (DELETE, 0xFF9F) and ctrl and alt  # Delete or KP_Delete
