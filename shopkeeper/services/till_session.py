"""Till sessions: the unit of cash accountability at one till (terminal).

A session is opened with a float, takes cash in and out with a reason (paid-outs, petty cash, safe drops) and
records every "no sale" drawer opening; it is closed with the counted drawer. Sales the till completes while a
session is open name it (``Sale.till_session``, set in ``till.complete`` through ``session_for_sale``).

The X report (``x_report``) is the session's figures now and changes nothing. Closing (``close``) writes one
``TillSessionClose`` row with the Z report's figures and its printed text; every table here is append-only, so a
closed session and its Z report never change and ``z_report`` reprints it as it was printed.

Cash comes from ``Payment`` rows alone (several per sale with split tender): ``amount`` is what the tender settled,
change already netted, so the cash payments of a session are exactly what its sales put into the drawer.

Voids: voiding an open sale at the till leaves no sale row; the ``staff`` branch's audit log records one
``sale_voided`` event per void. The Z report counts those events at this terminal between opening and closing.

Races: at most one open session per till and the per-till number are both guarded by the unique index on
(terminal, number): two tills' processes opening at once compute the same next number, the second insert fails, and
the retry sees the first session open and refuses. Cash movements, sales and the close lock the session row
(PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises writers), so a sale is either in the Z report of the
session it names or names no session.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field

from peewee import IntegrityError, fn

from shopkeeper import bounds
from shopkeeper.db import is_sqlite, locked, retry_clashes, statement, utcnow, write_transaction
from shopkeeper.denominations import check_counts, total
from shopkeeper.errors import InvalidInput, NotFound
from shopkeeper.models import (AuditEvent, CashMovement, OpenSale, OpenSalePayment, Payment, Sale, SaleLine, Staff,
                               Terminal, TillSession, TillSessionClose, database)
from shopkeeper.money import format_money, format_rate
from shopkeeper.services import audit_log, permissions
from shopkeeper.services.context import Context, staff_id, terminal_id
from shopkeeper.text import clean
from shopkeeper.times import local_time, parse_stored

CASH_KINDS = ("cash_in", "cash_out", "no_sale")
METHODS = ("cash", "card", "other")
VOID_EVENT = "sale_voided"
OPEN_ATTEMPTS = 3


@dataclass(frozen=True)
class Session:
    id: int
    terminal: str
    number: int
    opened_at: str
    opened_by: str
    float_amount: int
    float_detail: dict[int, int]
    closed_at: str | None = None


@dataclass
class Report:
    """The figures of an X or Z report, in minor units. ``as_json`` is what a Z report stores."""

    kind: str  # "X" or "Z"
    session: Session
    at: str  # when the figures were taken (UTC)
    float_amount: int = 0
    cash_sales: int = 0
    cash_refunds: int = 0  # positive: paid back in cash
    cash_in: int = 0
    cash_out: int = 0
    no_sales: int = 0
    expected_cash: int = 0
    held_cash: int = 0  # cash part payments on this till's open and parked sales: in the drawer, in no sale yet
    counted_cash: int | None = None
    counted_detail: dict[int, int] = field(default_factory=dict)
    over_short: int | None = None
    sales_by_method: dict[str, int] = field(default_factory=dict)
    refunds_by_method: dict[str, int] = field(default_factory=dict)  # positive amounts paid back
    sales: int = 0
    refunds: int = 0
    voids: int = 0
    sales_total: int = 0
    refunds_total: int = 0  # positive
    discounts: int = 0
    rounding: int = 0
    tax_by_rate: dict[int, tuple[int, int]] = field(default_factory=dict)  # rate → (net of tax, tax), signed
    first_receipt: int | None = None
    last_receipt: int | None = None
    chain_head: str = ""
    text: str = ""  # the report as printed
    blind: bool = False  # an X report for someone who may not close the day: no money figures (``x_report``)

    def as_json(self) -> dict:
        if self.blind:
            return {"kind": self.kind, "terminal": self.session.terminal, "number": self.session.number,
                    "opened_at": self.session.opened_at, "opened_by": self.session.opened_by, "at": self.at,
                    "blind": True, "sales": self.sales, "refunds": self.refunds, "voids": self.voids,
                    "no_sales": self.no_sales, "text": self.text}
        return {
            "kind": self.kind, "terminal": self.session.terminal, "number": self.session.number,
            "opened_at": self.session.opened_at, "opened_by": self.session.opened_by, "at": self.at,
            "float": self.float_amount, "float_detail": {str(k): v for k, v in self.session.float_detail.items()},
            "cash_sales": self.cash_sales, "cash_refunds": self.cash_refunds, "cash_in": self.cash_in,
            "cash_out": self.cash_out, "no_sales": self.no_sales, "expected_cash": self.expected_cash,
            "held_cash": self.held_cash, "counted_cash": self.counted_cash,
            "counted_detail": {str(k): v for k, v in self.counted_detail.items()},
            "over_short": self.over_short, "sales_by_method": self.sales_by_method,
            "refunds_by_method": self.refunds_by_method, "sales": self.sales, "refunds": self.refunds,
            "voids": self.voids, "sales_total": self.sales_total, "refunds_total": self.refunds_total,
            "discounts": self.discounts, "rounding": self.rounding,
            "tax_by_rate": {str(rate): {"net": net, "tax": tax} for rate, (net, tax) in self.tax_by_rate.items()},
            "first_receipt": self.first_receipt, "last_receipt": self.last_receipt, "chain_head": self.chain_head,
            "text": self.text,
        }


# --- reading ------------------------------------------------------------------------------------------------

def _session(row: TillSession, closed_at: str | None = None) -> Session:
    terminal = Terminal.select(Terminal.name).where(Terminal.id == row.terminal_id).scalar() or ""
    staff = (Staff.select(Staff.name).where(Staff.id == row.opened_by_id).scalar() or "") if row.opened_by_id else ""
    detail = {int(k): v for k, v in json.loads(row.float_detail).items()} if row.float_detail else {}
    return Session(row.id, terminal, row.number, row.opened_at, staff, row.float_amount, detail, closed_at)


def _open_row(terminal: int, *, lock: bool = False) -> TillSession | None:
    """The open session of till ``terminal``: its latest, when that has no close."""
    query = (TillSession.select().where(TillSession.terminal == terminal)
             .order_by(TillSession.number.desc()).limit(1))
    row = (locked(query) if lock else query).first()
    if row is None or TillSessionClose.select().where(TillSessionClose.session == row.id).exists():
        return None
    return row


def current(ctx: Context) -> Session | None:
    """The session open at ``ctx.terminal``, or None."""
    row = _open_row(terminal_id(ctx))
    return None if row is None else _session(row)


def session_for_sale(ctx: Context) -> int | None:
    """The id of the session a sale completed now at ``ctx.terminal`` belongs to (None: no session open). Call
    inside the sale's write transaction: the session row stays locked until it commits, so a close waits for it."""
    db = database.obj
    if is_sqlite():  # BEGIN IMMEDIATE holds every writer off: one statement sees the latest session and its close
        row = db.execute_sql(statement(db, "till_session.for_sale", _open_session_sql), (terminal_id(ctx),)).fetchone()
        return None if row is None or row[1] else row[0]
    # PostgreSQL: the row lock first, then the close read in a new snapshot (a close committed while we waited)
    row = _open_row(terminal_id(ctx), lock=True)
    return None if row is None else row.id


def _open_session_sql(p: str) -> str:
    """``_open_row`` as one statement: it runs in every sale, where a Peewee query costs more than the sale's own
    INSERTs (bench/bench_sales.py)."""
    return (f"SELECT s.id, EXISTS (SELECT 1 FROM till_session_close c WHERE c.session_id = s.id) FROM till_session s "
            f"WHERE s.terminal_id = {p} ORDER BY s.number DESC LIMIT 1")


def in_use() -> bool:
    """Whether this shop keeps till sessions: one was ever opened, at any till."""
    return TillSession.select().exists()


def needs_session(ctx: Context) -> bool:
    """A sale here should ask for a session first: the shop keeps them and none is open at this till."""
    return in_use() and current(ctx) is None


def left_open_before(ctx: Context, today: dt.date | None = None) -> Session | None:
    """The session open at this till since a day before ``today`` (local time), if any: shown at start."""
    session = current(ctx)
    if session is None:
        return None
    opened = parse_stored(session.opened_at)
    today = today or dt.datetime.now().astimezone().date()
    if opened is None or opened.astimezone().date() >= today:
        return None
    return session


def find(ctx: Context, number: int, terminal: str | None = None) -> Session:
    """Session ``number`` of ``terminal`` (default: this till)."""
    tid = terminal_id(ctx) if terminal is None else Terminal.select(Terminal.id).where(Terminal.name == terminal).scalar()
    row = TillSession.get_or_none((TillSession.terminal == tid) & (TillSession.number == number)) if tid else None
    if row is None:
        where = terminal if terminal is not None else ctx.terminal
        raise NotFound(f"no till session {number} at till {where!r}", field="number", value=number)
    close = TillSessionClose.get_or_none(TillSessionClose.session == row.id)
    return _session(row, close.closed_at if close else None)


def sessions(ctx: Context, terminal: str | None = None, *, all_tills: bool = False, limit: int = 50) -> list[Session]:
    """The latest sessions of this till (or of every till), newest first."""
    query = TillSession.select().order_by(TillSession.opened_at.desc(), TillSession.id.desc()).limit(limit)
    if not all_tills:
        tid = terminal_id(ctx) if terminal is None else \
            Terminal.select(Terminal.id).where(Terminal.name == terminal).scalar()
        query = query.where(TillSession.terminal == tid)
    rows = list(query)
    closes = {c.session_id: c.closed_at for c in
              TillSessionClose.select().where(TillSessionClose.session.in_([r.id for r in rows]))} if rows else {}
    return [_session(row, closes.get(row.id)) for row in rows]


# --- writing ------------------------------------------------------------------------------------------------

def _amount(amount: int, what: str, decimals: int, *, positive: bool) -> int:
    if not isinstance(amount, int) or amount < 0 or (positive and amount == 0):
        raise InvalidInput(f"{what} must be {'more than zero' if positive else 'zero or more'}", field=what,
                           value=amount)
    return bounds.money(amount, what, decimals)


def _counted(amount: int | None, counts: dict[int, int] | None, what: str, decimals: int) -> tuple[int, str]:
    """The amount and its JSON detail: the counts' sum when no amount is given; both must agree when both are."""
    detail = check_counts(counts or {}, decimals)
    if amount is None:
        if not detail:
            raise InvalidInput(f"give the {what} or count it by denomination", field=what)
        amount = total(detail)
    amount = _amount(amount, what, decimals, positive=False)
    if detail and total(detail) != amount:
        raise InvalidInput(f"the {what} {format_money(amount, decimals)} is not what the counted notes and coins "
                           f"add up to ({format_money(total(detail), decimals)})", field=what, value=amount)
    return amount, json.dumps({str(k): v for k, v in detail.items()}) if detail else ""


def _who(ctx: Context) -> tuple[int, int | None]:
    """Terminal and staff ids, looked up (or created) before the transaction (see ``till._writing``)."""
    terminal = terminal_id(ctx)
    if terminal is None:
        raise InvalidInput("a till session needs a till: set [till] terminal or --terminal", field="terminal")
    return terminal, staff_id(ctx)


@retry_clashes
def open(ctx: Context, float_amount: int | None, denominations: dict[int, int] | None = None) -> Session:  # noqa: A001
    """Open a session at ``ctx.terminal`` with ``float_amount`` in the drawer (or the sum of ``denominations``,
    {minor units: count}). Refused while a session is open there."""
    amount, detail = _counted(float_amount, denominations, "float", ctx.decimals)
    terminal, staff = _who(ctx)
    for attempt in range(1, OPEN_ATTEMPTS + 1):
        with write_transaction():
            if (row := _open_row(terminal)) is not None:
                raise InvalidInput(f"till {ctx.terminal} already has session {row.number} open (since "
                                   f"{local_time(row.opened_at)}); close it first", field="session",
                                   reason="already open", value=row.number)
            number = (TillSession.select(fn.MAX(TillSession.number)).where(TillSession.terminal == terminal)
                      .scalar() or 0) + 1
            try:
                with database.obj.atomic():  # a savepoint: the clash must not end the transaction
                    sid = TillSession.insert(terminal=terminal, number=number, opened_at=utcnow(), opened_by=staff,
                                             float_amount=amount, float_detail=detail).execute()
            except IntegrityError:
                if attempt == OPEN_ATTEMPTS:
                    raise
                continue  # another process opened number N at this till meanwhile: look again
            return _session(TillSession.get_by_id(sid))
    raise AssertionError("unreachable")


def _locked_open(ctx: Context) -> TillSession:
    row = _open_row(terminal_id(ctx), lock=True)
    if row is None:
        raise InvalidInput(f"no till session is open at till {ctx.terminal}: open one with a float first",
                           field="session", reason="not open")
    return row


def _cash_movement(ctx: Context, kind: str, amount: int, reason: str) -> int:
    if kind not in CASH_KINDS:
        raise InvalidInput(f"cash movement kind must be one of {', '.join(CASH_KINDS)}", field="kind", value=kind)
    reason = clean(reason, field="reason").strip()
    if not reason and kind != "no_sale":
        raise InvalidInput(f"{kind.replace('_', ' ')} needs a reason", field="reason", reason="required")
    _who(ctx)
    approval = permissions.require(ctx, permissions.OPEN_DRAWER) if kind == "no_sale" else None
    with write_transaction():
        row = _locked_open(ctx)
        movement = CashMovement.insert(session=row.id, kind=kind, amount=amount, reason=reason, staff=staff_id(ctx),
                                       terminal=terminal_id(ctx), created_at=utcnow()).execute()
        if approval is not None:  # the drawer opened without a sale: in the audit trail, with who approved it
            audit_log.record(ctx, "no_sale", subject=f"till_session:{row.id}", detail={"reason": reason},
                             supervisor_id=approval.supervisor_id)
            approval.record(ctx, f"till_session:{row.id}")
        return movement


@retry_clashes
def cash_in(ctx: Context, amount: int, reason: str) -> int:
    """Cash put into the drawer (change from the safe, a float top-up), with why."""
    return _cash_movement(ctx, "cash_in", _amount(amount, "amount", ctx.decimals, positive=True), reason)


@retry_clashes
def cash_out(ctx: Context, amount: int, reason: str) -> int:
    """Cash taken out of the drawer (a paid-out, petty cash, a safe drop), with why."""
    return _cash_movement(ctx, "cash_out", _amount(amount, "amount", ctx.decimals, positive=True), reason)


@retry_clashes
def no_sale(ctx: Context, reason: str = "") -> int:
    """The drawer opened without a sale (why, if given). The caller kicks the drawer once this is recorded."""
    return _cash_movement(ctx, "no_sale", 0, reason)


# --- the figures --------------------------------------------------------------------------------------------

def _figures(ctx: Context, row: TillSession, kind: str, until: str) -> Report:
    session = _session(row)
    report = Report(kind, session, until, float_amount=row.float_amount)
    # payments of the session's sales, by method and direction
    pays = (Payment.select(Sale.kind, Payment.method, fn.SUM(Payment.amount))
            .join(Sale, on=(Payment.sale == Sale.id)).where(Sale.till_session == row.id)
            .group_by(Sale.kind, Payment.method).tuples())
    for sale_kind, method, amount in pays:
        amount = int(amount or 0)
        if sale_kind == "return":
            report.refunds_by_method[method] = report.refunds_by_method.get(method, 0) - amount
        else:
            report.sales_by_method[method] = report.sales_by_method.get(method, 0) + amount
    report.cash_sales = report.sales_by_method.get("cash", 0)
    report.cash_refunds = report.refunds_by_method.get("cash", 0)
    # sales, refunds, their totals, rounding and receipt numbers
    counts = (Sale.select(Sale.kind, fn.COUNT(Sale.id), fn.SUM(Sale.total), fn.SUM(Sale.rounding), fn.MIN(Sale.id),
                          fn.MAX(Sale.id)).where(Sale.till_session == row.id).group_by(Sale.kind).tuples())
    firsts, lasts = [], []
    for sale_kind, n, amount, rounding, first, last in counts:
        if sale_kind == "return":
            report.refunds, report.refunds_total = n, -int(amount or 0)
        else:
            report.sales, report.sales_total = n, int(amount or 0)
        report.rounding += int(rounding or 0)
        firsts.append(first)
        lasts.append(last)
    report.first_receipt = min(firsts) if firsts else None
    report.last_receipt = max(lasts) if lasts else None
    # discounts given (sale lines only: a refund line's "discount" is what was not paid back) and tax by rate
    lines = (SaleLine.select(Sale.kind, SaleLine.tax_rate, fn.SUM(SaleLine.discount), fn.SUM(SaleLine.total),
                             fn.SUM(SaleLine.tax))
             .join(Sale, on=(SaleLine.sale == Sale.id)).where(Sale.till_session == row.id)
             .group_by(Sale.kind, SaleLine.tax_rate).tuples())
    by_rate: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for sale_kind, rate, discount, amount, tax in lines:
        if sale_kind == "sale":
            report.discounts += int(discount or 0)
        net = int(amount or 0) - int(tax or 0)  # a line's total includes its tax, however prices are shown
        by_rate[rate][0] += net
        by_rate[rate][1] += int(tax or 0)
    report.tax_by_rate = {rate: (net, tax) for rate, (net, tax) in sorted(by_rate.items())}
    # cash in, out, no sale
    for move_kind, n, amount in (CashMovement.select(CashMovement.kind, fn.COUNT(CashMovement.id),
                                                     fn.SUM(CashMovement.amount))
                                 .where(CashMovement.session == row.id).group_by(CashMovement.kind).tuples()):
        if move_kind == "cash_in":
            report.cash_in = int(amount or 0)
        elif move_kind == "cash_out":
            report.cash_out = int(amount or 0)
        elif move_kind == "no_sale":
            report.no_sales = n
    report.voids = (AuditEvent.select().where((AuditEvent.kind == VOID_EVENT)
                                              & (AuditEvent.terminal == row.terminal_id)
                                              & (AuditEvent.created_at >= row.opened_at)
                                              & (AuditEvent.created_at <= until)).count())
    report.held_cash = held_cash(row.terminal_id)
    report.expected_cash = (report.float_amount + report.cash_sales - report.cash_refunds + report.cash_in
                            - report.cash_out)
    return report


def held_cash(terminal: int) -> int:
    """Cash taken as part payments on the unfinished (open or parked) sales of till ``terminal``: in its drawer
    already, counted in a session only when the sale completes there."""
    return _held_cash(OpenSale.terminal == terminal)


def held_cash_of(open_sale: int) -> int:
    """Cash taken as part payments on unfinished sale ``open_sale``."""
    return _held_cash(OpenSale.id == open_sale)


def _held_cash(where) -> int:
    amount = (OpenSalePayment.select(fn.SUM(OpenSalePayment.amount))
              .join(OpenSale, on=(OpenSalePayment.open_sale == OpenSale.id))
              .where(where & (OpenSalePayment.method == "cash")).scalar())
    return int(amount or 0)


def x_report(ctx: Context) -> Report:
    """The open session's figures now; nothing is reset or written.

    The drawer is counted blind: the cash expected in it (and every money figure it could be worked out from) is on
    the X report only for someone who may close the day (``close_day``: a supervisor, the owner). Anyone else gets
    the counts (sales, refunds, voids, no sales) and counts the drawer without a number to aim at; the Z report,
    written once the count is in, shows what was expected and the over/short."""
    row = _open_row(terminal_id(ctx))
    if row is None:
        raise InvalidInput(f"no till session is open at till {ctx.terminal}", field="session", reason="not open")
    report = _figures(ctx, row, "X", utcnow())
    if not permissions.may(ctx, permissions.CLOSE_DAY):
        report = Report("X", report.session, report.at, sales=report.sales, refunds=report.refunds,
                        voids=report.voids, no_sales=report.no_sales, first_receipt=report.first_receipt,
                        last_receipt=report.last_receipt, blind=True)
    report.text = render(report, ctx.decimals)
    return report


def _chain_head() -> str:
    """The hash chain's head, printed on the Z report: whoever kept the report can later prove that the shop's
    history still extends the one it names (``shopkeeper check --against``)."""
    from shopkeeper.services import chain

    return str(chain.head())


def _refuse_held(ctx: Context, held: int) -> None:
    if held:
        raise InvalidInput(
            f"cash {format_money(held, ctx.decimals)} paid on an unfinished sale at till {ctx.terminal} is in the "
            f"drawer but in no sale yet: complete that sale (Ctrl+O resumes a parked one) or void it and give the "
            f"cash back, then close", field="session", reason="cash held", value=held)


@retry_clashes
def close(ctx: Context, counted: int | None, denominations: dict[int, int] | None = None) -> Report:
    """Close the open session with the drawer as counted (``counted``, or the sum of ``denominations``): writes the
    Z report once; from then on the session and its figures never change."""
    amount, detail = _counted(counted, denominations, "counted cash", ctx.decimals)
    terminal, _ = _who(ctx)
    _refuse_held(ctx, held_cash(terminal))  # before a supervisor is asked; again inside, for a payment meanwhile
    approval = permissions.require(ctx, permissions.CLOSE_DAY)  # before the transaction: a wrong PIN counts
    with write_transaction():
        row = _locked_open(ctx)
        approval.record(ctx, f"till_session:{row.id}")
        now = utcnow()
        report = _figures(ctx, row, "Z", now)
        _refuse_held(ctx, report.held_cash)
        report.counted_cash = amount
        report.counted_detail = {int(k): v for k, v in json.loads(detail).items()} if detail else {}
        report.over_short = amount - report.expected_cash
        report.chain_head = _chain_head()
        report.session = _session(row, now)
        report.text = render(report, ctx.decimals)
        TillSessionClose.insert(session=row.id, closed_at=now, closed_by=staff_id(ctx),
                                expected_cash=report.expected_cash, counted_cash=amount, counted_detail=detail,
                                over_short=report.over_short,
                                report=json.dumps(report.as_json(), sort_keys=True, ensure_ascii=False),
                                chain_head=report.chain_head).execute()
    return report


def z_report(ctx: Context, number: int, terminal: str | None = None) -> dict:
    """The stored Z report of session ``number`` (this till unless ``terminal``), as it was printed."""
    session = find(ctx, number, terminal)
    close_row = TillSessionClose.get_or_none(TillSessionClose.session == session.id)
    if close_row is None:
        raise InvalidInput(f"till session {number} at {session.terminal} is still open: use the X report",
                           field="number", reason="still open", value=number)
    return json.loads(close_row.report)


# --- the printed report -------------------------------------------------------------------------------------

WIDTH = 32  # fits every receipt printer (58 mm paper, Font A)


def render(report: Report, decimals: int, width: int = WIDTH) -> str:
    """The report as printed: plain text, ``width`` characters wide."""

    def money(minor: int) -> str:
        return format_money(minor, decimals)

    def row(left: str, right: str) -> str:
        return f"{left}{' ' * max(width - len(left) - len(right), 1)}{right}"

    s = report.session
    out = [f"{report.kind} REPORT".center(width).rstrip(),
           f"till {s.terminal} · session {s.number}".center(width).rstrip(), "-" * width,
           row("Opened", local_time(s.opened_at))]
    if s.opened_by:
        out.append(row("  by", s.opened_by))
    out.append(row("Closed" if report.kind == "Z" else "Taken", local_time(report.at)))
    out.append("-" * width)
    if report.blind:
        out.append(row("Sales", str(report.sales)))
        out.append(row("Refunds", str(report.refunds)))
        out.append(row("Voids", str(report.voids)))
        out.append(row("No sale openings", str(report.no_sales)))
        out.append("-" * width)
        out.extend(["Cash is counted blind: the", "Z report shows what was", "expected, after the count.",
                    "(A supervisor's X report has", "the cash figures.)"])
        return "\n".join(out) + "\n"
    out.append(row("Float", money(report.float_amount)))
    out.append(row("+ Cash sales", money(report.cash_sales)))
    out.append(row("- Cash refunds", money(report.cash_refunds)))
    out.append(row("+ Cash in", money(report.cash_in)))
    out.append(row("- Cash out", money(report.cash_out)))
    out.append(row("= Expected cash", money(report.expected_cash)))
    if report.held_cash:
        out.append(row("Cash held on open sales", money(report.held_cash)))
        out.append("  (in the drawer, not expected:")
        out.append("  complete or void them first)")
    if report.counted_cash is not None:
        out.append(row("Counted cash", money(report.counted_cash)))
        over_short = report.over_short or 0
        label = "OVER" if over_short > 0 else "SHORT" if over_short < 0 else "Over/short"
        out.append(row(label, money(over_short)))
        for value, n in report.counted_detail.items():
            out.append(row(f"  {n} x {money(value)}", money(value * n)))
    out.append("-" * width)
    out.append(row(f"Sales ({report.sales})", money(report.sales_total)))
    for method in METHODS:
        if method in report.sales_by_method:
            out.append(row(f"  {method}", money(report.sales_by_method[method])))
    out.append(row(f"Refunds ({report.refunds})", money(report.refunds_total)))
    for method in METHODS:
        if method in report.refunds_by_method:
            out.append(row(f"  {method}", money(report.refunds_by_method[method])))
    for method in METHODS[1:]:
        net = report.sales_by_method.get(method, 0) - report.refunds_by_method.get(method, 0)
        out.append(row(f"{method.capitalize()} total", money(net)))
    out.append(row("Discounts given", money(report.discounts)))
    if report.rounding:
        out.append(row("Cash rounding", money(report.rounding)))
    out.append(row("Voids", str(report.voids)))
    out.append(row("No sale openings", str(report.no_sales)))
    if report.tax_by_rate:
        out.append("-" * width)
        for rate, (net, tax) in report.tax_by_rate.items():
            out.append(row(f"Tax {format_rate(rate)}% on {money(net)}", money(tax)))
    out.append("-" * width)
    receipts = (f"{report.first_receipt} - {report.last_receipt}" if report.first_receipt is not None
                else "none")
    out.append(row("Receipts", receipts))
    if report.chain_head:
        # One unbroken line, whatever the width: it is typed back as it stands (``shopkeeper check --against``),
        # and a head cut into pieces invites a piece left out. The screen and the CLI show it whole; on paper
        # narrower than the head the printer folds it, its characters still in one run.
        out.append("Chain head, for")
        out.append("shopkeeper check --against:")
        out.append(report.chain_head)
    return "\n".join(out) + "\n"
