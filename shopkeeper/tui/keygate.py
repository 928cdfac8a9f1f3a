"""Keys that reach a dialog: a scanner's burst is a scan to refuse out loud, never answers or text.

A keyboard-emulating scanner types a code and Enter in a few milliseconds. In a dialog those keys would otherwise be
taken one by one: the Enter presses the focused button or picks the highlighted list entry, a ``y`` in the code
answers "Yes", a ``c`` creates a product. Textual hands each key straight to the focused widget, so the app passes
every key meant for a dialog (any ``ModalScreen``: ours, a confirmation, the command palette) through one
``KeyGate`` first (``ShopkeeperApp.on_event``):

* **Focus in a text field.** Keys go through at once: typing is never delayed. The gate watches them with a
  ``WedgeDetector``; when the terminator (Enter, or Tab where configured) ends a scanner burst, the terminator is
  swallowed, the burst is taken back out of the field and the scan is refused out loud.
* **Focus anywhere else** (buttons, lists, single-key answers such as y/n/c/o). Printable keys are held until
  ``wedge_max_pause_ms`` passes with no further key. A key that arrived alone is then delivered as usual; two or more
  that came together are a burst (a person answers a dialog one key at a time), refused out loud together with the
  terminator that ends them. A terminator with nothing held (Enter after choosing with the arrows) and every other
  key (arrows, Escape, function keys) go through at once, after anything held.

Refused means ``refuse_scan``: a bell and an error notification naming the code, as for a scanner device's scan
while a dialog is open (``ShopkeeperApp.deliver_scan``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from textual import events
from textual.screen import ModalScreen
from textual.widgets import Input

from shopkeeper.scanner.settings import ScannerSettings
from shopkeeper.scanner.wedge import WedgeDetector

if TYPE_CHECKING:
    from textual.app import App
    from textual.timer import Timer


class KeyGate:
    """Between the terminal and a dialog. ``deliver`` is the app's ordinary handling of a key event."""

    def __init__(self, app: App, deliver: Callable[[events.Key], Awaitable[None]]) -> None:
        self.app = app
        self._deliver = deliver
        self._settings: ScannerSettings | None = None
        self._detector = WedgeDetector()
        self._held: list[events.Key] = []
        self._timer: Timer | None = None
        self._screen: object = None
        self._before: tuple[Input, str, float] | None = None  # (field, its value before a burst, last key's time)

    def _current_settings(self) -> None:
        from shopkeeper.tui.widgets.scan_input import wedge_settings

        settings = wedge_settings()
        if settings is not self._settings:
            self._settings = settings
            self._detector = WedgeDetector(settings)

    @property
    def hold(self) -> float:
        """Seconds of quiet after which held keys are judged: the wedge's longest gap inside one burst."""
        return self._detector.max_pause

    @property
    def holding(self) -> str:
        """The characters held right now (for tests and diagnostics)."""
        return "".join(e.character or "" for e in self._held)

    async def take(self, event: events.Key) -> bool:
        """Look at one key before the app handles it. True: the gate took it (held or refused)."""
        screen = self.app.screen
        if screen is not self._screen:  # a dialog opened or closed: what was held belongs to the last one
            self._screen = screen
            self._detector.reset()
            if self._held:
                await self.flush()
        if not isinstance(screen, ModalScreen):
            return False
        self._current_settings()
        terminator = event.key in self._detector.terminators
        char = event.character if event.is_printable and not terminator else None
        focused = self.app.focused
        if isinstance(focused, Input):
            if self._held:
                await self.flush()
            return self._text_key(focused, char, terminator)
        if char:
            self._held.append(event)
            self._restart_timer()
            return True
        if terminator and self._held:
            await self.flush(terminator=event)
            return True
        if self._held:
            await self.flush()
        return False

    def _text_key(self, field: Input, char: str | None, terminator: bool) -> bool:
        now = time.monotonic()
        if terminator:
            scan = self._detector.feed("enter", now)
            before, self._before = self._before, None
            if scan is None:
                return False
            # The field takes its keys from its own queue: remove the burst once it has typed all of it.
            value = before[1] if before is not None and before[0] is field else None
            field.call_later(_take_back, field, scan.code, value)
            self._refuse(scan.code)
            return True
        if char:
            # The value before a burst's first key: a field that selects its text on focus (a price, a
            # quantity) has it replaced by the burst, so taking the code back out must give that value back.
            if self._before is None or self._before[0] is not field or now - self._before[2] > self.hold:
                self._before = (field, field.value, now)
            else:
                self._before = (field, self._before[1], now)
            self._detector.feed(char, now)
        else:
            self._before = None
            self._detector.reset()
        return False

    def _restart_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.app.set_timer(self.hold, self.flush, name="key-gate")

    async def flush(self, terminator: events.Key | None = None) -> None:
        """The held keys are complete (quiet since the last one, another kind of key, or a terminator): deliver a
        lone key, refuse a burst."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        held, self._held = self._held, []
        if len(held) >= 2:
            self._refuse("".join(e.character or "" for e in held))
            return
        for event in held:
            await self._deliver(event)
        if terminator is not None:
            await self._deliver(terminator)

    def _refuse(self, code: str) -> None:
        from shopkeeper.tui.screens.base import refuse_scan

        refuse_scan(self.app, code.strip())


def _take_back(field: Input, code: str, before: str | None = None) -> None:
    value = field.value
    if before is not None:
        field.value = before
    elif value.endswith(code):
        field.value = value[: len(value) - len(code)]
    field.cursor_position = len(field.value)
