"""`shopkeeper reorder …`: explain reads as a shop owner talks, unknown SKUs are a clear exit 2."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from shopkeeper.db import close_database, open_database
from shopkeeper.models import Product, ProductSupplier, Supplier
from shopkeeper.services.context import Context
from tests.test_demand import history


pytestmark = pytest.mark.usefixtures("utc")  # local days are UTC days here


def _shop(run) -> None:
    """A best seller that ran out for a week, sold through the journal up to yesterday, with a supplier."""
    import tests.test_demand as td

    run("init")
    open_database(run.db)
    try:
        today = dt.date.today()
        td.TODAY, saved = today, td.TODAY
        try:
            ctx = Context(staff="t", terminal="t1")
            wanted = [20] * 56
            # sold out at the end of day 41, empty for a week, a delivery on the morning of day 49
            history(ctx, "OIL", wanted, opening=42 * 20, restock={49: 200})
            acme = Supplier.create(name="Acme", lead_days=3, review_days=7, min_order=0)
            ProductSupplier.create(product=Product.get(Product.sku == "OIL"), supplier=acme, preferred=True,
                                   item_code="AC-1", pack_size=12_000, pack_cost=1200)
        finally:
            td.TODAY = saved
    finally:
        close_database()


def test_explain_reads_every_figure_in_words(run):
    _shop(run)
    code, out, err = run("reorder", "recompute")
    assert code == 0, err
    assert "learned the reorder points of 1 automatic products" in out
    code, out, err = run("reorder", "explain", "OIL")
    assert code == 0, err
    for words in ("Sales history: the 56 days", "days out of stock, left out:  8", "days counted:                 48",
                  "ran out during the day:       1",
                  "average daily sales:          20 pcs", "lead time 3 days + 7 days until the next order = 10 days",
                  "service level 95%", "learned reorder point", "on hand", "inventory position",
                  "learned from what sells (automatic)"):
        assert words in out, words
    code, out, _ = run("reorder", "explain", "OIL", "--json")
    data = json.loads(out)
    assert (data["days_out_of_stock"], data["days_counted"], data["average_daily"]) == (8, 48, 20.0)
    assert data["learned_reorder_point"] == 200 and data["mode"] == "auto"


def test_explain_of_a_low_product_shows_pack_rounding_and_the_order(run):
    _shop(run)
    run("reorder", "set", "OIL", "250")
    code, out, err = run("reorder", "explain", "OIL")
    assert code == 0, err
    assert "typed by hand (manual)" in out and "rounded up to whole packs of 12 pcs" in out
    assert "suggested order:" in out
    code, out, _ = run("reorder", "list", "--json")
    (line,) = json.loads(out)
    assert line["sku"] == "OIL" and line["supplier"] == "Acme" and line["quantity"] % 12 == 0
    code, out, _ = run("reorder", "auto", "OIL")
    assert code == 0 and "learned from sales: 200" in out


def test_unknown_sku_or_supplier_is_exit_2_with_a_clear_message(run):
    run("init")
    code, _, err = run("reorder", "explain", "NOPE")
    assert code == 2 and "unknown product 'NOPE'" in err
    code, _, err = run("reorder", "list", "--supplier", "Nobody")
    assert code == 2 and "unknown supplier 'Nobody'" in err
    code, _, err = run("reorder", "set", "NOPE", "5")
    assert code == 2
