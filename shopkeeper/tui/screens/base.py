"""What every shopkeeper screen shares. ``ShopScreen``: Escape backs out, live data refresh, palette entries.
``ShopModal``: a dialog that refuses a scan out loud instead of dropping it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, ClassVar, TypeVar

from textual import events, on
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import ModalScreen, Screen

from shopkeeper.errors import ShopError
from shopkeeper.money import format_money

if TYPE_CHECKING:
    from textual.app import App

    from shopkeeper.tui.app import ShopkeeperApp

REFUSED_SCAN = "scan {code} NOT added: finish this dialog first"


def refuse_scan(app: App, code: str) -> None:
    """A scan arrived while a dialog is open: the cashier is mid-question, so it is not used. Say so out loud
    (bell + error notification): a scan must never vanish without a sound."""
    app.bell()
    app.notify(REFUSED_SCAN.format(code=code), severity="error", timeout=6)


class DataChanged(Message):
    """Stock or the journal changed (another process committed, or this app called a service)."""


class ShopScreen(Screen):
    """Base screen. Subclasses implement ``refresh_data()`` to re-read what they show; it runs when the data
    changes while the screen is in view, and when the screen comes back into view after a change."""

    TITLE: ClassVar[str] = ""
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]

    PROMPT_WINDOW: ClassVar[float] = 0.05  # seconds after ``paint_promptly()`` during which changes paint at once

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._seen_generation = -1
        self._prompt_until = 0.0

    # -- frames ---------------------------------------------------------------------------------------------

    def paint_promptly(self) -> None:
        """Paint what changes now as soon as it reaches the screen, not at the next slot of Textual's frame timer.

        Textual paints from a 60 Hz timer that is resumed when the screen becomes dirty; the timer keeps its
        phase, and after a late tick it skips ahead to the slot after next. A change made just after a frame
        (the next scan of a quick run) therefore waited 5-33 ms for its frame: at the till, the time between a
        scan and its line on screen (bench/bench_till.py) was mostly that wait. For the next ``PROMPT_WINDOW``
        seconds, every change that reaches the screen (the table's repaint, its scroll to the new line, the
        totals) is painted on the screen's next idle instead. For discrete events (a scan, a key), not for
        animation: each call buys frames for one short window only."""
        self._prompt_until = time.perf_counter() + self.PROMPT_WINDOW

    def _on_idle(self, event: events.Idle) -> None:
        # Textual runs each class's idle handler down the MRO: this one runs before ``Screen._on_idle``, which
        # then finds nothing left to paint and runs the after-refresh callbacks. Uses Textual 8 internals (the
        # same steps the frame timer's callback takes); if they are missing, frames just come from the timer.
        if not self._prompt_until or not self.is_current or self.app._batch_count:
            return
        if time.perf_counter() > self._prompt_until:
            self._prompt_until = 0.0
            return
        try:
            dirty = (self._layout_required or self._scroll_required or self._repaint_required
                     or self._dirty_widgets)
            if dirty:
                self._on_timer_update()
        except AttributeError:  # a Textual without these internals: leave framing to Textual
            self._prompt_until = 0.0

    @property
    def shop(self) -> ShopkeeperApp:
        return self.app  # type: ignore[return-value]

    @property
    def decimals(self) -> int:
        """The shop currency's minor-unit digits."""
        return self.shop.config.shop.decimals

    def money(self, minor: int) -> str:
        return format_money(minor, self.decimals)

    def refresh_data(self) -> None:
        """Re-read from the database what this screen shows."""

    def context_product(self) -> int | None:
        """The product this screen is about, handed to screens opened from here (Receive, Adjust...)."""
        return None

    def palette_commands(self) -> Iterable[tuple[str, str, Callable[[], object]]]:
        """``(title, help, callback)`` for the command palette: every described binding of this screen."""
        for binding in self._bindings.key_to_bindings.values():
            for b in binding:
                if b.description and b.action != "back":
                    yield (b.description, f"{self.TITLE}: {b.description} ({b.key})",
                           lambda action=b.action: self.run_action(action))

    def mark_seen(self) -> None:
        self._seen_generation = self.shop.generation

    @on(DataChanged)
    def _on_data_changed(self, event: DataChanged) -> None:
        event.stop()
        self.mark_seen()
        self._refresh()

    def on_screen_resume(self) -> None:
        if self._seen_generation != self.shop.generation:
            self.mark_seen()
            self._refresh()

    async def _dispatch_message(self, message: Message) -> None:
        """A lost server met by one of this screen's handlers: the app shows it and retries (``lost_server``);
        the screen keeps running and keeps what it shows."""
        try:
            await super()._dispatch_message(message)
        except Exception as exc:
            if not self.shop.lost_server(exc):
                raise

    def _refresh(self) -> None:
        """``refresh_data``; when the server is lost meanwhile the screen keeps what it shows (the app says so and
        re-reads every screen once the server is back)."""
        try:
            self.refresh_data()
        except Exception as exc:
            if not self.shop.lost_server(exc):
                raise
            self._seen_generation = -1

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:  # the stock screen at the bottom stays
            self.dismiss()

    def service(self, call: Callable[[], object], *, changed: bool = True,
                retry: Callable[[], object] | None = None) -> object | None:
        """Run one service call; a ``ShopError`` becomes a notification (returns None). After a write, every
        screen re-reads (our own commits don't change our connection's data_version).

        An act the staff member may not do alone (``PermissionDenied``) asks for a supervisor's PIN right there
        and then runs ``retry`` (default: this call again) with the approval: no dead end."""
        from shopkeeper.services.permissions import PermissionDenied

        try:
            result = call()
        except PermissionDenied as exc:
            self.shop.ask_supervisor(exc, retry or (lambda: self.service(call, changed=changed)))
            return None
        except ShopError as exc:
            self.shop.lost_server(exc)  # ``ServerUnreachable``: the app shows it and retries
            self.notify(str(exc), severity="error", timeout=6)
            return None
        except Exception as exc:  # a read outside a write transaction met a lost server
            if not self.shop.lost_server(exc):
                raise
            self.notify("the database server is unreachable: nothing was done; retrying the connection",
                        severity="error", timeout=6)
            return None
        if changed:
            self.shop.data_changed()
        for warning in getattr(result, "warnings", None) or []:
            self.notify(warning, severity="warning", timeout=6)
        return result


ResultType = TypeVar("ResultType")


class ShopModal(ModalScreen[ResultType]):
    """Base for every dialog: a scan that reaches it is refused out loud, never dropped silently nor taken as an
    answer. Three routes, one outcome (``refuse_scan``): the app refuses a scanner device's scans while any modal is
    on top (``deliver_scan``); the app's ``KeyGate`` (``shopkeeper.tui.keygate``) refuses a terminal scanner's burst
    of keys, whatever has the focus; and a ``Scanned`` message posted inside the dialog is refused here."""

    def _on_scanned(self, event: object) -> None:
        # Dispatched by name (``Scanned`` -> ``_on_scanned``) so that start-up need not import the scan widgets.
        from shopkeeper.tui.widgets.scan_input import Scanned

        if isinstance(event, Scanned):
            event.stop()
            refuse_scan(self.app, event.code)
