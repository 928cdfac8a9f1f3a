"""Reports service: kept hours and kept spans never hide a late commit, the past is replayed from the journal, ABC
classes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from unittest import mock

from shopkeeper.models import Movement, Product, Sale
from shopkeeper.money import extend
from shopkeeper.services import journal_cache, product_sales_cache, reports, sales, sales_cache, stock, stock_cache
from shopkeeper.services.catalog import ProductData, save_product

DAY = dt.date(2026, 3, 10)




def sell_at(ctx, when: str, sku: str, qty: int = 1000):
    with mock.patch("shopkeeper.services.sales.utcnow", lambda: when), \
            mock.patch("shopkeeper.services.stock.utcnow", lambda: when):
        return sales.sell(ctx, [sales.LineInput(sku, qty)], payment="card")


def receive_at(ctx, when: str, sku: str, qty: int, cost: int):
    with mock.patch("shopkeeper.services.stock.utcnow", lambda: when):
        return stock.receive(ctx, sku, qty, cost)


def test_a_sale_committed_late_into_a_kept_hour_is_counted(db, ctx, utc):
    save_product(ProductData(sku="A", name="A", price=250))
    receive_at(ctx, "2026-03-10T08:00:00.000000Z", "A", 10_000, 100)
    sell_at(ctx, "2026-03-10T09:15:00.000000Z", "A")
    opts = reports.Options(start=DAY, end=DAY)
    first = reports.run("sales", opts).table("periods").total
    assert first["total"] == 250
    kept = db.execute_sql("SELECT hour, sale_rows FROM sales_hour WHERE sale_rows > 0").fetchall()
    assert kept == [("2026-03-10T09", 1)]
    # another till's transaction took its time stamp in that hour and commits only now
    sell_at(ctx, "2026-03-10T09:59:59.999999Z", "A", 2000)
    again = reports.run("sales", opts).table("periods").total
    assert again["total"] == 750 and again["sales"] == 2
    assert again["total"] == sum(s.total for s in Sale.select())
    assert db.execute_sql("SELECT sale_rows FROM sales_hour WHERE hour = '2026-03-10T09'").fetchone() == (2,)
    # the day's breakdowns were kept too, and saw the late sale the same way
    payment = reports.run("sales", opts).table("payment").rows
    assert [(r["payment"], r["sales"], r["total"]) for r in payment] == [("card", 2, 750)]
    assert db.execute_sql("SELECT DISTINCT sale_rows FROM sales_day WHERE day = '2026-03-10'").fetchall() == [(2,)]


def test_a_movement_committed_late_into_a_kept_month_is_counted(db, ctx, utc):
    save_product(ProductData(sku="A", name="A", price=250))
    save_product(ProductData(sku="B", name="B", price=250, category="Dairy"))  # never moved
    receive_at(ctx, "2026-01-20T08:00:00.000000Z", "A", 10_000, 100)
    sell_at(ctx, "2026-02-10T09:15:00.000000Z", "A")
    sell_at(ctx, "2026-03-10T09:15:00.000000Z", "A")
    sell_at(ctx, "2026-04-10T09:15:00.000000Z", "A")
    opts = reports.Options(start=dt.date(2026, 1, 15), end=dt.date(2026, 4, 15), limit=0)
    first = reports.run("movement", opts).table("products").rows
    assert [(r["received"], r["sold"], r["closing"]) for r in first] == [(10_000, -3000, 7000)]
    marks = db.execute_sql("SELECT boundary, rows_from_anchor FROM journal_mark ORDER BY boundary").fetchall()
    assert marks == [("2026-02-01T00:00:00.000000Z", 0), ("2026-04-01T00:00:00.000000Z", 2)]
    assert reports.run("movement", opts).table("products").rows == first  # from the kept months
    assert reports.run("movement", dataclasses.replace(opts, category="")).table("products").rows == first
    assert reports.run("movement", dataclasses.replace(opts, category="Dairy")).table("products").rows == []
    # another till's transaction took its time stamp in a kept month and commits only now
    sell_at(ctx, "2026-03-31T23:59:59.999999Z", "A", 2000)
    again = reports.run("movement", opts).table("products").rows
    assert [(r["opening"], r["sold"], r["closing"]) for r in again] == [(0, -5000, 5000)]
    assert db.execute_sql("SELECT COUNT(*) FROM journal_mark").fetchone() == (0,)  # dropped, kept afresh next time
    assert reports.run("movement", opts).table("products").rows == again
    assert reports.run("movement", opts).table("products").rows == again
    assert db.execute_sql("SELECT COUNT(*) FROM journal_mark").fetchone() == (2,)


def test_the_journal_keeps_at_most_max_marks_and_its_figures_hold(db, ctx, utc, monkeypatch):
    monkeypatch.setattr(journal_cache, "MAX_MARKS", 3)
    save_product(ProductData(sku="A", name="A", price=250))
    receive_at(ctx, "2025-11-20T08:00:00.000000Z", "A", 50_000, 100)
    for month in range(1, 11):
        sell_at(ctx, f"2026-{month:02d}-10T09:15:00.000000Z", "A")
    ranges = [(dt.date(2026, 1, 5), dt.date(2026, 4, 5)),  # marks Feb 1 (the anchor) and Apr 1
              (dt.date(2026, 4, 1), dt.date(2026, 6, 5)),  # grows from Apr 1, the outermost, to Jun 1
              (dt.date(2026, 1, 20), dt.date(2026, 6, 5)),  # Feb 1 to Jun 1 from two marks
              (dt.date(2026, 4, 5), dt.date(2026, 7, 5)),  # May 1 to Jul 1: a fourth and fifth mark, so none
              (dt.date(2026, 2, 5), dt.date(2026, 9, 5)), (dt.date(2026, 1, 5), dt.date(2026, 4, 5))]
    for n, (start, end) in enumerate(ranges * 2):
        opts = reports.Options(start=start, end=end, limit=0)
        if n == 2:
            assert db.execute_sql("SELECT COUNT(*) FROM journal_mark").fetchone()[0] == 3
        kept = reports.run("movement", opts).table("products").rows
        journal_cache.enabled = False
        try:
            assert reports.run("movement", opts).table("products").rows == kept
        finally:
            journal_cache.enabled = True
        assert db.execute_sql("SELECT COUNT(*) FROM journal_mark").fetchone()[0] <= 3


def test_valuation_at_a_past_day_replays_the_moving_average(db, ctx, utc):
    save_product(ProductData(sku="A", name="A", price=300, category="Pantry"))
    receive_at(ctx, "2026-03-01T10:00:00.000000Z", "A", 10_000, 100)
    sell_at(ctx, "2026-03-02T10:00:00.000000Z", "A", 4000)
    receive_at(ctx, "2026-03-05T10:00:00.000000Z", "A", 6000, 200)  # average (6x100 + 6x200) / 12 = 150
    past = reports.run("valuation", reports.Options(at=dt.date(2026, 3, 2))).table("category").total
    assert past["on_hand"] == 6000 and past["cost"] == 600 and past["retail"] == 1800
    now = reports.run("valuation", reports.Options()).table("category").total
    assert now["on_hand"] == 12_000 and now["cost"] == 1800


def _valuation_at(day: dt.date, **filters) -> list:
    rep = reports.run("valuation", reports.Options(at=day, **filters))
    return [(t.rows, t.total) for t in rep.tables]


def _recomputed_at(day: dt.date, **filters) -> list:
    stock_cache.enabled = False
    try:
        return _valuation_at(day, **filters)
    finally:
        stock_cache.enabled = True


def walked(moment: str) -> dict[int, tuple[int, int]]:
    """``stock_at`` without a kept month start: each product walked back from ``moment``."""
    stock_cache.enabled = False
    try:
        return reports.stock_at(moment)
    finally:
        stock_cache.enabled = True


def test_valuation_at_a_past_day_is_replayed_on_from_the_kept_month_start(db, ctx, utc):
    save_product(ProductData(sku="A", name="A", price=300, category="Pantry"))
    save_product(ProductData(sku="B", name="B", price=900, category="Dairy"))
    save_product(ProductData(sku="C", name="C", price=50, category="Dairy"))  # never moves: a group without stock
    receive_at(ctx, "2026-02-10T10:00:00.000000Z", "A", 10_000, 100)
    receive_at(ctx, "2026-02-11T10:00:00.000000Z", "B", 2_500, 400)
    sell_at(ctx, "2026-02-20T10:00:00.000000Z", "B", 500)
    receive_at(ctx, "2026-03-02T10:00:00.000000Z", "A", 10_000, 200)  # after the month start: replayed on
    sell_at(ctx, "2026-03-03T10:00:00.000000Z", "A", 3000)
    receive_at(ctx, "2026-03-09T10:00:00.000000Z", "B", 1_000, 700)  # after the day asked for
    day = dt.date(2026, 3, 5)
    first = _valuation_at(day)
    marks = db.execute_sql("SELECT boundary FROM stock_mark").fetchall()
    assert marks == [("2026-03-01T00:00:00.000000Z",)]
    kept = dict(db.execute_sql("SELECT product_id, on_hand FROM stock_kept").fetchall())
    assert sorted(kept.values()) == [2_000, 10_000]  # A and B as they stood on March 1st
    assert _valuation_at(day) == first == _recomputed_at(day)  # from the kept mark, and without one
    total = first[0][1]
    assert total["on_hand"] == 17_000 + 2_000 and total["cost"] == 17 * 150 + 2 * 400
    assert _valuation_at(day, category="Dairy") == _recomputed_at(day, category="Dairy")
    assert reports.stock_at(reports.local_start(day)) == walked(reports.local_start(day))


def test_a_movement_committed_late_before_a_kept_month_start_is_counted(db, ctx, utc):
    save_product(ProductData(sku="A", name="A", price=300))
    receive_at(ctx, "2026-02-10T10:00:00.000000Z", "A", 10_000, 100)
    sell_at(ctx, "2026-03-03T10:00:00.000000Z", "A", 1000)
    day = dt.date(2026, 3, 5)
    assert _valuation_at(day)[0][1]["on_hand"] == 9_000
    assert db.execute_sql("SELECT COUNT(*) FROM stock_mark").fetchone() == (1,)
    # another till's receipt took its time stamp in February and commits only now
    receive_at(ctx, "2026-02-20T10:00:00.000000Z", "A", 10_000, 300)
    again = _valuation_at(day)
    # replayed in id order: 9 at 100 left after the sale, then 10 in at 300
    assert again[0][1]["on_hand"] == 19_000 and again[0][1]["cost"] == 19 * round(3900 / 19)
    assert again == _recomputed_at(day)
    # the stale mark was dropped and March 1st kept afresh, with the late receipt
    assert db.execute_sql("SELECT on_hand FROM stock_kept").fetchall() == [(20_000,)]
    assert _valuation_at(day) == again


def test_a_movement_without_a_chain_link_stamped_before_a_kept_month_start_is_counted(db, ctx, utc):
    """Written behind the services' back (an import of old data, a test's shop builder): no chain link, but a
    larger id than any the mark saw."""
    save_product(ProductData(sku="A", name="A", price=300))
    receive_at(ctx, "2026-02-10T10:00:00.000000Z", "A", 10_000, 100)
    day = dt.date(2026, 3, 5)
    assert _valuation_at(day)[0][1]["on_hand"] == 10_000
    Movement.insert(product=1, kind="adjust", quantity=-2000, unit_cost=100, reason="lost",
                    created_at="2026-02-20T10:00:00.000000Z", reference="").execute()
    Product.update(on_hand=Product.on_hand - 2000).execute()
    again = _valuation_at(day)
    assert again[0][1]["on_hand"] == 8_000 and again == _recomputed_at(day)


def test_movements_committed_out_of_order_around_a_month_start_replay_in_id_order(db, ctx, utc):
    save_product(ProductData(sku="A", name="A", price=300))
    receive_at(ctx, "2026-02-01T10:00:00.000000Z", "A", 10_000, 100)
    receive_at(ctx, "2026-03-02T10:00:00.000000Z", "A", 10_000, 300)  # average 200
    sell_at(ctx, "2026-02-27T10:00:00.000000Z", "A", 1000)  # stamped before it, committed after: records 200
    day = dt.date(2026, 3, 5)
    moment = reports.local_start(day)
    assert reports.stock_at(moment) == walked(moment) == {1: (19_000, 200)}
    first = _valuation_at(day)
    assert first[0][1]["cost"] == 19 * 200
    assert _valuation_at(day) == first == _recomputed_at(day)
    assert reports.stock_at(moment) == walked(moment) == {1: (19_000, 200)}


def test_abc_classes_follow_the_share_of_revenue(db, ctx):
    for sku, price in (("BIG", 8000), ("MID", 1500), ("SMALL", 500), ("NONE", 100)):
        save_product(ProductData(sku=sku, name=sku, price=price))
        stock.receive(ctx, sku, 5000, 10)
    for sku in ("BIG", "MID", "SMALL"):
        sales.sell(ctx, [sales.LineInput(sku, 1000)], payment="cash")
    rows = {r["sku"]: r["class"] for r in reports.run("abc", reports.Options()).table("products").rows}
    assert rows == {"BIG": "A", "MID": "B", "SMALL": "C", "NONE": "C"}


def test_abc_shares_and_cumulative_shares_of_every_product_including_a_refund_only_one(db, ctx):
    for sku, price in (("BIG", 7001), ("SMALL", 333), ("NEG", 250), ("NONE", 100)):
        save_product(ProductData(sku=sku, name=sku, price=price))
        stock.receive(ctx, sku, 5000, 10)
    for sku, qty in (("BIG", 3000), ("SMALL", 1000), ("SMALL", 2000)):
        sales.sell(ctx, [sales.LineInput(sku, qty)], payment="cash")
    sales.refund(ctx, [sales.ReturnInput("NEG", 1000)], reason="no receipt")  # revenue below nothing
    report = reports.run("abc", reports.Options())
    rows = report.table("products").rows
    whole = 3 * 7001 + 3 * 333
    assert [(r["sku"], r["revenue"], r["share"], r["cumulative"]) for r in rows] == [
        ("BIG", 21_003, reports.pct(21_003, whole), reports.pct(21_003, whole)),
        ("SMALL", 999, reports.pct(999, whole), 10_000), ("NONE", 0, 0, 10_000),
        ("NEG", -250, reports.pct(-250, whole), 10_000)]
    assert reports.run("abc", reports.Options(limit=2)).table("products").rows == rows[:2]


def test_slow_movers_are_stock_without_a_recent_sale_by_value(db, ctx):
    for sku, cost in (("SOLD", 100), ("CHEAP", 10), ("DEAR", 900), ("EMPTY", 5)):
        save_product(ProductData(sku=sku, name=sku, price=1000))
        if sku != "EMPTY":
            stock.receive(ctx, sku, 3000, cost)
    sales.sell(ctx, [sales.LineInput("SOLD", 1000)], payment="cash")
    rows = reports.run("slow-movers", reports.Options()).table("products").rows
    assert [r["sku"] for r in rows] == ["DEAR", "CHEAP"]
    assert rows[0]["value"] == 2700 and rows[0]["last_sale"] == "never" and rows[0]["cover_days"] is None


def refund_at(ctx, when: str, sale_id: int, sku: str, qty: int):
    with mock.patch("shopkeeper.services.sales.utcnow", lambda: when), \
            mock.patch("shopkeeper.services.stock.utcnow", lambda: when):
        return sales.refund(ctx, [sales.ReturnInput(sku, qty)], sale_id=sale_id)


def test_slow_movers_show_each_products_last_sale_receipt_and_cover_from_its_own_journal(db, ctx, utc):
    for sku in ("OLD", "QUIET", "BUSY"):
        save_product(ProductData(sku=sku, name=sku, price=1000))
    receive_at(ctx, "2026-01-05T08:00:00.000000Z", "OLD", 10_000, 100)
    receive_at(ctx, "2026-01-20T08:00:00.000000Z", "OLD", 2000, 100)
    receive_at(ctx, "2026-01-06T08:00:00.000000Z", "QUIET", 4000, 50)
    receive_at(ctx, "2026-01-07T08:00:00.000000Z", "BUSY", 4000, 50)
    old = sell_at(ctx, "2026-02-10T09:00:00.000000Z", "OLD", 2000)  # in the 90 days of rate, not in the 60
    refund_at(ctx, "2026-02-12T09:00:00.000000Z", old.sale_id, "OLD", 500)
    sell_at(ctx, "2025-12-01T09:00:00.000000Z", "QUIET", 100)  # before the 90 days: no rate, no cover
    sell_at(ctx, "2026-04-20T09:00:00.000000Z", "BUSY", 100)  # within the 60 days: not slow
    sell_at(ctx, "2026-05-01T09:00:00.000000Z", "OLD", 1000)  # after --to: neither last sale nor rate
    rows = reports.run("slow-movers", reports.Options(end=dt.date(2026, 4, 30))).table("products").rows
    assert [(r["sku"], r["on_hand"], r["last_sale"], r["last_received"], r["cover_days"]) for r in rows] == [
        ("OLD", 9500, "2026-02-10", "2026-01-20", 570),
        ("QUIET", 3900, "2025-12-01", "2026-01-06", None)]


def test_the_journals_date_index_covers_what_the_reports_read_by_date(db):
    columns = [row[2] for row in db.execute_sql("PRAGMA index_info(movement_created_at)").fetchall()]
    assert columns == ["created_at", "kind", "product_id", "quantity"]


def test_kept_hours_can_be_forgotten_without_changing_a_figure(db, ctx):
    save_product(ProductData(sku="A", name="A", price=250))
    stock.receive(ctx, "A", 5000, 100)
    sell_at(ctx, "2026-03-10T09:15:00.000000Z", "A")
    opts = reports.Options(start=DAY - dt.timedelta(days=1), end=DAY + dt.timedelta(days=1))
    before = reports.run("sales", opts).tables
    sales_cache.clear()
    assert reports.run("sales", opts).tables == before


def test_a_sale_committed_late_into_a_kept_span_of_days_is_counted(db, ctx, utc):
    for sku in ("A", "B"):
        save_product(ProductData(sku=sku, name=sku, price=250))
        receive_at(ctx, "2026-03-01T08:00:00.000000Z", sku, 50_000, 100)
    for day in range(2, 20):
        sell_at(ctx, f"2026-03-{day:02d}T09:15:00.000000Z", "A")
    year = reports.Options(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31), limit=0)
    first = reports.run("best-sellers", year).table("products")
    assert [(r["sku"], r["units"]) for r in first.rows] == [("A", 18_000)]
    kept = db.execute_sql("SELECT first_day, end_day, sale_rows FROM product_sales_span").fetchall()
    march = (dt.date(2026, 3, 1) - dt.date(1970, 1, 1)).days
    assert kept == [(march, march + 31, 18)]
    # another till's transaction took its time stamp inside the kept days and commits only now
    sell_at(ctx, "2026-03-10T09:59:59.999999Z", "B", 5000)
    again = reports.run("best-sellers", year).table("products")
    assert [(r["sku"], r["units"]) for r in again.rows] == [("A", 18_000), ("B", 5000)]
    assert db.execute_sql("SELECT sale_rows FROM product_sales_span").fetchall() == [(19,)]
    # a range a few days shorter starts from the kept span, and takes the days off
    shorter = reports.run("abc", reports.Options(start=dt.date(2026, 3, 11), end=dt.date(2026, 3, 31)))
    assert [(r["sku"], r["revenue"]) for r in shorter.table("products").rows] == [("A", 9 * 250), ("B", 0)]
    assert db.execute_sql("SELECT first_day - ?, end_day - ?, sale_rows FROM product_sales_span ORDER BY 1",
                          (march, march)).fetchall() == [(0, 31, 19), (10, 31, 9)]


def test_kept_spans_can_be_forgotten_without_changing_a_figure(db, ctx, utc):
    save_product(ProductData(sku="A", name="A", price=250))
    receive_at(ctx, "2026-03-01T08:00:00.000000Z", "A", 50_000, 100)
    for day in range(2, 20):
        sell_at(ctx, f"2026-03-{day:02d}T09:15:00.000000Z", "A", 1000 * (day % 3 + 1))
    opts = reports.Options(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31), rank="margin")
    before = reports.run("worst-sellers", opts).tables
    assert db.execute_sql("SELECT COUNT(*) FROM product_sales_span").fetchone() == (1,)
    product_sales_cache.clear()
    assert reports.run("worst-sellers", opts).tables == before


def test_sales_by_payment_method_add_each_tender_to_its_own_method(db, ctx, utc):
    """A split sale adds its card part to card and its cash part to cash (the change given back not counted, the
    cash rounding shown apart), a refund takes off by its own payment rows; kept days say the same."""
    from shopkeeper.services.tenders import Tender

    save_product(ProductData(sku="A", name="A", price=1_003))
    receive_at(ctx, "2026-03-09T08:00:00.000000Z", "A", 10_000, 100)
    rounding = dataclasses.replace(ctx, cash_rounding=5)
    with mock.patch("shopkeeper.services.sales.utcnow", lambda: "2026-03-10T09:00:00.000000Z"), \
            mock.patch("shopkeeper.services.stock.utcnow", lambda: "2026-03-10T09:00:00.000000Z"):
        # 30.09 due: 20.00 on card, the 10.09 left rounds to 10.10 in cash, paid with 20.00 (9.90 change)
        split = sales.sell(rounding, [sales.LineInput("A", 3000)],
                           payments=[Tender("card", 2_000), Tender("cash", 2_000)])
        sales.sell(ctx, [sales.LineInput("A", 1000)], payment="other")
        sales.refund(ctx, [sales.ReturnInput("A", 1000)], sale_id=split.sale_id,
                     payments=[Tender("card")])
    assert split.payment == "split" and split.rounding == 1
    opts = reports.Options(start=DAY, end=DAY)
    for _ in range(2):  # the first time from the payment rows, the second from the kept day
        rep = reports.run("sales", opts)
        rows = {r["payment"]: (r["sales"], r["taken"], r["refunds"], r["rounding"], r["total"])
                for r in rep.table("payment").rows}
        assert rows == {"card": (1, 2_000, -1_003, 0, 997), "cash": (1, 1_010, 0, 1, 1_009),
                        "other": (1, 1_003, 0, 0, 1_003)}
        assert "split" not in rows
        assert rep.table("payment").total["total"] == rep.table("periods").total["total"] == 3_009
        assert db.execute_sql("SELECT COUNT(*) FROM sales_day WHERE dim = 'tender'").fetchone()[0] == 4
    save_product(ProductData(sku="B", name="B", price=100, category="nothing"))  # never sold
    narrowed = reports.run("sales", dataclasses.replace(opts, category="nothing")).table("payment")
    assert narrowed.rows == []  # no sale holds a product of that category


def test_days_kept_before_the_upgrade_are_summed_again_from_the_payment_rows(db, db_path, ctx, utc):
    """A day kept by the version before payment rows were read (a split sale under "split", no tender rows) is
    dropped by the upgrade (m026) and summed again: the report never shows the old figures."""
    from shopkeeper.db import MIGRATIONS, _m029_sales_day_tenders, close_database, open_database
    from shopkeeper.services.tenders import Tender

    save_product(ProductData(sku="A", name="A", price=1_000))
    receive_at(ctx, "2026-03-09T08:00:00.000000Z", "A", 10_000, 100)
    with mock.patch("shopkeeper.services.sales.utcnow", lambda: "2026-03-10T09:00:00.000000Z"), \
            mock.patch("shopkeeper.services.stock.utcnow", lambda: "2026-03-10T09:00:00.000000Z"):
        sales.sell(ctx, [sales.LineInput("A", 2000)], payments=[Tender("card", 500), Tender("cash")])
    opts = reports.Options(start=DAY, end=DAY)
    reports.run("sales", opts)  # keeps the day
    # what the previous version kept for it: the sale's payment column as one dimension, no payment rows
    db.execute_sql("DELETE FROM sales_day WHERE dim IN ('tender', 'rounding')")
    db.execute_sql("INSERT INTO sales_day (day, dim, key, kind, sale_rows, sales, total, tax, discount, cogs) "
                   "VALUES ('2026-03-10', 'payment', 'split', 'sale', 1, 1, 2000, 0, 0, 200)")
    db.execute_sql("DELETE FROM schema_version WHERE version > ?", (MIGRATIONS.index(_m029_sales_day_tenders),))
    close_database()
    open_database(str(db_path))
    rows = reports.run("sales", opts).table("payment").rows
    assert [(r["payment"], r["sales"], r["total"]) for r in rows] == [("card", 1, 500), ("cash", 1, 1_500)]
def test_a_category_row_drills_to_its_products_also_without_a_category(db, ctx):
    save_product(ProductData(sku="TEA", name="Tea", price=300, category="Pantry"))
    save_product(ProductData(sku="PEN", name="Pen", price=150))  # no category: the "(none)" row
    for sku in ("TEA", "PEN"):
        stock.receive(ctx, sku, 5000, 100)
        sales.sell(ctx, [sales.LineInput(sku, 1000)], payment="cash")
    labels = [r["category"] for r in reports.run("sales", reports.Options()).table("category").rows]
    assert labels == ["(none)", "Pantry"]
    drilled = {label: [r["sku"] for r in reports.run("best-sellers", reports.Options(
        category=reports.drill_category(label))).table("products").rows] for label in labels}
    assert drilled == {"(none)": ["PEN"], "Pantry": ["TEA"]}
    assert reports.drill_category("(one-off items)") is None  # no products behind it


def test_a_report_reaching_back_before_the_first_sale_keeps_no_hours_or_days_before_it(db, ctx, utc):
    # `report sales --from 1000-01-01` on the demo shop kept a row for every empty hour since (9M rows, 600 MB)
    save_product(ProductData(sku="A", name="A", price=250))
    receive_at(ctx, "2026-03-10T08:00:00.000000Z", "A", 10_000, 100)
    sell_at(ctx, "2026-03-10T09:15:00.000000Z", "A")
    opts = reports.Options(start=dt.date(1990, 1, 1), end=DAY + dt.timedelta(days=1), by="month")
    report = reports.run("sales", opts)
    assert report.table("periods").total["total"] == 250 and len(report.table("periods").rows) == 435
    hours = db.execute_sql("SELECT MIN(hour), COUNT(*) FROM sales_hour").fetchone()
    assert hours[0] >= "2026-03-10" and hours[1] <= 48
    days = db.execute_sql("SELECT MIN(day), COUNT(DISTINCT day) FROM sales_day").fetchone()
    assert days[0] >= "2026-03-10" and days[1] <= 2
    # a sale stamped long before, committed only now (another till's clock), is in the next report
    sell_at(ctx, "2001-05-05T12:00:00.000000Z", "A")
    again = reports.run("sales", opts)
    assert again.table("periods").total["total"] == 500
    assert [r["total"] for r in again.table("periods").rows if r["total"]] == [250, 250]
    assert sum(r["total"] for r in again.table("payment").rows) == 500


def test_an_imported_opening_stock_is_not_shrinkage_and_movement_still_reconciles(db, ctx):
    from shopkeeper.services.products_csv import import_products

    # the import posts its on_hand as ordinary counts ("counted 30"), as every import before this rule did
    import_products(ctx, b"sku,name,price,cost,on_hand\nMILK,Milk,1.29,0.80,30\nTEA,Tea,3.00,1.00,12\n")
    assert {m.reason for m in Movement.select()} == {"counted 30", "counted 12"}
    save_product(ProductData(sku="PEN", name="Pen", price=150))
    sales.sell(ctx, [sales.LineInput("PEN", 2000)], payment="cash")  # sold before anyone counted it
    stock.count(ctx, "PEN", 5000)  # the shop's first stock take: PEN's opening stock (7 were there)
    stock.adjust(ctx, "MILK", -1000, "damaged")
    stock.count(ctx, "MILK", 28_000)  # a real count: one missing
    stock.receive(ctx, "TEA", 5000, 100)
    stock.count(ctx, "TEA", 16_000)  # one missing since the receipt
    opts = reports.Options(limit=0)
    shrink = reports.run("shrinkage", opts)
    assert {r["reason"]: r["units"] for r in shrink.table("reasons").rows} == {"count variance": -2000,
                                                                                "damaged": -1000}
    assert shrink.table("reasons").total["units"] == -3000
    assert {r["sku"] for r in shrink.table("products").rows} == {"MILK", "TEA"}
    # movement keeps the opening counts in "counted": opening + moves = closing, to the unit
    rows = {r["sku"]: r for r in reports.run("movement", opts).table("products").rows}
    assert (rows["MILK"]["counted"], rows["PEN"]["counted"], rows["TEA"]["counted"]) == (29_000, 7000, 11_000)
    for r in rows.values():
        moved = sum(r[c] for _, c in reports.MOVEMENT_KINDS)
        assert r["opening"] + moved == r["closing"] == Product.get_by_id(r["product_id"]).on_hand


def test_an_import_that_recounts_stock_the_journal_knows_is_a_variance(db, ctx):
    from shopkeeper.services.products_csv import import_products

    save_product(ProductData(sku="MILK", name="Milk", price=129))
    stock.receive(ctx, "MILK", 30_000, 80)
    import_products(ctx, b"sku,name,price,on_hand\nMILK,Milk,1.29,27\n")  # the re-import counts three fewer
    assert reports.run("shrinkage", reports.Options()).table("reasons").rows == [
        {"reason": "count variance", "units": -3000, "cost": -240}]


def test_the_sellers_total_row_counts_every_product_it_adds_up_also_past_the_limit(db, ctx):
    for n in range(5):
        save_product(ProductData(sku=f"P{n}", name=f"P{n}", price=100))
    save_product(ProductData(sku="OLD", name="Old", price=100))
    stock.receive(ctx, "OLD", 5000, 50)
    sales.sell(ctx, [sales.LineInput("OLD", 1000)], payment="cash")
    save_product(ProductData(sku="OLD", name="Old", price=100, active=False))  # sold, then taken off the list
    worst = reports.run("worst-sellers", reports.Options(limit=1)).table("products")
    # the total adds up every active product and every one that sold: 5 unsold + OLD, though one row is shown
    assert worst.total["name"] == "all 6 products" and worst.total["share"] == 10_000
    assert len(worst.rows) == 1 and worst.title == "Worst sellers by units: 1 of 6 shown, total of all"
    assert reports.run("worst-sellers", reports.Options(limit=0)).table("products").total["name"] == "all 6 products"
    best = reports.run("best-sellers", reports.Options()).table("products")
    assert best.total["name"] == "all 1 that sold" and best.title == "Best sellers by units"


def test_worst_sellers_with_a_limit_are_the_start_of_the_whole_list(db, ctx):
    for n in range(8):
        save_product(ProductData(sku=f"P{n}", name=f"P{n}", price=100))
    stock.receive(ctx, "P3", 5000, 50)
    sales.sell(ctx, [sales.LineInput("P3", 1000)], payment="cash")
    whole = [r["sku"] for r in reports.run("worst-sellers", reports.Options(limit=0)).table("products").rows]
    assert whole[:3] == ["P7", "P6", "P5"]  # unsold, ties by the highest id first
    for limit in (1, 3, 7):
        rows = reports.run("worst-sellers", reports.Options(limit=limit)).table("products").rows
        assert [r["sku"] for r in rows] == whole[:limit]
def adjust_at(ctx, when: str, sku: str, delta: int, reason: str):
    with mock.patch("shopkeeper.services.stock.utcnow", lambda: when):
        return stock.adjust(ctx, sku, delta, reason)


def test_shrinkage_by_product_and_day_equals_each_movement_rounded_on_its_own(db, ctx, utc):
    """Summed by SQL: each movement's value rounded half to even as ``extend`` does, then added up; products
    largest loss first (ties by id), also narrowed to a category."""
    for sku, category in (("KG", "deli"), ("BOX", "deli"), ("TIN", "dry")):
        save_product(ProductData(sku=sku, name=sku, price=999, category=category, unit="kg" if sku == "KG" else "pcs"))
        receive_at(ctx, "2026-03-01T08:00:00.000000Z", sku, 90_000, 333)
    adjust_at(ctx, "2026-03-02T09:00:00.000000Z", "KG", -1_500, "damaged")  # 499.5 → 500 (even)
    adjust_at(ctx, "2026-03-02T23:30:00.000000Z", "KG", -2_500, "expired")  # 832.5 → 832 (even)
    adjust_at(ctx, "2026-03-03T10:00:00.000000Z", "BOX", -4_000, "stolen")
    adjust_at(ctx, "2026-03-03T11:00:00.000000Z", "TIN", 1_000, "found")
    adjust_at(ctx, "2026-03-04T11:00:00.000000Z", "TIN", -5_000, "stolen")
    with mock.patch("shopkeeper.services.stock.utcnow", lambda: "2026-03-05T12:00:00.000000Z"):
        stock.count(ctx, "BOX", 85_500)
    opts = reports.Options(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31), limit=0)
    report = reports.run("shrinkage", opts)
    losses = list(Movement.select().where(Movement.kind.in_(["adjust", "count"])))
    by_sku = {}
    for m in losses:
        sku = Product.get_by_id(m.product_id).sku
        units, value = by_sku.get(sku, (0, 0))
        by_sku[sku] = (units + m.quantity, value + extend(m.quantity, m.unit_cost))
    assert [(r["sku"], r["units"], r["cost"]) for r in report.table("products").rows] == sorted(
        ((sku, *v) for sku, v in by_sku.items()), key=lambda r: r[2])
    assert by_sku["KG"] == (-4_000, -500 - 832)
    assert {r["reason"]: r["units"] for r in report.table("reasons").rows} == {
        "damaged": -1_500, "expired": -2_500, "stolen": -9_000, "found": 1_000, "count variance": -500}
    days = {r["period"]: r["units"] for r in report.table("periods").rows if r["units"]}
    assert days == {"2026-03-02": -4_000, "2026-03-03": -3_000, "2026-03-04": -5_000, "2026-03-05": -500}
    deli = reports.run("shrinkage", dataclasses.replace(opts, category="deli"))
    assert [r["sku"] for r in deli.table("products").rows] == ["BOX", "KG"]
    assert deli.table("reasons").total == {"reason": "total", "units": -8_500, "cost": -500 - 832 - 4 * 333 - 166}


def test_the_worst_sellers_shown_are_the_first_of_every_product_ranked_including_the_unsold(db, ctx):
    """The products that sold nothing rank by id, the highest first, among all active ones, not only among the
    first few ids; the total counts every product ranked (those that sold, inactive or not, and every active one
    that did not)."""
    for sku in ("A", "B", "C", "D", "OFF", "OFF_SOLD"):
        save_product(ProductData(sku=sku, name=sku, price=100))
        stock.receive(ctx, sku, 5000, 10)
    for sku in ("A", "OFF_SOLD"):
        sales.sell(ctx, [sales.LineInput(sku, 1000)], payment="cash")
    for sku in ("OFF", "OFF_SOLD"):
        save_product(ProductData(sku=sku, name=sku, price=100, active=False))
    every = reports.run("worst-sellers", reports.Options(limit=0)).table("products")
    assert [r["sku"] for r in every.rows] == ["D", "C", "B", "OFF_SOLD", "A"]
    assert every.total["name"] == "all 5 products"
    first = reports.run("worst-sellers", reports.Options(limit=1)).table("products")
    assert [r["sku"] for r in first.rows] == ["D"] and first.total["name"] == "all 5 products"
    assert reports.run("worst-sellers", reports.Options(limit=3)).table("products").rows == every.rows[:3]


def test_a_kept_span_notes_the_last_sale_it_saw_and_one_kept_without_it_is_checked_by_its_count(db, ctx, utc):
    """On SQLite a span is checked by a probe for a sale after the last id it saw; a span kept before the upgrade
    (no id) by counting its days' sales again, so a late sale is counted either way."""
    save_product(ProductData(sku="A", name="A", price=250))
    receive_at(ctx, "2026-03-01T08:00:00.000000Z", "A", 50_000, 100)
    for day in range(2, 20):
        sell_at(ctx, f"2026-03-{day:02d}T09:15:00.000000Z", "A")
    opts = reports.Options(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31))
    reports.run("best-sellers", opts)
    last = db.execute_sql("SELECT MAX(id) FROM sale").fetchone()[0]
    assert db.execute_sql("SELECT sale_rows, last_sale_id FROM product_sales_span").fetchall() == [(18, last)]
    db.execute_sql("UPDATE product_sales_span SET last_sale_id = NULL")  # as kept by the version before
    sell_at(ctx, "2026-03-10T09:59:59.999999Z", "A", 5000)  # stamped inside the kept days, committed late
    assert reports.run("best-sellers", opts).table("products").rows[0]["units"] == 23_000
    assert db.execute_sql("SELECT sale_rows, last_sale_id FROM product_sales_span").fetchall() == [(19, last + 1)]
    sell_at(ctx, "2026-03-11T09:00:00.000000Z", "A", 2000)  # and again, found by the probe after the new id
    assert reports.run("worst-sellers", opts).table("products").rows[0]["units"] == 25_000
    assert reports.run("best-sellers", opts).table("products").rows[0]["units"] == 25_000
