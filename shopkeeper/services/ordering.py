"""Purchase orders: drafted from the reorder suggestions, edited, sent, received against, closed or cancelled; and
goods returned to a supplier.

Rules kept here, in one place:

* **Status** (draft → sent → partly_received → received, or cancelled) changes only through ``_set_status``, which
  appends a ``PurchaseOrderEvent`` (who, where, when) and updates the ``status`` cache in the same transaction.
* **On order** (``Product.on_order``) is what open orders (draft, sent, partly received) still expect: per line
  ``quantity − received − cancelled``, never below zero (an over-delivery does not cancel another line). Drafts count:
  the suggestions read the inventory position (on hand + on order), so a second ``po draft`` sees the first one's
  lines and orders nothing twice. Every change to an order recomputes its products' figure in its transaction
  (``_refresh_on_order``), after locking those product rows, so two tills receiving at once never lose an update.
* **Automatic drafts** (``po draft``): one per supplier. A second run adds to a line only what the new suggestion
  says is still missing (it was computed with the draft already on order), so it never duplicates and never lowers
  a line on its own; a line a person edited (``edited``) is left exactly as edited; sent orders are never touched.
  Quantities are whole packs of the supplier's pack size; the cost is the supplier's pack cost; the draft is topped
  up, a pack at a time on its automatic lines, to the supplier's minimum order value.
* **Receiving** books each line at the order line's unit cost unless another cost is given, through
  ``stock.take_in_at_cost`` (the moving average sees the real cost); movements reference ``po:N`` and carry the
  supplier and the order line. Over-delivery and goods not on the order are accepted and flagged in the result (the
  goods are on the shelf either way); an item not on the order gets a line of its own with nothing ordered.
* **Returns to a supplier** (kind ``supplier_return``) take the goods out at the order line's unit cost when the
  return names an order with that product, else at the average cost: taking a receipt back out at the cost it came
  in at leaves the rest of the stock at the value it had before the receipt (``stock.moving_average`` with a
  negative quantity), where the average cost would leave the difference in the stock that stays.
"""

from __future__ import annotations

import csv
import functools
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from peewee import JOIN, Case, fn

from shopkeeper import bounds
from shopkeeper.db import is_sqlite, locked, utcnow, write_transaction
from shopkeeper.errors import InvalidInput, NotFound
from shopkeeper.models import (Movement, Product, PurchaseOrder, PurchaseOrderEvent, PurchaseOrderLine, Staff,
                               Supplier, Terminal)
from shopkeeper.money import extend, format_money, format_qty, round_div
from shopkeeper.services import permissions, stock
from shopkeeper.services.catalog import find_product
from shopkeeper.services.context import Context, staff_id, terminal_id
from shopkeeper.services.suppliers import find_supplier, link_for, unit_cost
from shopkeeper.text import clean

STATUSES = ("draft", "sent", "partly_received", "received", "cancelled")
OPEN_STATUSES = ("draft", "sent", "partly_received")
"""Orders whose lines count as on order."""
RECEIVING_STATUSES = ("sent", "partly_received")
EDITABLE_STATUSES = OPEN_STATUSES


# --- views -----------------------------------------------------------------------------------------------------

class LineView(NamedTuple):
    id: int
    line_no: int
    product_id: int
    sku: str
    name: str
    unit: str
    item_code: str
    pack_size: int  # thousandths of a unit per pack
    pack_cost: int  # minor units per pack
    quantity: int  # ordered, thousandths of a unit
    unit_cost: int  # minor units per unit: what receiving books unless told otherwise
    received: int
    cancelled: int
    edited: bool

    @property
    def outstanding(self) -> int:
        """Still expected (never below zero)."""
        return max(self.quantity - self.received - self.cancelled, 0)

    @property
    def over(self) -> int:
        """Received beyond what was ordered."""
        return max(self.received - self.quantity, 0)

    @property
    def packs(self) -> int:
        """Packs ordered, in thousandths of a pack (exact when the quantity is whole packs)."""
        return round_div(self.quantity * 1000, self.pack_size)

    @property
    def value(self) -> int:
        """Minor units: packs × pack cost (exact for whole packs)."""
        return line_value(self.quantity, self.pack_size, self.pack_cost)

    @property
    def not_on_order(self) -> bool:
        """A line receiving made for goods that arrived without being ordered."""
        return self.quantity == 0


class EventView(NamedTuple):
    status: str
    staff: str
    terminal: str
    created_at: str
    note: str


class OrderSummary(NamedTuple):
    id: int
    supplier_id: int
    supplier: str
    status: str
    automatic: bool
    created_at: str
    updated_at: str
    lines: int
    value: int  # minor units, everything ordered
    outstanding: int  # thousandths still expected, all lines


@dataclass
class OrderView:
    """One order with its lines (by line number) and its status history (oldest first)."""

    id: int
    supplier_id: int
    supplier: str
    status: str
    automatic: bool
    created_at: str
    updated_at: str
    staff: str
    note: str
    lines: list[LineView]
    events: list[EventView]

    @property
    def value(self) -> int:
        return sum(line.value for line in self.lines)



def _manages_orders(function):
    """Drafting, editing, sending, closing and cancelling orders need ``manage_orders`` (or a supervisor's
    approval, recorded with the act); receiving goods against an order does not (it is stock-room work)."""
    @functools.wraps(function)
    def run(ctx: Context, *args, **kwargs):
        approval = permissions.require(ctx, permissions.MANAGE_ORDERS)  # before the transaction: a wrong PIN counts
        with write_transaction():
            result = function(ctx, *args, **kwargs)
            approval.record(ctx, f"orders:{function.__name__}")
        return result

    return run


def line_value(quantity: int, pack_size: int, pack_cost: int) -> int:
    """What ``quantity`` thousandths cost at ``pack_cost`` a pack of ``pack_size``: exact for whole packs."""
    return round_div(quantity * pack_cost, pack_size)


def _lines_query():
    return (PurchaseOrderLine.select(PurchaseOrderLine, Product.id, Product.sku, Product.name, Product.unit)
            .join(Product, on=(PurchaseOrderLine.product == Product.id)))


def _line_view(line) -> LineView:
    return LineView(line.id, line.line_no, line.product_id, line.product.sku, line.product.name, line.product.unit,
                    line.item_code, line.pack_size, line.pack_cost, line.quantity, line.unit_cost, line.received,
                    line.cancelled, line.edited)


def get_order(order_id: int) -> OrderView:
    """The order ``order_id`` with its lines and history. Raises ``NotFound``."""
    order = (PurchaseOrder.select(PurchaseOrder, Supplier.id, Supplier.name, Staff.id, Staff.name)
             .join_from(PurchaseOrder, Supplier)
             .join_from(PurchaseOrder, Staff, JOIN.LEFT_OUTER)
             .where(PurchaseOrder.id == order_id).first())
    if order is None:
        raise NotFound(f"no purchase order {order_id}", field="order", reason="no such order", value=order_id)
    lines = [_line_view(line) for line in _lines_query().where(PurchaseOrderLine.order == order_id)
             .order_by(PurchaseOrderLine.line_no)]
    events = [EventView(e.status, e.staff.name if e.staff_id else "", e.terminal.name if e.terminal_id else "",
                        e.created_at, e.note)
              for e in (PurchaseOrderEvent.select(PurchaseOrderEvent, Staff.id, Staff.name, Terminal.id, Terminal.name)
                        .join_from(PurchaseOrderEvent, Staff, JOIN.LEFT_OUTER)
                        .join_from(PurchaseOrderEvent, Terminal, JOIN.LEFT_OUTER)
                        .where(PurchaseOrderEvent.order == order_id).order_by(PurchaseOrderEvent.id))]
    return OrderView(order.id, order.supplier_id, order.supplier.name, order.status, order.automatic,
                     order.created_at, order.updated_at, order.staff.name if order.staff_id else "", order.note,
                     lines, events)


def list_orders(*, status: str | Sequence[str] | None = None, supplier: str | int | Supplier | None = None,
                limit: int | None = None) -> list[OrderSummary]:
    """Orders newest first; ``status`` one status, several, or "open" (draft, sent, partly received)."""
    L = PurchaseOrderLine
    outstanding = L.quantity - L.received - L.cancelled
    query = (PurchaseOrder.select(PurchaseOrder, Supplier.id, Supplier.name,
                                  fn.COUNT(L.id).alias("n_lines"),
                                  fn.COALESCE(fn.SUM(Case(None, [(outstanding > 0, outstanding)], 0)), 0)
                                  .alias("outstanding"))
             .join_from(PurchaseOrder, Supplier)
             .join_from(PurchaseOrder, L, JOIN.LEFT_OUTER)
             .group_by(PurchaseOrder.id, Supplier.id).order_by(PurchaseOrder.id.desc()))
    if status is not None:
        wanted = OPEN_STATUSES if status == "open" else (status,) if isinstance(status, str) else tuple(status)
        for s in wanted:
            if s not in STATUSES:
                raise InvalidInput(f"status: {s!r} is not one of {', '.join(STATUSES)} or open", field="status",
                                   reason="unknown status", value=s)
        query = query.where(PurchaseOrder.status.in_(wanted))
    if supplier is not None:
        query = query.where(PurchaseOrder.supplier == find_supplier(supplier).id)
    if limit:
        query = query.limit(limit)
    orders = list(query)
    values: dict[int, int] = defaultdict(int)
    if orders:
        for order_id, qty, pack, cost in (L.select(L.order, L.quantity, L.pack_size, L.pack_cost)
                                          .where(L.order.in_([o.id for o in orders])).tuples()):
            values[order_id] += line_value(qty, pack, cost)
    return [OrderSummary(o.id, o.supplier_id, o.supplier.name, o.status, o.automatic, o.created_at, o.updated_at,
                         o.n_lines, values[o.id], int(o.outstanding)) for o in orders]


class OpenLine(NamedTuple):
    order_id: int
    supplier: str
    status: str
    outstanding: int  # thousandths


def on_order_lines(product: str | int | Product) -> list[OpenLine]:
    """Where a product's ``on_order`` figure comes from: its open orders' lines still expected, oldest first."""
    prod = find_product(product)
    L = PurchaseOrderLine
    rows = (L.select(L.order, Supplier.name, PurchaseOrder.status, L.quantity, L.received, L.cancelled)
            .join(PurchaseOrder).join(Supplier)
            .where((L.product == prod.id) & PurchaseOrder.status.in_(OPEN_STATUSES))
            .order_by(L.order, L.line_no).tuples())
    return [OpenLine(o, s, st, max(q - r - c, 0)) for o, s, st, q, r, c in rows if q - r - c > 0]


# --- the seam to the reorder suggestions ---------------------------------------------------------------------

class Suggested(NamedTuple):
    """What to order of one product from one supplier (``quantity`` in thousandths; ``unit_cost`` minor units or
    None when unknown)."""

    product_id: int
    supplier_id: int
    quantity: int
    unit_cost: int | None


def _suggested_lines(ctx: Context, supplier_id: int | None = None) -> list[Suggested]:
    """Today's suggestions, the one place ordering reads them.

    ``reorder.suggestions`` (learned reorder points, inventory position = on hand + on order) when it exists; else
    the typed reorder points of ``reorder.low_stock`` with the position taken as on hand + on order, so drafting
    twice orders nothing twice here too. Products with no supplier cannot be ordered and are left out."""
    from shopkeeper.services import reorder

    suggestions = getattr(reorder, "suggestions", None)
    if suggestions is not None:
        # What a suggestion added to reach the supplier's minimum is left out: the minimum is for the whole draft,
        # which may already hold enough (``_top_up`` tops the draft up, counting the lines it has).
        wanted = ((s, s.quantity - getattr(s, "topped_up", 0)) for s in suggestions(ctx, supplier_id=supplier_id))
        return [Suggested(s.product_id, s.supplier_id, qty, s.unit_cost) for s, qty in wanted
                if s.supplier_id is not None and qty > 0]
    low = reorder.low_stock()
    if not low:
        return []
    ids = [line.product_id for line in low]
    facts = {pid: (on_order, supplier) for pid, on_order, supplier in
             Product.select(Product.id, Product.on_order, Product.supplier).where(Product.id.in_(ids)).tuples()}
    out = []
    for line in low:
        on_order, default_supplier = facts[line.product_id]
        position = line.on_hand + on_order
        if position > line.reorder_point:
            continue
        link = link_for(line.product_id)
        supplier = link.supplier_id if link is not None else default_supplier
        if supplier is None or (supplier_id is not None and supplier != supplier_id):
            continue
        qty = reorder.suggest_order(position, line.reorder_point, line.reorder_qty)
        if qty > 0:
            out.append(Suggested(line.product_id, supplier, qty, None))
    return out


# --- status, history and the on-order cache ------------------------------------------------------------------

def _lock_order(order_id: int) -> PurchaseOrder:
    """The order, locked until the transaction ends (PostgreSQL; SQLite's write lock already serialises): every
    change to an order and its lines goes through this, so two tills never change one order from the same stale
    state. Raises ``NotFound``."""
    order = locked(PurchaseOrder.select().where(PurchaseOrder.id == order_id)).first()
    if order is None:
        raise NotFound(f"no purchase order {order_id}", field="order", reason="no such order", value=order_id)
    return order


def _set_status(ctx: Context, order: PurchaseOrder, status: str, note: str = "", *, now: str | None = None) -> None:
    """Append the status change to the order's history and update its ``status`` cache (same transaction)."""
    now = now or utcnow()
    PurchaseOrderEvent.insert(order=order.id, status=status, staff=staff_id(ctx), terminal=terminal_id(ctx),
                              created_at=now, note=note).execute()
    PurchaseOrder.update(status=status, updated_at=now).where(PurchaseOrder.id == order.id).execute()
    order.status = status


def _touch(order: PurchaseOrder) -> None:
    PurchaseOrder.update(updated_at=utcnow()).where(PurchaseOrder.id == order.id).execute()


def _refresh_on_order(product_ids: Iterable[int]) -> None:
    """Recompute ``Product.on_order`` for these products from their open orders' lines.

    The product rows are locked first (id order, as ``stock`` does), and the sum is read by a later statement: on
    PostgreSQL (READ COMMITTED) that statement sees every order change committed before the lock was granted, so
    two transactions changing different orders of one product never overwrite each other's figure."""
    ids = sorted(set(product_ids))
    if not ids:
        return
    if not is_sqlite():
        (Product.select(Product.id).where(Product.id.in_(ids)).order_by(Product.id)
         .for_update("FOR NO KEY UPDATE").execute())
    L = PurchaseOrderLine
    outstanding = L.quantity - L.received - L.cancelled
    expected = (L.select(fn.COALESCE(fn.SUM(Case(None, [(outstanding > 0, outstanding)], 0)), 0))
                .join(PurchaseOrder, on=(L.order == PurchaseOrder.id))
                .where((L.product == Product.id) & PurchaseOrder.status.in_(OPEN_STATUSES)))
    Product.update(on_order=expected).where(Product.id.in_(ids)).execute()


def _order_products(order_id: int) -> list[int]:
    return [pid for (pid,) in PurchaseOrderLine.select(PurchaseOrderLine.product)
            .where(PurchaseOrderLine.order == order_id).tuples()]


def _settle(ctx: Context, order: PurchaseOrder, note: str = "") -> None:
    """After receiving or editing a sent order: received when every line has come (or was cancelled), partly
    received when something has, else still sent."""
    if order.status not in RECEIVING_STATUSES:
        return
    rows = list(PurchaseOrderLine.select(PurchaseOrderLine.quantity, PurchaseOrderLine.received,
                                         PurchaseOrderLine.cancelled)
                .where(PurchaseOrderLine.order == order.id).tuples())
    if rows and all(r + c >= q for q, r, c in rows):
        status = "received"
    elif any(r > 0 for _, r, _ in rows):
        status = "partly_received"
    else:
        status = "sent"
    if status != order.status:
        _set_status(ctx, order, status, note)


def _refuse_unless(order: PurchaseOrder, statuses: Sequence[str], doing: str) -> None:
    if order.status not in statuses:
        reason = f"order {order.id} is {order.status.replace('_', ' ')}: it cannot be {doing}"
        raise InvalidInput(reason, field="order", reason=reason, value=order.id)


# --- making and editing orders -----------------------------------------------------------------------------------

@_manages_orders
def create_order(ctx: Context, supplier: str | int | Supplier, *, note: str = "") -> PurchaseOrder:
    """A new, empty draft order to ``supplier``, made by a person (``po draft`` leaves it alone)."""
    note = clean(note, field="note").strip()
    with write_transaction():
        sup = find_supplier(supplier)
        return _new_order(ctx, sup, automatic=False, note=note)


def _new_order(ctx: Context, supplier: Supplier, *, automatic: bool, note: str = "") -> PurchaseOrder:
    now = utcnow()
    order = PurchaseOrder.create(supplier=supplier.id, status="draft", created_at=now, updated_at=now,
                                 staff=staff_id(ctx), note=note, automatic=automatic)
    _set_status(ctx, order, "draft", "drafted from the suggestions" if automatic else note, now=now)
    return order


def _check_qty(quantity: int, *, line: int | None = None) -> int:
    bounds.quantity(quantity, "quantity", line=line)
    if quantity <= 0:
        raise InvalidInput("quantity: must be more than zero", field="quantity", reason="must be more than zero",
                           value=quantity, line=line)
    return quantity


def _check_cost(cost: int, what: str = "unit_cost", *, line: int | None = None) -> int:
    if not 0 <= cost <= bounds.MAX_MONEY:
        raise InvalidInput(f"{what}: must not be negative", field=what, reason="must not be negative", value=cost,
                           line=line)
    return cost


def _costs(product: Product, supplier_id: int, fallback: int | None) -> tuple[str, int, int]:
    """(item code, pack size, pack cost) for a new line: from the supplier's link, else a pack of one at
    ``fallback`` or the product's average cost."""
    link = link_for(product.id, supplier_id)
    if link is not None and link.pack_cost > 0:
        return link.item_code, link.pack_size, link.pack_cost
    pack = link.pack_size if link is not None else 1000
    each = fallback if fallback is not None else product.avg_cost
    return (link.item_code if link is not None else ""), pack, extend(pack, each)


def _next_line_no(order_id: int) -> int:
    return (PurchaseOrderLine.select(fn.MAX(PurchaseOrderLine.line_no))
            .where(PurchaseOrderLine.order == order_id).scalar() or 0) + 1


@_manages_orders
def add_line(ctx: Context, order_id: int, product: str | int | Product, *, quantity: int | None = None,
             packs: int | None = None, unit_cost: int | None = None) -> LineView:
    """Add ``product`` to an open order: ``quantity`` thousandths of a unit, or ``packs`` (thousandths of a pack)
    of the supplier's pack size (default one pack). Cost: ``unit_cost`` if given, else the supplier's pack cost.
    A line added by a person is ``edited``: ``po draft`` leaves it as it is."""
    with write_transaction():
        order = _lock_order(order_id)
        _refuse_unless(order, EDITABLE_STATUSES, "changed")
        prod = find_product(product)
        code, pack, pack_cost = _costs(prod, order.supplier_id, unit_cost)
        if unit_cost is not None:
            pack_cost = extend(pack, _check_cost(unit_cost))
        if quantity is None:
            quantity = round_div((packs if packs is not None else 1000) * pack, 1000)
        _check_qty(quantity)
        line = PurchaseOrderLine.create(
            order=order.id, line_no=_next_line_no(order.id), product=prod.id, item_code=code, pack_size=pack,
            quantity=quantity, pack_cost=pack_cost,
            unit_cost=unit_cost if unit_cost is not None else unit_cost_of(pack_cost, pack), edited=True)
        _touch(order)
        _settle(ctx, order)
        _refresh_on_order([prod.id])
        return _line_view(_lines_query().where(PurchaseOrderLine.id == line.id).get())


def unit_cost_of(pack_cost: int, pack_size: int) -> int:
    """Minor units per unit from a pack's cost."""
    return unit_cost(pack_cost, pack_size)


def _get_line(order: PurchaseOrder, line_no: int) -> PurchaseOrderLine:
    line = (PurchaseOrderLine.select()
            .where((PurchaseOrderLine.order == order.id) & (PurchaseOrderLine.line_no == line_no)).first())
    if line is None:
        raise NotFound(f"order {order.id} has no line {line_no}", field="line", reason="no such line",
                       value=line_no, line=line_no)
    return line


@_manages_orders
def set_line(ctx: Context, order_id: int, line_no: int, *, quantity: int | None = None, packs: int | None = None,
             unit_cost: int | None = None, pack_cost: int | None = None) -> LineView:
    """Change a line's quantity (thousandths of a unit, or ``packs`` in thousandths of the line's pack) or cost (per
    unit, or per pack), on an open order. The line
    becomes ``edited``: ``po draft`` leaves it as the person left it. On a sent order, lowering a quantity to what
    has come settles the order."""
    with write_transaction():
        order = _lock_order(order_id)
        _refuse_unless(order, EDITABLE_STATUSES, "changed")
        line = _get_line(order, line_no)
        if packs is not None:
            quantity = round_div(packs * line.pack_size, 1000)
        if quantity is not None:
            _check_qty(quantity, line=line_no)
            if quantity < line.received:
                reason = f"{format_qty(line.received)} have already come"
                raise InvalidInput(f"line {line_no}: quantity cannot go below what was received: {reason}",
                                   field="quantity", reason=reason, value=quantity, line=line_no)
            line.quantity = quantity
        if unit_cost is not None:
            line.unit_cost = _check_cost(unit_cost, line=line_no)
            line.pack_cost = extend(line.pack_size, unit_cost)
        if pack_cost is not None:
            line.pack_cost = _check_cost(pack_cost, "pack_cost", line=line_no)
            line.unit_cost = unit_cost_of(pack_cost, line.pack_size)
        line.edited = True
        line.save()
        _touch(order)
        _settle(ctx, order, "quantity changed")
        _refresh_on_order([line.product_id])
        return _line_view(_lines_query().where(PurchaseOrderLine.id == line.id).get())


@_manages_orders
def remove_line(ctx: Context, order_id: int, line_no: int) -> None:
    """Take a line off an open order; a line with goods received against it stays (set its quantity instead)."""
    with write_transaction():
        order = _lock_order(order_id)
        _refuse_unless(order, EDITABLE_STATUSES, "changed")
        line = _get_line(order, line_no)
        if line.received:
            reason = f"{format_qty(line.received)} have been received against it"
            raise InvalidInput(f"line {line_no} cannot be removed: {reason}", field="line", reason=reason,
                               value=line_no, line=line_no)
        line.delete_instance()
        _touch(order)
        _settle(ctx, order)
        _refresh_on_order([line.product_id])


@_manages_orders
def cancel_order(ctx: Context, order_id: int, *, note: str = "") -> None:
    """Cancel an order nothing has been received against (a draft or a sent one): nothing of it is on order any
    more. One with goods received is closed instead (``close_order``)."""
    note = clean(note, field="note").strip()
    with write_transaction():
        order = _lock_order(order_id)
        _refuse_unless(order, ("draft", "sent"), "cancelled")
        PurchaseOrderLine.update(cancelled=PurchaseOrderLine.quantity - PurchaseOrderLine.received).where(
            PurchaseOrderLine.order == order.id).execute()
        _set_status(ctx, order, "cancelled", note)
        _refresh_on_order(_order_products(order.id))


@_manages_orders
def close_order(ctx: Context, order_id: int, *, note: str = "") -> OrderView:
    """Close a sent or partly received order: whatever has not come is cancelled (``line.cancelled``) and no longer
    on order. Status: received when something came, cancelled when nothing did."""
    note = clean(note, field="note").strip()
    with write_transaction():
        order = _lock_order(order_id)
        _refuse_unless(order, RECEIVING_STATUSES, "closed")
        L = PurchaseOrderLine
        short = L.quantity - L.received
        L.update(cancelled=Case(None, [(short > 0, short)], 0)).where(L.order == order.id).execute()
        got = L.select().where((L.order == order.id) & (L.received > 0)).exists()
        _set_status(ctx, order, "received" if got else "cancelled", note or "closed short")
        _refresh_on_order(_order_products(order.id))
    return get_order(order_id)


# --- po draft ------------------------------------------------------------------------------------------------

@dataclass
class Drafted:
    """What ``draft_orders`` did to one supplier's automatic draft."""

    order_id: int
    supplier_id: int
    supplier: str
    created: bool
    added: list[str] = field(default_factory=list)  # SKUs of new lines
    raised: list[str] = field(default_factory=list)  # SKUs whose line grew
    topped_up: bool = False  # packs added to reach the minimum order


@_manages_orders
def draft_orders(ctx: Context, supplier: str | int | Supplier | None = None) -> list[Drafted]:
    """Turn today's suggestions into draft orders, one per supplier (only ``supplier``'s if given). Idempotent: see
    the module's docstring for what a second run changes. Inactive suppliers are skipped. Returns the drafts that
    were made or changed."""
    with write_transaction():
        sup_filter = find_supplier(supplier) if supplier is not None else None
        # Lock the suppliers first: on PostgreSQL two ``po draft`` runs at once would each make a draft otherwise.
        active = locked(Supplier.select().where(Supplier.active).order_by(Supplier.id))
        if sup_filter is not None:
            active = active.where(Supplier.id == sup_filter.id)
        suppliers = {s.id: s for s in active}
        by_supplier: dict[int, list[Suggested]] = defaultdict(list)
        for s in _suggested_lines(ctx, sup_filter.id if sup_filter is not None else None):
            if s.supplier_id in suppliers:
                by_supplier[s.supplier_id].append(s)
        done = []
        for supplier_id in sorted(by_supplier):
            result = _draft_for(ctx, suppliers[supplier_id], by_supplier[supplier_id])
            if result is not None:
                done.append(result)
        return done


def _draft_for(ctx: Context, supplier: Supplier, suggested: list[Suggested]) -> Drafted | None:
    order = locked(PurchaseOrder.select().where(
        (PurchaseOrder.supplier == supplier.id) & (PurchaseOrder.status == "draft") & PurchaseOrder.automatic)
        .order_by(PurchaseOrder.id)).first()
    created = order is None
    if created:
        order = _new_order(ctx, supplier, automatic=True)
    result = Drafted(order.id, supplier.id, supplier.name, created)
    lines = {line.product_id: line for line in PurchaseOrderLine.select().where(PurchaseOrderLine.order == order.id)
             .order_by(PurchaseOrderLine.line_no)}
    products = {p.id: p for p in Product.select().where(Product.id.in_([s.product_id for s in suggested]))}
    next_no = max((line.line_no for line in lines.values()), default=0) + 1
    for s in suggested:
        prod = products[s.product_id]
        line = lines.get(prod.id)
        if line is not None and line.edited:
            continue
        code, pack, pack_cost = _costs(prod, supplier.id, s.unit_cost)
        qty = -(-s.quantity // pack) * pack  # whole packs, rounded up
        if line is None:
            line = PurchaseOrderLine.create(order=order.id, line_no=next_no, product=prod.id, item_code=code,
                                            pack_size=pack, quantity=qty, pack_cost=pack_cost,
                                            unit_cost=unit_cost_of(pack_cost, pack))
            lines[prod.id] = line
            next_no += 1
            result.added.append(prod.sku)
        else:
            line.quantity += qty
            line.item_code, line.pack_cost, line.unit_cost = code, pack_cost, unit_cost_of(pack_cost, line.pack_size)
            line.save()
            result.raised.append(prod.sku)
    result.topped_up = _top_up(supplier.min_order, list(lines.values()))
    if not (created or result.added or result.raised or result.topped_up):
        return None
    _touch(order)
    _refresh_on_order(lines)
    return result


def _top_up(min_order: int, lines: list[PurchaseOrderLine]) -> bool:
    """Add packs over the automatic lines (largest quantity first, one pack each in turn) until the order is worth
    the supplier's minimum. Whole rounds are added at once: a pack adds exactly its pack cost. Returns whether
    anything was added."""
    auto = sorted((line for line in lines if not line.edited and line.pack_cost > 0), key=lambda l: -l.quantity)
    value = sum(line_value(l.quantity, l.pack_size, l.pack_cost) for l in lines)
    if value >= min_order or not auto:
        return False
    rounds = (min_order - value) // sum(line.pack_cost for line in auto)
    for line in auto:
        line.quantity += rounds * line.pack_size
        value += rounds * line.pack_cost
    for line in auto:
        if value >= min_order:
            break
        line.quantity += line.pack_size
        value += line.pack_cost
    for line in auto:
        bounds.quantity(line.quantity, f"{line.item_code or 'line'}: quantity to reach the minimum order")
        line.save()
    return True


# --- sending -------------------------------------------------------------------------------------------------

@dataclass
class SentOrder:
    order_id: int
    text: str  # the order as plain text, for email or print
    csv: str  # one row per line: the supplier's item code, packs, pack size, costs
    paths: list[Path] = field(default_factory=list)


@_manages_orders
def send_order(ctx: Context, order_id: int, *, out_dir: str | Path | None = None, decimals: int | None = None) -> SentOrder:
    """Mark a draft sent and render it (plain text and CSV, with the supplier's item codes and pack counts); with
    ``out_dir``, also write ``po-N.txt`` and ``po-N.csv`` there (after the commit: a file never claims an order
    was sent that was not)."""
    with write_transaction():
        order = _lock_order(order_id)
        _refuse_unless(order, ("draft",), "sent (`po print` writes it again)")
        if not PurchaseOrderLine.select().where(PurchaseOrderLine.order == order.id).exists():
            reason = f"order {order.id} has no lines"
            raise InvalidInput(f"{reason}: nothing to send", field="order", reason=reason, value=order.id)
        _set_status(ctx, order, "sent")
    sent = SentOrder(order_id, *order_documents(order_id, ctx.decimals if decimals is None else decimals))
    if out_dir is not None:
        sent.paths = write_order_files(sent, out_dir)
    return sent


def write_order_files(sent: SentOrder, out_dir: str | Path) -> list[Path]:
    """Write ``po-N.txt`` and ``po-N.csv`` into ``out_dir`` (made if missing)."""
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        paths = [folder / f"po-{sent.order_id}.txt", folder / f"po-{sent.order_id}.csv"]
        paths[0].write_text(sent.text, encoding="utf-8")
        paths[1].write_text(sent.csv, encoding="utf-8", newline="")
    except OSError as exc:
        raise InvalidInput(f"cannot write the order to {folder}: {exc.strerror or exc}", field="out",
                           reason=str(exc.strerror or exc), value=str(folder)) from None
    return paths


CSV_COLUMNS = ("line", "item_code", "sku", "description", "packs", "pack_size", "quantity", "unit", "pack_cost",
               "line_total")


def _packs_text(line: LineView) -> str:
    return format_qty(line.packs)


def order_documents(order_id: int, decimals: int = 2) -> tuple[str, str]:
    """The order as (plain text, CSV): what the supplier needs to pick it, in their item codes and packs."""
    order = get_order(order_id)
    supplier = Supplier.get_by_id(order.supplier_id)
    sent = next((e for e in reversed(order.events) if e.status == "sent"), None)
    from shopkeeper.times import local_time

    when = local_time(sent.created_at if sent else order.updated_at)
    head = [f"Purchase order {order.id}", f"To: {supplier.name}"]
    for label, value in (("Contact", supplier.contact), ("Email", supplier.email), ("Phone", supplier.phone)):
        if value:
            head.append(f"{label}: {value}")
    head.append(f"Date: {when}")
    if order.note:
        head.append(f"Note: {order.note}")
    rows = [(line.item_code or "-", line.name, _packs_text(line), f"{format_qty(line.pack_size)} {line.unit}",
             format_money(line.pack_cost, decimals), format_money(line.value, decimals)) for line in order.lines]
    titles = ("Item code", "Description", "Packs", "Pack of", "Pack cost", "Total")
    widths = [max([len(t)] + [len(r[i]) for r in rows]) for i, t in enumerate(titles)]
    right = (False, False, True, False, True, True)

    def fmt(cells) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)).rstrip()

    body = [fmt(titles), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)]
    total = f"Total: {format_money(order.value, decimals)}"
    text = "\n".join([*head, "", *body, "", total]) + "\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in order.lines:
        writer.writerow([line.line_no, line.item_code, line.sku, line.name, _packs_text(line),
                         format_qty(line.pack_size), format_qty(line.quantity), line.unit,
                         format_money(line.pack_cost, decimals), format_money(line.value, decimals)])
    return text, buffer.getvalue()


# --- receiving -------------------------------------------------------------------------------------------------

class Arrival(NamedTuple):
    """One thing that came: a product (SKU, barcode, id or the product), thousandths, and its unit cost in minor
    units if it differs from the order line's (None: the line's)."""

    product: str | int | Product
    quantity: int
    unit_cost: int | None = None


class ReceivedLine(NamedTuple):
    product_id: int
    sku: str
    line_no: int
    quantity: int  # received now
    unit_cost: int  # booked at
    ordered: int  # the line's quantity (0: not on the order)
    received: int  # the line's total received so far
    flag: str  # "" | "over" (more than ordered) | "not_on_order"


@dataclass
class Receipt:
    """What ``receive_against`` did: the lines booked with their flags, the order's status afterwards, and the
    stock warnings of the negative-stock policy (none for goods coming in, kept for symmetry)."""

    order_id: int
    status: str
    lines: list[ReceivedLine] = field(default_factory=list)
    movement_ids: list[int] = field(default_factory=list)
    on_hand: dict[int, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> list[ReceivedLine]:
        return [line for line in self.lines if line.flag]


def receive_against(ctx: Context, order_id: int, arrivals: Iterable[Arrival | tuple]) -> Receipt:
    """Book goods that came against a sent (or partly received) order, all in one transaction.

    Each arrival goes to the order's first line of that product still expecting goods (else its first line of that
    product); an item not on the order gets a line of its own with nothing ordered. Cost: the line's unit cost
    unless the arrival names one. The order becomes partly received, or received once every line has come."""
    items = [Arrival(*a) for a in arrivals]
    if not items:
        raise InvalidInput("nothing to receive", field="quantity", reason="nothing to receive")
    for n, a in enumerate(items, 1):
        _check_qty(a.quantity, line=n)
        if a.unit_cost is not None:
            _check_cost(a.unit_cost, line=n)
    with write_transaction():
        order = _lock_order(order_id)
        _refuse_unless(order, RECEIVING_STATUSES, "received against (send it first, or receive without the order)"
                       if order.status == "draft" else "received against")
        receipt = Receipt(order.id, order.status)
        touched: set[int] = set()
        for a in items:
            prod = find_product(a.product)
            line = _line_for(order, prod)
            flag = ""
            if line is None:
                code, pack, pack_cost = _costs(prod, order.supplier_id, a.unit_cost)
                line = PurchaseOrderLine.create(
                    order=order.id, line_no=_next_line_no(order.id), product=prod.id, item_code=code,
                    pack_size=pack, quantity=0, pack_cost=pack_cost,
                    unit_cost=a.unit_cost if a.unit_cost is not None else unit_cost_of(pack_cost, pack), edited=True)
                flag = "not_on_order"
            cost = a.unit_cost if a.unit_cost is not None else line.unit_cost
            stock.take_in_at_cost(prod.id, a.quantity, cost)
            posted = stock.post_movements(ctx, [stock.Entry(
                prod.id, "receive", a.quantity, unit_cost=cost, reference=f"po:{order.id}",
                supplier_id=order.supplier_id, po_line=line.id)])
            line.received += a.quantity
            PurchaseOrderLine.update(received=PurchaseOrderLine.received + a.quantity).where(
                PurchaseOrderLine.id == line.id).execute()
            if not flag and line.received > line.quantity:
                flag = "over"
            receipt.lines.append(ReceivedLine(prod.id, prod.sku, line.line_no, a.quantity, cost, line.quantity,
                                              line.received, flag))
            receipt.movement_ids += posted.movement_ids
            receipt.on_hand.update(posted.on_hand)
            receipt.warnings += posted.warnings
            touched.add(prod.id)
        _settle(ctx, order)
        _touch(order)
        _refresh_on_order(touched)
        receipt.status = order.status
    return receipt


def _line_for(order: PurchaseOrder, product: Product) -> PurchaseOrderLine | None:
    lines = list(PurchaseOrderLine.select().where(
        (PurchaseOrderLine.order == order.id) & (PurchaseOrderLine.product == product.id))
        .order_by(PurchaseOrderLine.line_no))
    return next((line for line in lines if line.quantity - line.received - line.cancelled > 0),
                lines[0] if lines else None)


# --- returns to a supplier ----------------------------------------------------------------------------------------

def return_to_supplier(ctx: Context, product: str | int | Product, quantity: int, *,
                       supplier: str | int | Supplier | None = None, order_id: int | None = None,
                       reason: str) -> stock.Posted:
    """Send ``quantity`` thousandths of ``product`` back to a supplier (damaged on arrival, wrong item): a
    ``supplier_return`` movement of ``-quantity``, referencing ``po:N`` (with the order line) or ``supplier:ID``.

    Against an order, the product must be on it and no more can go back than came on that line; the goods leave at
    the line's unit cost (see the module docstring for why), otherwise at the average cost. The order's figures do
    not change: a replacement is a new line or a new order."""
    reason = clean(reason, field="reason").strip()
    if not reason:
        raise InvalidInput("reason: say why the goods go back (damaged, wrong item, ...)", field="reason",
                           reason="a return to a supplier needs a reason")
    _check_qty(quantity)
    with write_transaction():
        prod = find_product(product)
        sup = find_supplier(supplier) if supplier is not None else None
        line = None
        if order_id is not None:
            order = _lock_order(order_id)
            if sup is not None and sup.id != order.supplier_id:
                raise InvalidInput(f"supplier: order {order.id} is not to {sup.name}", field="supplier",
                                   reason=f"order {order.id} is to another supplier", value=sup.name)
            sup = Supplier.get_by_id(order.supplier_id)
            line = _returnable_line(order, prod, quantity)
            reference = f"po:{order.id}"
        elif sup is None:
            raise InvalidInput("supplier: name the supplier (or the order) the goods go back to", field="supplier",
                               reason="needs a supplier or an order")
        else:
            reference = f"supplier:{sup.id}"
        cost = line.unit_cost if line is not None else locked(
            Product.select(Product.avg_cost).where(Product.id == prod.id)).scalar()
        stock.take_in_at_cost(prod.id, -quantity, cost)
        return stock.post_movements(ctx, [stock.Entry(
            prod.id, "supplier_return", -quantity, unit_cost=cost, reason=reason, reference=reference,
            supplier_id=sup.id, po_line=line.id if line is not None else None)])


def _returnable_line(order: PurchaseOrder, product: Product, quantity: int) -> PurchaseOrderLine:
    """The order's line of ``product`` with enough received and not yet returned for ``quantity`` to go back."""
    lines = list(PurchaseOrderLine.select().where(
        (PurchaseOrderLine.order == order.id) & (PurchaseOrderLine.product == product.id))
        .order_by(PurchaseOrderLine.line_no))
    if not lines:
        reason = f"{product.sku} is not on order {order.id}"
        raise InvalidInput(f"{reason}: return it to the supplier without the order", field="product",
                           reason=reason, value=product.sku)
    returned = dict(Movement.select(Movement.po_line, fn.SUM(Movement.quantity))
                    .where(Movement.po_line.in_([l.id for l in lines]) & (Movement.kind == "supplier_return"))
                    .group_by(Movement.po_line).tuples())
    left = 0
    for line in lines:
        can = line.received + (returned.get(line.id) or 0)  # returns are negative
        if can >= quantity:
            return line
        left += max(can, 0)
    reason = f"only {format_qty(left)} of {product.sku} came on order {order.id} and have not gone back"
    raise InvalidInput(f"quantity: {reason}", field="quantity", reason=reason, value=quantity)

