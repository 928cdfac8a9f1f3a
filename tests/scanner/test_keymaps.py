"""Keymaps: the hard-coded key numbers match the kernel's, and every layout types what it should."""

from __future__ import annotations

import pytest

from shopkeeper.scanner import keymaps
from shopkeeper.scanner.keymaps import KEY_2, KEY_Q, KEY_Y, KEY_Z, get_keymap, keys_for


def test_key_numbers_match_evdev_ecodes():
    ecodes = pytest.importorskip("evdev.ecodes")
    for name, value in vars(keymaps).items():
        if name.startswith(("KEY_", "EV_", "SYN_")) and isinstance(value, int):
            assert getattr(ecodes, name) == value, name


@pytest.mark.parametrize("layout", ["us", "uk", "de", "fr"])
def test_every_printable_ascii_the_layout_has_round_trips(layout):
    km = get_keymap(layout)
    for ch in map(chr, range(32, 127)):
        try:
            presses = keys_for(ch, km)
        except ValueError:
            continue  # only reachable through a dead key in this layout
        (code, shift, altgr), = presses
        assert km.lookup(code, shift=shift, altgr=altgr).char == ch


@pytest.mark.parametrize("layout", ["us", "uk", "de", "fr"])
def test_layout_types_all_alphanumerics(layout):
    km = get_keymap(layout)
    keys_for("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", km)


def test_layout_differences():
    assert get_keymap("de").lookup(KEY_Y).char == "z"
    assert get_keymap("de").lookup(KEY_Z).char == "y"
    assert get_keymap("fr").lookup(KEY_Q).char == "a"
    assert get_keymap("uk").lookup(KEY_2, shift=True).char == '"'
    assert get_keymap("us").lookup(KEY_2, shift=True).char == "@"
    assert get_keymap("de").lookup(KEY_Q, altgr=True).char == "@"
    assert get_keymap("fr").lookup(KEY_2).char == "é"


def test_unknown_layout():
    with pytest.raises(ValueError, match="us, uk, de, fr"):
        get_keymap("dvorak")


def test_works_without_the_evdev_extension():
    import subprocess
    import sys

    code = ("import sys; sys.modules['evdev'] = None; "
            "from shopkeeper.scanner.decoder import ScanDecoder; from shopkeeper.scanner import replay, source; "
            "print(ScanDecoder().feed_all([(1, 2, 1, 0.0), (1, 28, 1, 0.001)])[0].code)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "1", out.stderr
