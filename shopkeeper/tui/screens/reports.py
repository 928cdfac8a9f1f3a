"""Reports: the reports of ``services/reports.py`` in the app, with net sales drawn as a chart.

The chart (plotext) needs room: on a screen shorter than ``CHART_MIN_HEIGHT`` rows (80×24 at a till) net sales are a
one-line sparkline instead, so the table keeps its rows.

A report runs in a thread worker (a year of a big shop's sales takes a moment), never on the event loop; its
result comes back as a ``ReportReady`` message. Enter on a row drills down: a period or a category to the products
behind it (best sellers by revenue; a shrinkage day to its losses by product), a product to its journal at the
report's days.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Select, Sparkline, Static
from textual.worker import Worker, WorkerState
from textual_plotext import PlotextPlot

from shopkeeper.errors import ShopError
from shopkeeper.scanner.wedge import WedgeDetector
from shopkeeper.money import format_money
from shopkeeper.services import reports
from shopkeeper.services.report_cells import BAR_WIDTH, cell
from shopkeeper.services.reports import Options, Report, Table
from shopkeeper.text import safe
from shopkeeper.tui.format import plain
from shopkeeper.tui.screens.base import ShopScreen
from shopkeeper.tui.widgets.footer import ShopFooter
from shopkeeper.tui.widgets.scan_input import ScanAwareInput, Scanned, wedge_settings
from shopkeeper.tui.widgets.top_bar import TopBar

MAX_ROWS = 500
"""Rows put in the table; the CLI's --csv has them all."""

CHART_MIN_HEIGHT = 30
"""Screen rows from which net sales are drawn as a chart; below, as a sparkline."""


class BurstIsAScan:
    """For a widget where Enter acts (drills into a row, opens a list): a scanner's burst (a code and Enter, faster
    than a person types) is taken as a scan (``Scanned``, which the screen declines), so its Enter does nothing."""

    _detector: WedgeDetector | None = None

    async def _on_key(self, event: events.Key) -> None:
        if self._detector is None:
            self._detector = WedgeDetector(wedge_settings())
        now = time.monotonic()
        if event.key == "enter":
            scan = self._detector.feed("enter", now)
            if scan is not None:
                event.stop()
                event.prevent_default()
                self.post_message(Scanned(scan.code.strip(), source="wedge"))  # type: ignore[attr-defined]
                return
        elif event.is_printable and event.character:
            self._detector.feed(event.character, now)
        else:
            self._detector.reset()
        await super()._on_key(event)  # type: ignore[misc]


class ReportTable(BurstIsAScan, DataTable):
    """The report's table: Enter drills into the highlighted row, never a scanner's Enter."""


class ReportSelect(BurstIsAScan, Select):
    """A choice of report or period: Enter opens its list, never a scanner's Enter."""


class ReportsScreen(ShopScreen):
    TITLE = "Reports"
    CSS_PATH = "reports.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+s", "run", "Run"),
        Binding("ctrl+n", "next_table", "Next table"),
        Binding("ctrl+b", "previous_table", "Previous table", show=False),
    ]

    class ReportReady(Message):
        def __init__(self, report: Report) -> None:
            super().__init__()
            self.report = report

    def __init__(self, name: str = "sales", opts: Options | None = None, *, table: str | None = None) -> None:
        """``table``: the table shown first (a drill to the products of a figure), else the report's first."""
        super().__init__()
        self.report_name = name
        self.opts = opts or Options()
        self.report: Report | None = None
        self.table_index = 0
        self.first_table = table

    def compose(self) -> ComposeResult:
        yield TopBar(self.TITLE)
        with Horizontal(id="reports-controls"):
            yield ReportSelect([(n, n) for n in reports.REPORTS], value=self.report_name, allow_blank=False,
                         id="report-name", compact=True)
            yield Label("From")
            yield ScanAwareInput(self.opts.start.isoformat() if self.opts.start else "", placeholder="YYYY-MM-DD",
                                 id="report-from", compact=True)
            yield Label("To")
            yield ScanAwareInput(self.opts.end.isoformat() if self.opts.end else "", placeholder="YYYY-MM-DD",
                                 id="report-to", compact=True)
            yield ReportSelect([(p, p) for p in reports.PERIODS], value=self.opts.by, allow_blank=False,
                         id="report-by", compact=True)
        yield Static("", id="report-status", markup=False)
        yield PlotextPlot(id="report-chart")
        with Horizontal(id="report-spark"):
            yield Static("", id="report-spark-label", markup=False)
            yield Sparkline([], id="report-sparkline")
        yield ReportTable(id="report-table", cursor_type="row", zebra_stripes=True)
        yield ShopFooter(compact=True)

    def on_mount(self) -> None:
        self.mark_seen()
        self.query_one("#report-table", DataTable).focus()
        self.action_run()

    def refresh_data(self) -> None:
        self.action_run()

    # -- running ------------------------------------------------------------------------------------------------

    def _read_options(self) -> Options | None:
        status = self.query_one("#report-status", Static)
        try:
            start_text = self.query_one("#report-from", Input).value.strip()
            end_text = self.query_one("#report-to", Input).value.strip()
            start = reports.parse_date(start_text, what="From") if start_text else None
            end = reports.parse_date(end_text, what="To") if end_text else None
        except ShopError as exc:
            status.update(plain(f"✗ {exc}"))
            return None
        by = self.query_one("#report-by", Select).value
        return replace(self.opts, start=start, end=end, by=str(by))

    def action_run(self) -> None:
        opts = self._read_options()
        if opts is None:
            return
        self.opts = opts
        self.report_name = str(self.query_one("#report-name", Select).value)
        self.query_one("#report-status", Static).update(plain(f"running {self.report_name}…"))
        self._compute(self.report_name, opts)

    @work(thread=True, exclusive=True, group="report", exit_on_error=False)
    def _compute(self, name: str, opts: Options) -> None:
        report = reports.run_detached(name, opts)
        self.post_message(self.ReportReady(report))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "report" and event.state == WorkerState.ERROR:
            self.query_one("#report-status", Static).update(plain(f"✗ {event.worker.error}"))

    @on(ReportReady)
    def _show(self, event: ReportReady) -> None:
        previous, self.report = self.report, event.report
        # a live refresh of the same report (another till sold) keeps the table the owner is reading
        same = previous is not None and previous.name == event.report.name
        if not same or self.table_index >= len(event.report.tables):
            self.table_index = 0
        if previous is None and self.first_table in event.report.names():
            self.table_index = event.report.names().index(self.first_table)
        self._show_range()
        self._draw_chart()
        self._fill_table()

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        if self.is_mounted:
            self.action_run()

    @on(Input.Submitted)
    def _input_submitted(self) -> None:
        self.action_run()

    @on(Scanned)
    def _scanned(self, event: Scanned) -> None:
        """A scan (a burst into the table or a date field, or a scanner device) changes nothing here: said so."""
        event.stop()
        self.notify(f"scan {event.code} not used: reports take no product codes (nothing changed)",
                    severity="warning")

    # -- showing ------------------------------------------------------------------------------------------------

    @property
    def current(self) -> Table | None:
        return self.report.tables[self.table_index] if self.report else None

    def on_resize(self) -> None:
        self._draw_chart()

    def _draw_chart(self) -> None:
        chart = self.query_one("#report-chart", PlotextPlot)
        spark = self.query_one("#report-spark", Horizontal)
        points = self.report.chart if self.report else []
        roomy = self.size.height >= CHART_MIN_HEIGHT
        chart.display = bool(points) and roomy
        spark.display = bool(points) and not roomy
        if not points:
            return
        decimals = self.shop.config.shop.decimals
        if not roomy:
            by = self.report.params.get("by", "day") if self.report else "day"
            self.query_one("#report-spark-label", Static).update(plain(
                f"Net sales by {by}, {points[0][0]} … {points[-1][0]}, "
                f"highest {format_money(max(v for _, v in points), decimals)}: "))
            self.query_one("#report-sparkline", Sparkline).data = [v for _, v in points]  # exact integers
            return
        plt = chart.plt
        plt.clear_data()
        plt.clear_figure()
        values = [float(format_money(v, decimals)) for _, v in points]  # a picture only; the table is exact
        plt.bar(list(range(len(values))), values, width=BAR_WIDTH)
        step = max(1, len(points) // 6)
        plt.xticks(list(range(0, len(points), step)), [label for label, _ in points][::step])
        plt.title(f"Net sales by {self.report.params.get('by', 'day')}")
        chart.refresh()

    def _fill_table(self) -> None:
        table = self.query_one("#report-table", DataTable)
        table.clear(columns=True)
        current = self.current
        if current is None:
            return
        decimals = self.shop.config.shop.decimals

        def cells(row: dict) -> list[Text]:  # names are data: shown as they are, escaped (``text.safe``)
            return [Text(safe(cell(row.get(c.key), c.kind, decimals)),
                         justify="left" if c.kind == "text" else "right") for c in current.columns]

        shown = [cells(row) for row in current.rows[:MAX_ROWS]] + ([cells(current.total)] if current.total else [])
        for i, column in enumerate(current.columns):  # widths measured here: every row is known up front
            width = max([len(column.title), *(r[i].cell_len for r in shown)])
            table.add_column(column.title, key=column.key, width=min(width, 28))
        for n, row in enumerate(shown):
            table.add_row(*row, key="total" if current.total and n == len(shown) - 1 else str(n))
        more = f", first {MAX_ROWS} of {len(current.rows)} rows" if len(current.rows) > MAX_ROWS else ""
        drill = " · Enter: products" if "period" in current.keys or "category" in current.keys else (
            " · Enter: journal" if "product" in current.keys else "")
        tables = len(self.report.tables) if self.report else 0
        self.query_one("#report-status", Static).update(plain(
            f"{current.title} ({self.table_index + 1}/{tables}{more}){drill}"))

    def action_next_table(self) -> None:
        if self.report:
            self.table_index = (self.table_index + 1) % len(self.report.tables)
            self._fill_table()

    def action_previous_table(self) -> None:
        if self.report:
            self.table_index = (self.table_index - 1) % len(self.report.tables)
            self._fill_table()

    # -- drilling down ------------------------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#report-table")
    def _drill(self, event: DataTable.RowSelected) -> None:
        current = self.current
        key = event.row_key.value
        if current is None or key is None or key == "total":
            return
        row = current.rows[int(key)]
        if "product" in current.keys:
            from shopkeeper.tui.screens.journal import JournalScreen

            self.app.push_screen(JournalScreen(row["product_id"], days=self._report_days()))
        elif "period" in current.keys and self.report_name == "shrinkage":  # the day's losses, by product
            opts = replace(self.opts, period=row["period"], limit=None)
            self.app.push_screen(ReportsScreen("shrinkage", reports.narrow_to_period(opts), table="products"))
        elif "period" in current.keys:
            opts = replace(self.opts, period=row["period"], rank="revenue", limit=None)
            self.app.push_screen(ReportsScreen("best-sellers", reports.narrow_to_period(opts)))
        elif "category" in current.keys:
            category = reports.drill_category(row["category"])
            if category is None:
                self.notify("one-off items are sold without a product: there is no product list behind them")
                return
            opts = replace(self.opts, category=category, rank="revenue", limit=None)
            self.app.push_screen(ReportsScreen("best-sellers", opts))

    def _show_range(self) -> None:
        """Empty From/To fields show the days the report covers (the default range) in grey, as their placeholder."""
        days = self._report_days()
        for input_id, day in (("#report-from", days[0] if days else None), ("#report-to", days[1] if days else None)):
            self.query_one(input_id, Input).placeholder = day.isoformat() if day else "YYYY-MM-DD"

    def _report_days(self) -> tuple[dt.date, dt.date] | None:
        """The days this report covers, where a product's journal drilled from it opens (and what empty From/To
        fields show). None for the slow movers, whose one day ends a look back over days without a sale (their
        journal opens at every day), and for a report with no range (valuation)."""
        params = self.report.params if self.report else {}
        if self.report is None or self.report.name == "slow-movers" or "from" not in params or "to" not in params:
            return None
        return dt.date.fromisoformat(params["from"]), dt.date.fromisoformat(params["to"])

    def context_product(self) -> int | None:
        current = self.current
        table = self.query_one("#report-table", DataTable)
        if current is None or "product" not in current.keys or not current.rows:
            return None
        if 0 <= table.cursor_row < len(current.rows):
            return current.rows[table.cursor_row]["product_id"]
        return None
