"""Turn raw key events from a keyboard-emulating scanner into scans. Pure and synchronous: no I/O, no threads.

Fed ``(type, code, value, timestamp)`` tuples exactly as evdev reports them (``value`` 1 down, 0 up, 2 auto-repeat),
it tracks Shift/AltGr/Ctrl/CapsLock, types characters through the configured keyboard layout, and emits a
``ScanEvent`` when a terminator key (Enter, Tab) ends a scan.

* Key-up and auto-repeat never type anything: a scanner that holds a key long enough to repeat still sends one char.
* A gap longer than ``pause_ms`` between keys drops the unfinished scan (it was cut short) — judged on event
  timestamps, so a replay decodes exactly like the live device. ``expire(now)`` lets a reader drop it while idle.
* ``SYN_DROPPED`` (the kernel's buffer overflowed) discards the scan in progress and every event up to the next
  ``SYN_REPORT``, as the evdev protocol requires; modifier state is forgotten (or restored with ``set_held``).
* The GS1 group separator (ASCII 29) is kept. Scanners send it as Ctrl+] (the key right of P on a US keyboard,
  whatever the layout) or as Alt + keypad ``0 2 9``; both are understood, as are other Alt+keypad codes.
* After the terminator: the configured prefix and suffix are removed when present, then an AIM identifier
  (``]E0``…) when ``strip_aim``, and its symbology recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from shopkeeper.barcodes import split_aim, symbology_name
from shopkeeper.scanner.events import ScanEvent
from shopkeeper.scanner.keymaps import (
    ALT_KEYS,
    ALTGR_KEYS,
    CTRL_KEYS,
    ENTER_KEYS,
    EV_KEY,
    EV_SYN,
    KEY_BACKSPACE,
    KEY_CAPSLOCK,
    KEY_ESC,
    KEY_RIGHTBRACE,
    KEY_TAB,
    KEYPAD,
    SHIFT_KEYS,
    SYN_DROPPED,
    SYN_REPORT,
    get_keymap,
)
from shopkeeper.scanner.settings import ScannerSettings

Event = tuple[int, int, int, float]
"""(type, code, value, timestamp in seconds) — one evdev input event."""

DropCallback = Callable[[str, str], None]
"""Called with (the text typed so far, why it was dropped) when an unfinished scan is discarded."""

_GS = "\x1d"
_MODIFIERS = SHIFT_KEYS | CTRL_KEYS | ALTGR_KEYS | ALT_KEYS


def clean_code(text: str, settings: ScannerSettings) -> tuple[str, str | None]:
    """Remove the configured prefix and suffix (when present), then an AIM identifier (when ``strip_aim``).

    Returns the code and the AIM identifier removed (or None). Used by the evdev decoder.
    """
    if settings.prefix and text.startswith(settings.prefix):
        text = text[len(settings.prefix):]
    if settings.suffix and text.endswith(settings.suffix):
        text = text[: -len(settings.suffix)]
    aim = None
    if settings.strip_aim:
        aim, text = split_aim(text)
    return text, aim


class ScanDecoder:
    """Decoder state for one device. Not thread-safe: feed it from one thread."""

    def __init__(self, settings: ScannerSettings | None = None, *, source: str = "scanner",
                 on_drop: DropCallback | None = None) -> None:
        self.settings = settings = settings or ScannerSettings()
        self.source = source
        self.on_drop = on_drop
        self._keymap = get_keymap(settings.layout)
        terms: set[int] = set()
        if "enter" in settings.terminators:
            terms |= ENTER_KEYS
        if "tab" in settings.terminators:
            terms.add(KEY_TAB)
        self._terminators = frozenset(terms)
        self._pause = settings.pause_ms / 1000
        self.scans = 0
        self.dropped = 0
        self.overflows = 0
        self.reset()

    # -- state ----------------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything: the scan in progress, held keys, a pending dead key."""
        self._buf: list[str] = []
        self._held: set[int] = set()
        self._caps = False
        self._dead: str | None = None
        self._alt_digits = ""
        self._last: float | None = None
        self._syncing = False

    def set_held(self, codes: Iterable[int]) -> None:
        """Tell the decoder which keys are down now (after SYN_DROPPED, from the device's key state)."""
        self._held = set(codes)

    @property
    def pending(self) -> str:
        """The text of the scan in progress (for diagnostics)."""
        return "".join(self._buf)

    def _drop(self, why: str) -> None:
        text = "".join(self._buf)
        if self._dead:
            text += self._dead
        self._buf = []
        self._dead = None
        self._alt_digits = ""
        if text:
            self.dropped += 1
            if self.on_drop is not None:
                self.on_drop(text, why)

    # -- feeding --------------------------------------------------------------------------------------------

    def feed_all(self, events: Iterable[Event]) -> list[ScanEvent]:
        """Feed many events; the scans they complete, in order."""
        out = []
        feed = self.feed
        for etype, code, value, ts in events:
            scan = feed(etype, code, value, ts)
            if scan is not None:
                out.append(scan)
        return out

    def expire(self, now: float) -> ScanEvent | None:
        """Call when no event came for a while: drops (or, with ``emit_on_pause``, emits) a stale unfinished scan.

        ``now`` must be on the same clock as the event timestamps.
        """
        if (self._buf or self._dead) and self._last is not None and now - self._last > self._pause:
            return self._paused(self._last)
        return None

    def _paused(self, ts: float) -> ScanEvent | None:
        if self.settings.emit_on_pause:
            return self._finish(ts)
        self._drop(f"no key for more than {self.settings.pause_ms} ms")
        return None

    def feed(self, etype: int, code: int, value: int, ts: float) -> ScanEvent | None:
        """Feed one event; the scan it completes, if any."""
        if etype == EV_SYN:
            if code == SYN_DROPPED:
                self.overflows += 1
                self._drop("events lost (SYN_DROPPED)")
                self._held.clear()
                self._syncing = True
            elif code == SYN_REPORT:
                self._syncing = False
            return None
        if etype != EV_KEY or self._syncing:
            return None  # EV_MSC scancodes, EV_LED, … and everything until the report after an overflow
        if value == 0:
            self._held.discard(code)
            if code in ALT_KEYS and self._alt_digits:
                self._type(chr(int(self._alt_digits) % 256))
                self._alt_digits = ""
            return None
        if value != 1:
            return None  # auto-repeat
        self._held.add(code)

        emitted = None
        last, self._last = self._last, ts
        if last is not None and (self._buf or self._dead) and ts - last > self._pause:
            emitted = self._paused(last)

        if code in _MODIFIERS:
            return emitted
        if code in self._terminators:
            return self._finish(ts) or emitted
        if code == KEY_CAPSLOCK:
            self._caps = not self._caps
            return emitted
        held = self._held
        if held & ALT_KEYS:
            if code in KEYPAD and KEYPAD[code].isdigit():
                self._alt_digits += KEYPAD[code]
            return emitted
        if held & CTRL_KEYS:
            if code == KEY_RIGHTBRACE:
                self._type(_GS)
            return emitted
        if code == KEY_BACKSPACE:
            if self._buf:
                self._buf.pop()
            return emitted
        if code == KEY_ESC:
            self._drop("Escape")
            return emitted
        key = self._keymap.lookup(code, shift=bool(held & SHIFT_KEYS), altgr=bool(held & ALTGR_KEYS),
                                  caps=self._caps)
        if key.char is None:
            return emitted
        if key.dead:
            if self._dead:
                self._buf.append(self._dead)
            self._dead = key.char
            return emitted
        self._type(key.char)
        return emitted

    def _type(self, ch: str) -> None:
        if self._dead is not None:
            dead, self._dead = self._dead, None
            if ch == " ":
                ch = dead  # accent then space types the accent itself
            else:
                self._buf.append(dead)
        self._buf.append(ch)

    def _finish(self, ts: float) -> ScanEvent | None:
        if self._dead is not None:
            self._buf.append(self._dead)
            self._dead = None
        text = "".join(self._buf)
        self._buf = []
        self._alt_digits = ""
        if not text:
            return None
        text, aim = clean_code(text, self.settings)
        if not text:
            return None
        self.scans += 1
        return ScanEvent(code=text, symbology=symbology_name(aim), source=self.source, time=ts, aim=aim)
