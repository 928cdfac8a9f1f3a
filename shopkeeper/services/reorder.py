"""Low stock, reorder suggestions and learning reorder points from the journal (docs/ordering.md).

* ``recompute`` learns every automatic product's reorder point and order-up-to level (stored in
  ``product.reorder_point`` / ``product.reorder_qty``) from the journal, in one grouped query over the window;
  manual products (a reorder point typed by hand) are never touched.
* The low-stock list and the suggestions read those cached columns and the cached ``on_hand`` / ``on_order``, so
  a sale costs them nothing more than the sale's own update of ``on_hand``.
* Inventory position = on hand + on order (open purchase order lines not yet received): a product is low when its
  position is at or below its reorder point, so an order already drafted or sent is never suggested again.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from peewee import JOIN, fn

from shopkeeper import dialect
from shopkeeper.config import ReorderSection
from shopkeeper.db import is_sqlite, write_transaction
from shopkeeper.errors import InvalidInput
from shopkeeper.models import Product, ProductSupplier, Supplier, database
from shopkeeper.money import round_div
from shopkeeper.services import demand
from shopkeeper.services.context import Context

AUTO, MANUAL = "auto", "manual"


# --- low stock (the pane, `stock --low`) ----------------------------------------------------------------------

class ReorderLine(NamedTuple):
    product_id: int
    sku: str
    name: str
    unit: str
    on_hand: int
    reorder_point: int
    reorder_qty: int  # manual: order in multiples of it; auto: the learned order-up-to level
    supplier: str
    suggested: int  # thousandths to order (pack-rounded; the supplier's minimum order is `suggestions`' business)
    on_order: int = 0
    mode: str = AUTO


def suggest_order(on_hand: int, reorder_point: int, reorder_qty: int, *, mode: str = MANUAL, on_order: int = 0,
                  pack: int = 0) -> int:
    """How much to order at inventory position ``on_hand + on_order``: for a learned (auto) product up to its
    order-up-to level ``reorder_qty``; for a manual one in multiples of its reorder quantity; either way rounded
    up to whole packs of ``pack`` thousandths (the preferred supplier's; 0: no rounding)."""
    position = on_hand + on_order
    if mode == AUTO:
        return demand.order_quantity(position, reorder_point, reorder_qty, pack)
    quantity = demand.manual_order_quantity(position, reorder_point, reorder_qty)
    return -(-quantity // pack) * pack if pack > 0 else quantity


POSITION = Product.on_hand + Product.on_order - Product.reorder_point
"""Inventory position above the reorder point (``product_position`` index, migration m017)."""
LOW_SQL = "active AND reorder_point > 0 AND on_hand + on_order - reorder_point <= 0"
"""The low-stock rule as plain SQL on ``product`` (for queries that do not build a Peewee query)."""


def _preferred():
    return ProductSupplier.alias("preferred_link")


def low_stock_query():
    """Active products whose inventory position (on hand + on order) is at or below their reorder point (a product
    without one is never low), worst first, with the preferred supplier's name and pack size."""
    link = _preferred()
    return (Product.select(Product, Supplier.name.alias("supplier_name"), link.pack_size.alias("pack_size"))
            .join(link, JOIN.LEFT_OUTER, on=((link.product == Product.id) & link.preferred))
            .join(Supplier, JOIN.LEFT_OUTER, on=(Supplier.id == fn.COALESCE(link.supplier, Product.supplier)),
                  src=Product)
            .where(Product.active & (Product.reorder_point > 0) & (POSITION <= 0))
            .order_by(POSITION, Product.sku))


def reorder_line(p: Product) -> ReorderLine:
    """A row of ``low_stock_query()`` as the pane shows it."""
    return ReorderLine(p.id, p.sku, p.name, p.unit, p.on_hand, p.reorder_point, p.reorder_qty,
                       getattr(p, "supplier_name", None) or "",
                       suggest_order(p.on_hand, p.reorder_point, p.reorder_qty, mode=p.reorder_mode,
                                     on_order=p.on_order, pack=getattr(p, "pack_size", None) or 0),
                       p.on_order, p.reorder_mode)


def low_stock(limit: int | None = None) -> list[ReorderLine]:
    query = low_stock_query()
    if limit:
        query = query.limit(limit)
    return [reorder_line(p) for p in query.objects()]


# --- suggestions (what `po draft` orders) ---------------------------------------------------------------------

@dataclass
class Suggestion:
    product_id: int
    sku: str
    name: str
    unit: str
    supplier_id: int | None
    supplier: str
    item_code: str
    on_hand: int
    on_order: int
    reorder_point: int
    target_level: int  # auto: the learned order-up-to level; manual: position + the manual rule's quantity
    pack_size: int  # thousandths per pack (1000 without a supplier link)
    pack_cost: int  # minor units per pack (0: unknown)
    quantity: int  # thousandths to order: whole packs, topped up to the supplier's minimum order
    unit_cost: int  # minor units per unit
    mode: str
    rounded: int = 0  # thousandths added by rounding up to whole packs
    topped_up: int = 0  # thousandths added to reach the supplier's minimum order

    @property
    def position(self) -> int:
        return self.on_hand + self.on_order

    @property
    def packs(self) -> int:
        return self.quantity // self.pack_size if self.pack_size > 0 else 0


def suggestions(ctx: Context | None = None, supplier_id: int | None = None) -> list[Suggestion]:
    """Every low product's order: up to its target in whole packs of its preferred supplier, then each supplier's
    lines topped up together to its minimum order value (at pack cost). Ordered by supplier, then SKU."""
    link = _preferred()
    query = (Product.select(Product, link.supplier.alias("link_supplier"), link.item_code.alias("item_code"),
                            link.pack_size.alias("pack_size"), link.pack_cost.alias("pack_cost"),
                            Supplier.id.alias("sid"), Supplier.name.alias("supplier_name"),
                            Supplier.min_order.alias("min_order"))
             .join(link, JOIN.LEFT_OUTER, on=((link.product == Product.id) & link.preferred))
             .join(Supplier, JOIN.LEFT_OUTER, on=(Supplier.id == fn.COALESCE(link.supplier, Product.supplier)),
                   src=Product)
             .where(Product.active & (Product.reorder_point > 0) & (POSITION <= 0)))
    if supplier_id is not None:
        query = query.where(Supplier.id == supplier_id)
    lines: list[Suggestion] = []
    minimum: dict[int, int] = {}
    for p in query.objects():
        linked = p.link_supplier is not None
        pack = p.pack_size if linked and p.pack_size > 0 else 0
        position = p.on_hand + p.on_order
        if p.reorder_mode == AUTO:
            need = max(p.reorder_qty - position, 0)
            target = p.reorder_qty
        else:
            need = demand.manual_order_quantity(position, p.reorder_point, p.reorder_qty)
            target = position + need
        quantity = suggest_order(p.on_hand, p.reorder_point, p.reorder_qty, mode=p.reorder_mode,
                                 on_order=p.on_order, pack=pack)
        if quantity <= 0:
            continue
        pack_cost = p.pack_cost if linked else 0
        unit_cost = round_div(pack_cost * demand.UNIT, pack) if pack and pack_cost else p.avg_cost
        lines.append(Suggestion(
            p.id, p.sku, p.name, p.unit, p.sid, p.supplier_name or "", (p.item_code or "") if linked else "",
            p.on_hand, p.on_order, p.reorder_point, target, pack or demand.UNIT, pack_cost, quantity, unit_cost,
            p.reorder_mode, rounded=quantity - need))
        if p.sid is not None:
            minimum[p.sid] = p.min_order or 0
    by_supplier: dict[int, list[Suggestion]] = defaultdict(list)
    for line in lines:
        if line.supplier_id is not None:
            by_supplier[line.supplier_id].append(line)
    for sid, group in by_supplier.items():
        if not minimum.get(sid):
            continue
        work = [{"quantity": s.quantity, "pack": s.pack_size if s.pack_cost else 0, "pack_cost": s.pack_cost,
                 "position": s.position, "target": s.target_level} for s in group]
        for s, w in zip(group, demand.top_up(work, minimum[sid]), strict=True):
            s.quantity, s.topped_up = w["quantity"], w["topped_up"]
    lines.sort(key=lambda s: (s.supplier_id is None, s.supplier, s.sku))
    return lines


# --- learning -------------------------------------------------------------------------------------------------

def settings_of(config) -> ReorderSection:
    """The ``[reorder]`` section of a loaded config (defaults when it has none)."""
    try:
        return config.section("reorder")
    except (KeyError, AttributeError):
        return ReorderSection()


@dataclass
class Learned:
    """One product's learned figures and what they came from."""

    product_id: int
    on_hand: int
    lead_days: int
    review_days: int
    stats: demand.DemandStats
    figures: demand.ReorderFigures | None  # None: too few in-stock days to learn from


@dataclass
class RecomputeResult:
    window_days: int
    products: int = 0  # automatic products looked at
    changed: int = 0  # whose stored figures changed
    kept: int = 0  # too few in-stock days: old figures kept
    movements_days: int = 0  # (product, hour) groups read from the journal
    learned: list[Learned] = field(default_factory=list, repr=False)


def window_start(today: dt.date, window_days: int) -> dt.date:
    return today - dt.timedelta(days=window_days)


def _hour_width(first: dt.date, last: dt.date) -> int:
    """How much of a stored timestamp tells its local day: the hour (13 characters), or the minute (16) where the
    local zone's offset is not whole hours in that span (as the reports bucket time)."""
    day = first
    while day <= last:
        offset = dt.datetime.combine(day, dt.time(12)).astimezone().utcoffset() or dt.timedelta()
        if offset.total_seconds() % 3600:
            return 16
        day += dt.timedelta(days=1)
    return 13


def _daily_moves(today: dt.date, window: int, product_ids: list[int] | None
                 ) -> tuple[dict[int, dict[int, tuple[int, int]]], int]:
    """Per product and local day since the start of the window up to now: (sold net of returns, net stock change),
    keyed by days before ``today`` (0 = today). One query grouped by product and UTC hour (the database knows no
    local time zone; hours become local days here, as in the reports), read through the ``created_at`` index:
    only the window's movements are read, however long the journal."""
    from shopkeeper.times import to_utc_text

    db = database.obj
    p = db.param
    first = window_start(today, window)
    width = _hour_width(first, today)
    hour = f"substr(created_at, 1, {width})"
    where = f"created_at >= {p}"
    params: list[object] = [to_utc_text(dt.datetime.combine(first, dt.time(0)))]
    if product_ids is not None:
        where += f" AND product_id IN ({', '.join([p] * len(product_ids))})"
        params.extend(product_ids)
    sql = (f"SELECT product_id, {hour}, "
           f"SUM(CASE WHEN kind IN ('sale', 'return') THEN -quantity ELSE 0 END), SUM(quantity) "
           f"FROM movement{dialect.indexed_by('movement_created_at', db)} WHERE {where} GROUP BY product_id, {hour}")
    suffix = ":00:00+00:00" if width == 13 else ":00+00:00"
    days_before: dict[str, int] = {}
    moves: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    rows = 0
    for product_id, key, sold, net in db.execute_sql(sql, params):
        n = days_before.get(key)
        if n is None:
            n = days_before[key] = (today - dt.datetime.fromisoformat(key + suffix).astimezone().date()).days
        if 0 <= n <= window:
            per_day = moves[product_id]
            old_sold, old_net = per_day.get(n, (0, 0))
            per_day[n] = (old_sold + int(sold), old_net + int(net))
        rows += 1
    return moves, rows


def _products_sql(product_ids: list[int] | None, *, manual_too: bool = False) -> tuple[str, list[object]]:
    p = database.obj.param
    mode = "" if manual_too else "AND p.reorder_mode = 'auto' "
    sql = ("SELECT p.id, p.on_hand, p.reorder_point, p.reorder_qty, s.lead_days, s.review_days, s.order_days "
           "FROM product p "
           "LEFT JOIN product_supplier ps ON ps.product_id = p.id AND ps.preferred "
           "LEFT JOIN supplier s ON s.id = COALESCE(ps.supplier_id, p.supplier_id) "
           f"WHERE p.active {mode}")
    params: list[object] = []
    if product_ids is not None:
        sql += f"AND p.id IN ({', '.join([p] * len(product_ids))})"
        params.extend(product_ids)
    return sql, params


def learn(settings: ReorderSection, today: dt.date | None = None, product_ids: list[int] | None = None, *,
          manual_too: bool = False) -> tuple[list[Learned], list[tuple[int, int, int]], int]:
    """Learn the figures of the active automatic products (or ``product_ids`` of them) from the journal, as of
    the start of ``today`` (a local date; default: today). Returns what was learned, the (id, old point, old target) of each
    and the number of (product, day) groups read."""
    today = today or dt.date.today()
    window = settings.window_weeks * 7
    moves, rows = _daily_moves(today, window, product_ids)
    sql, params = _products_sql(product_ids, manual_too=manual_too)
    level = float(settings.service_level)
    learned: list[Learned] = []
    old: list[tuple[int, int, int]] = []
    empty: dict[int, tuple[int, int]] = {}
    for pid, on_hand, point, target, lead, review, order_days in database.obj.execute_sql(sql, params):
        sparse = moves.get(pid, empty)
        lead_days = settings.default_lead_days if lead is None else lead
        review_days = (settings.default_review_days if review is None
                       else demand.review_period(review, order_days or ""))
        stats, figures = demand.learn_product(on_hand, sparse, window=window, lead_days=lead_days,
                                              review_days=review_days, service_level=level,
                                              method=settings.method, min_days=settings.min_days)
        learned.append(Learned(pid, on_hand, lead_days, review_days, stats, figures))
        old.append((pid, point, target))
    return learned, old, rows


def recompute(ctx: Context | None = None, product_ids: list[int] | None = None, *,
              settings: ReorderSection | None = None, today: dt.date | None = None) -> RecomputeResult:
    """Learn and store the reorder point and order-up-to level of every active automatic product (or of
    ``product_ids``); manual ones are never changed. Only rows whose figures changed are written, in bulk, in one
    transaction, and only while they are still automatic (a product made manual meanwhile keeps its figures)."""
    settings = settings or ReorderSection()
    learned, old, rows = learn(settings, today, product_ids)
    result = RecomputeResult(settings.window_weeks * 7, products=len(learned), movements_days=rows,
                             learned=learned)
    updates = []
    for item, (pid, point, target) in zip(learned, old, strict=True):
        if item.figures is None:
            result.kept += 1
        elif (item.figures.reorder_point, item.figures.target) != (point, target):
            updates.append((item.figures.reorder_point, item.figures.target, pid))
    result.changed = len(updates)
    if updates:
        with write_transaction():
            _store(updates)
    return result


def _store(updates: list[tuple[int, int, int]]) -> None:
    db = database.obj
    if is_sqlite(db):
        db.cursor().executemany("UPDATE product SET reorder_point = ?, reorder_qty = ? "
                                "WHERE id = ? AND reorder_mode = 'auto'", updates)
        return
    for start in range(0, len(updates), 1000):  # PostgreSQL: one statement per thousand rows
        chunk = updates[start:start + 1000]
        values = ", ".join(["(%s, %s, %s)"] * len(chunk))
        db.execute_sql("UPDATE product AS p SET reorder_point = v.point, reorder_qty = v.target "
                       f"FROM (VALUES {values}) AS v(point, target, id) "
                       "WHERE p.id = v.id AND p.reorder_mode = 'auto'",
                       [x for row in chunk for x in row])


# --- manual reorder points ------------------------------------------------------------------------------------

def set_manual(ctx: Context | None, product: Product, point: int, qty: int | None = None) -> None:
    """Type a reorder point (and optionally a reorder quantity) by hand: the product becomes manual, and learning
    leaves it alone."""
    for name, value in (("reorder point", point), ("reorder quantity", qty)):
        if value is not None and value < 0:
            raise InvalidInput(f"{product.sku}: the {name} cannot be negative", field=name.replace(" ", "_"),
                               reason="negative", value=value)
    changes = {Product.reorder_point: point, Product.reorder_mode: MANUAL}
    if qty is not None:
        changes[Product.reorder_qty] = qty
    with write_transaction():
        Product.update(changes).where(Product.id == product.id).execute()


def set_auto(ctx: Context | None, product: Product, settings: ReorderSection | None = None,
             today: dt.date | None = None) -> RecomputeResult:
    """Return a product to learned figures, and learn them now."""
    with write_transaction():
        Product.update({Product.reorder_mode: AUTO}).where(Product.id == product.id).execute()
    return recompute(ctx, [product.id], settings=settings, today=today)
