"""Reports service: kept hours and kept spans never hide a late commit, the past is replayed from the journal, ABC
classes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from unittest import mock

import pytest

from shopkeeper.models import Sale
from shopkeeper.services import journal_cache, product_sales_cache, reports, sales, sales_cache, stock
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
              (dt.date(2026, 4, 5), dt.date(2026, 7, 5)),  # May 1 to Jul 1: a fourth and fifth mark, so afresh
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


def test_abc_classes_follow_the_share_of_revenue(db, ctx):
    for sku, price in (("BIG", 8000), ("MID", 1500), ("SMALL", 500), ("NONE", 100)):
        save_product(ProductData(sku=sku, name=sku, price=price))
        stock.receive(ctx, sku, 5000, 10)
    for sku in ("BIG", "MID", "SMALL"):
        sales.sell(ctx, [sales.LineInput(sku, 1000)], payment="cash")
    rows = {r["sku"]: r["class"] for r in reports.run("abc", reports.Options()).table("products").rows}
    assert rows == {"BIG": "A", "MID": "B", "SMALL": "C", "NONE": "C"}


def test_slow_movers_are_stock_without_a_recent_sale_by_value(db, ctx):
    for sku, cost in (("SOLD", 100), ("CHEAP", 10), ("DEAR", 900), ("EMPTY", 5)):
        save_product(ProductData(sku=sku, name=sku, price=1000))
        if sku != "EMPTY":
            stock.receive(ctx, sku, 3000, cost)
    sales.sell(ctx, [sales.LineInput("SOLD", 1000)], payment="cash")
    rows = reports.run("slow-movers", reports.Options()).table("products").rows
    assert [r["sku"] for r in rows] == ["DEAR", "CHEAP"]
    assert rows[0]["value"] == 2700 and rows[0]["last_sale"] == "never" and rows[0]["cover_days"] is None


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
