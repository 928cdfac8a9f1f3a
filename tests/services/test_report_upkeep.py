"""report_upkeep: the figures of closed days kept ahead of the reports (the app when idle, the till's close, cron)
equal a full recomputation, late commits included, and leave a report nothing closed to read live."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest

from shopkeeper.services import journal_cache, product_sales_cache, report_upkeep, reports, sales_cache, stock_cache
from shopkeeper.services.catalog import ProductData, save_product
from tests.services.test_reports import receive_at, sell_at

CACHES = (sales_cache, product_sales_cache, journal_cache, stock_cache)

RANGES = [reports.Options(start=dt.date(2025, 5, 1), end=dt.date(2026, 4, 30), limit=0),  # the year to the last sale
          reports.Options(start=dt.date(2026, 4, 1), end=dt.date(2026, 4, 30), limit=0),  # its last 30 days
          reports.Options(start=dt.date(2026, 2, 3), end=dt.date(2026, 4, 12), limit=0)]  # any other range


@pytest.fixture
def shop(db, ctx, utc):
    build_shop(ctx)
    return ctx


def build_shop(ctx) -> None:
    """Four months of sales and receipts of two products, the last sale on 30 April 2026."""
    for sku in ("A", "B"):
        save_product(ProductData(sku=sku, name=sku, price=250, category="Dairy" if sku == "A" else "Deli"))
    receive_at(ctx, "2026-01-05T08:00:00.000000Z", "A", 50_000, 100)
    receive_at(ctx, "2026-01-06T08:00:00.000000Z", "B", 50_000, 150)
    for month in (1, 2, 3, 4):
        sell_at(ctx, f"2026-{month:02d}-10T09:15:00.000000Z", "A", 2000)
        sell_at(ctx, f"2026-{month:02d}-20T17:40:00.000000Z", "B")
        receive_at(ctx, f"2026-{month:02d}-25T08:00:00.000000Z", "A", 1000, 100 + month * 10)
    sell_at(ctx, "2026-04-30T18:00:00.000000Z", "A")


def every_report() -> list:
    out = []
    for opts in RANGES:
        for name in reports.REPORTS:
            out.append(reports.run(name, opts).tables)
    for day in (dt.date(2026, 3, 15), dt.date(2026, 4, 20)):
        out.append(reports.run("valuation", reports.Options(at=day)).tables)
    return out


def recomputed() -> list:
    for cache in CACHES:
        cache.enabled = False
    try:
        return every_report()
    finally:
        for cache in CACHES:
            cache.enabled = True


def test_figures_kept_ahead_equal_a_full_recomputation_also_after_late_commits(db, shop):
    report_upkeep.keep_closed_days()
    assert db.execute_sql("SELECT COUNT(*) FROM sales_hour").fetchone()[0] > 0
    closed = (dt.datetime.now(dt.UTC).date() - dt.date(2026, 1, 10)).days  # from the first sale up to yesterday
    assert db.execute_sql("SELECT COUNT(DISTINCT day) FROM sales_day").fetchone()[0] == closed
    spans = db.execute_sql("SELECT first_day, end_day FROM product_sales_span ORDER BY first_day").fetchall()
    epoch = dt.date(1970, 1, 1)
    assert spans == [((dt.date(2025, 5, 1) - epoch).days, (dt.date(2026, 5, 1) - epoch).days),
                     ((dt.date(2026, 4, 1) - epoch).days, (dt.date(2026, 5, 1) - epoch).days)]
    months = [f"2026-{m:02d}-01T00:00:00.000000Z" for m in (1, 2, 3, 4, 5)]  # up to the month after the last move
    assert [b for (b,) in db.execute_sql("SELECT boundary FROM journal_mark ORDER BY boundary")] == months
    assert [b for (b,) in db.execute_sql("SELECT boundary FROM stock_mark ORDER BY boundary")] == months[2:]
    assert every_report() == recomputed()
    # tills whose transactions took their stamps in kept hours, days, spans and months commit only now
    sell_at(shop, "2026-03-10T09:20:00.000000Z", "B", 3000)
    receive_at(shop, "2026-02-27T08:00:00.000000Z", "B", 7000, 190)
    report_upkeep.keep_closed_days()
    assert every_report() == recomputed()


def test_once_kept_ahead_a_report_reads_no_closed_day_live(db, shop, monkeypatch):
    report_upkeep.keep_closed_days()
    hours, spans = [], []
    monkeypatch.setattr(sales_cache, "_read_live", mock.Mock(side_effect=lambda h: hours.extend(h) or {}))
    live_spans = product_sales_cache.live
    monkeypatch.setattr(product_sales_cache, "live",
                        lambda lo, hi, scope=None: spans.append((lo, hi)) or live_spans(lo, hi, scope))
    monkeypatch.setattr(journal_cache, "live", mock.Mock(side_effect=AssertionError("a kept month read again")))
    monkeypatch.setattr(reports, "_walk", mock.Mock(side_effect=AssertionError("every product walked")))
    monkeypatch.setattr(stock_cache, "replay_on", mock.Mock(side_effect=AssertionError("a month replayed")))
    for opts in RANGES[:2]:
        reports.run("sales", opts)
        reports.run("best-sellers", opts)
    reports.run("movement", reports.Options(start=dt.date(2026, 1, 1), end=dt.date(2026, 4, 30)))
    reports.run("valuation", reports.Options(at=dt.date(2026, 4, 20)))
    assert hours == []
    assert all(lo >= hi for lo, hi in spans)  # only the empty part days at the ends of the kept spans


def test_the_next_keep_reads_only_the_days_since(db, shop, monkeypatch):
    def now(stamp: str) -> None:
        for module in (report_upkeep, *CACHES):
            monkeypatch.setattr(module, "utcnow", lambda: stamp)

    now("2026-05-02T12:00:00.000000Z")
    report_upkeep.keep_closed_days()  # up to 1 May
    sell_at(shop, "2026-05-02T11:00:00.000000Z", "A")
    read = []
    live = sales_cache._read_live
    monkeypatch.setattr(sales_cache, "_read_live", lambda hours: read.extend(hours) or live(hours))
    now("2026-05-03T09:00:00.000000Z")  # the day turned
    report_upkeep.keep_closed_days()
    assert sorted(read) == [f"2026-05-02T{hour:02d}" for hour in range(24)]
    monkeypatch.undo()
    assert every_report() == recomputed()


def test_valuation_at_a_new_month_start_is_replayed_on_from_the_kept_one_before(db, shop, monkeypatch):
    march = reports.run("valuation", reports.Options(at=dt.date(2026, 3, 15))).tables  # keeps March 1st
    assert [b for (b,) in db.execute_sql("SELECT boundary FROM stock_mark")] == ["2026-03-01T00:00:00.000000Z"]
    monkeypatch.setattr(reports, "_walk", mock.Mock(side_effect=AssertionError("every product walked")))
    april = reports.run("valuation", reports.Options(at=dt.date(2026, 4, 20))).tables  # April 1st from March's
    assert db.execute_sql("SELECT COUNT(*) FROM stock_mark").fetchone()[0] == 2
    monkeypatch.undo()
    stock_cache.enabled = False
    try:
        assert [reports.run("valuation", reports.Options(at=day)).tables
                for day in (dt.date(2026, 3, 15), dt.date(2026, 4, 20))] == [march, april]
    finally:
        stock_cache.enabled = True
