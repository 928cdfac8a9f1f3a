"""Keyboard layouts: evdev key codes → characters, as a keyboard-emulating scanner types them.

A scanner configured for a German keyboard sends KEY_Y for "z"; one set to French sends Shift+KEY_1 for "1". The
decoder must use the same layout as the scanner. Layouts: ``us``, ``uk``, ``de``, ``fr``.

Key code numbers are the kernel's (linux/input-event-codes.h). They are spelled out here so this module, the
decoder and their tests run without the evdev C extension; ``tests/scanner/test_keymaps.py`` checks them against
``evdev.ecodes`` when it is installed.

Dead keys (DE ``^ ´ ```, FR ``^ ¨`` and AltGr ``~ ```) are returned as ``Key(dead=True)``: the decoder prints the
accent itself when a space follows (what scanners send for a literal accent) and accent + key otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

# Event types and codes (linux/input-event-codes.h).
EV_SYN, EV_KEY, EV_MSC, EV_LED = 0, 1, 4, 17
SYN_REPORT, SYN_DROPPED = 0, 3

KEY_ESC, KEY_BACKSPACE, KEY_TAB, KEY_ENTER = 1, 14, 15, 28
KEY_1, KEY_2, KEY_3, KEY_4, KEY_5, KEY_6, KEY_7, KEY_8, KEY_9, KEY_0 = range(2, 12)
KEY_MINUS, KEY_EQUAL = 12, 13
KEY_Q, KEY_W, KEY_E, KEY_R, KEY_T, KEY_Y, KEY_U, KEY_I, KEY_O, KEY_P = range(16, 26)
KEY_LEFTBRACE, KEY_RIGHTBRACE = 26, 27
KEY_LEFTCTRL = 29
KEY_A, KEY_S, KEY_D, KEY_F, KEY_G, KEY_H, KEY_J, KEY_K, KEY_L = range(30, 39)
KEY_SEMICOLON, KEY_APOSTROPHE, KEY_GRAVE, KEY_LEFTSHIFT, KEY_BACKSLASH = 39, 40, 41, 42, 43
KEY_Z, KEY_X, KEY_C, KEY_V, KEY_B, KEY_N, KEY_M = range(44, 51)
KEY_COMMA, KEY_DOT, KEY_SLASH, KEY_RIGHTSHIFT, KEY_KPASTERISK, KEY_LEFTALT, KEY_SPACE, KEY_CAPSLOCK = range(51, 59)
KEY_NUMLOCK = 69
KEY_KP7, KEY_KP8, KEY_KP9, KEY_KPMINUS, KEY_KP4, KEY_KP5, KEY_KP6, KEY_KPPLUS = range(71, 79)
KEY_KP1, KEY_KP2, KEY_KP3, KEY_KP0, KEY_KPDOT = range(79, 84)
KEY_102ND = 86
KEY_KPENTER, KEY_RIGHTCTRL, KEY_KPSLASH = 96, 97, 98
KEY_RIGHTALT = 100
KEY_LEFTMETA, KEY_RIGHTMETA = 125, 126

SHIFT_KEYS = frozenset({KEY_LEFTSHIFT, KEY_RIGHTSHIFT})
CTRL_KEYS = frozenset({KEY_LEFTCTRL, KEY_RIGHTCTRL})
ALTGR_KEYS = frozenset({KEY_RIGHTALT})
ALT_KEYS = frozenset({KEY_LEFTALT})
ENTER_KEYS = frozenset({KEY_ENTER, KEY_KPENTER})

KEYPAD = {
    KEY_KP0: "0", KEY_KP1: "1", KEY_KP2: "2", KEY_KP3: "3", KEY_KP4: "4", KEY_KP5: "5", KEY_KP6: "6",
    KEY_KP7: "7", KEY_KP8: "8", KEY_KP9: "9", KEY_KPDOT: ".", KEY_KPSLASH: "/", KEY_KPASTERISK: "*",
    KEY_KPMINUS: "-", KEY_KPPLUS: "+",
}
"""Keypad keys type the same in every layout (NumLock on), and scanners in "keypad mode" use them for digits."""

# Physical rows, in the order their characters are written in the layout strings below.
_NUMBER_ROW = [KEY_GRAVE, KEY_1, KEY_2, KEY_3, KEY_4, KEY_5, KEY_6, KEY_7, KEY_8, KEY_9, KEY_0, KEY_MINUS, KEY_EQUAL]
_TOP_ROW = [KEY_Q, KEY_W, KEY_E, KEY_R, KEY_T, KEY_Y, KEY_U, KEY_I, KEY_O, KEY_P, KEY_LEFTBRACE, KEY_RIGHTBRACE]
_HOME_ROW = [KEY_A, KEY_S, KEY_D, KEY_F, KEY_G, KEY_H, KEY_J, KEY_K, KEY_L, KEY_SEMICOLON, KEY_APOSTROPHE,
             KEY_BACKSLASH]
_BOTTOM_ROW = [KEY_102ND, KEY_Z, KEY_X, KEY_C, KEY_V, KEY_B, KEY_N, KEY_M, KEY_COMMA, KEY_DOT, KEY_SLASH]
_ROWS = (_NUMBER_ROW, _TOP_ROW, _HOME_ROW, _BOTTOM_ROW)


@dataclass(frozen=True)
class Key:
    """What one key press types: ``char`` (None when the key types nothing at this level) and whether it is dead."""

    char: str | None
    dead: bool = False


_NONE = Key(None)
_ABSENT = "\0"  # in the layout strings: this key types nothing at this level


@dataclass(frozen=True)
class Keymap:
    name: str
    plain: dict[int, str]
    shifted: dict[int, str]
    altgr: dict[int, str]
    dead: frozenset[tuple[int, int]]
    # (key code, level) pairs that are dead keys; level 0 plain, 1 shift, 2 AltGr.

    def lookup(self, code: int, *, shift: bool = False, altgr: bool = False, caps: bool = False) -> Key:
        """The character ``code`` types with the given modifiers."""
        if code in KEYPAD:
            return Key(KEYPAD[code])
        if code == KEY_SPACE:
            return Key(" ")
        if altgr:
            ch = self.altgr.get(code)
            return Key(ch, (code, 2) in self.dead) if ch else _NONE
        plain = self.plain.get(code)
        if plain is None:
            return _NONE
        upper = self.shifted.get(code)
        if caps and plain.isalpha() and upper == plain.upper():
            shift = not shift  # CapsLock only flips letters
        ch = upper if shift else plain
        if not ch:
            return _NONE
        return Key(ch, (code, 1 if shift else 0) in self.dead)


def _build(name: str, rows: tuple[tuple[str, str], ...], altgr: dict[int, str], dead: set[tuple[int, int]]) -> Keymap:
    plain: dict[int, str] = {}
    shifted: dict[int, str] = {}
    for codes, (low, high) in zip(_ROWS, rows, strict=True):
        if len(low) != len(codes) or len(high) != len(codes):  # pragma: no cover - a typo in a table below
            raise AssertionError(f"{name}: row of {len(codes)} keys has {len(low)}/{len(high)} characters")
        for code, lo, hi in zip(codes, low, high, strict=True):
            if lo != _ABSENT:
                plain[code] = lo
            if hi != _ABSENT:
                shifted[code] = hi
    return Keymap(name, plain, shifted, dict(altgr), frozenset(dead))


US = _build("us", (
    ("`1234567890-=", "~!@#$%^&*()_+"),
    ("qwertyuiop[]", "QWERTYUIOP{}"),
    ("asdfghjkl;'\\", 'ASDFGHJKL:"|'),
    ("\\zxcvbnm,./", "|ZXCVBNM<>?"),
), {}, set())

UK = _build("uk", (
    ("`1234567890-=", "¬!\"£$%^&*()_+"),
    ("qwertyuiop[]", "QWERTYUIOP{}"),
    ("asdfghjkl;'#", "ASDFGHJKL:@~"),
    ("\\zxcvbnm,./", "|ZXCVBNM<>?"),
), {KEY_4: "€", KEY_GRAVE: "¦", KEY_E: "é", KEY_A: "á", KEY_U: "ú", KEY_I: "í", KEY_O: "ó"}, set())

DE = _build("de", (
    ("^1234567890ß´", "°!\"§$%&/()=?`"),
    ("qwertzuiopü+", "QWERTZUIOPÜ*"),
    ("asdfghjklöä#", "ASDFGHJKLÖÄ'"),
    ("<yxcvbnm,.-", ">YXCVBNM;:_"),
), {KEY_2: "²", KEY_3: "³", KEY_7: "{", KEY_8: "[", KEY_9: "]", KEY_0: "}", KEY_MINUS: "\\", KEY_Q: "@",
    KEY_E: "€", KEY_RIGHTBRACE: "~", KEY_102ND: "|", KEY_M: "µ"},
    {(KEY_GRAVE, 0), (KEY_EQUAL, 0), (KEY_EQUAL, 1)})

FR = _build("fr", (
    ("²&é\"'(-è_çà)=", "\0" "1234567890°+"),
    ("azertyuiop^$", "AZERTYUIOP¨£"),
    ("qsdfghjklmù*", "QSDFGHJKLM%µ"),
    ("<wxcvbn,;:!", ">WXCVBN?./§"),
), {KEY_2: "~", KEY_3: "#", KEY_4: "{", KEY_5: "[", KEY_6: "|", KEY_7: "`", KEY_8: "\\", KEY_9: "^", KEY_0: "@",
    KEY_MINUS: "]", KEY_EQUAL: "}", KEY_E: "€", KEY_RIGHTBRACE: "¤"},
    {(KEY_LEFTBRACE, 0), (KEY_LEFTBRACE, 1), (KEY_2, 2), (KEY_7, 2)})

LAYOUTS: dict[str, Keymap] = {"us": US, "uk": UK, "gb": UK, "de": DE, "fr": FR}


def get_keymap(name: str) -> Keymap:
    """The keymap called ``name`` (case-insensitive); ``ValueError`` listing the known ones otherwise."""
    try:
        return LAYOUTS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown keyboard layout {name!r} (known: us, uk, de, fr)") from None


def keys_for(text: str, keymap: Keymap) -> list[tuple[int, bool, bool]]:
    """The (key code, shift, altgr) presses that type ``text`` in ``keymap`` — for tests, replays and benchmarks.

    Raises ``ValueError`` for a character the layout cannot type without a dead key.
    """
    reverse: dict[str, tuple[int, bool, bool]] = {" ": (KEY_SPACE, False, False)}
    for code, ch in keymap.altgr.items():
        if (code, 2) not in keymap.dead:
            reverse.setdefault(ch, (code, False, True))
    for code, ch in keymap.shifted.items():
        if (code, 1) not in keymap.dead:
            reverse.setdefault(ch, (code, True, False))
    for code, ch in keymap.plain.items():
        if (code, 0) not in keymap.dead:
            reverse[ch] = (code, False, False)  # plain wins over other levels typing the same character
    out = []
    for ch in text:
        if ch not in reverse:
            raise ValueError(f"layout {keymap.name} cannot type {ch!r}")
        out.append(reverse[ch])
    return out
