"""The Till screen: this till's session — open with a float, cash in and out with a reason, no sale, the X report
at any time, close with the counted drawer (by denomination if wanted) and the Z report, printed and reprintable.

Every act is one call to ``services.till_session``; the drawer is kicked and reports printed in a thread worker
afterwards (``shopkeeper.printer``), so a slow or missing printer never holds the screen and never undoes the act.

Keys are function and Ctrl keys only: no text field has the focus here, and a scanner's burst of letters must not
be taken as commands. Every question is a dialog (``PromptScreen``, ``ConfirmScreen``), where the app's ``KeyGate``
refuses a scan out loud.

=========  ====================================================
F7         open a session with a float (``20.00x3 5.00x2`` counts it by denomination)
F8 / F9    cash in / cash out, with a reason
Ctrl+N     no sale: open the drawer (recorded)
Ctrl+X     X report now (nothing is reset)
Ctrl+K     close: count the drawer, write and show the Z report
Ctrl+R     show a Z report again (by session number)
Ctrl+G     print the report shown
Ctrl+T     training: switch this till to the practice copy (``training``: a cashier gets the supervisor prompt);
           in training, the guide
=========  ====================================================
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from shopkeeper.errors import InvalidInput, ShopError
from shopkeeper.money import format_money, parse_money
from shopkeeper.services import till_session
from shopkeeper.times import local_time
from shopkeeper.tui.screens.base import ShopScreen
from shopkeeper.tui.screens.confirm import ConfirmScreen
from shopkeeper.tui.screens.sell import PromptScreen
from shopkeeper.tui.widgets.footer import ShopFooter
from shopkeeper.tui.widgets.top_bar import TopBar

KEYS = ("F7 open  F8 cash in  F9 cash out  ^N no sale  ^X X report\n"
        "^K close (count)  ^R Z report again  ^G print  ^T training  Esc back")


def parse_amount_and_counts(text_amount: str, text_counts: str, decimals: int, allowed) -> tuple[int | None,
                                                                                               dict[int, int] | None]:
    """An amount and/or counts as typed in a dialog: ``"150.00"``, ``"20.00x3 5.00x2"`` (spaces or commas)."""
    from shopkeeper.denominations import merge_counts, parse_count

    amount = parse_money(text_amount, decimals, what="amount") if text_amount.strip() else None
    words = text_counts.replace(",", " ").split()
    counts = merge_counts(parse_count(word, decimals, allowed) for word in words) if words else None
    if amount is None and counts is None:
        raise InvalidInput("give the amount, or count it by denomination (20.00x3 5.00x2)", field="amount")
    return amount, counts


def open_session_dialog(screen: ShopScreen, then=None) -> None:
    """Ask for the float and open a session at this till; ``then()`` runs once it is open. Used here and by the
    Sell screen when a payment finds no session open."""
    app = screen.shop

    def done(values: dict[str, str] | None) -> None:
        if values is None:
            return
        try:
            amount, counts = parse_amount_and_counts(values["float"], values["counts"], app.config.shop.decimals,
                                                     _denominations(app))
        except ShopError as exc:
            screen.notify(str(exc), severity="error", timeout=6)
            return
        session = screen.service(lambda: till_session.open(app.ctx, amount, counts))
        if session is None:
            return
        screen.notify(f"session {session.number} open at till {session.terminal} with a float of "
                      f"{format_money(session.float_amount, app.config.shop.decimals)}", timeout=6)
        if then is not None:
            then()

    app.push_screen(PromptScreen(f"Open till {app.ctx.terminal}: the float in the drawer", [
        ("float", "Float", "e.g. 150.00 (or count it below)", ""),
        ("counts", "Counted", "optional: 20.00x3 5.00x2 …", ""),
    ], hint="Enter in the last field opens the session · Esc cancels"), done)


def _denominations(app) -> tuple[int, ...]:
    from shopkeeper.denominations import for_currency

    shop = app.config.shop
    return for_currency(shop.currency, shop.decimals, app.config.till.denominations)


class TillScreen(ShopScreen):
    TITLE = "Till"
    CSS_PATH: ClassVar[list[str]] = ["sell.tcss", "till.tcss"]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("f7", "open_session", "Open"),
        Binding("f8", "cash('cash_in')", "Cash in"),
        Binding("f9", "cash('cash_out')", "Cash out"),
        Binding("ctrl+n", "no_sale", "No sale"),
        Binding("ctrl+x", "x_report", "X report"),
        Binding("ctrl+k", "close_session", "Close"),
        Binding("ctrl+r", "z_report", "Z report"),
        Binding("ctrl+g", "print_report", "Print"),
        Binding("ctrl+t", "app.training", "Training"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.report_text = ""  # the report shown (X now, or a Z)
        self.showing = "X"  # "X": the open session's figures, kept current; "Z": a closed session's report;
        # "count": nothing while the drawer is counted (blind)
        self.z_number: int | None = None  # the session whose Z report is shown

    def compose(self) -> ComposeResult:
        yield TopBar(self.TITLE)
        yield Static("", id="till-status", markup=False)
        with VerticalScroll(id="till-report-box"):
            yield Static("", id="till-report", markup=False)
        yield Static(KEYS, id="till-keys", markup=False)
        yield ShopFooter()

    def on_mount(self) -> None:
        self.refresh_data()

    # -- showing -----------------------------------------------------------------------------------------

    def refresh_data(self) -> None:
        ctx = self.shop.ctx
        session = till_session.current(ctx)
        status = self.query_one("#till-status", Static)
        if session is None:
            shown = f" · Z report {self.z_number} below (^G prints)" if self.showing == "Z" else ""
            status.update(f"Till {ctx.terminal}: no session open — F7 opens one{shown}")
            if self.showing == "X":
                self._show("")
            return
        stale = till_session.left_open_before(ctx) is not None
        if stale:  # from an earlier day: the drawer was not counted last night
            status.update(f"Till {ctx.terminal}: session {session.number} LEFT OPEN since "
                          f"{local_time(session.opened_at)} — count and close it (Ctrl+K)")
        else:
            status.update(f"Till {ctx.terminal}: session {session.number} open since "
                          f"{local_time(session.opened_at)} by {session.opened_by or '—'}")
        status.set_class(stale, "-stale")
        if self.showing == "X":  # blind for a member who may not close the day (``till_session.x_report``)
            self._show(till_session.x_report(ctx).text)

    def _show(self, text: str, kind: str = "X") -> None:
        self.showing, self.report_text = kind, text
        self.query_one("#till-report", Static).update(text)

    # -- acts --------------------------------------------------------------------------------------------

    def action_open_session(self) -> None:
        open_session_dialog(self, then=lambda: self._show_x())

    def _show_x(self) -> None:
        self.showing = "X"
        self.refresh_data()

    def action_cash(self, kind: str) -> None:
        label = "Cash in" if kind == "cash_in" else "Cash out"

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            try:
                amount = parse_money(values["amount"], self.decimals, what="amount")
            except ShopError as exc:
                self.notify(str(exc), severity="error", timeout=6)
                return
            move = till_session.cash_in if kind == "cash_in" else till_session.cash_out
            if self.service(lambda: move(self.shop.ctx, amount, values["reason"]),
                            retry=lambda: done(values)) is None:  # approved: the notice and the drawer too
                return
            self.notify(f"{label.lower()}: {self.money(amount)} ({values['reason'].strip()})", timeout=6)
            self._kick()

        self.app.push_screen(PromptScreen(f"{label} at till {self.shop.ctx.terminal}", [
            ("amount", "Amount", "e.g. 20.00", ""),
            ("reason", "Reason", "required: paid-out, safe drop, change …", ""),
        ]), done)

    def action_no_sale(self) -> None:
        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            if self.service(lambda: till_session.no_sale(self.shop.ctx, values["reason"]),
                            retry=lambda: done(values)) is None:  # approved: the notice and the drawer too
                return
            self.notify("no sale: drawer opened (recorded)", timeout=4)
            self._kick()

        self.app.push_screen(PromptScreen("No sale: open the drawer", [
            ("reason", "Reason", "optional: change for a customer …", "")]), done)

    def action_x_report(self) -> None:
        self._show_x()
        if till_session.current(self.shop.ctx) is None:
            self.notify("no session is open at this till: nothing to report", severity="warning", timeout=5)

    def action_close_session(self) -> None:
        ctx = self.shop.ctx
        session = self.service(lambda: till_session.current(ctx), changed=False)
        if session is None:
            self.notify("no session is open at this till", severity="warning", timeout=5)
            return

        def counted(values: dict[str, str] | None) -> None:
            if values is None:
                self._show_x()  # not closed: the X report (as this member may see it) comes back
                return
            try:
                amount, counts = parse_amount_and_counts(values["counted"], values["counts"], self.decimals,
                                                         _denominations(self.shop))
            except ShopError as exc:
                self.notify(str(exc), severity="error", timeout=6)
                return
            shown = self.money(amount if amount is not None else sum(v * n for v, n in counts.items()))

            def confirmed(yes: bool | None) -> None:
                if not yes:
                    self._show_x()
                    return
                # the app's context as it is when the act runs: a supervisor's approval is in it on the retry
                report = self.service(lambda: till_session.close(self.shop.ctx, amount, counts),
                                      retry=lambda: confirmed(True))  # and the Z report shown after it
                if report is None:
                    return
                self.z_number = report.session.number
                self._show(report.text, "Z")
                self.refresh_data()
                self._print(report.text)
                self.app.keep_figures()  # the day's work is done: the reports' closed days kept meanwhile

            self.app.push_screen(ConfirmScreen(f"Close session {session.number} with {shown} counted? The Z report "
                                               "is final.", yes="Close", no="Back"), confirmed)

        # A blind count: no figure to aim at on screen while the drawer is counted (not even a supervisor's X
        # report); the Z report shows what was expected and the over/short once the count is in.
        self._show("Counting the drawer: the figures are hidden until the count is in.", "count")
        self.app.push_screen(PromptScreen(f"Close session {session.number}: count the drawer", [
            ("counted", "Counted", "the cash in the drawer, e.g. 412.35", ""),
            ("counts", "By coin", "optional: 50.00x4 20.00x3 …", ""),
        ], hint="a blind count: the Z report then shows what was expected and the over/short"), counted)

    def action_z_report(self) -> None:
        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            text = values["number"].strip()
            if not text.isdigit() or len(text) > 12:
                self.notify(f"session number {text!r}: a whole number, please", severity="error", timeout=5)
                return
            stored = self.service(lambda: till_session.z_report(self.shop.ctx, int(text)), changed=False)
            if stored is not None:
                self.z_number = stored["number"]
                self._show(stored["text"], "Z")
                self.refresh_data()

        self.app.push_screen(PromptScreen("Show a Z report again", [("number", "Session", "number", "")]), done)

    def action_print_report(self) -> None:
        if not self.report_text:
            self.notify("no report to print", severity="warning", timeout=4)
            return
        self._print(self.report_text)

    # -- the printer, off the event loop -----------------------------------------------------------------

    def _print(self, text: str) -> None:
        from shopkeeper import printer

        if not printer.configured(self.shop.config):
            return
        self._in_thread(lambda: printer.send(self.shop.config, text))

    def _kick(self) -> None:
        from shopkeeper import printer

        self._in_thread(lambda: printer.open_drawer(self.shop.config))

    def _in_thread(self, call) -> None:
        def work() -> None:
            try:
                call()
            except ShopError as exc:
                self.app.call_from_thread(self.notify, str(exc), severity="error", timeout=10)

        self.run_worker(work, thread=True, group="printer", exit_on_error=False)
