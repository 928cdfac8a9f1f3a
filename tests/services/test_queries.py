"""Read-only queries for the screens: the stock window, ids, journals with running balance, count lines."""

from __future__ import annotations

from shopkeeper.services import queries, stock
from shopkeeper.services.queries import JournalFilter, StockQuery
from tests.tui.shop_data import seed_shop


def test_stock_window_filters_by_name_sku_and_barcode_prefix(db, ctx):
    seed_shop(ctx)
    assert [r.sku for r in queries.stock_window(StockQuery("olive"), 0, 10)] == ["OLIVES-KG", "SOAP-BAR"]
    assert [r.sku for r in queries.stock_window(StockQuery("milk-1"), 0, 10)] == ["MILK-1L"]
    assert [r.sku for r in queries.stock_window(StockQuery("40063813"), 0, 10)] == ["MILK-1L"]  # barcode prefix
    assert [r.sku for r in queries.stock_window(StockQuery("4006381333931"), 0, 10)] == ["MILK-1L"]
    assert queries.stock_window(StockQuery("400638"), 0, 10) == []  # too short a prefix: exact codes only
    assert queries.stock_window(StockQuery("100%"), 0, 10) == []  # LIKE wildcards are literal


def test_stock_ids_window_and_rows_agree_for_every_sort(db, ctx):
    seed_shop(ctx, extra=30)
    for sort in queries.SORT_COLUMNS:
        for descending in (False, True):
            for text in ("", "item 1", "e"):
                q = StockQuery(text, sort, descending)
                ids = queries.stock_ids(q)
                assert [r.id for r in queries.stock_window(q, 3, 7)] == ids[3:10]
                assert [r.id for r in queries.stock_rows(ids[5:9])] == ids[5:9]


def test_status_marks_out_low_and_inactive(db, ctx):
    seed_shop(ctx)
    rows = {r.sku: r.status for r in queries.stock_window(StockQuery(), 0, 50)}
    assert rows["SOAP-BAR"] == "out" and rows["CROISSANT"] == "low" and rows["MILK-1L"] == "ok"
    assert queries.stock_status(5, 0, active=False) == "inactive"


def test_a_product_low_on_the_shelf_but_covered_by_an_order_is_ordered_not_low(db, ctx):
    """The stock table and the low-stock pane agree: low is judged by inventory position (on hand + on order)."""
    from shopkeeper.models import Product

    seed_shop(ctx)
    Product.update(on_order=100_000).where(Product.sku == "CROISSANT").execute()
    rows = {r.sku: r.status for r in queries.stock_window(StockQuery(), 0, 50)}
    assert rows["CROISSANT"] == "ordered"
    assert "CROISSANT" not in {r.sku for r in queries.low_stock_window(0, 100)}
    assert queries.stock_status(3_000, 10_000, on_order=7_000) == "low"  # position 10: still at the point
    assert queries.stock_status(0, 10_000, on_order=24_000) == "out"  # an empty shelf is out, ordered or not


def test_low_stock_window_matches_the_reorder_service(db, ctx):
    from shopkeeper.services.reorder import low_stock

    seed_shop(ctx)
    pane = [(r.product_id, r.sku, r.on_hand, r.reorder_point, r.supplier, r.suggested)
            for r in queries.low_stock_window(0, 100)]
    assert pane == [(r.product_id, r.sku, r.on_hand, r.reorder_point, r.supplier, r.suggested) for r in low_stock()]
    assert queries.low_stock_count() == len(low_stock())
    assert queries.low_stock_ids() == {line.product_id for line in low_stock()}


def test_low_stock_pane_counts_what_is_on_order(db, ctx):
    """Inventory position = on hand + on order: an order already out is not suggested again, and a product whose
    order lifts its position above the reorder point leaves the pane (the stock table still shows it on order)."""
    from shopkeeper.models import Product

    seed_shop(ctx)
    before = {r.sku: r for r in queries.low_stock_window(0, 100)}
    assert before["CROISSANT"].on_order == 0 and before["CROISSANT"].suggested > 0
    Product.update(on_order=before["CROISSANT"].suggested).where(Product.sku == "CROISSANT").execute()
    Product.update(on_order=1_000).where(Product.sku == "TEA-EB").execute()
    after = {r.sku: r for r in queries.low_stock_window(0, 100)}
    assert "CROISSANT" not in after
    assert after["TEA-EB"].on_order == 1_000 and after["TEA-EB"].suggested == 12_000  # still low: a pack more
    rows = {r.sku: r for r in queries.stock_window(StockQuery(), 0, 50)}
    assert rows["TEA-EB"].on_order == 1_000 and rows["MILK-1L"].on_order == 0
    assert rows["CROISSANT"].on_order == before["CROISSANT"].suggested


def test_product_journal_running_balance_newest_first(db, ctx):
    seed_shop(ctx)
    stock.receive(ctx, "EGGS-6", 5_000, 200, reference="INV-1")
    product_id = queries.product_id_for_sku("EGGS-6")
    rows = queries.product_journal(product_id)
    assert [(r.kind, r.quantity, r.balance) for r in rows] == [
        ("receive", 5_000, 13_000), ("adjust", -1_000, 8_000), ("receive", 9_000, 9_000)]
    assert rows[1].staff == "Ben" and rows[0].staff == "tester" and rows[0].terminal == "till-1"
    assert queries.product_journal(product_id, offset=1, limit=1)[0].balance == 8_000
    assert queries.product_journal_count(product_id) == 3


def test_journal_filters(db, ctx):
    seed_shop(ctx)
    everything = queries.journal_count(JournalFilter())
    assert everything == len(queries.journal_window(JournalFilter(), 0, 1000))
    assert queries.journal_count(JournalFilter(kinds=("sale",))) == 3
    assert queries.journal_count(JournalFilter(kinds=("sale",), staff="Ben")) == 1
    assert queries.journal_count(JournalFilter(terminal="till-1")) == everything
    assert queries.journal_count(JournalFilter(terminal="nowhere")) == 0
    milk = queries.product_id_for_sku("MILK-1L")
    assert queries.journal_count(JournalFilter(product_id=milk)) == 2
    assert queries.journal_count(JournalFilter(since="2026-01-05T09:11:00.000000Z")) == 4
    assert queries.journal_count(JournalFilter(until="2026-01-05T09:01:00.000000Z")) == 1
    ids = [r.id for r in queries.journal_window(JournalFilter(), 0, 1000)]
    assert ids == sorted(ids, reverse=True)


def test_count_session_lines_and_resume(db, ctx):
    seed_shop(ctx)
    assert queries.open_count_session("till-1") is None
    session = stock.start_count(ctx)
    stock.record_count(ctx, session, "MILK-1L", 27_000)
    assert queries.open_count_session("till-1") == session.id
    (line,) = queries.count_lines(session.id)
    assert (line.sku, line.expected, line.counted, line.variance) == ("MILK-1L", 28_000, 27_000, -1_000)


def test_names_and_detail(db, ctx):
    seed_shop(ctx)
    assert queries.staff_names() == ["Ana", "Ben", "Sam"]  # "tester" never posted anything
    assert queries.terminal_names() == ["till-1"]
    detail = queries.product_detail(queries.product_id_for_sku("MILK-1L"))
    assert (detail.price, detail.supplier, detail.barcodes) == (129, "Hill Farm Dairy", ("4006381333931",))
    assert queries.product_detail(999_999) is None


def _shop_with_a_broad_barcode_prefix() -> None:
    """Products whose barcodes share the prefix 29000000, one whose name holds it, and some that match nothing."""
    from shopkeeper.barcodes import check_digit
    from shopkeeper.services import catalog

    for n in range(12):
        codes = [f"29000000{n:04d}" + check_digit(f"29000000{n:04d}")] if n % 3 else []
        name = "Gift card 29000000" if n == 6 else f"{'Zest' if n % 2 else 'apple'} {n}"
        catalog.save_product(catalog.ProductData(sku=f"P-{n:02d}", name=name, price=100 + n % 4, barcodes=codes))


def assert_broad_prefix_window_matches_the_id_lookup(monkeypatch) -> None:
    """A barcode prefix matching many codes walks the sort order instead of looking each id up: the same rows in
    the same order, for every sort and window."""
    monkeypatch.setattr(queries, "BROAD_PREFIX_CODES", 3)
    for sort in queries.SORT_COLUMNS:
        for descending in (False, True):
            q = StockQuery("29000000", sort, descending)
            assert queries._where(q).broad
            ids = queries.stock_ids(q)  # every row: ids looked up, whatever the breadth
            assert len(ids) == 9
            for offset, limit in ((0, 20), (0, 4), (3, 4), (8, 5)):
                assert [r.id for r in queries.stock_window(q, offset, limit)] == ids[offset:offset + limit]


def test_a_broad_barcode_prefix_finds_the_same_rows_in_the_same_order(db, ctx, monkeypatch):
    _shop_with_a_broad_barcode_prefix()
    assert_broad_prefix_window_matches_the_id_lookup(monkeypatch)
