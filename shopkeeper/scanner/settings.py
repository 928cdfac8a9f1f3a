"""The ``[scanner]`` config section. A plain frozen dataclass: ``shopkeeper.config`` validates TOML into it.

Example::

    [scanner]
    device = "/dev/input/by-id/usb-Honeywell_Imaging_Barcode_Scanner-event-kbd"
    layout = "de"
    terminators = ["enter"]
    strip_aim = true
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TERMINATOR_CHOICES = ("enter", "tab")


@dataclass(frozen=True)
class ScannerSettings:
    """The ``[scanner]`` section."""

    device: str = ""
    # The evdev scanner: a path (/dev/input/by-id/usb-…-event-kbd, or the symlink made by the udev rule in contrib/),
    # a device name as `shopkeeper scanner list` shows it, or "vendor:product" in hex (e.g. "0c2e:0b61").
    # Empty: no evdev scanner; scans come from the terminal (a scanner typing into the terminal works everywhere).
    layout: Literal["us", "uk", "de", "fr"] = "us"
    # The keyboard layout the scanner is configured for (it must match, or "z" arrives as "y").
    terminators: tuple[str, ...] = ("enter",)
    # Keys that end a scan: "enter" (also keypad Enter) and/or "tab".
    prefix: str = ""
    # Characters the scanner is programmed to send before each code; removed when present.
    suffix: str = ""
    # Characters the scanner sends after each code, before the terminator; removed when present.
    strip_aim: bool = True
    # Remove an AIM symbology identifier (]E0, ]C1, …) at the start of a code and record the symbology.
    pause_ms: int = 150
    # A gap longer than this between two keys of one scan drops the unfinished scan (a scan cut short).
    emit_on_pause: bool = False
    # For scanners sending no terminator: a pause ends the scan instead of dropping it.
    grab: bool = True
    # Take the device exclusively (EVIOCGRAB) so scans never type into a console or a login prompt.
    reconnect_ms: int = 1000
    # How often to look for the device again after it is unplugged or before it appears.
    wedge_max_gap_ms: int = 35
    # Terminal wedge: keys arriving with a mean gap at or below this, ending in Enter, are a scan, not typing.
    wedge_max_pause_ms: int = 250
    # Terminal wedge: any single gap longer than this starts a new burst (SSH may bunch keys, so one gap may be
    # longer than the mean).
    wedge_min_length: int = 4
    # Terminal wedge: shorter bursts are typing, however fast.

    def __post_init__(self) -> None:
        bad = [t for t in self.terminators if t not in TERMINATOR_CHOICES]
        if bad:
            raise ValueError(f"terminators: {bad[0]!r} is not one of {', '.join(TERMINATOR_CHOICES)}")
        if not self.terminators and not self.emit_on_pause:
            raise ValueError("terminators: empty; set emit_on_pause = true for scanners that send no terminator")
        if self.pause_ms == 0:
            raise ValueError("pause_ms: must be more than 0")
