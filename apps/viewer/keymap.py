"""Qt key events to the session's ``Key`` messages: X11 keysyms, modifier bits, text.

Qt-free on purpose: the Qt key and modifier values below are Qt's documented, stable numbers,
so this table can be tested without a display (a unit test checks them against PySide6).

What a key sends (docs/contracts.md): the **X11 keysym** of the key, the viewer's native scan
code, the held :class:`Modifier` bits and the printable text. Letters go as their lower-case
keysym with Shift in the modifiers (as an X keyboard reports them); other printable keys go as
the character Qt reports (``@``, ``¥``, ``_``…), which is already the layout's symbol, so a JIS
keyboard's ¥ and ろ keys arrive as ``yen`` and ``backslash``/``underscore``. The Japanese IME
keys go as their own keysyms so the office PC's IME does the Japanese input.

PrintScreen is swallowed (``None``): the viewer never lets it reach anything.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from core.protocol.session import MAX_KEY_TEXT_BYTES, Key, Modifier

# Only on Windows is Qt's nativeScanCode the PC set-1 scancode the protocol carries (on X11 it
# is an X keycode, on macOS 0 or a Mac key code); elsewhere the viewer sends 0.
SCANCODES_ARE_SET1 = sys.platform == "win32"

# --- Qt::KeyboardModifier bits -------------------------------------------------------------
QT_SHIFT = 0x02000000
QT_CONTROL = 0x04000000
QT_ALT = 0x08000000
QT_META = 0x10000000
QT_KEYPAD = 0x20000000

# --- Qt::Key values and the X11 keysyms they map to -----------------------------------------
QT_KEY_PRINT = 0x01000009
QT_KEY_SYSREQ = 0x0100000A
QT_KEY_ENTER = 0x01000005
QT_KEY_F1 = 0x01000030
QT_KEY_F35 = 0x01000052
XK_F1 = 0xFFBE
XK_KP_0 = 0xFFB0
XK_KP_ENTER = 0xFF8D
# Qt numbers the Japanese IME keys 0x01001121..0x01001130 in the same order as X11's
# 0xFF21..0xFF30 (Kanji, Muhenkan, Henkan, Romaji, Hiragana, Katakana, Hiragana_Katakana,
# Zenkaku, Hankaku, Zenkaku_Hankaku, Touroku, Massyo, Kana_Lock, Kana_Shift, Eisu_Shift,
# Eisu_toggle).
QT_JAPANESE_FIRST, QT_JAPANESE_LAST = 0x01001121, 0x01001130
XK_JAPANESE_FIRST = 0xFF21

SPECIAL_KEYSYMS: dict[int, int] = {
    0x01000000: 0xFF1B,  # Escape
    0x01000001: 0xFF09,  # Tab
    0x01000002: 0xFE20,  # Backtab -> ISO_Left_Tab
    0x01000003: 0xFF08,  # Backspace
    0x01000004: 0xFF0D,  # Return
    QT_KEY_ENTER: XK_KP_ENTER,  # Enter (keypad)
    0x01000006: 0xFF63,  # Insert
    0x01000007: 0xFFFF,  # Delete
    0x01000008: 0xFF13,  # Pause
    0x0100000B: 0xFF0B,  # Clear
    0x01000010: 0xFF50,  # Home
    0x01000011: 0xFF57,  # End
    0x01000012: 0xFF51,  # Left
    0x01000013: 0xFF52,  # Up
    0x01000014: 0xFF53,  # Right
    0x01000015: 0xFF54,  # Down
    0x01000016: 0xFF55,  # PageUp
    0x01000017: 0xFF56,  # PageDown
    0x01000020: 0xFFE1,  # Shift -> Shift_L
    0x01000021: 0xFFE3,  # Control -> Control_L
    0x01000022: 0xFFEB,  # Meta (the Windows key on Windows and X11) -> Super_L
    0x01000023: 0xFFE9,  # Alt -> Alt_L
    0x01000024: 0xFFE5,  # CapsLock
    0x01000025: 0xFF7F,  # NumLock
    0x01000026: 0xFF14,  # ScrollLock
    0x01000053: 0xFFEB,  # Super_L
    0x01000054: 0xFFEC,  # Super_R
    0x01000055: 0xFF67,  # Menu
    0x01001103: 0xFE03,  # AltGr -> ISO_Level3_Shift
    0x01001120: 0xFF7E,  # Mode_switch
}
SWALLOWED = frozenset({QT_KEY_PRINT, QT_KEY_SYSREQ})

_MODIFIER_BITS = (
    (QT_SHIFT, Modifier.SHIFT),
    (QT_CONTROL, Modifier.CONTROL),
    (QT_ALT, Modifier.ALT),
    (QT_META, Modifier.META),
)


COMMAND_MODIFIERS = Modifier.CONTROL | Modifier.ALT | Modifier.META


def modifier_bits(qt_modifiers: int) -> int:
    """Qt's keyboard-modifier flags as the session's :class:`Modifier` bits."""
    bits = 0
    for qt_bit, bit in _MODIFIER_BITS:
        if qt_modifiers & qt_bit:
            bits |= bit
    return bits


def keysym_for(qt_key: int, qt_modifiers: int = 0, text: str = "") -> int | None:
    """The X11 keysym for a Qt key, or None for keys that must never reach the office PC."""
    if qt_key in SWALLOWED:
        return None
    if QT_JAPANESE_FIRST <= qt_key <= QT_JAPANESE_LAST:
        return XK_JAPANESE_FIRST + (qt_key - QT_JAPANESE_FIRST)
    if QT_KEY_F1 <= qt_key <= QT_KEY_F35:
        return XK_F1 + (qt_key - QT_KEY_F1)
    if qt_key in SPECIAL_KEYSYMS:
        return SPECIAL_KEYSYMS[qt_key]
    if qt_modifiers & QT_KEYPAD and 0x30 <= qt_key <= 0x39:
        return XK_KP_0 + (qt_key - 0x30)
    if 0x41 <= qt_key <= 0x5A:  # Qt reports letters upper-case whatever Shift says
        return qt_key + 0x20
    if 0x20 <= qt_key <= 0xFF:  # Latin-1: the keysym is the code point
        return qt_key
    if 0x100 <= qt_key < 0x01000000:  # other characters: X11's Unicode keysym range
        return 0x01000000 | qt_key
    if len(text) == 1 and text.isprintable():  # a key Qt has no code for, but which types
        code = ord(text)
        return code if code <= 0xFF else 0x01000000 | code
    return None


def printable_text(text: str) -> str:
    """The text a key types, without control characters (Ctrl+C gives '\\x03': nothing)."""
    kept = "".join(ch for ch in text if ch.isprintable())
    while len(kept.encode("utf-8")) > MAX_KEY_TEXT_BYTES:
        kept = kept[:-1]
    return kept


@dataclass(frozen=True)
class KeyInput:
    """One Qt key event, as plain values."""

    key: int
    modifiers: int
    scancode: int
    text: str = ""
    down: bool = True
    autorepeat: bool = False


class KeyTracker:
    """Turns key events into ``Key`` messages and remembers what is held down.

    A release is sent with the keysym of its press (Shift released before ``2`` would otherwise
    turn ``@`` into ``2``); an auto-repeat sends only presses; losing focus releases everything,
    so no key stays stuck on the office PC.
    """

    def __init__(self, scancodes_are_set1: bool = SCANCODES_ARE_SET1) -> None:
        self._held: dict[tuple[int, int], Key] = {}  # (scancode, qt key) -> the press sent
        self._send_scancodes = scancodes_are_set1

    def event(self, event: KeyInput) -> Key | None:
        ident = (event.scancode, event.key if event.scancode == 0 else 0)
        if not event.down:
            if event.autorepeat:
                return None
            press = self._held.pop(ident, None)
            if press is None:
                return None  # its press was swallowed or happened before we had focus
            return Key(False, press.keysym, press.scancode, modifier_bits(event.modifiers), "")
        keysym = keysym_for(event.key, event.modifiers, event.text)
        if keysym is None:
            return None
        modifiers = modifier_bits(event.modifiers)
        # With Control, Alt or the Windows key held a key is a command, not typing.
        text = "" if modifiers & COMMAND_MODIFIERS else printable_text(event.text)
        # The native scancode tells a key's press from its release whatever the platform (the
        # ident above), but only a set-1 one goes to the office PC.
        scancode = event.scancode & 0xFFFFFFFF if self._send_scancodes else 0
        press = Key(True, keysym, scancode, modifiers, text)
        self._held[ident] = press
        return press

    def release_all(self) -> list[Key]:
        released = [Key(False, k.keysym, k.scancode, 0, "") for k in self._held.values()]
        self._held.clear()
        return released
