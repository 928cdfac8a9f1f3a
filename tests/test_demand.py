"""Reorder points learned from demand: the pure functions (services/demand.py) and the shop's use of them
(services/reorder.py): censoring, intermittent sellers, pack rounding, minimum order, manual points, inventory
position."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from shopkeeper.config import ConfigError, ReorderSection, parse_config
from shopkeeper.models import Product, ProductSupplier, Supplier
from shopkeeper.services import demand, reorder
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.stock import Entry, post_movements

TODAY = dt.date(2026, 6, 1)


pytestmark = pytest.mark.usefixtures("utc")  # local days are UTC days here


def stamp(day: dt.date, hour: int = 10) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00.000000Z"


def history(ctx, sku: str, daily: list[int], *, opening: int, restock: dict[int, int] | None = None,
            supplier: str | None = None) -> Product:
    """A product with ``opening`` stock received before the window, then ``daily[i]`` units wanted on day i of
    the window (oldest first, ending yesterday). Sales are lost when nothing is on hand (censored demand);
    ``restock`` adds units on the morning of day i. Posted through the journal's own write path."""
    save_product(ProductData(sku=sku, name=sku, supplier=supplier))
    product = Product.get(Product.sku == sku)
    first = TODAY - dt.timedelta(days=len(daily))
    post_movements(ctx, [Entry(product.id, "receive", opening * 1000, 100)],
                   now=stamp(first - dt.timedelta(days=1)))
    stock = opening
    for i, wanted in enumerate(daily):
        day = first + dt.timedelta(days=i)
        if restock and i in restock:
            post_movements(ctx, [Entry(product.id, "receive", restock[i] * 1000, 100)], now=stamp(day, 7))
            stock += restock[i]
        sold = min(wanted, stock)
        if sold:
            post_movements(ctx, [Entry(product.id, "sale", -sold * 1000)], now=stamp(day, 12))
            stock -= sold
    return Product.get_by_id(product.id)


def point(sku: str) -> tuple[int, int, str]:
    p = Product.get(Product.sku == sku)
    return p.reorder_point, p.reorder_qty, p.reorder_mode


# --- the pure functions -------------------------------------------------------------------------------------------

def test_a_day_that_starts_out_of_stock_is_left_out_and_a_day_that_runs_out_counts_at_least_its_sales():
    # Walking back from 5 on hand now (day 0 = today, which received 5):
    # day 1 sold 3 and ended at 0 (ran out) → counted; day 2 received 3 and started at 0 → left out;
    # days 3-4 had no movement at 0 → left out; day 5 sold 2 and ended at 0 (ran out) → counted;
    # days 6-7 had no movement at 2 on hand → counted, as days without demand.
    moves = {0: (0, 5000), 1: (3000, -3000), 2: (0, 3000), 5: (2000, -2000)}
    stats = demand.demand_stats(on_hand=5000, moves=moves, window=7)
    assert (stats.censored, stats.ran_out, stats.days, stats.sold, stats.total) == (3, 2, 4, 5000, 5000)
    assert stats.mean == 1250


def test_a_day_that_ran_out_counts_as_at_least_the_average_in_stock_day():
    # days 2-5 in stock all day selling 10; day 1 ran out after selling 4 (10 on hand at its start: 4 left…)
    moves = {1: (4000, -4000), **{d: (10_000, -10_000) for d in range(2, 6)}}
    stats = demand.demand_stats(on_hand=0, moves=moves, window=5)
    assert (stats.censored, stats.ran_out, stats.sold, stats.total) == (0, 1, 44_000, 50_000)
    assert stats.mean == 10_000 and stats.variance == 0


def test_daily_demand_is_net_of_returns_and_a_net_return_day_is_no_demand():
    moves = {1: (4000, -4000), 2: (-1000, 1000), 3: (2000, -2000)}
    stats = demand.demand_stats(on_hand=100_000, moves=moves, window=4)
    assert (stats.censored, stats.days, stats.sold, stats.demand_days) == (0, 4, 6000, 2)
    assert stats.mean == 1500


def test_syntetos_boylan_classes():
    smooth = demand.demand_stats(100_000, {d: (5000, -5000) for d in range(1, 29)}, 28)
    slow = demand.demand_stats(100_000, {d: (1000, -1000) for d in range(1, 29, 7)}, 28)
    lumpy = demand.demand_stats(100_000, {1: (1000, -1000), 9: (9000, -9000), 20: (1000, -1000)}, 28)
    assert (smooth.pattern, slow.pattern, lumpy.pattern) == ("smooth", "intermittent", "lumpy")


def test_normal_reorder_point_is_demand_over_lead_time_and_review_plus_z_sigma():
    stats = demand.DemandStats(window=56, censored=0, ran_out=0, days=56, sold=560_000, total=560_000,
                               demand_days=56, mean=10_000.0, variance=4_000_000.0, adi=1.0, cv2=0.04)
    f = demand.reorder_figures(stats, lead_days=3, review_days=1, service_level=0.95)
    # 10/day × 4 days + 1.645 × 2 × 2 = 46.58 → 47 units
    assert (f.method, f.horizon, f.expected, f.reorder_point, f.target) == ("normal", 4, 40_000, 47_000, 57_000)
    assert f.safety == 7_000


def test_intermittent_reorder_point_is_a_count_quantile_not_a_normal_one():
    # one unit every 7 days: over 7 days a Poisson(1) count, whose 95 % quantile is 3
    stats = demand.demand_stats(100_000, {d: (1000, -1000) for d in range(1, 57, 7)}, 56)
    f = demand.reorder_figures(stats, lead_days=6, review_days=1, service_level=0.95)
    assert f.method == "poisson"
    assert f.reorder_point == 3000
    assert f.reorder_point % 1000 == 0 and f.target > f.reorder_point


def test_over_dispersed_slow_seller_uses_the_negative_binomial():
    assert demand._count_quantile(1.0, 1.0, 0.95) == (3, "poisson")
    k, name = demand._count_quantile(1.0, 4.0, 0.95)
    assert name == "negative binomial" and k > 3


def test_order_days_give_the_longest_gap_as_review_period():
    assert demand.review_period(7, "mon,thu") == 4
    assert demand.review_period(7, "") == 7
    assert demand.review_period(3, "fri") == 7


def test_pack_rounding_orders_whole_packs():
    assert demand.order_quantity(position=5000, reorder_point=10_000, target=30_000, pack=12_000) == 36_000
    assert demand.order_quantity(position=11_000, reorder_point=10_000, target=30_000, pack=12_000) == 0


def test_min_order_top_up_spreads_packs_across_a_suppliers_lines():
    lines = [{"quantity": 12_000, "pack": 12_000, "pack_cost": 1200, "position": 0, "target": 12_000},
             {"quantity": 6_000, "pack": 6_000, "pack_cost": 600, "position": 0, "target": 6_000}]
    demand.top_up(lines, 5000)
    assert sum(ln["quantity"] // ln["pack"] * ln["pack_cost"] for ln in lines) >= 5000
    assert lines[0]["topped_up"] > 0 and lines[1]["topped_up"] > 0


def test_reorder_config_section_defaults_and_refusals():
    section = parse_config({}).section("reorder")
    assert section == ReorderSection()
    assert str(section.service_level) == "0.95" and section.window_weeks == 8
    with pytest.raises(ConfigError, match="service_level"):
        parse_config({"reorder": {"service_level": "1.2"}})
    with pytest.raises(ConfigError, match="method"):
        parse_config({"reorder": {"method": "magic"}})


# --- the shop -----------------------------------------------------------------------------------------------------

SETTINGS = ReorderSection(default_lead_days=3, default_review_days=1)


def test_a_best_seller_out_of_stock_half_the_window_keeps_its_full_reorder_point(db, ctx):
    history(ctx, "ALWAYS", [20] * 56, opening=5000)
    history(ctx, "HALF", [20] * 56, opening=28 * 20)  # sold out after 28 days, then nothing to sell
    result = reorder.recompute(ctx, settings=SETTINGS, today=TODAY)
    assert result.products == 2 and result.changed == 2
    always, half = point("ALWAYS")[0], point("HALF")[0]
    assert always == 80_000  # 20 a day × (3 + 1) days, no variability: no safety stock
    assert half == always
    learned = {item.product_id: item.stats for item in result.learned}
    # the 28 empty days are left out; the day it sold its last units (it ended at zero) counts
    half_stats = learned[Product.get(Product.sku == "HALF").id]
    assert (half_stats.censored, half_stats.ran_out, half_stats.days) == (28, 1, 28)


def test_an_intermittent_seller_gets_a_small_whole_reorder_point(db, ctx):
    history(ctx, "SLOW", [1 if i % 9 == 0 else 0 for i in range(56)], opening=50)
    reorder.recompute(ctx, settings=SETTINGS, today=TODAY)
    rp, target, mode = point("SLOW")
    assert mode == "auto" and rp in (1000, 2000) and target > rp


def test_manual_reorder_points_are_untouched_by_learning(db, ctx):
    history(ctx, "TYPED", [20] * 56, opening=5000)
    reorder.set_manual(ctx, Product.get(Product.sku == "TYPED"), 7000, 12_000)
    result = reorder.recompute(ctx, settings=SETTINGS, today=TODAY)
    assert result.products == 0
    assert point("TYPED") == (7000, 12_000, "manual")
    reorder.set_auto(ctx, Product.get(Product.sku == "TYPED"), SETTINGS, today=TODAY)
    assert point("TYPED") == (80_000, 100_000, "auto")


def test_too_few_days_in_stock_keep_the_old_figures(db, ctx):
    history(ctx, "NEW", [0] * 50 + [5] * 6, opening=0, restock={50: 100})
    Product.update(reorder_point=4000, reorder_qty=9000).where(Product.sku == "NEW").execute()
    result = reorder.recompute(ctx, settings=SETTINGS, today=TODAY)
    assert result.kept == 1 and point("NEW")[:2] == (4000, 9000)


def _supplier(name: str, *, min_order: int = 0) -> Supplier:
    return Supplier.create(name=name, lead_days=3, review_days=1, min_order=min_order)


def test_suggestions_round_to_the_preferred_suppliers_pack_and_top_up_to_its_minimum_order(db, ctx):
    acme = _supplier("Acme", min_order=10_000)  # 100.00 at pack cost
    for sku in ("A", "B"):
        history(ctx, sku, [20] * 56, opening=1140)  # 20 left on hand
        ProductSupplier.create(product=Product.get(Product.sku == sku), supplier=acme, preferred=True,
                               item_code=f"AC-{sku}", pack_size=24_000, pack_cost=2400)
    reorder.recompute(ctx, settings=SETTINGS, today=TODAY)
    lines = reorder.suggestions(ctx, acme.id)
    assert [s.sku for s in lines] == ["A", "B"]
    for s in lines:
        assert (s.on_hand, s.reorder_point, s.target_level) == (20_000, 80_000, 100_000)
        assert s.quantity % 24_000 == 0 and s.supplier_id == acme.id and s.item_code == f"AC-{s.sku}"
        assert s.unit_cost == 100  # 24.00 a pack of 24
    # 80 wanted each → 4 packs (96) each, 2 × 4 × 24.00 = 192.00 ≥ 100.00: no top-up
    assert [(s.quantity, s.rounded, s.topped_up) for s in lines] == [(96_000, 16_000, 0)] * 2
    Supplier.update(min_order=30_000).where(Supplier.id == acme.id).execute()
    lines = reorder.suggestions(ctx, acme.id)
    assert sum(s.packs * s.pack_cost for s in lines) >= 30_000
    assert sum(s.topped_up for s in lines) == 5 * 24_000  # 192.00 + 5 packs = 312.00
    assert all(s.topped_up for s in lines)


def test_inventory_position_counts_on_order_so_drafting_twice_never_orders_twice(db, ctx):
    history(ctx, "A", [20] * 56, opening=1140)
    reorder.recompute(ctx, settings=SETTINGS, today=TODAY)
    (first,) = reorder.suggestions(ctx)
    assert [line.sku for line in reorder.low_stock()] == ["A"]
    # the ordering service puts the drafted quantity on order (Product.on_order) in the draft's transaction
    Product.update(on_order=Product.on_order + first.quantity).where(Product.sku == "A").execute()
    assert reorder.suggestions(ctx) == []
    assert reorder.low_stock() == []
    from shopkeeper.services.queries import low_stock_count, low_stock_ids
    assert low_stock_ids() == set() and low_stock_count() == 0


def test_low_stock_suggests_up_to_the_learned_target_for_auto_and_by_the_typed_rule_for_manual(db, ctx):
    history(ctx, "AUTO", [20] * 56, opening=1140)
    history(ctx, "HAND", [0] * 56, opening=3)
    reorder.set_manual(ctx, Product.get(Product.sku == "HAND"), 5000, 12_000)
    reorder.recompute(ctx, settings=SETTINGS, today=TODAY)
    lines = {line.sku: line for line in reorder.low_stock()}
    assert lines["AUTO"].suggested == 80_000 and lines["AUTO"].mode == "auto"
    assert lines["HAND"].suggested == 12_000 and lines["HAND"].mode == "manual"


def test_days_are_the_shops_local_days(db, ctx, monkeypatch):
    """In Tokyo (UTC+9) a sale at 20:00 UTC falls on the next local day: yesterday evening's UTC sale is today's,
    not yet learned from; the one the evening before is yesterday's."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    save_product(ProductData(sku="T", name="T"))
    pid = Product.get(Product.sku == "T").id
    post_movements(ctx, [Entry(pid, "receive", 100_000, 100)], now=stamp(TODAY - dt.timedelta(days=30)))
    for days_ago in (1, 2):
        post_movements(ctx, [Entry(pid, "sale", -1000)], now=stamp(TODAY - dt.timedelta(days=days_ago), 20))
    (item,), _, _ = reorder.learn(SETTINGS, TODAY, [pid])
    assert (item.stats.sold, item.stats.censored) == (1000, 27)  # before the receipt it had nothing


def test_a_reorder_point_typed_in_a_product_save_makes_the_product_manual(db, ctx):
    save_product(ProductData(sku="NEW", name="New"))
    assert point("NEW") == (0, 0, "auto")
    save_product(ProductData(sku="NEW", name="New", reorder_point=0))  # unchanged: still learned
    assert point("NEW")[2] == "auto"
    save_product(ProductData(sku="NEW", reorder_point=6000, reorder_qty=12_000))
    assert point("NEW") == (6000, 12_000, "manual")
    save_product(ProductData(sku="TYPED", name="Typed", reorder_point=3000))
    assert point("TYPED") == (3000, 0, "manual")


def test_the_pane_and_the_suggestions_round_a_manual_line_to_the_suppliers_pack_alike(db, ctx):
    acme = _supplier("Acme")
    history(ctx, "HAND", [0] * 56, opening=3)
    reorder.set_manual(ctx, Product.get(Product.sku == "HAND"), 5000, 0)  # no quantity: up to twice the point
    ProductSupplier.create(product=Product.get(Product.sku == "HAND"), supplier=acme, preferred=True,
                           pack_size=6000, pack_cost=600)
    (line,) = reorder.low_stock()
    (suggestion,) = reorder.suggestions(ctx)
    assert line.suggested == suggestion.quantity == 12_000  # 7 wanted, two packs of 6
    assert suggestion.rounded == 5000
