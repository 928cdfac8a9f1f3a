"""The headless counter: a scanner on a Raspberry Pi (or any box) with no screen, every scan straight to the journal.

Scans arrive from a scan source (an evdev scanner, or a replayed recording) on the source's own thread; they are
queued, and the main thread hands each one to the services at once — one write transaction per scan — so a counter
can share one database with the tills and with other counters. Modes:

``receive`` (a stock-room door)
    Each scan receives one unit of the product (or the weight/count on a scale or GS1 label) at its current average
    cost, reference ``counter:<terminal>``. Nothing is pending between scans.

``count`` (a stocktake with a hand scanner)
    Scans go into an open count session of this terminal (the one left open by an earlier run is resumed, else a new
    one is started). Each scan adds one unit (or the label's quantity) to the product's count in that session. The
    session is never posted here: review and post it on the app's count screen, where the variances are visible.

``sell`` (a self-service shelf, a honesty box, a vending corner)
    How a sale is delimited is chosen with ``sale_end``:

    * ``each`` (the default): every scan is a sale of its own, committed at once. What a self-service shelf wants:
      a customer who scans and walks away leaves nothing open, and the journal shows each item as it went.
    * ``idle``: scans group into one sale (saved scan by scan in the open-sale draft of this terminal, exactly like
      a till) that is committed after ``idle_seconds`` without a scan, or at once when the configured total code
      (``total_code``, e.g. a barcode printed on the shelf reading ``TOTAL``) is scanned.

    Sales are paid by ``payment`` (``other`` by default: the money is taken outside shopkeeper — an honesty box or a
    card reader on the shelf).

A scan that cannot be handled (an unknown code, a bad check digit, refused negative stock) is logged, signalled as
``error`` through the feedback command, and skipped; it never stops the counter.

Feedback: ``feedback`` is a command run after each scan as ``CMD EVENT CODE`` where EVENT is ``ok`` or ``error``
(and ``sale`` when a grouped sale is committed), with ``SHOPKEEPER_EVENT``, ``SHOPKEEPER_CODE`` and
``SHOPKEEPER_MESSAGE`` in its environment — a buzzer or an LED script. It is started and not waited for, so a slow
script never holds up the next scan.

Stopping: SIGTERM or SIGINT (``systemctl stop``) stops the source, handles every scan already read (the scanner
beeped for it), commits an open grouped sale — the goods have left the shelf — and returns 0. A counter killed
outright (power cut) leaves at most the draft of the grouped sale in progress; the next start commits it.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from shopkeeper.barcode_settings import BarcodeSettings
from shopkeeper.db import DatabaseBusy, write_transaction
from shopkeeper.errors import InvalidInput, ShopError
from shopkeeper.models import database
from shopkeeper.money import format_money, format_qty
from shopkeeper.scanner.events import ScanEvent, SourceStatus
from shopkeeper.scanner.source import ScanSource
from shopkeeper.services.context import staff_id, terminal_id

log = logging.getLogger("shopkeeper.counter")

Mode = Literal["sell", "receive", "count"]
MODES: tuple[str, ...] = ("sell", "receive", "count")
SALE_ENDS = ("each", "idle")


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str
    event: str = "ok"


class Feedback:
    """Runs the feedback command without waiting for it; reaps finished ones."""

    def __init__(self, command: str | None) -> None:
        try:
            self.argv = shlex.split(command) if command else []
        except ValueError as exc:
            raise InvalidInput(f"--feedback {command!r}: {exc}") from None
        self._running: list[subprocess.Popen] = []
        self._warned = False

    def __call__(self, event: str, code: str, message: str) -> None:
        if not self.argv:
            return
        self._running = [p for p in self._running if p.poll() is None]
        env = dict(os.environ, SHOPKEEPER_EVENT=event, SHOPKEEPER_CODE=code, SHOPKEEPER_MESSAGE=message)
        try:
            self._running.append(subprocess.Popen([*self.argv, event, code], env=env, stdin=subprocess.DEVNULL,
                                                  stdout=subprocess.DEVNULL))
        except OSError as exc:
            if not self._warned:
                log.warning("feedback command %s cannot run: %s", self.argv[0], exc.strerror or exc)
                self._warned = True

    def wait(self, timeout: float = 2.0) -> None:
        deadline = time.monotonic() + timeout
        for proc in self._running:
            try:
                proc.wait(max(deadline - time.monotonic(), 0))
            except subprocess.TimeoutExpired:
                proc.kill()
        self._running = []


class Counter:
    """Turns decoded scans into movements for one mode. Call ``handle`` from one thread (the one with the DB)."""

    def __init__(self, ctx, mode: Mode, *, layouts: BarcodeSettings | None = None, sale_end: str = "each",
                 idle_seconds: float = 20.0, total_code: str = "", payment: str = "other",
                 feedback: Feedback | None = None, clock: Callable[[], float] = time.monotonic,
                 printer_config=None) -> None:
        if mode not in MODES:
            raise InvalidInput(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if sale_end not in SALE_ENDS:
            raise InvalidInput(f"sale end must be one of {', '.join(SALE_ENDS)}, not {sale_end!r}")
        if not math.isfinite(idle_seconds) or idle_seconds <= 0:  # nan compares false to everything
            raise InvalidInput(f"idle timeout must be a number of seconds more than 0, not {idle_seconds}",
                               field="idle", value=idle_seconds)
        if payment not in ("cash", "card", "other"):
            raise InvalidInput(f"payment must be cash, card or other, not {payment!r}")
        self.ctx = ctx
        self.mode = mode
        self.layouts = layouts
        self.sale_end = sale_end
        self.idle_seconds = idle_seconds
        self.total_code = total_code.strip()
        self.payment = payment
        self.feedback = feedback or Feedback(None)
        self.clock = clock  # the time of a scan, for the idle timeout; ``tick(now)`` is given the same clock's time
        self.printer_config = printer_config  # the shop's config: each sale's receipt is printed when it names a printer
        self.session_id: int | None = None
        self.last_scan = 0.0
        self.scans = self.errors = self.sales = 0

    # -- start and stop ----------------------------------------------------------------------------------------

    def begin(self) -> None:
        """Pick up what an earlier run left: a grouped sale's draft is committed, a count session resumed."""
        if self.mode == "sell" and self.sale_end == "idle":
            self._commit_open_sale("left open by an earlier run")
        elif self.mode == "count":
            self.session_id = self._count_session()
            log.info("counting into count session %d", self.session_id)

    def finish(self) -> None:
        """On shutdown: commit the grouped sale in progress (the goods have left the shelf)."""
        if self.mode == "sell" and self.sale_end == "idle":
            self._commit_open_sale("counter stopping")

    def _count_session(self) -> int:
        from shopkeeper.models import CountSession
        from shopkeeper.services import stock
        from shopkeeper.services.context import terminal_id

        row = (CountSession.select().where((CountSession.status == "open")
                                           & (CountSession.terminal == terminal_id(self.ctx)))
               .order_by(CountSession.id.desc()).first())
        if row is None:
            row = stock.start_count(self.ctx, note=f"counter {self.ctx.terminal}")
        return row.id

    # -- scans -------------------------------------------------------------------------------------------------

    def idle_due(self, now: float) -> float | None:
        """Seconds until a grouped sale should be committed (None when there is nothing to wait for)."""
        if self.mode != "sell" or self.sale_end != "idle" or not self.last_scan:
            return None
        return max(self.last_scan + self.idle_seconds - now, 0.0)

    def tick(self, now: float) -> None:
        due = self.idle_due(now)
        if due is not None and due <= 0:
            self._commit_open_sale(f"no scan for {self.idle_seconds:g} s")

    def handle(self, scan: ScanEvent | str) -> Outcome:
        code = scan.code if isinstance(scan, ScanEvent) else scan
        self.scans += 1
        try:
            outcome = self._with_retry(code)
        except ShopError as exc:
            self.errors += 1
            outcome = Outcome(False, str(exc), "error")
            log.warning("scan %r: %s", code, exc)
        else:
            log.info("%s", outcome.message)
        self.feedback(outcome.event, code, outcome.message)
        return outcome

    def _with_retry(self, code: str, attempts: int = 3) -> Outcome:
        """A scan the scanner already beeped for is worth waiting for: a database kept busy by another process
        (a long import, a backup) is tried again before the scan is reported as failed. Nothing half-done stays:
        each attempt is one transaction."""
        for attempt in range(1, attempts + 1):
            try:
                return self._handle(code)
            except DatabaseBusy:
                if attempt == attempts:
                    raise
                log.warning("scan %r: database busy, trying again (%d/%d)", code, attempt + 1, attempts)
        raise AssertionError("unreachable")

    def _handle(self, code: str) -> Outcome:
        from shopkeeper.services import stock, till

        if self.mode == "sell":
            if self.sale_end == "idle" and self.total_code and code.strip() == self.total_code:
                result = self._commit_open_sale("total code scanned")
                if result is None:
                    return Outcome(False, "total scanned, but no sale is open", "error")
                return Outcome(True, f"sale {result.sale_id} committed: {format_money(result.total, self.ctx.decimals)}",
                               "sale")
            if self.sale_end == "each":
                # A sale of this one scan, straight through sales.sell: never through this terminal's open
                # sale, which a till with the same terminal name may be ringing up.
                from shopkeeper.services import sales

                item = till.resolve_scan(self.ctx, code, layouts=self.layouts)
                if not item.product.active:
                    raise InvalidInput(f"{item.product.sku} is no longer sold (inactive)")
                result = sales.sell(self.ctx, [sales.LineInput(
                    item.product, item.quantity, item.unit_price, item.discount, lot=item.lot,
                    expiry=item.expiry.isoformat() if item.expiry else None)], payment=self.payment)
                self.sales += 1
                for warning in result.warnings:
                    log.warning("sale %d: %s", result.sale_id, warning)
                self._print(result)
                return Outcome(True, f"sale {result.sale_id}: {item.product.sku} x {format_qty(item.quantity)} = "
                                     f"{format_money(result.total, self.ctx.decimals)}")
            staff_id(self.ctx)
            terminal_id(self.ctx)
            with write_transaction():  # the scan stays only if the sale, with it, could be committed
                draft = till.add_scan(self.ctx, code, layouts=self.layouts)
                line = draft.line(draft.changed_line)
                with database.atomic() as trial:  # a trial commit, undone: can this sale be completed?
                    till.complete(self.ctx, self.payment)
                    trial.rollback()
            self.last_scan = self.clock()
            return Outcome(True, f"open sale {draft.id}: {line.sku} now x {format_qty(line.quantity)}, "
                                 f"total {format_money(draft.total, self.ctx.decimals)}")
        product, qty = self._product_and_quantity(code)
        if self.mode == "receive":
            posted = stock.receive(self.ctx, product, qty, reference=f"counter:{self.ctx.terminal}")
            return Outcome(True, f"received {product.sku} x {format_qty(qty)}, on hand "
                                 f"{format_qty(posted.on_hand[product.id])}")
        line = stock.record_count(self.ctx, self.session_id, product, qty, add=True)
        return Outcome(True, f"count {self.session_id}: {product.sku} counted {format_qty(line.counted)}")

    def _product_and_quantity(self, code: str):
        from shopkeeper.services import till

        # Receiving or counting goods past their expiry is no sale: no question to ask.
        item = till.resolve_scan(self.ctx, code, layouts=self.layouts, accept_expired=True)
        return item.product, item.quantity

    def _commit_open_sale(self, why: str):
        from shopkeeper.services import till

        self.last_scan = 0.0
        draft = till.current_sale(self.ctx, create=False)
        if draft is None or not draft.lines:
            return None
        try:
            result = till.complete(self.ctx, self.payment)
        except DatabaseBusy as exc:
            self.errors += 1
            self.last_scan = self.clock()  # try again after another idle period
            log.error("open sale %d could not be committed (%s): %s; trying again later", draft.id, why, exc)
            self.feedback("error", "", str(exc))
            return None
        except ShopError as exc:
            self.errors += 1
            log.error("open sale %d could not be committed (%s): %s; it stays open", draft.id, why, exc)
            self.feedback("error", "", str(exc))
            return None
        self.sales += 1
        log.info("sale %d committed (%s): %d line(s), %s", result.sale_id, why, len(result.lines),
                 format_money(result.total, self.ctx.decimals))
        self.feedback("sale", "", f"sale {result.sale_id}")
        self._print(result)
        return result

    def _print(self, result) -> None:
        """The sale's receipt, when a printer is configured; a printer that fails is logged, the sale stands."""
        if self.printer_config is None:
            return
        from shopkeeper.printer import print_sale

        try:
            print_sale(self.printer_config, self.ctx, result)
        except ShopError as exc:
            log.error("sale %d: receipt not printed: %s", result.sale_id, exc)


_STOP = object()


def run(counter: Counter, source: ScanSource, *, install_signals: bool = True,
        stop_event: threading.Event | None = None) -> int:
    """Feed scans from ``source`` (through a ``ScanHub``) to ``counter`` until SIGTERM/SIGINT, ``stop_event``, or the source stops for
    good (the end of a replay). Returns the exit status: 0 after a clean stop."""
    inbox: queue.Queue = queue.Queue()
    stop_event = stop_event or threading.Event()

    def emit(scan: ScanEvent) -> None:
        inbox.put(scan)

    def status(change: SourceStatus) -> None:
        inbox.put(change)

    def on_signal(signum, frame) -> None:
        # Only set the event: the watcher thread queues the stop. (A handler that took the queue's lock could
        # deadlock with the main thread it interrupted.)
        stop_event.set()

    previous = {}
    if install_signals and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, on_signal)
    watcher = threading.Thread(target=lambda: (stop_event.wait(), inbox.put(_STOP)), daemon=True)
    watcher.start()
    from shopkeeper.scanner.source import ScanHub

    hub = ScanHub()
    hub.add_source(source)
    subscription = hub.subscribe(emit, status)
    counter.begin()
    hub.start()
    log.info("counter ready: mode %s, terminal %s", counter.mode, counter.ctx.terminal or "(none)")
    status_code = 0
    try:
        while True:
            due = counter.idle_due(counter.clock())
            try:
                item = inbox.get(timeout=due if due is not None else 1.0)
            except queue.Empty:
                counter.tick(counter.clock())
                continue
            if item is _STOP:
                break
            if isinstance(item, SourceStatus):
                _log_status(item)
                if item.state == "stopped" and item.source.startswith("replay:"):
                    break
                if item.state in ("denied", "error") and item.source.startswith("replay:"):
                    status_code = 1
                    break
                continue
            counter.handle(item)
            counter.tick(counter.clock())
    finally:
        hub.stop()
        subscription.close()
        # Scans the source had already read (the scanner beeped for them) are handled before leaving.
        while True:
            try:
                item = inbox.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, ScanEvent):
                counter.handle(item)
        counter.finish()
        counter.feedback.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop_event.set()
        log.info("counter stopped: %d scan(s), %d error(s), %d sale(s)", counter.scans, counter.errors,
                 counter.sales)
    return status_code


def _log_status(change: SourceStatus) -> None:
    level = logging.INFO if change.state in ("connected", "waiting", "stopped") else logging.WARNING
    log.log(level, "%s: %s", change.source, change.message)
