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
from shopkeeper.models import database
from shopkeeper.money import extend, format_money, format_rate
from shopkeeper.services.reports import _reason, _rows, _snapshot, local_start
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


def _chain_head(until: str) -> str | None:
    """The tamper-evident chain's head over the rows before ``until``, when the shop has a chain
    (``services/chain.head(until=...)``); a head as of the period's end, so a re-export prints the same."""
    try:
        from shopkeeper.services import chain  # type: ignore[attr-defined]
    except ImportError:
        return None
    head = getattr(chain, "head", None)
    if head is None:
        return None
    try:
        value = head(until=until)
    except TypeError:  # a head() of the whole chain only: it would change with every sale after the period
        return None
    return str(value) if value else None


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
    with _snapshot():
        _sales(days, names, lo, hi, decimals)
        opening_value, closing_value, first_movement = _stock(days, names, lo, hi)
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


def _sales(days: dict[dt.date, _Day], names: _Names, lo: str, hi: str, decimals: int) -> None:
    """Revenue, discounts, refunds and tax per rate, payments per method and cash rounding, per local day."""
    a = names.a
    window = "s.created_at >= ? AND s.created_at < ?"
    sales = {sid: (kind, created, total, rounding, method) for sid, kind, created, total, rounding, method in _rows(
        f"SELECT s.id, s.kind, s.created_at, s.total, s.rounding, s.payment FROM sale s WHERE {window}", [lo, hi])}
    if not sales:
        return
    paid: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for sid, method, amount in _rows(f"SELECT p.sale_id, p.method, p.amount FROM payment p JOIN sale s ON "
                                     f"s.id = p.sale_id WHERE {window} ORDER BY p.id", [lo, hi]):
        paid[sid].append((method, amount))
    for sid, rate, total, tax, discount in _rows(
            f"SELECT l.sale_id, l.tax_rate, l.total, l.tax, l.discount FROM sale_line l JOIN sale s ON "
            f"s.id = l.sale_id WHERE {window}", [lo, hi]):
        kind, created = sales[sid][0], sales[sid][1]
        d = days[local_day(created)]
        d.post(names.rate(a.tax, rate), -tax)
        if kind == "return":  # stored negative: the refund's net is a debit; what it did not pay back is no discount
            d.post(names.rate(a.refunds, rate), -(total - tax))
        else:
            d.post(names.rate(a.sales, rate), -(total - tax + discount))
            d.post(names.rate(a.discounts, rate), discount)
    for sid, (kind, created, total, rounding, method) in sorted(sales.items()):
        d = days[local_day(created)]
        if kind == "return":
            d.refunds += 1
        else:
            d.sales += 1
        tenders = paid.get(sid) or [(method, total + rounding)]  # a sale with no payment row (raw inserts)
        if sum(amount for _, amount in tenders) != total + rounding:
            raise BooksError(f"sale {sid}: its payments add up to "
                             f"{format_money(sum(x for _, x in tenders), decimals)} but its total and cash rounding "
                             f"to {format_money(total + rounding, decimals)}; the books cannot balance",
                             field="sale", value=sid)
        for tender, amount in tenders:
            d.post(names.payment(tender), amount)
        d.post(a.cash_rounding, -rounding)


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


def _stock(days: dict[dt.date, _Day], names: _Names, lo: str, hi: str) -> tuple[int, int, str | None]:
    """Post each movement of the period at its recorded value, and each day's cost rounding, so the inventory's
    postings of a day add up to the change of the valuation over it. Replays the journal as ``reports.stock_at``
    does. Returns the valuation at ``lo`` and at ``hi``, and the first movement's time ever (None: no movement)."""
    a = names.a
    suppliers = {sid: name for sid, name in _rows("SELECT id, name FROM supplier")}
    db = database.obj
    sql = ("SELECT product_id, kind, quantity, unit_cost, created_at, reason, supplier_id FROM movement "
           "WHERE created_at < ? ORDER BY product_id, id").replace("?", db.param)
    opening = closing = 0
    first: str | None = None
    rounding: dict[dt.date, int] = defaultdict(int)
    pid_now, on_hand, cost = None, 0, 0
    for pid, kind, qty, unit_cost, created, reason, supplier in db.execute_sql(sql, (hi,)):
        if pid != pid_now:
            pid_now, on_hand, cost = pid, 0, unit_cost or 0
        if first is None or created < first:
            first = created
        before = extend(on_hand, cost)
        if unit_cost is not None:
            cost = moving_average(on_hand, cost, qty, unit_cost) if kind in ("receive", "return") else unit_cost
        on_hand += qty
        after = extend(on_hand, cost)
        closing += after - before
        if created < lo:
            opening += after - before
            continue
        day = local_day(created)
        d = days[day]
        d.movements += 1
        value = extend(qty, unit_cost or 0)
        d.post(a.inventory, value)
        d.post(_counter_account(names, kind, qty, reason or "", suppliers.get(supplier)), -value)
        rounding[day] += (after - before) - value
    for day, amount in rounding.items():
        if amount:
            days[day].post(a.inventory, amount)
            days[day].post(a.cost_rounding, -amount)
    return opening, closing, first


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
