"""The books: a period's sales, payments, till sessions and stock journal as double-entry transactions.

A pure model (``Transaction`` of ``Posting`` in integer minor units) read in one snapshot; ``books_format`` writes
it for beancount, hledger, ledger or as a CSV general journal. Per local day one transaction holds the day's sales
(revenue per tax rate net of tax, discounts, refunds, tax), their payments per method, cash rounding, and every
stock movement at the cost the journal recorded (cost of goods sold and refunded, deliveries and returns against the
supplier's payable, losses per reason, stock found). Per Z report (a closed till session) one transaction holds the
drawer's cash: the float from the safe, cash in and out, over/short, the counted cash back to the safe.

Inventory equals the valuation to the cent: each day's inventory postings add up to the change of
``reports.stock_at``'s valuation over the day (each product's on hand × its moving-average cost, rounded per
product). Where the movements' own values (quantity × recorded unit cost, rounded per movement) differ from that —
the moving average's rounding, a cost set by hand — the difference is posted to ``accounts.cost_rounding``.

Only rows created in the period are read (and the journal before it, for the valuation): closed days never change
in an append-only journal, so a period exported once exports byte-identical again.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

from shopkeeper import times
from shopkeeper.accounts_settings import AccountsSection
from shopkeeper.errors import InvalidInput, ShopError
from shopkeeper.money import extend, format_money, format_rate
from shopkeeper.services.reports import _Bucketer, _reason, _round_milli, _rows, _snapshot, local_start, stock_at
from shopkeeper.services.stock import moving_average


class Unbalanced(AssertionError):
    """A transaction whose postings do not add up to zero: a bug in the model, never written out."""


class BooksError(ShopError):
    """The shop's data cannot be booked as it stands (a sale whose payments do not add up to what it took)."""


@dataclass(frozen=True)
class Posting:
    account: str
    amount: int  # minor units: positive is a debit, negative a credit
    memo: str = ""


@dataclass
class Transaction:
    date: dt.date
    reference: str  # unique in an export: "day:2026-11-25", "z:till-1:4", "opening:2026-11-01"
    narration: str
    postings: list[Posting] = field(default_factory=list)

    def check(self) -> None:
        total = sum(p.amount for p in self.postings)
        if total != 0:
            raise Unbalanced(f"transaction {self.reference} does not balance: it is off by {total} minor units")


@dataclass
class Books:
    start: dt.date
    end: dt.date
    transactions: list[Transaction]
    opening_inventory: int  # valuation at the start of ``start``
    closing_inventory: int  # valuation at the end of ``end``
    complete: bool  # the transactions hold the inventory from nothing (the shop's first day, or ``opening``)
    inventory_account: str = "Assets:Inventory"
    chain_head: str | None = None

    def accounts(self) -> list[str]:
        return sorted({p.account for t in self.transactions for p in t.postings})

    def balances(self) -> dict[str, int]:
        """The trial balance: every account's sum over the period."""
        acc: dict[str, int] = defaultdict(int)
        for t in self.transactions:
            for p in t.postings:
                acc[p.account] += p.amount
        return dict(sorted(acc.items()))


# --- account names ------------------------------------------------------------------------------------------------

def account_part(text: str, fallback: str) -> str:
    """``text`` made one valid account part for all three tools: accents dropped (``Käse`` → ``Kase``), every run of
    other characters a ``-``, first letter capital (``acme foods & co`` → ``Acme-foods-co``)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    part = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-")
    return (part[:1].upper() + part[1:]) if part else fallback


def rate_part(rate: int) -> str:
    """A tax rate as an account part: 20 % → ``20``, 5.5 % → ``5-5`` (money.format_rate, the dot a dash)."""
    return format_rate(rate).replace(".", "-")


class _Names:
    def __init__(self, accounts: AccountsSection) -> None:
        self.a = accounts

    def rate(self, template: str, rate: int) -> str:
        return template.replace("{rate}", rate_part(rate))

    def shrinkage(self, reason: str) -> str:
        return self.a.shrinkage.replace("{reason}", account_part(reason, "No-Reason"))

    def payable(self, supplier: str | None) -> str:
        return self.a.payable.replace("{supplier}", account_part(supplier or "", "Unassigned"))

    def payment(self, method: str) -> str:
        return {"cash": self.a.drawer, "card": self.a.card}.get(method, self.a.other)


# --- reading --------------------------------------------------------------------------------------------------------

def local_day(utc_text: str) -> dt.date:
    """The shop's local calendar day of a stored UTC time."""
    moment = times.parse_stored(utc_text)
    if moment is None:
        raise InvalidInput(f"stored time {utc_text!r} is not a time")
    return moment.astimezone().date()


class _When:
    """Stored UTC times → the shop's local days, grouped in SQL by stored hour (by minute in a zone whose offset is
    not whole hours): ``reports``' bucketing, so the books and the reports agree on which day a sale was."""

    def __init__(self, start: dt.date, end: dt.date) -> None:
        self._bucket = _Bucketer(start, end, "day")
        self._days: dict[str, dt.date] = {}

    def sql(self, column: str) -> str:
        return self._bucket.sql(column)

    def __call__(self, key: str) -> dt.date:
        day = self._days.get(key)
        if day is None:
            day = self._days[key] = dt.date.fromisoformat(self._bucket(key))
        return day


def _chain_head(until: str) -> str:
    """The tamper-evident chain's head over the rows created before ``until`` (``chain.head``): as of the period's
    end, so a re-export of a closed period prints the same head."""
    from shopkeeper.services import chain

    return str(chain.head(until=until, seal_first=False))  # sealed before the snapshot (``books``)


class _Day:
    """One local day's postings, summed per account, and what it counted."""

    def __init__(self) -> None:
        self.amounts: dict[str, int] = defaultdict(int)
        self.sales = 0
        self.refunds = 0
        self.movements = 0

    def post(self, account: str, amount: int) -> None:
        self.amounts[account] += amount


def build(start: dt.date, end: dt.date, accounts: AccountsSection | None = None, *, decimals: int = 2,
          opening: bool = False) -> Books:
    """The books of the local days ``start`` to ``end`` inclusive. ``opening`` adds an opening transaction that
    brings the inventory's valuation at ``start`` in from ``accounts.opening``."""
    if start > end:
        raise InvalidInput(f"--from {start} is after --to {end}", field="from", value=str(start))
    names = _Names(accounts or AccountsSection())
    lo, hi = local_start(start), local_start(end + dt.timedelta(days=1))
    days: dict[dt.date, _Day] = defaultdict(_Day)
    when = _When(start, end)
    from shopkeeper.services import chain

    chain.seal_pending()  # before the read snapshot: the head covers every row committed (SQLite seals in batches)
    with _snapshot():
        _sales(days, names, lo, hi, decimals, when)
        opening_value, closing_value, first_movement = _stock(days, names, lo, hi, when)
        zs = _z_reports(names, lo, hi)
        chain_head = _chain_head(hi)
    transactions: list[Transaction] = []
    complete = opening or first_movement is None or first_movement >= lo
    if opening and opening_value:
        transactions.append(Transaction(start, f"opening:{start}", "Opening inventory at moving-average cost", [
            Posting(names.a.inventory, opening_value), Posting(names.a.opening, -opening_value)]))
    for day in sorted(set(days) | {t.date for t in zs}):
        d = days.get(day)
        if d is not None:
            postings = [Posting(account, amount) for account, amount in sorted(d.amounts.items()) if amount]
            if postings:
                transactions.append(Transaction(day, f"day:{day}", _day_narration(day, d), postings))
        transactions.extend(t for t in zs if t.date == day)
    for t in transactions:
        t.check()
    return Books(start, end, transactions, opening_value, closing_value, complete, names.a.inventory, chain_head)


def _day_narration(day: dt.date, d: _Day) -> str:
    parts = []
    for count, one, many in ((d.sales, "sale", "sales"), (d.refunds, "refund", "refunds"),
                             (d.movements, "stock movement", "stock movements")):
        if count:
            parts.append(f"{count} {one if count == 1 else many}")
    return f"Day {day}: " + (", ".join(parts) if parts else "cost rounding")


def _sales(days: dict[dt.date, _Day], names: _Names, lo: str, hi: str, decimals: int, when: _When) -> None:
    """Revenue, discounts, refunds and tax per rate, payments per method and cash rounding, per local day: summed
    in SQL per stored hour (``when``), so a year of sales is a few thousand rows, not a million."""
    a = names.a
    at, window, params = when.sql("s.created_at"), "s.created_at >= ? AND s.created_at < ?", [lo, hi]
    wrong = _rows(f"SELECT s.id, s.total + s.rounding, SUM(p.amount) FROM sale s JOIN payment p ON p.sale_id = s.id "
                  f"WHERE {window} GROUP BY s.id, s.total, s.rounding HAVING SUM(p.amount) <> s.total + s.rounding "
                  f"ORDER BY s.id LIMIT 1", params)
    if wrong:
        sid, due, paid = wrong[0]
        raise BooksError(f"sale {sid}: its payments add up to {format_money(paid, decimals)} but its total and cash "
                         f"rounding to {format_money(due, decimals)}; the books cannot balance", field="sale",
                         value=sid)
    lines_off = _rows(f"SELECT s.id, s.total, SUM(l.total) FROM sale s JOIN sale_line l ON l.sale_id = s.id WHERE "
                      f"{window} GROUP BY s.id, s.total HAVING SUM(l.total) <> s.total ORDER BY s.id LIMIT 1", params)
    if lines_off:
        sid, total, lines = lines_off[0]
        raise BooksError(f"sale {sid}: its lines add up to {format_money(lines, decimals)} but its total is "
                         f"{format_money(total, decimals)}; the books cannot balance", field="sale", value=sid)
    for key, kind, rate, total, tax, discount in _rows(
            f"SELECT {at}, s.kind, l.tax_rate, SUM(l.total), SUM(l.tax), SUM(l.discount) FROM sale_line l "
            f"JOIN sale s ON s.id = l.sale_id WHERE {window} GROUP BY 1, 2, 3", params):
        d = days[when(key)]
        d.post(names.rate(a.tax, rate), -tax)
        if kind == "return":  # stored negative: the refund's net is a debit; what it did not pay back is no discount
            d.post(names.rate(a.refunds, rate), -(total - tax))
        else:
            d.post(names.rate(a.sales, rate), -(total - tax + discount))
            d.post(names.rate(a.discounts, rate), discount)
    for key, kind, count, rounding in _rows(f"SELECT {at}, s.kind, COUNT(*), SUM(s.rounding) FROM sale s "
                                            f"WHERE {window} GROUP BY 1, 2", params):
        d = days[when(key)]
        if kind == "return":
            d.refunds += count
        else:
            d.sales += count
        d.post(a.cash_rounding, -rounding)
    for key, method, amount in _rows(f"SELECT {at}, p.method, SUM(p.amount) FROM payment p JOIN sale s ON "
                                     f"s.id = p.sale_id WHERE {window} GROUP BY 1, 2", params):
        days[when(key)].post(names.payment(method), amount)
    for key, method, amount in _rows(  # a sale with no payment row (inserted by hand): its payment column
            f"SELECT {at}, s.payment, SUM(s.total + s.rounding) FROM sale s WHERE {window} AND NOT EXISTS "
            f"(SELECT 1 FROM payment p WHERE p.sale_id = s.id) GROUP BY 1, 2", params):
        days[when(key)].post(names.payment(method), amount)


def _counter_account(names: _Names, kind: str, quantity: int, reason: str, supplier: str | None) -> str:
    """The account a stock movement's value is posted against (the inventory is the other side)."""
    a = names.a
    if kind in ("sale", "return"):
        return a.cogs
    if kind in ("receive", "supplier_return"):
        return names.payable(supplier)
    if quantity > 0:
        return a.found
    if kind in ("adjust", "count"):
        return names.shrinkage(_reason(kind, reason))
    return names.shrinkage(kind)  # a kind this export does not know yet is booked as a loss of that name


def _stock(days: dict[dt.date, _Day], names: _Names, lo: str, hi: str, when: _When) -> tuple[int, int, str | None]:
    """Post the period's movements at their recorded values (summed in SQL per day, kind, reason, supplier and
    direction), and each day's cost rounding, so the inventory's postings of a day add up to the change of the
    valuation over it. The valuation at ``lo`` is ``reports.stock_at(lo)``'s; the period's movements are replayed on
    from it the same way. Returns the valuation at ``lo`` and at ``hi``, and the first movement's time ever."""
    a = names.a
    at, window, params = when.sql("m.created_at"), "m.created_at >= ? AND m.created_at < ?", [lo, hi]
    suppliers = {sid: name for sid, name in _rows("SELECT id, name FROM supplier")}
    values: dict[dt.date, int] = defaultdict(int)
    for key, kind, reason, supplier, gain, count, value in _rows(
            f"SELECT {at}, m.kind, m.reason, m.supplier_id, CASE WHEN m.quantity > 0 THEN 1 ELSE 0 END, COUNT(*), "
            f"SUM({_round_milli('CAST(m.quantity AS BIGINT) * COALESCE(m.unit_cost, 0)')}) FROM movement m "
            f"WHERE {window} GROUP BY 1, 2, 3, 4, 5", params):
        day = when(key)
        d = days[day]
        d.movements += count
        d.post(a.inventory, value)
        d.post(_counter_account(names, kind, 1 if gain else -1, reason or "", suppliers.get(supplier)), -value)
        values[day] += value
    state = {pid: list(s) for pid, s in stock_at(lo).items()}
    opening = sum(extend(on_hand, cost) for on_hand, cost in state.values())
    change: dict[dt.date, int] = defaultdict(int)
    pid_now = key_now = None
    s, start_value = [0, 0], 0
    for pid, kind, qty, unit_cost, key in _rows(
            f"SELECT m.product_id, m.kind, m.quantity, m.unit_cost, {at} FROM movement m WHERE {window} "
            f"ORDER BY m.product_id, m.id", params):
        if pid != pid_now or key != key_now:  # a product's stretch of one stored hour: its value before and after
            if pid_now is not None:
                change[when(key_now)] += extend(s[0], s[1]) - start_value
            if pid != pid_now:
                pid_now = pid
                s = state.get(pid) or [0, unit_cost or 0]
            key_now, start_value = key, extend(s[0], s[1])
        if unit_cost is not None:
            s[1] = moving_average(s[0], s[1], qty, unit_cost) if kind in ("receive", "return") else unit_cost
        s[0] += qty
    if pid_now is not None:
        change[when(key_now)] += extend(s[0], s[1]) - start_value
    for day in sorted(change):
        rounding = change[day] - values[day]
        if rounding:
            days[day].post(a.inventory, rounding)
            days[day].post(a.cost_rounding, -rounding)
    first = _rows("SELECT MIN(created_at) FROM movement")[0][0]
    return opening, opening + sum(change.values()), first


def _z_reports(names: _Names, lo: str, hi: str) -> list[Transaction]:
    """One transaction per till session closed in the period, dated on the local day it closed."""
    a = names.a
    closes = _rows("SELECT c.session_id, c.closed_at, c.counted_cash, c.over_short, s.number, s.float_amount, "
                   "COALESCE(t.name, '') FROM till_session_close c JOIN till_session s ON s.id = c.session_id "
                   "LEFT JOIN terminal t ON t.id = s.terminal_id WHERE c.closed_at >= ? AND c.closed_at < ? "
                   "ORDER BY c.closed_at, c.id", [lo, hi])
    if not closes:
        return []
    ids = [row[0] for row in closes]
    moves: dict[int, list[tuple[str, int, str]]] = defaultdict(list)
    marks = ", ".join("?" * len(ids))
    for session, kind, amount, reason in _rows(f"SELECT session_id, kind, amount, reason FROM cash_movement WHERE "
                                               f"session_id IN ({marks}) ORDER BY id", ids):
        moves[session].append((kind, amount, reason or ""))
    out = []
    for session, closed_at, counted, over_short, number, float_amount, terminal in closes:
        till = terminal or "till"
        postings = [Posting(a.drawer, float_amount, "float"), Posting(a.safe, -float_amount, "float")]
        for kind, amount, reason in moves[session]:
            memo = f"{kind.replace('_', ' ')}: {reason}" if reason else kind.replace("_", " ")
            if kind == "cash_in":
                postings += [Posting(a.drawer, amount, memo), Posting(a.cash_in, -amount, memo)]
            elif kind == "cash_out":
                postings += [Posting(a.drawer, -amount, memo), Posting(a.cash_out, amount, memo)]
        postings += [Posting(a.drawer, over_short, "over/short"), Posting(a.over_short, -over_short, "over/short"),
                     Posting(a.drawer, -counted, "counted cash"), Posting(a.safe, counted, "counted cash")]
        out.append(Transaction(local_day(closed_at), f"z:{'-'.join(re.sub(r'[()]', ' ', till).split())}:{number}",
                               f"Z report {number}, till {till}", [p for p in postings if p.amount]))
    return out
