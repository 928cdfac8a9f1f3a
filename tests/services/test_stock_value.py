"""The stock value kept per category and supplier (``services/stock_value.py``) always equals the full GROUP BY over
the products, whichever path changed them, and ``valuation`` reads it."""

from __future__ import annotations

import pytest

from shopkeeper.db import MIGRATIONS, SCHEMA_VERSION, _m032_stock_value, close_database, current_version, open_database
from shopkeeper.errors import ShopError
from shopkeeper.models import Product
from shopkeeper.services import reports, sales, stock, stock_value
from shopkeeper.services.catalog import ProductData, save_product, save_products
from shopkeeper.services.context import Context


def live_groups() -> list[tuple]:
    """The figures as a full recomputation over ``product`` gives them."""
    value = reports._extend_sql("p.on_hand", "p.avg_cost")
    retail = reports._extend_sql("p.on_hand", "p.price")
    return sorted(reports._rows(
        f"SELECT p.category, p.supplier_id, COUNT(CASE WHEN p.on_hand <> 0 THEN 1 END), SUM(p.on_hand), "
        f"SUM({value}), SUM({retail}) FROM product p GROUP BY p.category, p.supplier_id"), key=repr)


def kept_groups() -> list[tuple]:
    return sorted(stock_value.groups()[0], key=repr)


def assert_kept_equals_live() -> None:
    assert kept_groups() == live_groups()


def test_every_kind_of_product_change_keeps_the_groups_equal_to_the_full_group_by(db, ctx):
    save_product(ProductData(sku="A", name="A", price=199, category="Dairy", supplier="Acme"))
    save_product(ProductData(sku="B", name="B", price=1250, category="Dairy", supplier="Bolt"))
    save_product(ProductData(sku="KG", name="KG", price=2390, unit="kg"))
    assert_kept_equals_live()
    stock.receive(ctx, "A", 5_000, 77)
    stock.receive(ctx, "KG", 1_237, 333)  # weighed: the value is rounded half-even to a minor unit
    stock.receive(ctx, "KG", 2_001, 401)  # a new average cost
    assert_kept_equals_live()
    sales.sell(ctx, [sales.LineInput("A", 2000), sales.LineInput("KG", 333)], payment="card")
    stock.adjust(ctx, "B", -1_500, "damaged")  # negative stock
    assert_kept_equals_live()
    save_product(ProductData(sku="A", price=250))  # catalog edits: price, category, supplier
    save_product(ProductData(sku="B", category="Bakery", supplier="Acme"))
    save_product(ProductData(sku="KG", supplier="Bolt"))
    assert_kept_equals_live()
    save_products([ProductData(sku=f"I{n}", name=f"I{n}", price=n, category="Imported") for n in range(50)]
                  + [ProductData(sku="A", category="Imported")])  # an import: new products and an edit at once
    assert_kept_equals_live()
    db.execute_sql("UPDATE product SET on_hand = on_hand + 7, avg_cost = avg_cost + 3 WHERE sku = 'KG'")  # by hand
    db.execute_sql("UPDATE product SET updated_at = updated_at")  # no figure changes: nothing appended
    db.execute_sql("DELETE FROM supplier WHERE name = 'Bolt'")  # its products lose their supplier (SET NULL)
    assert_kept_equals_live()
    # products with no history (no logged change, no movement) may be deleted; inserted by hand here
    Product.insert_many([{"sku": f"X{n}", "name": f"X{n}", "category": "Gone", "on_hand": 1_500 * n,
                          "avg_cost": 7, "price": 9} for n in range(4)]).execute()
    assert_kept_equals_live()
    db.execute_sql("DELETE FROM product WHERE sku IN ('X0', 'X1')")
    assert_kept_equals_live()
    db.execute_sql("DELETE FROM product WHERE sku LIKE 'X%'")  # a group left without products goes away
    assert "Gone" not in {row[0] for row in kept_groups()}
    assert_kept_equals_live()


def test_a_change_rolled_back_leaves_the_kept_groups_as_they_were(db):
    strict = Context(staff="t", terminal="t1", negative_stock="refuse")
    save_product(ProductData(sku="A", name="A", price=199))
    stock.receive(strict, "A", 1_000, 50)
    rows = db.execute_sql("SELECT COUNT(*) FROM stock_value").fetchone()[0]
    with pytest.raises(ShopError):
        sales.sell(strict, [sales.LineInput("A", 1000), sales.LineInput("A", 5000)], payment="card")
    assert db.execute_sql("SELECT COUNT(*) FROM stock_value").fetchone()[0] == rows
    assert_kept_equals_live()


def test_folding_sums_the_rows_per_group_without_changing_a_figure(db, ctx):
    for n in range(6):
        save_product(ProductData(sku=f"P{n}", name=f"P{n}", price=100 + n, category="ABC"[n % 3]))
        stock.receive(ctx, f"P{n}", 1_000 * (n + 1), 10 + n)
    save_product(ProductData(sku="P0", category="Z"))
    save_product(ProductData(sku="P0", category="A"))  # group Z had a product once, and has none now
    before = kept_groups()
    assert stock_value.groups()[1] > 0
    stock_value.fold()
    assert kept_groups() == before == live_groups()
    assert stock_value.groups()[1] == 0
    assert db.execute_sql("SELECT COUNT(*) FROM stock_value").fetchone()[0] == 3  # one row a group, no Z


def test_valuation_reads_the_kept_groups_filtered_and_folds_them_when_rows_pile_up(db, ctx, monkeypatch):
    monkeypatch.setattr(stock_value, "FOLD_AFTER", 5)
    save_product(ProductData(sku="A", name="A", price=199, category="Dairy", supplier="Acme"))
    save_product(ProductData(sku="B", name="B", price=500, category="Bakery"))
    for _ in range(4):
        stock.receive(ctx, "A", 1_500, 77)
        stock.receive(ctx, "B", 2_000, 31)
    whole = reports.run("valuation", reports.Options())
    assert db.execute_sql("SELECT COUNT(*) FROM stock_value").fetchone()[0] == 2  # folded after the read
    assert reports.run("valuation", reports.Options()).tables == whole.tables
    dairy = reports.run("valuation", reports.Options(category="Dairy")).table("category")
    assert dairy.rows == [{"category": "Dairy", "products": 1, "on_hand": 6_000, "cost": 6 * 77, "retail": 6 * 199}]
    acme = reports.run("valuation", reports.Options(supplier="Acme")).table("supplier").total
    assert (acme["on_hand"], acme["cost"]) == (6_000, 6 * 77)
    one = reports.run("valuation", reports.Options(product_id=2)).table("category").total
    assert (one["on_hand"], one["cost"], one["retail"]) == (8_000, 8 * 31, 8 * 500)


def test_the_migration_fills_the_kept_groups_on_a_shop_of_the_previous_version(db_path, ctx):
    db = open_database(str(db_path))
    save_product(ProductData(sku="A", name="A", price=199, category="Dairy", supplier="Acme"))
    save_product(ProductData(sku="B", name="B", price=500))
    stock.receive(ctx, "A", 2_500, 77)
    for name in ("insert", "delete", "change", "move"):  # as the previous version left it
        db.execute_sql(f"DROP TRIGGER product_stock_value_{name}")
    db.execute_sql("DROP TABLE stock_value")
    db.execute_sql("DELETE FROM schema_version WHERE version > ?", (MIGRATIONS.index(_m032_stock_value),))
    stock.receive(ctx, "B", 1_000, 40)  # the old version goes on selling and receiving
    close_database()
    db = open_database(str(db_path))
    try:
        assert current_version(db) == SCHEMA_VERSION
        assert_kept_equals_live()
        stock.receive(ctx, "B", 1_000, 60)
        assert_kept_equals_live()
    finally:
        close_database()


def test_a_shop_that_never_asks_for_a_valuation_still_folds_its_rows_now_and_then(db, ctx, monkeypatch):
    monkeypatch.setattr(stock_value, "FOLD_EVERY", 4)
    monkeypatch.setattr(stock_value, "_commits", [0])
    save_product(ProductData(sku="A", name="A", price=199, category="Dairy"))
    save_product(ProductData(sku="B", name="B", price=500, category="Bakery"))
    for n in range(4 * 5):
        stock.receive(ctx, "AB"[n % 2], 1_000, 50 + n)
    # folded at the last fourth commit: one row a group, and since then at most three commits of two rows (a
    # receipt changes the average cost, then the stock); unfolded, there would be more than 40
    assert db.execute_sql("SELECT COUNT(*) FROM stock_value").fetchone()[0] <= 2 + 3 * 2
    assert_kept_equals_live()
