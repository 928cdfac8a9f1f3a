"""Pilot tests of the Reports screen at 80×24: opened by key, run in a worker, drawn, drilled down by keyboard."""

from __future__ import annotations

import datetime as dt

from textual.widgets import DataTable, Input, Select, Sparkline, Static
from textual_plotext import PlotextPlot

from shopkeeper.services.reports import Options
from shopkeeper.tui.screens.journal import JournalScreen
from shopkeeper.tui.screens.reports import ReportsScreen
from tests.tui.conftest import scan_burst, settle

SIZE = (80, 24)
DAY = dt.date(2026, 1, 5)  # the test shop's sales day (tests/tui/shop_data.py)


def cells(screen: ReportsScreen, row: int) -> list[str]:
    table = screen.query_one("#report-table", DataTable)
    return [str(c) for c in table.get_row_at(row)]


async def test_f10_opens_sales_by_day_with_its_chart(shop, make_app):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("f10")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ReportsScreen)
        # the default range ends today; ask for the shop's day by keyboard
        await pilot.click("#report-from")
        screen.query_one("#report-from", Input).value = ""
        await pilot.press(*DAY.isoformat())
        screen.query_one("#report-to", Input).value = DAY.isoformat()
        await pilot.press("enter")
        await settle(app, pilot)
        assert screen.report is not None and screen.report.params["from"] == "2026-01-05"
        assert screen.query_one("#report-chart", PlotextPlot).display
        # 2 milk + bread (cash) and 250 g olives (card): one row for the day, then the total
        day = cells(screen, 0)
        assert day[0] == "2026-01-05" and day[1] == "2"
        assert cells(screen, 1)[0] == "total"
        await pilot.press("ctrl+n")
        assert "By payment method" in str(screen.query_one("#report-status", Static).render())
        # another till sells: the live refresh re-runs the report and keeps the table being read
        screen.refresh_data()
        await settle(app, pilot)
        assert "By payment method" in str(screen.query_one("#report-status", Static).render())


async def test_at_80x24_net_sales_are_a_sparkline_so_the_table_keeps_its_rows(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(ReportsScreen("sales", Options(start=DAY - dt.timedelta(days=1), end=DAY)))
        await settle(app, pilot)
        screen = app.screen
        assert not screen.query_one("#report-chart", PlotextPlot).display
        assert screen.query_one("#report-spark").display
        sparkline = screen.query_one("#report-sparkline", Sparkline)
        assert list(sparkline.data) == [v for _, v in screen.report.chart]
        assert all(isinstance(v, int) for v in sparkline.data)
        label = str(screen.query_one("#report-spark-label", Static).render())
        assert label.startswith("Net sales by day, 2026-01-04 … 2026-01-05, highest ")
        assert screen.query_one("#report-table", DataTable).size.height >= 14


async def test_enter_on_a_day_lists_its_products_and_enter_on_a_product_opens_its_journal(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(ReportsScreen("sales", Options(start=DAY, end=DAY)))
        await settle(app, pilot)
        app.screen.query_one("#report-table", DataTable).focus()
        await pilot.press("enter")  # the day
        await settle(app, pilot)
        products = app.screen
        assert isinstance(products, ReportsScreen) and products.report_name == "best-sellers"
        assert products.report.params["rank"] == "revenue"
        skus = [row["sku"] for row in products.report.tables[0].rows]
        assert set(skus) == {"MILK-1L", "BREAD-SD", "OLIVES-KG"}
        await pilot.press("enter")  # the best seller
        await settle(app, pilot)
        assert isinstance(app.screen, JournalScreen)
        assert app.screen.filter.product_id == products.report.tables[0].rows[0]["product_id"]


async def test_changing_the_report_runs_it_and_a_bad_date_is_said_in_place(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(ReportsScreen("sales", Options(start=DAY, end=DAY)))
        await settle(app, pilot)
        screen = app.screen
        screen.query_one("#report-name", Select).value = "valuation"
        await settle(app, pilot)
        assert screen.report.name == "valuation"
        assert not screen.query_one("#report-chart", PlotextPlot).display
        screen.query_one("#report-from", Input).value = "2026-02-30"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "From: '2026-02-30' is not a date" in str(screen.query_one("#report-status", Static).render())


async def test_a_products_journal_drilled_from_a_report_opens_at_its_days_and_ctrl_t_shows_all(shop, make_app,
                                                                                              till_ctx):
    from unittest import mock

    from shopkeeper.services import queries, stock

    with mock.patch("shopkeeper.services.stock.utcnow", lambda: "2026-01-20T10:00:00.000000Z"):
        stock.receive(till_ctx, "BREAD-SD", 12_000, 150)  # after the report's day: not in its journal
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(ReportsScreen("sales", Options(start=DAY, end=DAY)))
        await settle(app, pilot)
        app.screen.query_one("#report-table", DataTable).focus()
        await pilot.press("enter")  # the day → its products, best first by revenue: bread
        await settle(app, pilot)
        assert app.screen.report.tables[0].rows[0]["sku"] == "BREAD-SD"
        await pilot.press("enter")  # bread → its journal, at the report's day
        await settle(app, pilot)
        journal = app.screen
        assert isinstance(journal, JournalScreen)
        assert journal.query_one("#since", Input).value == journal.query_one("#until", Input).value == "2026-01-05"
        assert "the report's days, 2026-01-05 to 2026-01-05" in str(journal.query_one("#journal-message",
                                                                                     Static).render())
        assert queries.journal_count(journal.filter) == 2  # the opening receipt and the sale of that day
        await pilot.press("ctrl+t")
        await settle(app, pilot)
        assert journal.query_one("#since", Input).value == "" and journal.filter.since == ""
        assert journal.filter.product_id is not None and queries.journal_count(journal.filter) == 3
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, ReportsScreen) and app.screen.report_name == "best-sellers"


async def test_a_scanner_burst_into_the_reports_screen_changes_nothing_and_is_said(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(ReportsScreen("sales", Options(start=DAY, end=DAY)))
        await settle(app, pilot)
        screen = app.screen
        table = screen.query_one("#report-table", DataTable)
        table.focus()
        scan_burst(app, "5449000000996")  # into the table: its Enter would have drilled into the day
        await settle(app, pilot)
        assert app.screen is screen and screen.report_name == "sales" and table.has_focus
        said = [n.message for n in app._notifications if "5449000000996" in n.message]
        assert said == ["scan 5449000000996 not used: reports take no product codes (nothing changed)"]
        start = screen.query_one("#report-from", Input)
        start.focus()
        scan_burst(app, "5449000000996")  # into a date field: taken back out, the report not run with it
        await settle(app, pilot)
        assert start.value == DAY.isoformat() and screen.report.params["from"] == DAY.isoformat()
        assert "not a date" not in str(screen.query_one("#report-status", Static).render())
        by = screen.query_one("#report-by", Select)
        by.focus()
        scan_burst(app, "5449000000996")  # into the period choice: its Enter would have opened the list
        await settle(app, pilot)
        assert not by.expanded and by.value == "day" and app.screen is screen
        assert len([n for n in app._notifications if "5449000000996" in n.message]) == 3
        table.focus()
        await pilot.press("enter")  # a person's Enter still drills
        await settle(app, pilot)
        assert isinstance(app.screen, ReportsScreen) and app.screen.report_name == "best-sellers"


async def test_enter_on_a_shrinkage_day_lists_that_days_losses_by_product(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(ReportsScreen("shrinkage", Options(start=DAY - dt.timedelta(days=1), end=DAY)))
        await settle(app, pilot)
        await pilot.press("ctrl+n", "ctrl+n")  # by day
        screen = app.screen
        assert screen.current.name == "periods"
        table = screen.query_one("#report-table", DataTable)
        table.focus()
        await pilot.press("down", "enter")  # the shop's day, with the damaged eggs
        await settle(app, pilot)
        drilled = app.screen
        assert drilled is not screen and drilled.report_name == "shrinkage" and drilled.current.name == "products"
        assert drilled.report.params["from"] == drilled.report.params["to"] == DAY.isoformat()
        assert [(r["sku"], r["units"]) for r in drilled.current.rows] == [("EGGS-6", -1000)]


async def test_empty_date_fields_show_the_days_the_report_covers(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(ReportsScreen("sales"))  # the default range: the last 30 days
        await settle(app, pilot)
        screen = app.screen
        start, end = screen.query_one("#report-from", Input), screen.query_one("#report-to", Input)
        assert (start.value, end.value) == ("", "")
        assert (start.placeholder, end.placeholder) == (screen.report.params["from"], screen.report.params["to"])
        screen.query_one("#report-name", Select).value = "valuation"  # now, no range
        await settle(app, pilot)
        assert screen.report.name == "valuation" and start.placeholder == "YYYY-MM-DD"
