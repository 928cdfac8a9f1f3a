"""Several tills on one PostgreSQL server: each screen hears the others' commits without a key pressed, and a lost
server is shown, retried and survived with the open sale kept. Needs $SHOPKEEPER_TEST_PG."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shopkeeper.config import Config
from shopkeeper.db import close_database, open_database
from tests.tcp_proxy import TcpProxy
from tests.test_live_notify import URL, wipe
from tests.tui.conftest import press_alone, settle
from tests.tui.shop_data import seed_shop

pytestmark = [pytest.mark.requires("postgres"), pytest.mark.slow, pytest.mark.xdist_group("postgres")]
ROOT = Path(__file__).resolve().parents[2]

OTHER_TILL = """
import sys
from shopkeeper.db import open_database
from shopkeeper.services import catalog, sales
from shopkeeper.services.context import Context
open_database(sys.argv[1])
ctx = Context(staff="Ana", terminal="till-2")
if sys.argv[2] == "sell":
    sales.sell(ctx, [sales.LineInput("MILK-1L", 20000)], payment="card")
else:
    catalog.save_product(catalog.ProductData(sku="TEA-EB", name="Earl Grey x80"))
"""


@pytest.fixture
def pg_shop(till_ctx):
    wipe()
    open_database(URL)
    seed_shop(till_ctx)
    yield URL
    close_database()


def other_till(url: str, what: str) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-c", OTHER_TILL, url, what], check=True, cwd=ROOT, timeout=60, env=env)


def row_for(table, sku):
    for i in range(table.row_count):
        row = table._row_at(i)
        if row is not None and row.sku == sku:
            return row
    return None


async def wait_for(app, pilot, done, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        await pilot.pause(0.05)
        await app.workers.wait_for_complete()


async def test_two_tills_on_postgres_see_each_others_sales_and_edits_without_a_key(pg_shop, till_ctx):
    from shopkeeper.tui.app import ShopkeeperApp

    app = ShopkeeperApp(pg_shop, Config(), till_ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert row_for(screen.table, "MILK-1L").on_hand == 28_000
        other_till(pg_shop, "sell")
        await wait_for(app, pilot, lambda: row_for(screen.table, "MILK-1L").on_hand == 8_000
                       and row_for(screen.alerts, "MILK-1L") is not None)
        assert row_for(screen.table, "MILK-1L").on_hand == 8_000
        assert row_for(screen.alerts, "MILK-1L").suggested == 24_000
        # A product edit moves no stock: polling the journal never saw it.
        other_till(pg_shop, "rename")
        await wait_for(app, pilot, lambda: row_for(screen.table, "TEA-EB").name == "Earl Grey x80")
        assert row_for(screen.table, "TEA-EB").name == "Earl Grey x80"
        assert any("MILK-1L" in str(n.message) and n.title == "Low stock" for n in app._notifications)


async def test_a_lost_server_is_shown_payment_waits_and_the_sale_survives(pg_shop, till_ctx):
    from urllib.parse import urlsplit, urlunsplit

    from shopkeeper.models import Sale
    from shopkeeper.tui.app import ShopkeeperApp
    from shopkeeper.tui.screens.sell import SellScreen

    parts = urlsplit(URL)
    proxy = TcpProxy(parts.hostname or "localhost", parts.port or 5432)
    user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    url = urlunsplit((parts.scheme, f"{user}127.0.0.1:{proxy.port}", parts.path, parts.query, ""))
    close_database()
    open_database(url)
    sales_before = Sale.select().count()
    app = ShopkeeperApp(url, Config(), till_ctx)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await pilot.press("f2")
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, SellScreen)
            app.deliver_scan("4006381333931")
            await settle(app, pilot)
            assert [line.sku for line in screen.draft.lines] == ["MILK-1L"]

            proxy.cut()
            await wait_for(app, pilot, lambda: bool(app.server_down))
            assert app.server_down
            bar = str(screen.query_one("TopBar").render())
            assert "SERVER UNREACHABLE" in bar
            await pilot.press("f8")  # card
            await pilot.pause()
            assert any("cannot take payment" in str(n.message) for n in app._notifications)
            await pilot.press("ctrl+o")  # the parked sales: a read on the loop, meeting the lost connection
            await pilot.pause()
            assert app.is_running and app.screen is screen
            assert [line.sku for line in screen.draft.lines] == ["MILK-1L"]  # still on screen

            proxy.resume()
            await wait_for(app, pilot, lambda: not app.server_down, seconds=20)
            assert not app.server_down
            assert "SERVER UNREACHABLE" not in str(screen.query_one("TopBar").render())
            assert [line.sku for line in screen.draft.lines] == ["MILK-1L"]  # the open sale was kept
            await press_alone(app, pilot, "f8", "enter")
            await settle(app, pilot)
            assert screen.draft.empty
            assert Sale.select().count() == sales_before + 1
        assert app.return_code in (0, None)
    finally:
        proxy.close()
