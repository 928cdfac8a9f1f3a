"""Terminal wedge: tell a scanner typing into the terminal from a person typing. Pure logic, no Textual.

A keyboard-emulating scanner "types" a whole code in a few milliseconds and ends it with Enter. A person types a
key every 100–300 ms. Over SSH the keys may arrive bunched (many in one packet, gap 0) with one longer gap where a
packet boundary fell, so the rule is on the *mean* gap of the burst, with a cap on any single gap:

* a burst is the keys since the last Enter, restarted whenever one gap exceeds ``max_pause_ms``;
* Enter ends a scan when the burst has at least ``min_length`` keys and their mean inter-key gap (Enter included)
  is at most ``max_gap_ms``.

The caller (the TUI) feeds every printable key and Enter with a monotonic timestamp. A ``WedgeScan`` tells it how
many of the keys it already let through belong to the scan, so it can take them back out of an input field.
"""

from __future__ import annotations

from dataclasses import dataclass

from shopkeeper.scanner.settings import ScannerSettings

ENTER_CHARS = frozenset({"\r", "\n", "enter"})


@dataclass(frozen=True)
class WedgeScan:
    code: str
    typed: int
    # How many keys (before Enter) the scan consisted of: remove that many characters the widget already took.
    time: float
    # Timestamp of the Enter key.


class WedgeDetector:
    """Feed ``(key, time)``; Enter after a fast enough burst returns a ``WedgeScan``."""

    def __init__(self, settings: ScannerSettings | None = None, *, extra_terminators: frozenset[str] = frozenset()
                 ) -> None:
        s = settings or ScannerSettings()
        self.max_gap = s.wedge_max_gap_ms / 1000
        self.max_pause = s.wedge_max_pause_ms / 1000
        self.min_length = s.wedge_min_length
        terms = set(ENTER_CHARS)
        if "tab" in s.terminators:
            terms |= {"\t", "tab"}
        self.terminators = frozenset(terms | extra_terminators)
        self._chars: list[str] = []
        self._first: float | None = None
        self._last: float | None = None

    def reset(self) -> None:
        self._chars = []
        self._first = self._last = None

    @property
    def burst(self) -> str:
        """The keys of the current burst (for tests and diagnostics)."""
        return "".join(self._chars)

    def feed(self, key: str, now: float) -> WedgeScan | None:
        """One key: a single character, or ``"enter"``/``"\\r"``/``"\\n"`` (and ``"tab"`` when configured).

        Keys that are neither a terminator nor a single character (arrows, function keys) end any burst.
        """
        if key in self.terminators:
            scan = self._judge(now)
            self.reset()
            return scan
        if len(key) != 1:
            self.reset()
            return None
        if self._last is not None and now - self._last > self.max_pause:
            self.reset()
        if self._first is None:
            self._first = now
        self._chars.append(key)
        self._last = now
        return None

    def _judge(self, now: float) -> WedgeScan | None:
        n = len(self._chars)
        if n < self.min_length or self._first is None or self._last is None:
            return None
        if now - self._last > self.max_pause:
            return None  # a person pressing Enter after a pause
        mean_gap = (now - self._first) / n  # n gaps: between n keys and the Enter
        if mean_gap > self.max_gap:
            return None
        return WedgeScan(code="".join(self._chars), typed=n, time=now)
