"""``ShopkeeperApp``: the stock room in the terminal, and ``run_app`` which the CLI calls.

The app owns three things every screen relies on:

* **Live data.** On SQLite it polls ``PRAGMA data_version`` every ``poll_interval`` seconds (a ``set_timer``
  re-armed at the end of each run, so polls never overlap). On PostgreSQL a ``shopkeeper.live.ChangeListener``
  hears every commit of every process (LISTEN/NOTIFY, fed by triggers) within milliseconds. When another process
  has committed, ``data_changed()`` bumps ``generation``, posts ``DataChanged`` to the screen in view (other screens
  re-read when they come back, ``ShopScreen.on_screen_resume``) and, in a thread, notifies once for each product
  that newly fell to its reorder point. Screens call ``data_changed()`` themselves after their own service calls
  (``ShopScreen.service`` does it).
* **The server.** On PostgreSQL a lost connection (seen by the listener, or by any query: ``connection_lost``)
  puts the app in the ``server_down`` state: every top bar says so, paying is refused, what the screens show is
  kept, and the connection is retried until the server answers again; then every screen re-reads.
* **Scans.** With ``[scanner] device`` set in the config, the app subscribes to a ``ScanHub`` reading that device
  in a thread, and each scan is handed to the loop with ``call_from_thread`` and posted to the screen in view as
  ``shopkeeper.tui.widgets.scan_input.Scanned`` — the same message a ``ScanInput`` posts, so a screen handles
  typed, wedge and evdev scans with one ``@on(Scanned)`` handler.
* **Screens by key.** ``shopkeeper.tui.registry.SCREENS`` lists the screens opened from anywhere (F2 Sell,
  F3 Receive, ...); each gets an app-wide key binding and a command palette entry (``commands.ShopCommands``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from peewee import DatabaseError, InterfaceError
from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen

from shopkeeper.config import Config
from shopkeeper.db import connection_lost, data_version, is_sqlite, utcnow
from shopkeeper.errors import ShopError
from shopkeeper.services.context import Context
from shopkeeper.text import has_control, printable, safe
from shopkeeper.tui.commands import ShopCommands
from shopkeeper.tui.keygate import KeyGate
from shopkeeper.tui.registry import SCREENS, entry


def _registry_bindings() -> list[BindingType]:
    return [Binding(e.key, f"open('{e.name}')", e.title) for e in SCREENS if e.key]


class ShopkeeperApp(App):
    """The shopkeeper terminal app over an already opened database (``open_database`` in the main thread)."""

    TITLE = "shopkeeper"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere still find it
    COMMANDS = App.COMMANDS | {ShopCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),  # in a text field: see ``on_event``
        *_registry_bindings(),
        Binding("f12", "lock", "Lock", show=False, priority=True),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(self, location: str, config: Config, ctx: Context, *, poll_interval: float = 0.3,
                 scan_hub: Any = None, training_of: str | None = None) -> None:
        super().__init__()
        from shopkeeper.services import training

        self.location = location
        self.training = training.active()  # a practice copy: TRAINING on every screen and receipt
        self.training_of = training_of  # the real shop to go back to, when training was opened from it
        self.training_guide = training.Guide() if self.training else None
        self.training_progress: dict[str, bool] = {}
        self.config = config
        self.ctx = ctx
        self.poll_interval = poll_interval
        self.generation = 0
        self._data_version: int | None = None
        self._listener: Any = None
        self._remote_pending = False
        self._sealing = False  # a thread linking rows to the hash chain is running (``_seal_if_due``)
        self._low_running = self._low_pending = False
        self.server_down = ""  # why the PostgreSQL server cannot be reached; "" while it can
        self._retry_delay = 0.1
        self._retry_timer: Any = None
        self._low_ids: set[int] | None = None  # products low at the last check; None until the baseline is read
        self._scan_hub = scan_hub
        self._scan_subscription = None
        self._own_hub = False
        self.start_notice = ""  # shown once the app runs (e.g. which till this session got)
        self.key_gate = KeyGate(self, super().on_event)
        self.last_input = time.monotonic()  # for the idle lock (``lock_if_idle``)
        self._kept_day = ""  # the UTC day the reports' figures were last kept on (``keep_figures_if_due``)
        self._keeping = False  # a thread keeping them is running

    async def on_event(self, event: events.Event) -> None:
        # A paste is text from elsewhere that an ``Input`` would take and paint as it is: its control characters
        # (an ESC sequence copied from a web page or a log) are left out before any widget sees it; line breaks
        # are kept (an ``Input`` takes the first line).
        if isinstance(event, events.Paste) and not event.is_forwarded and has_control(event.text.replace("\n", "")):
            event = events.Paste("\n".join(printable(line) for line in event.text.splitlines()))
        if isinstance(event, (events.Key, events.MouseDown)):
            self.last_input = time.monotonic()
        if isinstance(event, events.Key) and not event.is_forwarded:
            if event.key == "question_mark" and self._question_mark_opens_help():
                self.action_help()
                return
            # Every key meant for a dialog passes the gate first: a scanner's burst is refused, never taken as
            # answers.
            if await self.key_gate.take(event):
                return
        await super().on_event(event)

    def _question_mark_opens_help(self) -> bool:
        """``?`` in a text field (where Textual hides the app's ``?`` binding, as the field types the key). It
        opens help from an empty field; it is text inside text (a product name, a note, a filter already typed).
        A field that takes scans decides for itself, in the order its keys arrive (``ScanAwareInput``): a
        scanner's burst may still be on its way into it when the app sees the ``?``."""
        from textual.widgets import Input

        from shopkeeper.tui.widgets.scan_input import ScanAwareInput

        focused = self.focused
        return isinstance(focused, Input) and not isinstance(focused, ScanAwareInput) and not focused.value

    # -- start-up ---------------------------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        """The stock screen is the base of the stack: the first frame shows it (not an empty screen a frame
        earlier), and Escape never backs out of it."""
        from shopkeeper.tui.screens.stock import StockScreen

        return StockScreen()

    def on_mount(self) -> None:
        if self.training:
            from shopkeeper.services.training import MARK

            self.title = f"shopkeeper — {MARK}"
            self.add_class("-training")
            self.push_screen(self._training_guide())
            self._observe_training()
        from shopkeeper.services.permissions import roles_apply

        if roles_apply():  # staff have PINs: whoever works here proves it, whatever --staff or the config say
            from shopkeeper.tui.screens.sign_in import SignInScreen

            self.push_screen(SignInScreen(first=True, name=self.ctx.staff))
        elif not self.ctx.staff:
            from shopkeeper.tui.screens.staff import StaffScreen

            self.push_screen(StaffScreen(first=True))
        self._idle_timer = self.set_interval(IDLE_CHECK_SECONDS, self.lock_if_idle)
        self._upkeep_timer = self.set_interval(IDLE_CHECK_SECONDS, self.keep_figures_if_due)
        from shopkeeper import files
        from shopkeeper.locations import sqlite_path

        exposed = files.exposed(sqlite_path(self.location))
        if exposed:
            self.notify(exposed, title="Files", severity="warning", timeout=15)
        if is_sqlite():
            self._data_version = data_version()
            self._poll_timer = self.set_timer(self.poll_interval, self._poll)
        else:
            self._start_listener()
        if self.start_notice:
            self.notify(self.start_notice, timeout=8)
        # Not needed for the first frame: after it is painted.
        self.call_after_refresh(self._after_first_frame)

    def _after_first_frame(self) -> None:
        self._start_scanner()
        self._load_low_baseline()
        self._check_till_session()
        self._freeze_heap()

    def _check_till_session(self) -> None:
        """A till session left open at this till from a previous day is said at start (read in a thread)."""
        from shopkeeper.models import database
        from shopkeeper.services.till_session import left_open_before
        from shopkeeper.times import local_time

        def check() -> None:
            with database.connection_context():
                session = left_open_before(self.ctx)
            if session is not None:
                self.call_from_thread(
                    self.notify, f"till session {session.number} at {session.terminal} is still open from "
                    f"{local_time(session.opened_at)}: count the drawer and close it (F11 Till, Ctrl+K)",
                    severity="warning", timeout=30)

        self.run_worker(check, thread=True, group="till-session", exit_on_error=False)

    def _freeze_heap(self) -> None:
        """Move everything alive after start-up (Textual, peewee, our modules, the first screen: some 10^5
        objects) out of the garbage collector's sight. Left in, each full (generation 2) collection walks all of
        them — a 20-60 ms pause at a random moment, measured between a scan and its frame in bench/bench_till.py.
        Frozen objects are never collected, so collect first: only start-up garbage is lost, none is kept.
        The collector is then switched on again: ``shopkeeper.cli.main`` keeps it off until the first frame."""
        import gc

        gc.collect()
        gc.freeze()
        gc.enable()

    def _load_low_baseline(self) -> None:
        """The products low at start (a scan of every product, ~20 ms at 100k): read in a thread, so a product
        already low at start is not announced as newly low."""
        from shopkeeper.models import database
        from shopkeeper.services.queries import low_stock_ids

        version = self.generation

        def load() -> None:
            with database.connection_context():
                ids = low_stock_ids()
            self.call_from_thread(self._low_baseline_loaded, version, ids)

        self.run_worker(load, thread=True, group="low-baseline", exit_on_error=False)

    def _low_baseline_loaded(self, version: int, ids: set[int]) -> None:
        if self._low_ids is None and version == self.generation:
            self._low_ids = ids

    def _start_scanner(self) -> None:
        settings = self.config.extra.get("scanner")
        if settings is not None:
            from shopkeeper.tui.widgets.scan_input import configure_wedge

            configure_wedge(settings)
        if self._scan_hub is None and settings is not None and getattr(settings, "device", ""):
            try:
                from shopkeeper.scanner.evdev_source import EvdevScanSource
                from shopkeeper.scanner.source import ScanHub
            except ImportError as exc:
                self.notify(f"scanner: cannot read {settings.device}: {exc}", severity="warning")
                return
            self._scan_hub = ScanHub()
            self._scan_hub.add_source(EvdevScanSource(settings))
            self._own_hub = True
        if self._scan_hub is not None:
            self._scan_subscription = self._scan_hub.subscribe(self._scan_from_thread, self._status_from_thread)
            if self._own_hub:
                self._scan_hub.start()

    def _scan_from_thread(self, event: Any) -> None:
        """ScanHub callback, in the reader's thread: hop to the loop."""
        try:
            self.call_from_thread(self.deliver_scan, event.code, event.source)
        except RuntimeError:  # the app is shutting down
            pass

    def _status_from_thread(self, status: Any) -> None:
        try:
            self.call_from_thread(self._scanner_status, status.state, status.message)
        except RuntimeError:
            pass

    def _scanner_status(self, state: str, message: str) -> None:
        severity = "information" if state in ("connected", "waiting") else "warning"
        self.notify(f"scanner {state}: {message}", severity=severity, timeout=4)

    def deliver_scan(self, code: str, source: str = "scanner") -> None:
        """Post a scan to the screen in view as ``Scanned`` (also usable from tests). While a dialog is on top
        (ours, a confirmation, the command palette...) the scan is refused out loud instead: it would otherwise
        land in a screen that ignores it."""
        from textual.screen import ModalScreen

        from shopkeeper.tui.screens.base import refuse_scan
        from shopkeeper.tui.widgets.scan_input import Scanned

        if isinstance(self.screen, ModalScreen):
            refuse_scan(self, code)
            return
        self.screen.post_message(Scanned(code, source=source))

    def on_unmount(self) -> None:
        if self._listener is not None:
            self._listener.stop()
        if self._scan_subscription is not None:
            self._scan_subscription.close()
        if self._own_hub and self._scan_hub is not None:
            self._scan_hub.stop()

    # -- live data --------------------------------------------------------------------------------------------

    def _poll(self) -> None:
        try:
            version = data_version()
            if version != self._data_version:
                self._data_version = version
                self.data_changed()
            self._seal_if_due()
        except DatabaseError as exc:  # a locked or vanished database must not kill the app
            self.notify(f"cannot read the database: {exc}", severity="error", timeout=5)
        finally:
            self._poll_timer = self.set_timer(self.poll_interval, self._poll)

    def _seal_if_due(self) -> None:
        """SQLite links rows to the hash chain in batches (``services/chain.py``): a till gone quiet after a few
        sales has its last ones linked ``SEAL_WITHIN`` seconds after the first, in a thread."""
        from shopkeeper.models import database
        from shopkeeper.services import chain

        if self._sealing or not chain.seal_due():
            return

        def seal() -> None:
            try:
                with database.connection_context():
                    chain.seal_if_due()
            finally:
                self._sealing = False

        self._sealing = True
        self.run_worker(seal, thread=True, group="chain-seal", exit_on_error=False)

    def _start_listener(self) -> None:
        from shopkeeper.db import backend_pid
        from shopkeeper.live import ChangeListener

        self._listener = ChangeListener(self.location, self._changes_from_thread, self._server_from_thread)
        self._listener.ignore_pid = backend_pid()
        self._listener.start()

    class RemoteChanged(Message):
        """Another process committed (``changes``: ``table:id`` notices); posted from the listener's thread."""

        def __init__(self, changes: set[str]) -> None:
            super().__init__()
            self.changes = changes

    class ServerState(Message):
        """The listener reached the server (``up``) or lost it (``why``); posted from its thread."""

        def __init__(self, up: bool, why: str) -> None:
            super().__init__()
            self.up, self.why = up, why

    def _changes_from_thread(self, changes: set[str]) -> None:
        # ``post_message`` is thread-safe and does not wait for the loop (``call_from_thread`` would, and a
        # listener waiting on a loop that is stopping it would hold up the exit).
        self.post_message(self.RemoteChanged(changes))

    def _server_from_thread(self, up: bool, why: str) -> None:
        self.post_message(self.ServerState(up, why))

    def on_shopkeeper_app_remote_changed(self, message: RemoteChanged) -> None:
        # Busy tills send many notices: those already queued behind this one are folded into one refresh.
        if not self._remote_pending:
            self._remote_pending = True
            self.call_later(self._apply_remote)

    def _apply_remote(self) -> None:
        self._remote_pending = False
        self.data_changed()

    def on_shopkeeper_app_server_state(self, message: ServerState) -> None:
        self._server_state(message.up, message.why)

    def _server_state(self, up: bool, why: str) -> None:
        if not up:
            self.connection_lost(why)
        elif self.server_down:
            self._retry_connection()
        elif self.generation:  # the listener came back after a short loss: changes may have been missed
            self.data_changed()

    def connection_lost(self, why: object = "") -> None:
        """The PostgreSQL server cannot be reached (a query failed, or the listener lost it): say so on every
        screen and retry until it answers. What the screens show stays; paying waits (``SellScreen``)."""
        first = not self.server_down
        self.server_down = " ".join(str(why).split()) or "connection lost"
        if first:
            self._retry_delay = 0.1
            self._show_server_state()
            self.notify("the database server is unreachable: retrying. The open sale is kept; payment waits "
                        "until the server is back", title="Server unreachable", severity="error", timeout=8)
        if self._retry_timer is None:
            self._retry_timer = self.set_timer(self._retry_delay, self._retry_connection)

    def lost_server(self, exc: BaseException) -> bool:
        """Whether ``exc`` means the PostgreSQL server was lost; if so the app enters the ``server_down`` state.
        Screens ask this of any error a database read or a service raised."""
        if getattr(exc, "reason", None) == "unreachable" or connection_lost(exc):
            self.connection_lost(exc)
            return True
        return False

    def _retry_connection(self) -> None:
        """Reopen this thread's connection (on the loop: Peewee's connections belong to their thread; the server
        refuses at once when it is down, and ``connect_timeout`` bounds a silent network)."""
        from shopkeeper.db import backend_pid, reconnect

        if self._retry_timer is not None:
            self._retry_timer.stop()
            self._retry_timer = None
        if not self.server_down:
            return
        if self._listener is not None and not self._listener.connected:
            self._retry_timer = self.set_timer(0.5, self._retry_connection)  # the listener tells us when it's back
            return
        try:
            reconnect()
            if self._listener is not None:
                self._listener.ignore_pid = backend_pid()
        except (DatabaseError, InterfaceError) as exc:
            self.server_down = " ".join(str(exc).split()) or "connection lost"
            self._retry_delay = min(self._retry_delay * 2, 5.0)
            self._retry_timer = self.set_timer(self._retry_delay, self._retry_connection)
            return
        self.server_down = ""
        self._show_server_state()
        self.notify("the database server is back", title="Server", timeout=4)
        self.data_changed()

    def _show_server_state(self) -> None:
        for screen in self.screen_stack:
            for bar in screen.query("TopBar"):
                bar.update_text()

    async def _dispatch_message(self, message: Any) -> None:
        """A lost PostgreSQL connection met by a handler or an action (a read on the loop) is the ``server_down``
        state: the message is dropped and the app goes on, where Textual would stop this message loop and exit
        with a traceback. (``ShopScreen`` does the same for its own messages.)"""
        try:
            await super()._dispatch_message(message)
        except Exception as exc:
            if not self.lost_server(exc):
                raise

    def data_changed(self) -> None:
        """The data changed: bump ``generation``, refresh the screen in view, announce newly low products."""
        from shopkeeper.tui.screens.base import DataChanged

        if not self.screen_stack:  # a poll that fired while the app closes: nothing to refresh
            return
        self.generation += 1
        self.screen.post_message(DataChanged())
        if self.training:
            self._observe_training()
        self._check_low_stock()

    def _observe_training(self) -> None:
        """Training: the guide reads the training database after every change, in a thread (one at a time), so it
        sees a void happen; the guide screen, when in view, shows the result."""
        import threading

        from shopkeeper.models import database

        guide, lock = self.training_guide, self.__dict__.setdefault("_guide_lock", threading.Lock())

        staff = self.ctx.staff  # the trainee at the till: each new cashier has a first day of their own

        def read() -> None:
            with lock, database.connection_context():
                progress = guide.progress(staff)
            self.call_from_thread(self._training_read, progress)

        self.run_worker(read, thread=True, group="training-guide", exit_on_error=False)

    def _training_read(self, progress: dict[str, bool]) -> None:
        from shopkeeper.tui.screens.training import TrainingGuideScreen

        self.training_progress = progress
        if isinstance(self.screen, TrainingGuideScreen):
            self.screen.show(progress)

    def _check_low_stock(self) -> None:
        """Which products newly fell to their reorder point: a scan of every product (~15 ms at 100k), so in a
        thread. One check at a time; changes that arrive meanwhile are checked once it is done."""
        from shopkeeper.models import Product, database
        from shopkeeper.services.queries import low_stock_ids

        if self._low_running:
            self._low_pending = True
            return
        self._low_running, self._low_pending = True, False
        before = self._low_ids

        def check() -> None:
            result = None
            try:
                with database.connection_context():
                    now_low = low_stock_ids()
                    newly = now_low - before if before is not None else set()
                    products = list(Product.select(Product.sku, Product.name, Product.on_hand, Product.reorder_point,
                                                   Product.unit)
                                    .where(Product.id.in_(sorted(newly)[:4])).order_by(Product.sku)) if newly else []
                result = (now_low, newly, products)
            finally:
                try:
                    self.call_from_thread(self._low_stock_checked, result)
                except RuntimeError:  # the app is shutting down
                    pass

        self.run_worker(check, thread=True, group="low-stock", exit_on_error=False)

    def _low_stock_checked(self, result: tuple[set[int], set[int], list] | None) -> None:
        from shopkeeper.money import format_qty

        self._low_running = False
        if self._low_pending:
            self.call_later(self._check_low_stock)
        if result is None:  # the check failed (a lost server): the next change checks again
            return
        now_low, newly, products = result
        self._low_ids = now_low
        if not newly:
            return
        if len(newly) > 3:
            skus = ", ".join(p.sku for p in products[:3])
            self.notify(f"{len(newly)} products fell to their reorder point: {skus}…", title="Low stock",
                        severity="warning", timeout=8)
            return
        for p in products:
            self.notify(f"{p.sku} {p.name}: {format_qty(p.on_hand)} {p.unit} left (reorder at "
                        f"{format_qty(p.reorder_point)})", title="Low stock", severity="warning", timeout=8)

    def notify(self, message: str, *, title: str = "", severity: Any = "information", timeout: float | None = None,
               markup: bool = False) -> None:
        """Every notification of the app (widgets' and screens' ``notify`` land here) is plain text: messages quote
        names, codes and reasons, so they are never parsed as markup (``[/x]`` in a name raised ``MarkupError``
        and closed the app) and their control characters are shown escaped (``shopkeeper.text.safe``)."""
        super().notify(safe(message), title=safe(title), severity=severity, timeout=timeout, markup=False)

    # -- actions ----------------------------------------------------------------------------------------------

    def action_open(self, name: str, product_id: int | None = None) -> None:
        """Open a registered screen by name (``registry.SCREENS``)."""
        e = entry(name)
        if not e.available():
            self.notify(f"{e.title} is not available in this version", severity="warning")
            return
        cls = e.load()
        if isinstance(self.screen, cls):
            return
        if e.takes_product:
            if product_id is None:
                getter = getattr(self.screen, "context_product", None)
                product_id = getter() if getter else None
            self.push_screen(cls(product_id=product_id))
        else:
            self.push_screen(cls())

    def action_open_product(self, product_id: int | None) -> None:
        from shopkeeper.tui.screens.product import ProductScreen

        self.push_screen(ProductScreen(product_id))

    def action_home(self) -> None:
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def action_choose_staff(self) -> None:
        from shopkeeper.services.permissions import roles_apply
        from shopkeeper.tui.screens.sign_in import SignInScreen
        from shopkeeper.tui.screens.staff import StaffScreen

        if roles_apply():  # a cashier change is a sign-in with a PIN
            self.action_lock()
        elif not isinstance(self.screen, StaffScreen):
            self.push_screen(StaffScreen(first=False))

    # -- locking and approvals ----------------------------------------------------------------------------------

    def action_lock(self) -> None:
        """Lock the till (F12, or after ``[till] lock_after_minutes`` idle): the next person signs in with a PIN.
        Only once staff have PINs; the open sale stays as it is."""
        from shopkeeper.services.permissions import roles_apply
        from shopkeeper.tui.screens.sign_in import SignInScreen

        if any(isinstance(screen, SignInScreen) for screen in self.screen_stack):
            return
        if not roles_apply():
            self.notify("no staff member has a PIN yet: there is nothing to lock with (shopkeeper staff set-pin)",
                        severity="warning", timeout=5)
            return
        self.push_screen(SignInScreen())

    def lock_if_idle(self, now: float | None = None) -> None:
        """Lock the till once nobody pressed a key for ``[till] lock_after_minutes`` (0: never)."""
        minutes = self.config.till.lock_after_minutes
        if not minutes:
            return
        now = time.monotonic() if now is None else now
        if now - self.last_input < minutes * 60:
            return
        from shopkeeper.services.permissions import roles_apply
        from shopkeeper.tui.screens.sign_in import SignInScreen

        if roles_apply() and not any(isinstance(screen, SignInScreen) for screen in self.screen_stack):
            self.push_screen(SignInScreen())

    def keep_figures_if_due(self, now: float | None = None) -> None:
        """Once a UTC day (after the day turns, and at start), when nobody pressed a key for ``KEEP_AFTER_IDLE``
        seconds: ``keep_figures``."""
        now = time.monotonic() if now is None else now
        if self._kept_day == utcnow()[:10] or now - self.last_input < KEEP_AFTER_IDLE:
            return
        self.keep_figures()

    def keep_figures(self) -> None:
        """Keep the reports' figures of the closed days not kept yet (``report_upkeep``), in a thread: the owner's
        first report of the day then reads only today. Best effort: it gives way to the tills' sales, and a failure
        is tried again the next day (every report still reads what is not kept)."""
        from shopkeeper.models import database
        from shopkeeper.services import report_upkeep

        if self._keeping:
            return
        self._keeping = True
        self._kept_day = utcnow()[:10]

        def keep() -> None:
            try:
                with database.connection_context():
                    report_upkeep.keep_closed_days()
            finally:
                self._keeping = False

        self.run_worker(keep, thread=True, group="report-upkeep", exit_on_error=False)

    def ask_supervisor(self, denied: Any, retry: Callable[[], object]) -> None:
        """An act was refused (``PermissionDenied``): ask for a supervisor's name and PIN right here, then run
        ``retry`` once with a context carrying them; the service checks the PIN and records both names. Escape
        leaves the act undone, and the till as it was."""
        from shopkeeper.tui.screens.sign_in import SupervisorScreen

        def answered(result: tuple[str, str] | None) -> None:
            if result is None:
                self.notify(f"not done: {denied}", severity="warning", timeout=5)
                return
            saved = self.ctx
            self.ctx = saved.approved_by(*result)
            try:
                retry()
            finally:
                if self.ctx.supervisor == result[0]:
                    self.ctx = saved

        self.push_screen(SupervisorScreen(str(denied), denied.permission), answered)

    def action_help(self) -> None:
        from shopkeeper.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def _training_guide(self) -> Screen:
        from shopkeeper.tui.screens.training import TrainingGuideScreen

        return TrainingGuideScreen()

    def action_training(self) -> None:
        """Training (Ctrl+T on the Till screen, or the command palette): in the shop, switch this till to the
        practice copy (the app restarts on it) once confirmed; ``services.training.begin`` checks the ``training``
        permission (a cashier gets the supervisor prompt) and records it. In training: the guide."""
        from shopkeeper.tui.screens.training import TrainingGuideScreen

        if self.training:
            if not isinstance(self.screen, TrainingGuideScreen):
                self.push_screen(TrainingGuideScreen())
            return
        from shopkeeper.tui.screens.confirm import ConfirmScreen

        def answer(yes: bool | None) -> None:
            if yes:
                self._begin_training()

        self.push_screen(ConfirmScreen("Switch this till to TRAINING? The app reopens on a practice copy of the "
                                       "shop; nothing done there reaches the real shop.", yes="Train"), answer)

    def _begin_training(self) -> None:
        from shopkeeper.services import permissions, training

        try:
            training.begin(self.ctx)
        except permissions.PermissionDenied as exc:
            self.ask_supervisor(exc, self._begin_training)
            return
        except ShopError as exc:  # a wrong supervisor PIN, a locked-out member
            self.notify(str(exc), severity="error", timeout=6)
            return
        self.exit(SWITCH_TO_TRAINING)

    def set_staff(self, name: str) -> None:
        self.ctx = self.ctx.as_staff(name.strip())
        for screen in self.screen_stack:
            for bar in screen.query("TopBar"):
                bar.update_text()


IDLE_CHECK_SECONDS = 15
KEEP_AFTER_IDLE = 60
"""Seconds without a key before the app keeps the reports' figures of the closed days (``keep_figures_if_due``)."""


SWITCH_TO_TRAINING = "switch to training"
LEAVE_TRAINING = "leave training"


def run_app(location: str, config: Config, ctx: Context, *, exact_till: bool = False,
            training_of: str | None = None) -> None:
    """Run the app on the database at ``location`` (already opened with ``open_database`` in this thread); when
    it exits to switch to training or back (F11, the guide's ``x``), reopen on the other database and run again.

    The app holds its till for as long as it runs (``services.till_claim``): ``ctx.terminal`` exactly when
    ``exact_till`` (a name given on purpose), else the first free name from it (``<host>``, ``<host>-2`` …)."""
    from shopkeeper.db import close_database, open_database
    from shopkeeper.services.training import prepare

    while True:
        result = _run_once(location, config, ctx, exact_till=exact_till, training_of=training_of)
        busy = config.database.busy_timeout_ms
        if result == SWITCH_TO_TRAINING:
            done = prepare(location, busy_timeout_ms=busy)
            close_database()
            location, training_of = str(done.path), location
        elif result == LEAVE_TRAINING and training_of:
            close_database()
            location, training_of = training_of, None
        else:
            return
        open_database(location, busy_timeout_ms=busy)


def _run_once(location: str, config: Config, ctx: Context, *, exact_till: bool, training_of: str | None) -> Any:
    from dataclasses import replace

    from shopkeeper.services.till_claim import held

    app: ShopkeeperApp | None = None

    def lost(message: str) -> None:
        if app is not None and app.is_running:
            app.call_from_thread(app.notify, message, severity="error", timeout=60)

    with held(ctx.terminal, exact=exact_till, on_lost=lost) as lease:
        app = ShopkeeperApp(location, config, replace(ctx, terminal=lease.name), training_of=training_of)
        if lease.name != lease.requested:
            app.start_notice = (f"till {lease.requested} is open in another session: this one is till {lease.name}, "
                                "with its own open sale")
        return app.run()
