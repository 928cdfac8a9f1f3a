"""Every table by keyboard alone, on a shop of 100,000 products: Tab and Shift+Tab between the panes, Home, End,
PgUp and PgDn on the rows (the cursor row, and the product painted on that line of the screen)."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from bench.make_shop import build_shop
from shopkeeper.db import close_database, open_database
from shopkeeper.models import Product
from shopkeeper.services import queries
from shopkeeper.services.queries import StockQuery
from shopkeeper.tui.screens.stock import StockScreen
from shopkeeper.tui.widgets.virtual_table import VirtualTable
from tests.tui.conftest import screen_lines, settle

SIZE = (80, 24)
PRODUCTS = 100_000
LOW = 200  # products at or below their reorder point: more than the low-stock pane shows at once

# The 100k shop is a SQLite file built once and copied for each test; on PostgreSQL the same table at 100k products
# is measured by bench/bench_filter.py, and the keys on a small shop by the other TUI tests.
pytestmark = pytest.mark.sqlite_only


@pytest.fixture(scope="session")
def built_big_shop(tmp_path_factory):
    """A 100k-product shop, bulk-inserted once per test session (a few seconds), with ``LOW`` products low."""
    path = build_shop(tmp_path_factory.mktemp("big") / "big.db", PRODUCTS, PRODUCTS, quiet=True)
    con = sqlite3.connect(path)
    with con:
        con.execute("UPDATE product SET reorder_point = on_hand + 1000 WHERE id % ? = 0", (PRODUCTS // LOW,))
    con.close()
    return path


@pytest.fixture
def big_shop(built_big_shop, db_path):
    """A fresh copy of the 100k shop for this test, opened."""
    shutil.copy(built_big_shop, db_path)
    database = open_database(str(db_path))
    yield database
    close_database()


def sku_at(position: int) -> str:
    """The SKU of the product at ``position`` in the stock table's default order (by name)."""
    product_id = queries.stock_ids(StockQuery())[position]
    return Product.get_by_id(product_id).sku


def assert_cursor_shows(app, table: VirtualTable, position: int) -> None:
    """The cursor is on row ``position``, that row is the expected product, and the screen line the cursor is on
    shows that product."""
    assert table.cursor == position
    sku = sku_at(position)
    assert table.cursor_row.sku == sku
    line = table.region.y + 1 + position - int(table.scroll_y)  # + 1: the header line
    assert table.region.y < line < table.region.bottom
    assert sku in screen_lines(app)[line]


async def test_tab_and_shift_tab_move_between_filter_stock_table_and_low_stock_list(big_shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, StockScreen)
        assert app.focused.id == "filter"
        order = []
        for _ in range(3):
            await pilot.press("tab")
            order.append(app.focused.id)
        assert order == ["stock", "alert-table", "filter"]
        back = []
        for _ in range(3):
            await pilot.press("shift+tab")
            back.append(app.focused.id)
        assert back == ["alert-table", "stock", "filter"]


async def test_home_end_pageup_pagedown_on_the_100k_stock_table(big_shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.screen.table
        assert table.row_count == PRODUCTS
        await pilot.press("tab")
        assert app.focused is table
        page = table.page_height
        assert page > 5

        await pilot.press("end")
        await settle(app, pilot)
        assert_cursor_shows(app, table, PRODUCTS - 1)

        await pilot.press("home")
        await settle(app, pilot)
        assert_cursor_shows(app, table, 0)

        await pilot.press("pagedown")
        await settle(app, pilot)
        assert_cursor_shows(app, table, page)
        assert int(table.scroll_y) == page  # the rows moved a page with the cursor

        await pilot.press("pagedown")
        await settle(app, pilot)
        assert_cursor_shows(app, table, 2 * page)

        await pilot.press("pageup")
        await settle(app, pilot)
        assert_cursor_shows(app, table, page)

        await pilot.press("end", "pageup")
        await settle(app, pilot)
        assert_cursor_shows(app, table, PRODUCTS - 1 - page)

        await pilot.press("end", "pagedown")  # at the end already: stays on the last row
        await settle(app, pilot)
        assert_cursor_shows(app, table, PRODUCTS - 1)

        await pilot.press("home", "pageup")
        await settle(app, pilot)
        assert_cursor_shows(app, table, 0)


async def test_home_and_end_in_the_filter_move_the_table(big_shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.screen.table
        assert app.focused.id == "filter"
        await pilot.press("end")
        await settle(app, pilot)
        assert_cursor_shows(app, table, PRODUCTS - 1)
        await pilot.press("pageup", "home")
        await settle(app, pilot)
        assert_cursor_shows(app, table, 0)
        assert app.focused.id == "filter"


async def test_end_before_the_row_count_is_known_still_reaches_the_last_row(big_shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.screen.table
        await pilot.press(*"Product", "end")  # a new query: its row count is read in a thread a moment later
        await settle(app, pilot)
        assert table.count_known and table.row_count == PRODUCTS
        assert table.cursor == PRODUCTS - 1
        assert table.cursor_row is not None


async def test_keys_on_the_low_stock_list(big_shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        alerts = app.screen.alerts
        low = queries.low_stock_count()
        assert alerts.row_count == low == LOW
        assert alerts.page_height > 2
        await pilot.press("shift+tab")
        assert app.focused is alerts
        await pilot.press("end")
        await settle(app, pilot)
        assert alerts.cursor == low - 1
        assert alerts.cursor_row.sku == queries.low_stock_window(low - 1, 1)[0].sku
        await pilot.press("pageup")
        await settle(app, pilot)
        assert alerts.cursor == low - 1 - alerts.page_height
        await pilot.press("home", "pagedown")
        await settle(app, pilot)
        assert alerts.cursor == alerts.page_height
        assert alerts.cursor_row.sku == queries.low_stock_window(alerts.page_height, 1)[0].sku
