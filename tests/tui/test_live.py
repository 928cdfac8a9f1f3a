"""Another process changes stock: the stock table and the alert pane follow without a key pressed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.tui.conftest import settle

ROOT = Path(__file__).resolve().parents[2]

SELL = """
import sys
from shopkeeper.db import open_database
from shopkeeper.services import sales
from shopkeeper.services.context import Context
open_database(sys.argv[1])
sales.sell(Context(staff="Ana", terminal="till-2"), [sales.LineInput("MILK-1L", 20000)], payment="card")
"""


def row_for(table, sku):
    for i in range(table.row_count):
        row = table._row_at(i)
        if row is not None and row.sku == sku:
            return row
    return None


async def test_sale_by_another_process_shows_up_without_a_key(shop, make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        screen.table._move_to(8)  # somewhere in the middle: the cursor must stay on its product
        await pilot.pause()
        cursor_sku = screen.table.cursor_row.sku
        assert row_for(screen.table, "MILK-1L").on_hand == 28_000
        assert row_for(screen.alerts, "MILK-1L") is None
        subprocess.run([sys.executable, "-c", SELL, str(shop)], check=True, cwd=ROOT, timeout=30)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            await pilot.pause(0.1)
            await app.workers.wait_for_complete()
            alert = row_for(screen.alerts, "MILK-1L")
            if alert is not None and row_for(screen.table, "MILK-1L").on_hand == 8_000:
                break
        assert row_for(screen.table, "MILK-1L").on_hand == 8_000
        assert row_for(screen.alerts, "MILK-1L").suggested == 24_000
        assert screen.table.cursor_row.sku == cursor_sku
        assert any("MILK-1L" in str(n.message) and n.title == "Low stock" for n in app._notifications)


async def test_cursor_follows_its_product_when_the_order_changes(shop, make_app):
    from shopkeeper.services import stock
    from shopkeeper.services.context import Context

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        screen.sort_by("on_hand")
        await settle(app, pilot)
        screen.table._move_to(0)
        await pilot.pause()
        assert screen.table.cursor_row.sku == "SOAP-BAR"
        stock.receive(Context(staff="Sam", terminal="till-1"), "SOAP-BAR", 100_000, 140)
        app.data_changed()  # our own commit: the app is told, as the screens do after a service call
        await settle(app, pilot)
        assert screen.table.cursor_row.sku == "SOAP-BAR"
        assert screen.table.cursor == 11  # now the most stocked


async def test_two_changes_before_the_index_arrives_keep_the_cursor_on_its_product(shop, make_app):
    """Our own commit and then the poll noticing it reload the table twice; the second must not take whatever row
    the new order put under the cursor."""
    from shopkeeper.services import stock
    from shopkeeper.services.context import Context

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        screen.sort_by("on_hand")
        await settle(app, pilot)
        screen.table.reset()  # the index is not read yet: rows come by OFFSET
        assert screen.table.cursor_row.sku == "SOAP-BAR"
        stock.receive(Context(staff="Sam", terminal="till-1"), "SOAP-BAR", 100_000, 140)
        screen.table.reload()
        screen.table.reload()  # its index worker replaces (cancels) the first one's
        while any(worker.is_running for worker in app.workers):
            await pilot.pause(0.02)
        await pilot.pause()
        assert screen.table.cursor_row.sku == "SOAP-BAR"
        assert screen.table.cursor == 11


@pytest.mark.sqlite_only  # PostgreSQL links every row at its commit
async def test_a_quiet_till_has_its_last_sales_sealed_into_the_chain(shop, make_app, monkeypatch):
    """SQLite links rows to the hash chain in batches; a till that made a sale and then went quiet has it linked
    by the app's poll once the first unlinked commit is ``SEAL_WITHIN`` old, with no further commit."""
    from shopkeeper.services import chain, sales
    from shopkeeper.services.context import Context

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        chain.seal_pending()
        monkeypatch.setattr(chain, "SEAL_EVERY", 1000)
        sales.sell(Context(staff="Ana", terminal="till-1"), [sales.LineInput("MILK-1L", 1000)], payment="card")
        assert chain.unsealed()["sale"] == 1
        monkeypatch.setattr(chain, "SEAL_WITHIN", 0.0)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and chain.unsealed()["sale"]:
            await pilot.pause(0.1)
            await app.workers.wait_for_complete()
        assert chain.unsealed() == {"movement": 0, "sale": 0, "audit": 0}
