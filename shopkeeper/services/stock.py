"""The single write path for stock: post movements to the journal and keep ``product.on_hand`` in step.

Receive, adjust and count are built on ``post_movements``; so are sales and returns (``sales.py``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from shopkeeper import bounds
from shopkeeper.bounds import MAX_QUANTITY
from shopkeeper.db import insert_id, lock_in_order, locked, statement, utcnow, write_transaction
from shopkeeper.errors import InvalidInput, StockRefused
from shopkeeper.models import CountLine, CountSession, Product, database
from shopkeeper.money import format_qty, round_div
from shopkeeper.services import audit_log, permissions
from shopkeeper.services import stock_value  # noqa: F401 - every writer of stock folds its kept rows now and then
from shopkeeper.services.catalog import find_product
from shopkeeper.services.chain import insert_columns, register_row
from shopkeeper.services.context import Context, staff_id, terminal_id
from shopkeeper.text import clean

KINDS = ("receive", "sale", "return", "adjust", "count", "supplier_return")
"""Every movement kind. ``supplier_return``: goods sent back to a supplier (negative), see ``services/ordering.py``."""
ADJUST_REASONS = ("damaged", "expired", "lost", "stolen", "found", "correction")


class Entry(NamedTuple):
    """One stock change to post. (A named tuple: a sale builds one per line, and a frozen dataclass costs several
    times as much to create.)"""

    product_id: int
    kind: str
    quantity: int  # signed thousandths
    unit_cost: int | None = None
    unit_price: int | None = None
    reason: str = ""
    reference: str = ""
    sale_id: int | None = None
    count_session_id: int | None = None
    lot: str | None = None  # from the goods' label (GS1 AI 10): a recall finds the movement by it
    expiry: str | None = None  # ISO date from the label (AI 17)
    supplier_id: int | None = None  # receive / supplier_return: whose goods
    po_line: int | None = None  # receive / supplier_return against this purchase order line


@dataclass
class Posted:
    """What ``post_movements`` did: the new stock per product, the cost each line left at, and any warnings."""

    movement_ids: list[int] = field(default_factory=list)
    on_hand: dict[int, int] = field(default_factory=dict)
    unit_costs: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


_MAX_CHANGE = 2 * MAX_QUANTITY
"""Largest movement: from the lowest stock on hand to the highest (a count can do that); the stock it leaves is
bounded by ``MAX_QUANTITY``."""


def _update_sql(p: str) -> str:
    return f"UPDATE product SET on_hand = on_hand + {p}, updated_at = {p} WHERE id = {p} RETURNING on_hand, avg_cost, sku"


def _insert_sql(p: str) -> str:
    """The columns in the hash chain's order: the values bound are what ``chain.register_row`` hashes."""
    return f"INSERT INTO movement ({insert_columns('movement')}) VALUES ({', '.join([p] * 16)})"


def post_movements(ctx: Context, entries: list[Entry], *, now: str | None = None, savepoint: bool = True) -> Posted:
    """Append ``entries`` to the journal and update each product's cached stock, in one transaction.

    The negative-stock policy applies to entries that take stock away: ``refuse`` rolls everything back with
    ``StockRefused``; ``warn`` commits and reports the warning. A sale line with no unit cost records the product's
    moving average cost at that moment, so margins come from the journal alone.

    ``savepoint=False`` joins the caller's transaction without a savepoint of its own (two statements fewer per
    sale); only for callers that let any error roll back their whole transaction.
    """
    if not entries:
        return Posted()
    now = now or utcnow()
    db = database.obj  # the bound database itself: the proxy's attribute lookup is paid per statement otherwise
    update_sql, insert_sql = statement(db, "stock.update", _update_sql), statement(db, "stock.insert", _insert_sql)
    posted = Posted()
    own = savepoint or not db.in_transaction()
    with write_transaction() if own else contextlib.nullcontext():
        staff, terminal = staff_id(ctx), terminal_id(ctx)
        if len(entries) > 1:
            lock_in_order(Product, {e.product_id for e in entries})
        for e in entries:
            if e.kind not in KINDS:
                raise InvalidInput(f"unknown movement kind {e.kind!r}")
            if not -_MAX_CHANGE <= e.quantity <= _MAX_CHANGE:  # past this, the driver cannot even bind it
                bounds.quantity(e.quantity, "quantity")
        if len(entries) >= MANY:
            _post_many(db, ctx, entries, now, staff, terminal, posted)
            return posted
        for e in entries:
            row = db.execute_sql(update_sql, (e.quantity, now, e.product_id)).fetchone()
            if row is None:
                raise InvalidInput(f"no product with id {e.product_id}")
            on_hand, avg_cost, sku = row
            unit_cost = _checked(ctx, e, on_hand, avg_cost, sku, posted)
            values = (e.product_id, e.kind, e.quantity, unit_cost, e.unit_price, e.reason, staff, terminal, now,
                      e.reference, e.sale_id, e.count_session_id, e.lot, e.expiry, e.supplier_id, e.po_line)
            movement_id = insert_id(db, insert_sql, values)
            register_row("movement", (movement_id, *values))  # hashed at commit from these values
            posted.movement_ids.append(movement_id)
            posted.on_hand[e.product_id] = on_hand
            posted.unit_costs.append(unit_cost)
    return posted


MANY = 50
"""From this many entries on, ``post_movements`` works set-based (an import's opening counts): one read of the
products, one UPDATE per product and multi-row INSERTs, instead of two statements per entry."""

_ROWS_PER_INSERT = 500
"""Movements in one multi-row INSERT: 16 values each, well under SQLite's and PostgreSQL's parameter limits."""


def _checked(ctx: Context, e: Entry, on_hand: int, avg_cost: int, sku: str, posted: Posted) -> int:
    """The rules of one entry, with ``on_hand`` the stock it leaves: the bounds, the negative-stock policy (raises,
    or adds a warning to ``posted``). Returns the entry's unit cost (the product's average cost when it has none)."""
    if not -MAX_QUANTITY <= on_hand <= MAX_QUANTITY:  # rolls the whole change back
        bounds.quantity(on_hand, f"{sku}: stock on hand")
    if e.quantity < 0 and on_hand < 0:
        message = f"{sku}: stock would go to {format_qty(on_hand)}"
        if ctx.negative_stock == "refuse":
            raise StockRefused(f"{message}; only {format_qty(on_hand - e.quantity)} on hand")
        if ctx.negative_stock == "warn":
            posted.warnings.append(message)
    return e.unit_cost if e.unit_cost is not None else avg_cost


def _post_many(db, ctx: Context, entries: list[Entry], now: str, staff: int, terminal: int, posted: Posted) -> None:
    """``post_movements`` for many entries (their products already locked): the same rules per entry, in entry
    order, against the stock each leaves; the products' stock moved by their summed quantities in one
    ``executemany``; the movements inserted ``_ROWS_PER_INSERT`` at a time, each registered for the chain with its
    values."""
    ids = sorted({e.product_id for e in entries})
    found: dict[int, tuple[int, int, str]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ", ".join([db.param] * len(chunk))
        for product_id, on_hand, avg_cost, sku in db.execute_sql(
                f"SELECT id, on_hand, avg_cost, sku FROM product WHERE id IN ({marks})", chunk):
            found[product_id] = (on_hand, avg_cost, sku)
    stock: dict[int, int] = {}
    rows = []
    for e in entries:
        if e.product_id not in found:
            raise InvalidInput(f"no product with id {e.product_id}")
        before, avg_cost, sku = found[e.product_id]
        on_hand = stock[e.product_id] = stock.get(e.product_id, before) + e.quantity
        unit_cost = _checked(ctx, e, on_hand, avg_cost, sku, posted)
        posted.unit_costs.append(unit_cost)
        rows.append((e.product_id, e.kind, e.quantity, unit_cost, e.unit_price, e.reason, staff, terminal, now,
                     e.reference, e.sale_id, e.count_session_id, e.lot, e.expiry, e.supplier_id, e.po_line))
    moved: dict[int, int] = {}
    for e in entries:
        moved[e.product_id] = moved.get(e.product_id, 0) + e.quantity
    db.cursor().executemany(f"UPDATE product SET on_hand = on_hand + {db.param}, updated_at = {db.param} "
                            f"WHERE id = {db.param}", [(qty, now, product_id) for product_id, qty in moved.items()])
    posted.on_hand.update(stock)
    insert = _insert_sql(db.param).split(" VALUES ")[0]
    one = "(" + ", ".join([db.param] * 16) + ")"
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        chunk = rows[start:start + _ROWS_PER_INSERT]
        sql = f"{insert} VALUES {', '.join([one] * len(chunk))} RETURNING id"
        # Ids ascend in the order of the VALUES (SQLite under its write lock; PostgreSQL's sequence, row by row):
        # each row is hashed at commit from the values bound, not read back.
        new = sorted(row[0] for row in db.execute_sql(sql, [v for row in chunk for v in row]).fetchall())
        for movement_id, values in zip(new, chunk):
            register_row("movement", (movement_id, *values))
        posted.movement_ids += new


def moving_average(on_hand: int, avg_cost: int, qty: int, unit_cost: int) -> int:
    """New average cost after ``qty`` arrive at ``unit_cost``; stock below zero carries no value.

    A negative ``qty`` takes goods back out at ``unit_cost`` (a return to the supplier at what the order line cost):
    the rest keeps the value that is left, never below zero."""
    base = max(on_hand, 0)
    if base + qty <= 0:
        return unit_cost
    return max(round_div(base * avg_cost + qty * unit_cost, base + qty), 0)


def take_in_at_cost(product_id: int, qty: int, unit_cost: int, *, pending: int = 0) -> None:
    """Goods coming in (a receipt, a return): update the product's moving average cost, the one place that does.

    Call inside the write transaction, before the movement is posted. ``pending``: units taken in earlier in the same
    transaction whose movements are not posted yet (a refund posts all its lines together). The row is locked
    (PostgreSQL) so two receipts never average from the same stale cost.
    """
    current = locked(Product.select(Product.on_hand, Product.avg_cost).where(Product.id == product_id)).get()
    new_avg = moving_average(current.on_hand + pending, current.avg_cost, qty, unit_cost)
    if new_avg != current.avg_cost:
        Product.update(avg_cost=new_avg).where(Product.id == product_id).execute()


def receive(ctx: Context, product: str | Product, qty: int, unit_cost: int | None = None, *,
            reference: str = "", reason: str = "") -> Posted:
    """Goods in: ``qty`` thousandths at ``unit_cost`` (default: the current average cost)."""
    reference, reason = clean(reference, field="reference"), clean(reason, field="reason")
    product = find_product(product)
    if qty <= 0:
        raise InvalidInput(f"{product.sku}: quantity received must be more than zero")
    if unit_cost is not None and unit_cost < 0:
        raise InvalidInput(f"{product.sku}: cost must not be negative")
    with write_transaction():
        cost = unit_cost if unit_cost is not None else Product.get_by_id(product.id).avg_cost
        take_in_at_cost(product.id, qty, cost)
        return post_movements(ctx, [Entry(product.id, "receive", qty, unit_cost=cost, reference=reference,
                                          reason=reason)])


def adjust(ctx: Context, product: str | Product, delta: int, reason: str, *, note: str = "") -> Posted:
    """A correction of ``delta`` thousandths (signed) for a stated reason: damaged, expired, lost, stolen, ..."""
    note = clean(note, field="note")
    product = find_product(product)
    reason = reason.strip().lower()
    if reason not in ADJUST_REASONS:
        raise InvalidInput(f"{product.sku}: adjustment needs a reason, one of {', '.join(ADJUST_REASONS)}")
    if delta == 0:
        raise InvalidInput(f"{product.sku}: an adjustment of zero changes nothing")
    text = f"{reason}: {note.strip()}" if note.strip() else reason
    approval = permissions.require(ctx, permissions.STOCK_ADJUST)
    with write_transaction():
        posted = post_movements(ctx, [Entry(product.id, "adjust", delta, reason=text)])
        approval.record(ctx, f"product:{product.id}", {"sku": product.sku, "quantity": delta, "reason": text})
    return posted


# --- stock counts ---------------------------------------------------------------------------------------------
# A count line remembers the stock at the moment the item was counted. Posting the variance (counted - expected)
# later is then right even if sales happened in between: they are already in the journal.


def start_count(ctx: Context, note: str = "") -> CountSession:
    with write_transaction():
        return CountSession.create(started_at=utcnow(), staff=staff_id(ctx), terminal=terminal_id(ctx),
                                   note=clean(note, field="note"))


def _open_session(session: int | CountSession) -> CountSession:
    session_id = session.id if isinstance(session, CountSession) else session
    row = locked(CountSession.select().where(CountSession.id == session_id)).first()
    if row is None:
        raise InvalidInput(f"no count session {session_id}")
    if row.status != "open":
        raise InvalidInput(f"count session {session_id} is already {row.status}")
    return row


def record_count(ctx: Context, session: int | CountSession, product: str | Product, counted: int, *,
                 add: bool = False) -> CountLine:
    """Record ``counted`` thousandths of ``product`` in an open session.

    ``add`` adds to an earlier count of the same product in this session (the item sits on two shelves);
    otherwise a recount replaces the earlier one and takes the stock at this new moment as expected.
    """
    product = find_product(product)
    if counted < 0:
        raise InvalidInput(f"{product.sku}: a counted quantity cannot be negative")
    with write_transaction():
        row = _open_session(session)
        on_hand = Product.select(Product.on_hand).where(Product.id == product.id).scalar()
        line = CountLine.get_or_none((CountLine.session == row.id) & (CountLine.product == product.id))
        now = utcnow()
        if line is None:
            return CountLine.create(session=row.id, product=product.id, counted=counted, expected=on_hand,
                                    counted_at=now)
        if add:
            line.counted += counted
        else:
            line.counted, line.expected, line.counted_at = counted, on_hand, now
        line.save()
        return line


def remove_count(session: int | CountSession, product: str | Product) -> None:
    product = find_product(product)
    with write_transaction():
        row = _open_session(session)
        CountLine.delete().where((CountLine.session == row.id) & (CountLine.product == product.id)).execute()


@dataclass(frozen=True)
class Variance:
    product_id: int
    sku: str
    expected: int
    counted: int

    @property
    def variance(self) -> int:
        return self.counted - self.expected


def count_variances(session: int | CountSession) -> list[Variance]:
    session_id = session.id if isinstance(session, CountSession) else session
    query = (CountLine.select(CountLine.product, CountLine.expected, CountLine.counted, Product.sku)
             .join(Product).where(CountLine.session == session_id).order_by(CountLine.id).dicts())
    return [Variance(row["product"], row["sku"], row["expected"], row["counted"]) for row in query]


def post_count(ctx: Context, session: int | CountSession) -> tuple[list[Variance], Posted]:
    """Post every variance of the session as ``count`` movements, together, and close it (``post_count``)."""
    approval = permissions.require(ctx, permissions.POST_COUNT)
    with write_transaction():
        row = _open_session(session)
        variances = count_variances(row)
        entries = [Entry(v.product_id, "count", v.variance, reason=f"counted {format_qty(v.counted)}",
                         reference=f"count:{row.id}", count_session_id=row.id)
                   for v in variances if v.variance]
        # A count corrects stock to what is really there: the negative-stock policy does not apply. All or
        # nothing with the session's close, so no savepoint (one journals every page a statement changes once
        # ``product`` has triggers: a big count's updates ran several times slower)
        posted = post_movements(replace(ctx, negative_stock="allow"), entries, savepoint=False)
        CountSession.update(status="posted", finished_at=utcnow()).where(CountSession.id == row.id).execute()
        approval.record(ctx, f"count:{row.id}")
    return variances, posted


def cancel_count(session: int | CountSession, ctx: Context | None = None) -> None:
    """Close a count without posting it; recorded in the audit log (``count_cancelled``) with how many lines it
    had, as who ``ctx`` names."""
    if ctx is not None:
        staff_id(ctx)  # created, if new, in a commit of its own (see till._writing)
        terminal_id(ctx)
    with write_transaction():
        row = _open_session(session)
        CountSession.update(status="cancelled", finished_at=utcnow()).where(CountSession.id == row.id).execute()
        lines = CountLine.select().where(CountLine.session == row.id).count()
        audit_log.record(ctx or Context(), "count_cancelled", subject=f"count:{row.id}",
                         detail={"lines": lines, "note": row.note})


def count(ctx: Context, product: str | Product, counted: int, *, note: str = "") -> tuple[Variance, Posted]:
    """Count one product now: a one-line session, posted at once."""
    product = find_product(product)
    permissions.require(ctx, permissions.POST_COUNT)  # before the transaction; post_count checks again inside
    with write_transaction():
        session = start_count(ctx, note)
        record_count(ctx, session, product, counted)
        variances, posted = post_count(ctx, session)
    return variances[0], posted


def count_now(ctx: Context, session: int, counts: list[tuple[int, int]]) -> None:
    """Record ``counts`` ((product id, counted thousandths)) in ``session`` and post their variances at once, in
    the caller's transaction: an import counting thousands of products batch by batch. Each line's expected stock
    is the stock on hand now, as a count line records it; a product counted again replaces its line."""
    if not counts:
        return
    db = database.obj
    lock_in_order(Product, [product_id for product_id, _ in counts])
    on_hand: dict[int, int] = {}
    ids = [product_id for product_id, _ in counts]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        on_hand.update(db.execute_sql(f"SELECT id, on_hand FROM product WHERE id IN ({', '.join([db.param] * len(chunk))})",
                                      chunk).fetchall())
    now = utcnow()
    for product_id, counted in counts:
        if counted < 0:
            raise InvalidInput("a counted quantity cannot be negative")
    db.cursor().executemany(
        f"INSERT INTO count_line (session_id, product_id, counted, expected, counted_at) "
        f"VALUES ({db.param}, {db.param}, {db.param}, {db.param}, {db.param}) ON CONFLICT (session_id, product_id) "
        f"DO UPDATE SET counted = excluded.counted, expected = excluded.expected, counted_at = excluded.counted_at",
        [(session, product_id, counted, on_hand[product_id], now) for product_id, counted in counts])
    reasons: dict[int, str] = {}  # an import's counts repeat: each quantity formatted once
    reference = f"count:{session}"
    entries = [Entry(product_id, "count", counted - on_hand[product_id],
                     reason=reasons.get(counted) or reasons.setdefault(counted, f"counted {format_qty(counted)}"),
                     reference=reference, count_session_id=session)
               for product_id, counted in counts if counted != on_hand[product_id]]
    post_movements(replace(ctx, negative_stock="allow"), entries, now=now, savepoint=False)
