"""Type or scan a product code: ``ScanInput``, the ``Scanned`` message, and ``ScanAwareInput`` for other fields.

How scans reach a screen (helper-3's sell screen uses the same three routes):

1. **Typed or wedge-scanned into a ``ScanInput``.** Enter posts ``Scanned(code)`` (it bubbles to the screen) and
   clears the field. A keyboard-emulating scanner types a whole code and Enter in a few milliseconds; every key is
   an ordinary key event taken in order, so a burst is never lost or split.
2. **Wedge-scanned while another field has focus.** Use ``ScanAwareInput`` for the other fields of a screen that
   takes scans (quantity, cost...). It feeds its keys to a ``WedgeDetector``; when Enter ends a burst that came
   faster than a person types, it takes the burst's characters back out of itself and posts ``Scanned(code)``
   instead of submitting. (``ScanInput`` does the same, so a scan into a half-typed code replaces it.)
3. **An evdev scanner** (``[scanner] device`` in the config): ``ShopkeeperApp`` subscribes to the ``ScanHub`` and
   posts ``Scanned(code, source=device)`` to the active screen via ``call_from_thread``.

A screen that takes scans handles ``@on(Scanned)`` and calls ``event.stop()``. Screens that don't simply ignore it.
"""

from __future__ import annotations

import time

from textual import events
from textual.message import Message
from textual.widgets import Input

from shopkeeper.barcodes import GS
from shopkeeper.scanner.settings import ScannerSettings
from shopkeeper.scanner.wedge import WedgeDetector


GS_SHOWN = "␝"
"""How a code field shows the GS1 group separator (ASCII 29, sent by a scanner as Ctrl+]): a terminal would take
the control character itself as a command, not text."""


def as_code(text: str) -> str:
    """A code field's text as the code it stands for: its shown separators back to ASCII 29."""
    return text.replace(GS_SHOWN, GS)


class Scanned(Message):
    """A product code arrived: typed and Enter, a wedge-scanner burst, or an evdev scanner."""

    def __init__(self, code: str, source: str = "keyboard") -> None:
        super().__init__()
        self.code = code
        self.source = source


_settings = ScannerSettings()


def configure_wedge(settings: ScannerSettings) -> None:
    """Use the shop's ``[scanner]`` timing for wedge detection (called once by the app)."""
    global _settings
    _settings = settings


def wedge_settings() -> ScannerSettings:
    """The ``[scanner]`` timing in use for wedge detection (also by ``shopkeeper.tui.keygate``)."""
    return _settings


class ScanAwareInput(Input):
    """An ``Input`` that recognises a wedge-scanner burst ending in Enter and turns it into ``Scanned``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._detector = WedgeDetector(_settings)
        self._before: tuple[str, float] | None = None  # the value before the keys now arriving, last key's time

    def _question_mark_opens_help(self) -> bool:
        """``?`` opens help from an empty field; inside text it is typed (a GS1 Digital Link's query:
        ``…/01/09506000134352?17=291231``). Judged here, as the key's turn comes: the app sees a burst's ``?``
        before this field has taken the keys in front of it."""
        return not self.value.strip()

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "question_mark" and self._question_mark_opens_help():
            event.stop()
            event.prevent_default()
            self.app.action_help()
            return
        if event.key == "enter":
            # Handled here, in key order: left to the "enter" binding, the submit would run only after keys
            # already queued behind it (the next scan of a burst) had been typed into this field.
            event.stop()
            event.prevent_default()
            await self.action_submit()
            return
        if event.character == GS or event.key == "ctrl+right_square_bracket":  # a scanner's GS1 separator (FNC1)
            event.stop()
            event.prevent_default()
            self._typed(GS_SHOWN)
            self.insert_text_at_cursor(GS_SHOWN)
            return
        if event.is_printable and event.character:
            self._typed(event.character)
        elif event.key != "tab":
            self._before = None
            self._detector.reset()
        await super()._on_key(event)

    def _typed(self, character: str) -> None:
        now = time.monotonic()
        # The value before a burst's first key: a field whose text is selected on focus has it replaced by the
        # burst, so taking the code back out gives that value back.
        if self._before is None or now - self._before[1] > self._detector.max_pause:
            self._before = (self.value, now)
        else:
            self._before = (self._before[0], now)
        self._detector.feed(character, now)

    def _take_scan(self) -> str | None:
        """On Enter: the scanned code if the keys since the last Enter were a scanner burst, removed from the
        field; else None."""
        scan = self._detector.feed("enter", time.monotonic())
        before, self._before = self._before, None
        if scan is None:
            return None
        value = self.value
        if before is not None and not isinstance(self, ScanInput):
            self.value = before[0]
        elif value.endswith(scan.code):
            self.value = value[: len(value) - len(scan.code)]
        self.cursor_position = len(self.value)
        return as_code(scan.code.strip())

    async def action_submit(self) -> None:
        code = self._take_scan()
        if code:
            self.post_message(Scanned(code, source="wedge"))
            return
        await super().action_submit()


class ScanInput(ScanAwareInput):
    """The product-code field: Enter posts ``Scanned(code)`` with what was typed or scanned, and clears itself."""

    DEFAULT_CSS = """
    ScanInput { width: 1fr; }
    """

    def __init__(self, *, placeholder: str = "type or scan a product code", id: str | None = None,
                 classes: str | None = None, compact: bool = True) -> None:
        # Compact (one line, no border) by default: it sits in one-line form rows, where a bordered Input (3 lines
        # tall) shows only its top border and hides what is typed.
        super().__init__(placeholder=placeholder, id=id, classes=classes, compact=compact)

    def _question_mark_opens_help(self) -> bool:
        """Also with only a quantity typed (``3*``): no code has begun."""
        value = self.value.strip()
        return not value or value.endswith(("*", "×"))

    async def action_submit(self) -> None:
        code = self._take_scan()
        source = "wedge" if code else "keyboard"
        # A quantity typed before the scan ("3*", "-2*") stays in the field for the screen to pair with the code;
        # anything else typed is replaced by what was scanned.
        left = self.value.strip() if code else ""
        code = code or as_code(self.value.strip())
        self.value = left if left.endswith(("*", "×")) else ""
        if code:
            self.post_message(Scanned(code, source=source))
