"""Read a recording of a scanner made with ``evtest`` (its text output) or ``evemu-record`` and decode it.

A user whose scanner misbehaves records it (``sudo evtest /dev/input/eventN > scan.txt`` or
``sudo evemu-record /dev/input/eventN > scan.evemu``) and replays it with ``shopkeeper scanner listen --replay``:
the events go through the same ``ScanDecoder`` as a live device, timestamps included, so a pause in the recording
drops a scan just as it did live.

evtest lines, as its ``print_events`` writes them (``MSC_SCAN`` and ``MSC_RAW`` values in hexadecimal, ``%02x``;
every other value in decimal; ``SYN_DROPPED`` between ``>`` and ``<``, ``SYN_MT_REPORT`` between ``+``)::

    Input device name: "Honeywell 1900"
    Event: time 1700000000.123456, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001e
    Event: time 1700000000.123456, type 1 (EV_KEY), code 30 (KEY_A), value 1
    Event: time 1700000000.123456, -------------- SYN_REPORT ------------
    Event: time 1700000000.123456, >>>>>>>>>>>>>> SYN_DROPPED <<<<<<<<<<<<

evemu-record lines (``E: %lu.%06u %04x %04x %04d``: type and code in hex, value in decimal)::

    N: Honeywell 1900
    E: 0.000001 0001 001e 0001	# EV_KEY / KEY_A                1

python-evdev's ``python -m evdev.evtest`` (every value in decimal; ``SYN_DROPPED`` between ``!``)::

    time 1700000000.123456 type 1 (EV_KEY), code 30   (KEY_A), value 1
    time 1700000000.123456 ------------- SYN_REPORT -------------

A recording pasted from a forum post or a markdown file keeps its leading indentation (spaces, tabs), one quoted
in a reply its ``>`` marks; it is read the same. A file that is neither says why (empty, binary events, other text) instead of "no events".
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from shopkeeper.errors import InvalidInput
from shopkeeper.scanner.decoder import DropCallback, Event, ScanDecoder
from shopkeeper.scanner.events import ScanEvent, SourceStatus
from shopkeeper.scanner.keymaps import EV_MSC, EV_SYN
from shopkeeper.scanner.settings import ScannerSettings


class RecordingError(InvalidInput):
    """A recording file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Recording:
    format: Literal["evtest", "evemu", "python-evdev"]
    name: str | None
    # The device name recorded in the header, when present.
    events: list[Event] = field(default_factory=list)


MSC_RAW, MSC_SCAN = 3, 4
_HEX_VALUES = frozenset({(EV_MSC, MSC_RAW), (EV_MSC, MSC_SCAN)})  # evtest prints these with %02x
_SYN_CODES = {"SYN_REPORT": 0, "SYN_CONFIG": 1, "SYN_MT_REPORT": 2, "SYN_DROPPED": 3}

_EVTEST_EVENT = re.compile(
    r"^Event: time (?P<ts>\d+\.\d+), type (?P<type>\d+) \([^)]*\), code (?P<code>\d+) \([^)]*\), "
    r"value (?P<value>-?[0-9a-fA-F]+)\s*$")
_EVTEST_SYN = re.compile(r"^Event: time (?P<ts>\d+\.\d+), (?:-+|\++|>+) (?P<what>SYN_[A-Z_]+|\?) (?:-+|\++|<+)\s*$")
_EVTEST_NAME = re.compile(r'^Input device name: "(?P<name>.*)"\s*$')
_PYEVDEV_EVENT = re.compile(
    r"^time (?P<ts>\d+(?:\.\d+)?)\s+type (?P<type>\d+) \([^)]*\), code (?P<code>\d+)\s*\([^)]*\), "
    r"value (?P<value>-?\d+)\s*$")
_PYEVDEV_SYN = re.compile(r"^time (?P<ts>\d+(?:\.\d+)?)\s+(?:-+|\++|!+) (?P<what>SYN_[A-Z_]+|\?) (?:-+|\++|!+)\s*$")
_EVEMU_EVENT = re.compile(
    r"^E: (?P<ts>\d+\.\d+) (?P<type>[0-9a-fA-F]{4}) (?P<code>[0-9a-fA-F]{4}) (?P<value>-?\d+)(\s.*)?$")


def _where(source: str, lineno: int) -> str:
    return f"{source}:{lineno}"


def _lines(lines: Iterable[str]) -> Iterable[tuple[int, str]]:
    """Numbered lines without their line end and without leading indentation or quote marks (a pasted or quoted
    recording keeps them; no line of a recording starts with ``>``)."""
    for lineno, line in enumerate(lines, 1):
        yield lineno, line.rstrip("\r\n").lstrip(" \t>")


def _evtest_value(etype: int, code: int, value: str, where: str, line: str) -> int:
    if (etype, code) in _HEX_VALUES:
        number = int(value, 16)
        return number - (1 << 32) if number >= 1 << 31 else number  # %02x of a negative int prints 32 bits
    try:
        return int(value)
    except ValueError:
        raise RecordingError(f"{where}: value {value!r} is not a decimal number (evtest writes only MSC_SCAN and "
                             f"MSC_RAW values in hex): {line!r}") from None


def parse_evtest(lines: Iterable[str], source: str = "recording") -> Recording:
    """Events from evtest's text output. Header lines and evtest's own messages are skipped."""
    name = None
    events: list[Event] = []
    for lineno, line in _lines(lines):
        if line.startswith("Event: time"):
            m = _EVTEST_EVENT.match(line)
            if m:
                etype, code = int(m["type"]), int(m["code"])
                value = _evtest_value(etype, code, m["value"], _where(source, lineno), line.strip())
                events.append((etype, code, value, float(m["ts"])))
                continue
            m = _EVTEST_SYN.match(line)
            if m and m["what"] in _SYN_CODES:
                events.append((EV_SYN, _SYN_CODES[m["what"]], 0, float(m["ts"])))
                continue
            raise RecordingError(f"{_where(source, lineno)}: cannot read this evtest event line: {line.strip()!r}")
        m = _EVTEST_NAME.match(line)
        if m and name is None:
            name = m["name"]
    return Recording("evtest", name, events)


def parse_python_evdev(lines: Iterable[str], source: str = "recording") -> Recording:
    """Events from python-evdev's ``python -m evdev.evtest``. Its device listing and prompts are skipped."""
    events: list[Event] = []
    for lineno, line in _lines(lines):
        if not _PYEVDEV_START.match(line):
            continue
        m = _PYEVDEV_EVENT.match(line)
        if m:
            events.append((int(m["type"]), int(m["code"]), int(m["value"]), float(m["ts"])))
            continue
        m = _PYEVDEV_SYN.match(line)
        if m and m["what"] in _SYN_CODES:
            events.append((EV_SYN, _SYN_CODES[m["what"]], 0, float(m["ts"])))
            continue
        raise RecordingError(f"{_where(source, lineno)}: cannot read this python-evdev event line: {line.strip()!r}")
    return Recording("python-evdev", None, events)


_PYEVDEV_START = re.compile(r"^time \d")


def parse_evemu(lines: Iterable[str], source: str = "recording") -> Recording:
    """Events from an ``evemu-record`` file. Header lines (``N: I: P: B: A: L:``) and comments are skipped."""
    name = None
    events: list[Event] = []
    for lineno, line in _lines(lines):
        if line.startswith("E:"):
            m = _EVEMU_EVENT.match(line)
            if not m:
                raise RecordingError(f"{_where(source, lineno)}: cannot read this evemu event line: "
                                     f"{line.strip()!r} (expected 'E: SECONDS.MICROSECONDS TYPE CODE VALUE', type "
                                     f"and code as 4 hex digits, the value in decimal)")
            events.append((int(m["type"], 16), int(m["code"], 16), int(m["value"]), float(m["ts"])))
        elif line.startswith("N: ") and name is None:
            name = line[3:].strip()
    return Recording("evemu", name, events)


_HOW_TO_RECORD = ("record the scanner with `sudo evtest /dev/input/eventN > scan.txt` (lines 'Event: time …') or "
                  "`sudo evemu-record /dev/input/eventN > scan.evemu` (lines 'E: …'), scan, then press Ctrl+C")


def _not_a_recording(text: str, source: str) -> RecordingError:
    """Why ``text`` is neither recording, in words a shopkeeper can act on."""
    if "\x00" in text or "\ufffd" in text:
        return RecordingError(f"{source}: this is binary data (perhaps copied from /dev/input/eventN), not a text "
                              f"recording; {_HOW_TO_RECORD}")
    lines = [line for _, line in _lines(text.splitlines()) if line.strip()]
    if not lines:
        return RecordingError(f"{source}: the file is empty; {_HOW_TO_RECORD}")
    if any(line.startswith(("Input driver version", "Input device name", "Testing ...")) for line in lines):
        return RecordingError(f"{source}: evtest's header is here but no event line ('Event: time …') follows: "
                              f"nothing was scanned while it recorded; {_HOW_TO_RECORD}")
    if any(line.startswith(("# EVEMU", "N: ")) for line in lines):
        return RecordingError(f"{source}: evemu-record's header is here but no event line ('E: …') follows: "
                              f"nothing was scanned while it recorded; {_HOW_TO_RECORD}")
    first = lines[0].strip()
    return RecordingError(f"{source}: not an evtest, evemu-record or python-evdev recording (it starts with "
                          f"{first[:60]!r}); {_HOW_TO_RECORD}")


def parse_recording(text: str, source: str = "recording") -> Recording:
    """Detect the format (evtest, evemu-record or python-evdev's evtest) and parse; ``RecordingError`` says why
    when it is none of them."""
    stripped = [line for _, line in _lines(text.splitlines())]
    if any(line.startswith("E: ") or line.startswith("# EVEMU") for line in stripped):
        rec = parse_evemu(stripped, source)
    elif any(line.startswith("Event: time") for line in stripped):
        rec = parse_evtest(stripped, source)
    elif any(_PYEVDEV_START.match(line) for line in stripped):
        rec = parse_python_evdev(stripped, source)
    else:
        raise _not_a_recording(text, source)
    if not rec.events:
        raise _not_a_recording(text, source)
    return rec


def read_recording(path: str | Path) -> Recording:
    """Parse the recording at ``path``; a missing or unreadable file is a ``RecordingError``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read the recording: {exc.strerror or exc}") from None
    return parse_recording(text, str(path))


def replay(path: str | Path, settings: ScannerSettings | None = None, *,
           on_drop: DropCallback | None = None) -> list[ScanEvent]:
    """Decode every scan in a recording file."""
    rec = read_recording(path)
    decoder = ScanDecoder(settings, source=_source_name(path, rec), on_drop=on_drop)
    scans = decoder.feed_all(rec.events)
    if rec.events:
        tail = decoder.expire(rec.events[-1][3] + decoder.settings.pause_ms / 1000 + 1)
        if tail is not None:
            scans.append(tail)
    return scans


def _source_name(path: str | Path, rec: Recording) -> str:
    return f"replay:{Path(path).name}" + (f" ({rec.name})" if rec.name else "")


class ReplaySource:
    """A scan source that plays a recording into a ``ScanHub`` once, in a thread.

    ``realtime=True`` keeps the recording's pacing (for demos); otherwise it goes as fast as it decodes.
    """

    def __init__(self, path: str | Path, settings: ScannerSettings | None = None, *, realtime: bool = False,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.path = Path(path)
        self.settings = settings or ScannerSettings()
        self.realtime = realtime
        self.name = f"replay:{self.path.name}"
        self._sleep = sleep
        self._thread = None
        self._stop = False

    def start(self, emit: Callable[[ScanEvent], None], status: Callable[[SourceStatus], None]) -> None:
        import threading

        self._stop = False
        self._thread = threading.Thread(target=self._run, args=(emit, status), name=self.name, daemon=True)
        self._thread.start()

    def _run(self, emit: Callable[[ScanEvent], None], status: Callable[[SourceStatus], None]) -> None:
        try:
            rec = read_recording(self.path)
        except RecordingError as exc:
            status(SourceStatus(self.name, "error", str(exc)))
            return
        status(SourceStatus(self.name, "connected", f"replaying {len(rec.events)} events from {self.path}"))
        decoder = ScanDecoder(self.settings, source=_source_name(self.path, rec))
        previous = None
        for etype, code, value, ts in rec.events:
            if self._stop:
                break
            if self.realtime and previous is not None and ts > previous:
                self._sleep(ts - previous)
            previous = ts
            scan = decoder.feed(etype, code, value, ts)
            if scan is not None:
                emit(scan)
        if previous is not None and not self._stop:
            tail = decoder.expire(previous + self.settings.pause_ms / 1000 + 1)
            if tail is not None:
                emit(tail)
        status(SourceStatus(self.name, "stopped", f"end of {self.path}"))

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def stop(self) -> None:
        self._stop = True
        self.join(5)
