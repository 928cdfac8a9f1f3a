"""The two things a scan source reports: a decoded scan, and a change of its own state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class ScanEvent:
    """One decoded scan, whichever source it came from."""

    code: str
    # The scanned text, prefix/suffix/AIM identifier removed; a GS1 group separator (\x1d) is kept.
    symbology: str | None
    # "EAN-13", "GS1-128", "Code 128"… when the scanner sent an AIM identifier; None otherwise.
    source: str
    # Device name (or "replay:FILE", "terminal").
    time: float
    # Seconds: the event timestamp of the terminator key (evdev wall clock), or time.monotonic() for the wedge.
    aim: str | None = None
    # The raw AIM identifier ("]E0") when one was stripped.


StatusState = Literal["waiting", "connected", "disconnected", "busy", "denied", "stopped", "error"]


@dataclass(frozen=True)
class SourceStatus:
    """A scan source changed state; ``message`` is a sentence a person can act on."""

    source: str
    state: StatusState
    message: str
