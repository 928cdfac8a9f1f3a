"""SVG snapshots at 80×24 of the stock screen, the alert pane, the product screen, the count screen, the till (a sale
and a refund), receive, the journal and the Till screen (an X report).

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


def test_till_screen_x_report(shop, make_app, snap_compare, till_ctx, monkeypatch):
    from shopkeeper.services import till_session

    monkeypatch.setattr(till_session, "utcnow", lambda: "2026-01-05T09:00:00.000000Z")
    till_session.open(till_ctx, 15000)
    till_session.cash_out(till_ctx, 500, "window cleaner")
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before("f12"))
