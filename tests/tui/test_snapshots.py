"""SVG snapshots at 80×24 of the stock screen, the alert pane, the product screen, the count screen, the till (a sale
and a refund), receive, the journal, the ordering screens (suppliers, one purchase order, receiving against it) and
the Till screen (an X report).

The shop is seeded with fixed timestamps and times are shown in UTC (see conftest), the cursor does not blink,
and notifications are cleared before the picture is taken. Update with ``--snapshot-update`` after checking the
pictures by eye.
"""

from __future__ import annotations

import pytest

from tests.tui.conftest import settle

pytestmark = pytest.mark.sqlite_only  # one picture per screen; the flows run on both databases

SIZE = (80, 24)


def _before(*keys: str, focus: str | None = None):
    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(app, pilot)
        for key in keys:
            if key.startswith("open:"):  # a screen with no key of its own, as the command palette opens it
                app.action_open(key.removeprefix("open:"))
            else:
                await pilot.press(key)
            await settle(app, pilot)
        if focus:
            app.screen.query_one(focus).focus()
        await settle(app, pilot)
        app.clear_notifications()
        await pilot.pause()

    return run_before


def test_stock_screen(shop, make_app, snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before())


def test_stock_screen_filtered_and_sorted(shop, make_app, snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before(*"butter", "f7", "f7", "f8"))


def test_alert_pane_focused(shop, make_app, snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before("down", focus="#alert-table"))


def test_product_screen(shop, make_app, snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before(*"MILK-1L", "enter"))


def test_product_journal(shop, make_app, snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before(*"MILK-1L", "enter", "f6"))


def test_count_screen(shop, make_app, snap_compare):
    keys = ("f5", *"MILK-1L", "enter", *"25", "enter", *"CANDLE", "enter", "7", "enter", *"TEA-EB", "enter",
            "3", "enter", *"SOAP-BAR", "enter")
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before(*keys))


def test_sell_screen(shop, make_app, snap_compare):
    keys = ("f2", *"MILK-1L", "enter", *"BREAD-SD", "enter", *"CANDLE", "enter", "up")
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before(*keys))


def test_sell_refund(shop, make_app, snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before("f2", "ctrl+f", "1", "enter", "enter"))


def test_receive_screen(shop, make_app, snap_compare):
    keys = ("f3", *"OLIVES-KG", "enter", *"2.5", "enter", *"8.30", "enter", *"INV-2026-000123", "enter",
            *"CANDLE", "enter", "6", "enter", *"12.345")
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before(*keys))


def test_journal_screen(shop, make_app, snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before("f6"))


def _order_in_progress(ctx, tmp_path) -> int:
    """A sent order to the dairy, its butter half received, at fixed times."""
    from unittest import mock

    from shopkeeper.services import ordering, suppliers

    fixed = "2026-01-06T08:30:00.000000Z"
    with mock.patch("shopkeeper.services.ordering.utcnow", lambda: fixed), \
            mock.patch("shopkeeper.services.stock.utcnow", lambda: fixed):
        suppliers.link_product(ctx, "BUTTER-250", "Hill Farm Dairy", item_code="HF-B250", pack_size=12_000,
                               pack_cost=1_800)
        suppliers.link_product(ctx, "EGGS-6", "Hill Farm Dairy", item_code="HF-E6", pack_size=10_000, pack_cost=1_700)
        order = ordering.create_order(ctx, "Hill Farm Dairy")
        ordering.add_line(ctx, order.id, "BUTTER-250", packs=2_000)
        ordering.add_line(ctx, order.id, "EGGS-6", packs=1_000)
        ordering.add_line(ctx, order.id, "MILK-1L", quantity=24_000, unit_cost=80)
        ordering.send_order(ctx, order.id, out_dir=tmp_path / "sent")
        ordering.receive_against(ctx, order.id, [("BUTTER-250", 12_000), ("EGGS-6", 12_000)])
    return order.id


def test_suppliers_screen(shop, make_app, till_ctx, tmp_path, snap_compare):
    _order_in_progress(till_ctx, tmp_path)
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before("open:suppliers", *["down"] * 5))


def test_purchase_order_screen(shop, make_app, till_ctx, tmp_path, snap_compare):
    _order_in_progress(till_ctx, tmp_path)
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before("open:orders", "enter"))


def test_receive_against_order_screen(shop, make_app, till_ctx, tmp_path, snap_compare):
    _order_in_progress(till_ctx, tmp_path)
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before("open:orders", "enter", "f3", *"MILK-1L",
                                                                           "enter"))
def test_till_screen_x_report(shop, make_app, snap_compare, till_ctx, monkeypatch):
    from shopkeeper.services import till_session

    monkeypatch.setattr(till_session, "utcnow", lambda: "2026-01-05T09:00:00.000000Z")
    till_session.open(till_ctx, 15000)
    till_session.cash_out(till_ctx, 500, "window cleaner")
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before("f11"))
