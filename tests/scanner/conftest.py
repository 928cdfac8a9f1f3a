"""Event builders for scanner tests: type text as a scanner would, in any layout."""

from __future__ import annotations

import pytest

from shopkeeper.scanner.keymaps import (
    EV_KEY,
    EV_MSC,
    EV_SYN,
    KEY_ENTER,
    KEY_LEFTSHIFT,
    KEY_RIGHTALT,
    SYN_REPORT,
    get_keymap,
    keys_for,
)

STEP = 0.001  # a scanner sends a key event about every millisecond


class Typist:
    """Builds (type, code, value, time) events; keeps its own clock."""

    def __init__(self, layout: str = "us", t: float = 1_700_000_000.0) -> None:
        self.keymap = get_keymap(layout)
        self.t = t

    def _ev(self, etype, code, value):
        ev = (etype, code, value, self.t)
        self.t += STEP
        return ev

    def key(self, code, *, hold_repeats: int = 0, scancode: bool = True) -> list:
        out = []
        if scancode:
            out.append(self._ev(EV_MSC, 4, 458752 + code))
        out += [self._ev(EV_KEY, code, 1), self._ev(EV_SYN, SYN_REPORT, 0)]
        for _ in range(hold_repeats):
            out += [self._ev(EV_KEY, code, 2), self._ev(EV_SYN, SYN_REPORT, 0)]
        out += [self._ev(EV_KEY, code, 0), self._ev(EV_SYN, SYN_REPORT, 0)]
        return out

    def text(self, text: str, *, hold_repeats: int = 0) -> list:
        out = []
        for code, shift, altgr in keys_for(text, self.keymap):
            if shift:
                out += [self._ev(EV_KEY, KEY_LEFTSHIFT, 1), self._ev(EV_SYN, SYN_REPORT, 0)]
            if altgr:
                out += [self._ev(EV_KEY, KEY_RIGHTALT, 1), self._ev(EV_SYN, SYN_REPORT, 0)]
            out += self.key(code, hold_repeats=hold_repeats)
            if altgr:
                out += [self._ev(EV_KEY, KEY_RIGHTALT, 0), self._ev(EV_SYN, SYN_REPORT, 0)]
            if shift:
                out += [self._ev(EV_KEY, KEY_LEFTSHIFT, 0), self._ev(EV_SYN, SYN_REPORT, 0)]
        return out

    def scan(self, text: str, terminator: int = KEY_ENTER, **kw) -> list:
        return self.text(text, **kw) + self.key(terminator)

    def wait(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def typist():
    return Typist()


@pytest.fixture
def make_typist():
    """The Typist class, for a layout other than US: ``make_typist("de")``."""
    return Typist
