"""Keep the reports' figures of closed days warm, so that a shop's first report of the day reads only the days since.

Each report keeps what it had to read live (``sales_cache``, ``product_sales_cache``, ``journal_cache``,
``stock_cache``), but the first one after an upgrade, or after the kept figures were cleared, reads a year of rows.
``keep_closed_days`` does that reading ahead of time, for everything closed and not kept yet: the sales of every
closed UTC hour and day since the first sale, the per-product sums of the year and of the last 30 days up to the
last closed day (the default ranges of the product reports), the journal's running totals at the last
``journal_cache.WINDOW`` + 1 month starts and the stock at the last ``stock_cache.MAX_MARKS``. Run daily it reads
a day (a month at a month's turn); the app runs it in a thread once idle after the day turns, the till's close runs
it, and ``shopkeeper report --keep`` runs it from cron.

Best effort and out of the way: every step reads in a snapshot of its own and writes what it found afterwards in
short write transactions, letting waiting writers (a till's sale) in first between steps (``db.let_writers_in``);
a busy database leaves a step's figures for next time. Nothing but speed depends on it: each kept figure is still
checked against the journal when a report uses it, so a report always equals a full recomputation.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from shopkeeper.db import let_writers_in, utcnow
from shopkeeper.services import journal_cache, product_sales_cache, reports, sales_cache, stock_cache

SPANS = (365, 30)
"""The product reports' spans kept: a year (abc's default range) and 30 days (best- and worst-sellers')."""


def keep_closed_days() -> dict[str, float]:
    """Keep the figures of every closed day not kept yet (see the module). Returns each step's seconds."""
    steps: list[tuple[str, Callable[[], object]]] = [
        ("sales", _keep_sales), ("products", _keep_spans), ("journal", _keep_journal), ("stock", _keep_stock)]
    took: dict[str, float] = {}
    for name, step in steps:
        let_writers_in()
        started = time.perf_counter()
        step()
        took[name] = time.perf_counter() - started
    return took


def _last_moment() -> str:
    """Where kept figures end: now, or just after the journal's last movement when that is older (a shop copied
    for a test or a bench, a shop closed for a season: the months since hold nothing to keep)."""
    now = utcnow()
    last = reports._rows("SELECT MAX(created_at) FROM movement")[0][0]
    return now if last is None or last >= now else min(now, journal_cache.month_start_after(last))


CHUNK_DAYS = 31
"""The sales are kept a run of this many UTC days at a time, newest first: each run is one read snapshot and one
short write transaction (a month of a big shop's hours and days), and the recent months, which most reports ask
for, are kept first; years of history kept cold take minutes, but never hold the write lock for long."""


def _keep_sales() -> None:
    """Every closed UTC hour and day since the first sale (``sales_cache``), today excluded."""
    today = dt.date.fromisoformat(utcnow()[:10])
    first = reports._rows("SELECT MIN(created_at) FROM sale")[0][0]
    if first is None:
        return
    start = dt.date.fromisoformat(first[:10])
    kept = _kept_days(start)
    end = today
    while end > start:
        lo = max(start, end - dt.timedelta(days=CHUNK_DAYS))
        if all((lo + dt.timedelta(days=n)).isoformat() in kept for n in range((end - lo).days)):
            end = lo  # kept already (a report checks the kept figures against the sales when it uses them)
            continue
        sales_cache.forget_pending()
        with reports._snapshot():  # from the first sale's day on, empty hours too: a report reads none of them
            sales_cache.figures(f"{lo}T00:00:00.000000Z", f"{end}T00:00:00.000000Z")
            sales_cache.groups(f"{lo}T00:00:00.000000Z", f"{end}T00:00:00.000000Z")
        sales_cache.keep()
        let_writers_in()
        end = lo


def _kept_days(start: dt.date) -> set[str]:
    """The UTC days from ``start`` on whose figures are kept: every hour (``sales_hour``) and the day
    (``sales_day``). Two index reads: a day's run of the maintenance skips the months it kept before."""
    day = f"{start}T00"
    hours = reports._rows("SELECT substr(hour, 1, 10), COUNT(DISTINCT hour) FROM sales_hour WHERE hour >= ? "
                          "GROUP BY 1", [day])
    days = {d for (d,) in reports._rows("SELECT DISTINCT day FROM sales_day WHERE day >= ?", [day[:10]])}
    return {d for d, n in hours if n == 24 and d in days}


def _keep_spans() -> None:
    """The spans of the year and of 30 days up to the last local day with a sale (today in a shop that sells)."""
    last = reports._rows("SELECT MAX(created_at) FROM sale")[0][0]
    if last is None:
        return
    end = min(reports.today(), dt.datetime.fromisoformat(last.replace("Z", "+00:00")).astimezone().date())
    for days in SPANS:
        product_sales_cache.forget_pending()
        with reports._snapshot():
            product_sales_cache.product_sales(reports._scope(reports.Options(
                start=end - dt.timedelta(days=days - 1), end=end)))
        product_sales_cache.keep()
        let_writers_in()


def _month_starts() -> list[str]:
    """The settled month starts the journal's and the stock's marks are kept at: up to the last one with a
    movement before it, ``journal_cache.WINDOW`` months back at most, from the journal's first month on."""
    first = reports._rows("SELECT MIN(created_at) FROM movement")[0][0]
    if first is None:
        return []
    starts = journal_cache.month_starts(first[:7] + "-01T00:00:00.000000Z", _last_moment())
    return starts[-(journal_cache.WINDOW + 1):]


def _keep_journal() -> None:
    journal_cache.keep_months(_month_starts())


def _keep_stock() -> None:
    stock_cache.keep_months(_month_starts())
