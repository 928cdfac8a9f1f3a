"""The sell screen, driven by keys at 80×24: every path from scan to payment, refunds, and scans that must never
be lost."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shopkeeper.config import Config
from shopkeeper.models import Movement, OpenSale, Product, Sale, SaleLine
from shopkeeper.services import catalog, till
from shopkeeper.tui.screens.sell import PromptScreen, SellScreen, UnknownCodeScreen
from tests.services.test_till import LAYOUTS, lookup_code, scale_label
from tests.tui.conftest import press_alone, settle

SIZE = (80, 24)
MILK, COFFEE = "4006381333931", "8711000530085"
ROOT = Path(__file__).resolve().parents[2]


async def open_sell(app, pilot) -> SellScreen:
    await settle(app, pilot)
    await pilot.press("f2")
    await settle(app, pilot)
    assert isinstance(app.screen, SellScreen)
    return app.screen


def rows(screen: SellScreen) -> list[tuple[str, str]]:
    """(item, qty) as shown in the sale lines."""
    from shopkeeper.tui.widgets.sale_lines import SaleLinesView

    view = screen.query_one("#lines", SaleLinesView)
    return [(view.get_row(i)[1], view.get_row(i)[2]) for i in range(view.row_count)]


def last_sale() -> Sale:
    return Sale.select().order_by(Sale.id.desc()).first()


async def type_code(pilot, text: str) -> None:
    await pilot.press(*text, "enter")


def wedge(app, code: str) -> None:
    """A keyboard-emulating scanner: the code's keys and Enter arrive back to back, as fast as the terminal
    delivers them (all queued before the app handles the first)."""
    from textual import events

    for ch in code:
        app.post_message(events.Key(ch, ch))
    app.post_message(events.Key("enter", "\r"))


async def test_scan_and_repeat_scan_add_to_one_line(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        app.deliver_scan(MILK)
        await type_code(pilot, MILK)
        app.deliver_scan(COFFEE)
        await settle(app, pilot)
        assert rows(screen) == [("Whole milk 1 l", "2"), ("Coffee beans 500 g", "1")]
        assert "TOTAL EUR 14.08" in str(screen.query_one("#totals").content)


async def test_quantity_typed_before_a_scan(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        await pilot.press("6", "*")
        app.deliver_scan(MILK)  # the scanner (evdev) after "6*" typed by the cashier
        await settle(app, pilot)
        await type_code(pilot, "2*WINE-RED")  # all typed
        await type_code(pilot, "3*")  # quantity, then Enter: waits for the item
        await type_code(pilot, COFFEE)
        await settle(app, pilot)
        assert rows(screen) == [("Whole milk 1 l", "6"), ("House red wine 75 cl", "2"),
                                ("Coffee beans 500 g", "3")]
        assert screen.code_input.value == ""


async def test_ten_scans_fired_at_once_make_ten_units(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        for _ in range(10):  # as fast as the scan source delivers: no await between them
            app.deliver_scan(MILK)
        await settle(app, pilot)
        assert rows(screen) == [("Whole milk 1 l", "10")]
        for _ in range(10):  # and ten wedge bursts typed back to back into the code field
            wedge(app, COFFEE)
        await settle(app, pilot)
        assert rows(screen)[1] == ("Coffee beans 500 g", "10")
        assert till.current_sale(app.ctx).units == 20_000


async def test_unknown_code_creates_the_product_there(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        await type_code(pilot, "2*9780306406157")
        await settle(app, pilot)
        assert isinstance(app.screen, UnknownCodeScreen)
        await press_alone(app, pilot, "c")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptScreen)
        for text in ("BOOK-1", "A book", "pcs", "19.99"):
            await pilot.press("ctrl+u", *text, "enter")
        await settle(app, pilot)
        assert app.screen is screen
        assert rows(screen) == [("A book", "2")]
        assert catalog.find_product("9780306406157").sku == "BOOK-1"


async def test_unknown_code_sold_as_one_off(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        await type_code(pilot, "HANDMADE-MUG")
        await settle(app, pilot)
        await press_alone(app, pilot, "o")
        await settle(app, pilot)
        await type_code(pilot, "Handmade mug")
        await type_code(pilot, "12.50")
        await settle(app, pilot)
        assert rows(screen) == [("Handmade mug", "1")]
        await press_alone(app, pilot, "f8", "enter")
        await settle(app, pilot)
        sale = last_sale()
        assert sale.total == 1250 and SaleLine.get(SaleLine.sale == sale).product is None


async def test_unknown_code_cancelled_adds_nothing(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        await type_code(pilot, "NOPE-1")
        await settle(app, pilot)
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is screen and rows(screen) == []


async def test_weighed_item_from_a_scale_label(demo_db, db_path, till_ctx):
    from shopkeeper.tui.app import ShopkeeperApp

    olives = catalog.find_product("OLIVES-KG")
    catalog.set_barcodes(olives, [lookup_code("28", "12345")])
    app = ShopkeeperApp(str(db_path), Config(extra={"barcodes": LAYOUTS}), till_ctx, poll_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        app.deliver_scan(scale_label("28", "12345", "0250"))
        await settle(app, pilot)
        assert rows(screen) == [("Kalamata olives (loose) ⚖", "0.25 kg")]
        await press_alone(app, pilot, "f8", "enter")
        await settle(app, pilot)
        assert Movement.select().where(Movement.sale == last_sale()).get().quantity == -250


async def test_remove_line_and_change_quantity(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        for code in (MILK, COFFEE, "WINE-RED"):
            app.deliver_scan(code)
        await settle(app, pilot)
        await pilot.press("up", "ctrl+r")  # the coffee
        await settle(app, pilot)
        assert [r[0] for r in rows(screen)] == ["Whole milk 1 l", "House red wine 75 cl"]
        await pilot.press("up", "ctrl+t", "ctrl+u", *"4", "enter")  # milk to 4
        await settle(app, pilot)
        assert rows(screen)[0] == ("Whole milk 1 l", "4")
        await pilot.press("ctrl+t", "ctrl+u", "0", "enter")  # zero removes it
        await settle(app, pilot)
        assert rows(screen) == [("House red wine 75 cl", "1")]


async def test_long_sale_scrolls_to_the_newest_line_and_back(demo_db, make_app):
    from shopkeeper.tui.widgets.sale_lines import SaleLinesView

    for n in range(20):
        catalog.save_product(catalog.ProductData(sku=f"T-{n:02d}", name=f"Test item {n:02d}", price=100, unit="pcs"),
                             default_tax_rate=20_000)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        for n in range(10):  # one at a time, each painted
            app.deliver_scan(f"T-{n:02d}")
            await settle(app, pilot)
        for n in range(10, 20):  # a quick run: the first line past the bottom is handled before the next layout
            app.deliver_scan(f"T-{n:02d}")
        await settle(app, pilot)
        view = screen.query_one("#lines", SaleLinesView)

        def shown() -> list[str]:
            return [view.render_line(y).text for y in range(view.scrollable_content_region.height)]

        assert view.row_count == 20 and view.cursor_row == 19 and view.cursor_key == screen.selected
        assert "Test item 19" in shown()[-1] and not any("Test item 00" in row for row in shown())
        await pilot.press(*["up"] * 19)
        await settle(app, pilot)
        assert view.cursor_row == 0 and "Test item 00" in shown()[1]
        await pilot.click("#lines", offset=(8, 2))  # a click chooses the line under it
        await settle(app, pilot)
        assert view.cursor_row == 1 and screen.selected == view.cursor_key
        await pilot.press("up")
        await pilot.press("ctrl+r")  # the chosen line, scrolled back into view
        await settle(app, pilot)
        assert view.row_count == 19 and rows(screen)[0] == ("Test item 01", "1")


async def test_line_and_sale_discounts(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        app.deliver_scan(COFFEE)  # 11.50
        app.deliver_scan("WINE-RED")  # 8.99
        await settle(app, pilot)
        await pilot.press("up", "ctrl+l", *"10%", "enter")  # 1.15 off the coffee
        await settle(app, pilot)
        await pilot.press("ctrl+b", *"1.34", "enter")
        await settle(app, pilot)
        assert screen.draft.total == 1150 - 115 + 899 - 134
        totals = str(screen.query_one("#totals").content)
        assert "Sale disc -1.34" in totals and "TOTAL EUR 18.00" in totals
        await press_alone(app, pilot, "f8", "enter")
        await settle(app, pilot)
        assert last_sale().total == 1800 and last_sale().discount == 134


async def test_void(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        app.deliver_scan(MILK)
        await settle(app, pilot)
        sales = Sale.select().count()
        await pilot.press("ctrl+n")
        await settle(app, pilot)
        await press_alone(app, pilot, "y")
        await settle(app, pilot)
        assert rows(screen) == [] and Sale.select().count() == sales
        assert not OpenSale.select().where(OpenSale.status == "open").join(OpenSale.lines.rel_model).exists()


async def test_park_serve_another_and_resume(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        app.deliver_scan(MILK)
        await settle(app, pilot)
        await pilot.press("ctrl+y", *"forgot purse", "enter")
        await settle(app, pilot)
        assert rows(screen) == []
        app.deliver_scan(COFFEE)
        await settle(app, pilot)
        await press_alone(app, pilot, "f8", "enter")  # the next customer pays
        await settle(app, pilot)
        await pilot.press("ctrl+o")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert rows(screen) == [("Whole milk 1 l", "1")]
        assert till.parked_sales() == []


async def test_cash_with_change(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        await type_code(pilot, "3*" + MILK)  # 3.87
        await pilot.press("f7")
        await settle(app, pilot)
        await type_code(pilot, "5")
        await settle(app, pilot)
        sale = last_sale()
        assert (sale.total, sale.payment, sale.tendered, sale.change) == (387, "cash", 500, 113)
        assert "CHANGE 1.13" in str(screen.query_one("#status").content)
        assert rows(screen) == [], "a new sale starts"


async def test_cash_short_is_a_part_payment_and_escape_keeps_the_sale(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        app.deliver_scan(COFFEE)
        await settle(app, pilot)
        sales_before = Sale.select().count()
        await pilot.press("f7")
        await type_code(pilot, "5")  # 5.00 of 11.50 in cash: a part of a split payment, 6.50 still to pay
        await settle(app, pilot)
        dialog = app.screen
        assert "Remaining 6.50" in str(dialog.query_one("#pay-remaining").content)
        await pilot.press("escape")  # cancelled: nothing is taken, the sale stays open
        await settle(app, pilot)
        assert rows(screen) == [("Coffee beans 500 g", "1")] and Sale.select().count() == sales_before


async def test_card_payment(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_sell(app, pilot)
        app.deliver_scan(COFFEE)
        await settle(app, pilot)
        before = Product.get(Product.sku == "COFFEE-500").on_hand
        await press_alone(app, pilot, "f8", "enter")
        await settle(app, pilot)
        assert (last_sale().payment, last_sale().total, last_sale().tendered) == ("card", 1150, None)
        assert Product.get(Product.sku == "COFFEE-500").on_hand == before - 1000


async def test_refund_against_a_sale(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        app.deliver_scan(MILK)
        app.deliver_scan(COFFEE)
        await settle(app, pilot)
        await press_alone(app, pilot, "f8", "enter")
        await settle(app, pilot)
        sold = last_sale()
        await pilot.press("ctrl+f", *str(sold.id), "enter", "enter")
        await settle(app, pilot)
        assert "REFUND against sale" in str(screen.query_one("#sale-mode").content)
        assert "(paid card)" in str(screen.query_one("#sale-mode").content)
        await pilot.press("ctrl+r")  # keep only the milk
        await settle(app, pilot)
        await pilot.press("f7")  # the payment dialog, on "as paid"; F7 there chooses cash
        await settle(app, pilot)
        await press_alone(app, pilot, "f7", "enter")
        await settle(app, pilot)
        refund = last_sale()
        assert (refund.kind, refund.original_id, refund.total, refund.payment) == ("return", sold.id, -129, "cash")


async def test_refund_without_receipt_needs_a_reason(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        await pilot.press("ctrl+f", "enter", "enter")
        await settle(app, pilot)
        assert screen.draft.mode == "sale"
        assert any("needs a reason" in n.message for n in app._notifications)
        await pilot.press("ctrl+f", "enter", *"faulty", "enter")
        await settle(app, pilot)
        app.deliver_scan(COFFEE)
        await settle(app, pilot)
        await press_alone(app, pilot, "f8", "enter")
        await settle(app, pilot)
        assert (last_sale().kind, last_sale().total, last_sale().reason) == ("return", -1150, "faulty")


async def test_scan_during_a_dialog_is_refused_not_lost_silently(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        app.deliver_scan(MILK)
        await settle(app, pilot)
        await pilot.press("ctrl+t")
        await settle(app, pilot)
        app.deliver_scan(COFFEE)
        await settle(app, pilot)
        wedge(app, COFFEE)  # a wedge scan into the quantity field
        await settle(app, pilot)
        assert sum("NOT added" in n.message for n in app._notifications) == 2
        assert isinstance(app.screen, PromptScreen), "the wedge burst did not submit the quantity"
        await pilot.press("escape")
        await settle(app, pilot)
        assert rows(screen) == [("Whole milk 1 l", "1")]


async def test_escape_backs_out_and_the_sale_stays_open(demo_db, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        app.deliver_scan(MILK)
        await settle(app, pilot)
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is not screen
        screen = await open_sell(app, pilot)
        assert rows(screen) == [("Whole milk 1 l", "1")]


async def test_open_sale_survives_the_app_being_killed(demo_db, db_path, make_app):
    """An app process scans two items and is killed -9; a new app at the same terminal resumes the sale."""
    code = (
        "import asyncio, os, signal\n"
        "from shopkeeper.config import Config\n"
        "from shopkeeper.db import open_database\n"
        "from shopkeeper.services.context import Context\n"
        "from shopkeeper.tui.app import ShopkeeperApp\n"
        f"open_database({str(db_path)!r})\n"
        "app = ShopkeeperApp('x', Config(), Context(staff='Sam', terminal='till-1'))\n"
        "async def main():\n"
        "    async with app.run_test(size=(80, 24)) as pilot:\n"
        "        await pilot.pause(); await pilot.press('f2'); await pilot.pause()\n"
        f"        await pilot.press(*{MILK!r}, 'enter', *'2*{COFFEE}', 'enter'); await pilot.pause()\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "asyncio.run(main())\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, env=env, cwd=ROOT)
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_sell(app, pilot)
        assert rows(screen) == [("Whole milk 1 l", "1"), ("Coffee beans 500 g", "2")]


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=10).stdout


@pytest.mark.slow
@pytest.mark.requires("tmux")
def test_wedge_scan_in_the_real_app_is_paid_and_journaled(demo_db, db_path):
    """The real app in tmux at 80×24: a scanner burst typed into the terminal, paid by card, found in the journal."""
    from shopkeeper.db import close_database, open_database

    close_database()
    session = f"sk-sell-{os.getpid()}"
    env = f"PYTHONPATH={ROOT} TEXTUAL_ANIMATIONS=none"
    cmd = f"cd {ROOT} && env {env} {sys.executable} -m shopkeeper --db {db_path} --staff Ana --terminal tmux-1"
    _tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", cmd)
    try:
        def wait_for(text: str, timeout: float = 20) -> str:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                screen = _tmux("capture-pane", "-t", session, "-p")
                if text in screen:
                    return screen
                time.sleep(0.1)
            raise AssertionError(f"{text!r} never appeared:\n{screen}")

        wait_for("staff: Ana")
        _tmux("send-keys", "-t", session, "F2")
        wait_for("scan or type a code")
        _tmux("send-keys", "-t", session, "-l", MILK + "\r")  # one burst, as a wedge scanner types it
        _tmux("send-keys", "-t", session, "-l", MILK + "\r")
        wait_for("Whole milk 1 l")
        wait_for("TOTAL EUR 2.58")
        _tmux("send-keys", "-t", session, "F8")
        wait_for("Remaining 2.58")  # the payment dialog on card: Enter charges the rest
        _tmux("send-keys", "-t", session, "Enter")
        wait_for("✓ Sale #")
        _tmux("send-keys", "-t", session, "C-q")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and session in _tmux("list-sessions"):
            time.sleep(0.1)
    finally:
        _tmux("kill-session", "-t", session)
    open_database(str(db_path))
    sale = last_sale()
    assert (sale.total, sale.payment, sale.terminal.name, sale.staff.name) == (258, "card", "tmux-1", "Ana")
    (movement,) = Movement.select().where(Movement.sale == sale)
    assert (movement.product.sku, movement.kind, movement.quantity) == ("MILK-1L", "sale", -2000)
    journal = subprocess.run([sys.executable, "-m", "shopkeeper", "--db", str(db_path), "--json", "journal",
                              "--product", "MILK-1L"], capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                             cwd=ROOT, timeout=60)
    assert journal.returncode == 0, journal.stderr
    assert f"sale:{sale.id}" in journal.stdout
