"""Read-only queries for the ordering screens: suppliers and their products, purchase orders and their lines.
Nothing here writes (``services.suppliers`` and ``services.ordering`` do).

The screens call these from thread workers through ``detached``: each thread reads on its own connection (Peewee's
connections are per thread), so a slow read never holds up the event loop. The lists are small (a shop has tens of
suppliers and orders open at once); the lists of orders are capped at ``ORDER_LIMIT`` newest first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, TypeVar

from peewee import JOIN, fn

from shopkeeper.models import (
    Barcode,
    Product,
    ProductSupplier,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
    database,
)

T = TypeVar("T")

ORDER_STATUSES = ("draft", "sent", "partly_received", "received", "cancelled")
OPEN_STATUSES = ("draft", "sent", "partly_received")
ORDER_LIMIT = 500


def detached(call: Callable[[], T]) -> T:
    """``call()`` from a thread worker, on this thread's own connection (closed after)."""
    with database.connection_context():
        return call()


def line_value(quantity: int, unit_cost: int) -> int:
    """Minor units for ``quantity`` thousandths at ``unit_cost`` minor units per unit, rounded half up."""
    return (quantity * unit_cost + 500) // 1000


# --- suppliers ------------------------------------------------------------------------------------------------


class SupplierRow(NamedTuple):
    id: int
    name: str
    contact: str
    email: str
    phone: str
    lead_days: int
    review_days: int
    order_days: str
    min_order: int  # minor units
    notes: str
    active: bool
    products: int  # linked products

    @property
    def key(self) -> int:
        return self.id


def supplier_rows(*, include_inactive: bool = True) -> list[SupplierRow]:
    """Every supplier by name, with how many products it is linked to."""
    links = (ProductSupplier.select(ProductSupplier.supplier, fn.COUNT(ProductSupplier.id).alias("n"))
             .group_by(ProductSupplier.supplier))
    counts = {row.supplier_id: row.n for row in links}
    query = Supplier.select().order_by(fn.LOWER(Supplier.name), Supplier.id)
    if not include_inactive:
        query = query.where(Supplier.active)
    return [SupplierRow(s.id, s.name, s.contact, s.email, s.phone, s.lead_days, s.review_days, s.order_days,
                        s.min_order, s.notes, bool(s.active), counts.get(s.id, 0)) for s in query]


def supplier_row(supplier_id: int) -> SupplierRow | None:
    for row in supplier_rows():
        if row.id == supplier_id:
            return row
    return None


class LinkRow(NamedTuple):
    """A product a supplier delivers, as that supplier sells it."""

    product_id: int
    sku: str
    name: str
    unit: str
    item_code: str
    pack_size: int  # thousandths of a unit per pack
    pack_cost: int  # minor units per pack
    preferred: bool
    on_hand: int
    on_order: int

    @property
    def key(self) -> int:
        return self.product_id


def supplier_links(supplier_id: int) -> list[LinkRow]:
    """The products linked to a supplier, by SKU."""
    query = (ProductSupplier.select(ProductSupplier, Product)
             .join(Product, on=(ProductSupplier.product == Product.id))
             .where(ProductSupplier.supplier == supplier_id)
             .order_by(Product.sku))
    return [LinkRow(link.product.id, link.product.sku, link.product.name, link.product.unit, link.item_code,
                    link.pack_size, link.pack_cost, bool(link.preferred), link.product.on_hand,
                    link.product.on_order) for link in query]


class ProductHit(NamedTuple):
    id: int
    sku: str
    name: str
    unit: str


def find_products(text: str, limit: int = 8) -> list[ProductHit]:
    """Products whose SKU or barcode is ``text`` exactly first, then those whose SKU or name contains it (for
    linking a product by a typed search)."""
    text = text.strip()
    if not text:
        return []
    exact = (Product.select(Product.id).join(Barcode, JOIN.LEFT_OUTER, on=(Barcode.product == Product.id))
             .where((Product.sku == text) | (Barcode.code == text)))
    hits = [Product.get_by_id(p.id) for p in exact.distinct()]
    seen = {p.id for p in hits}
    like = f"%{text.lower()}%"
    more = (Product.select().where(Product.active & ((fn.LOWER(Product.sku) ** like) | (fn.LOWER(Product.name) ** like)))
            .order_by(Product.sku).limit(limit))
    hits += [p for p in more if p.id not in seen]
    return [ProductHit(p.id, p.sku, p.name, p.unit) for p in hits[:limit]]


# --- purchase orders ------------------------------------------------------------------------------------------


class OrderRow(NamedTuple):
    id: int
    supplier_id: int
    supplier: str
    status: str
    lines: int
    value: int  # minor units at the lines' costs
    created_at: str
    automatic: bool

    @property
    def key(self) -> int:
        return self.id


def order_rows(status: str = "") -> list[OrderRow]:
    """Purchase orders, newest first; ``status``: one of ``ORDER_STATUSES``, ``open`` (draft, sent or partly
    received), or "" for all."""
    query = (PurchaseOrder.select(PurchaseOrder, Supplier.name.alias("supplier_name"))
             .join(Supplier, on=(PurchaseOrder.supplier == Supplier.id))
             .order_by(PurchaseOrder.id.desc()).limit(ORDER_LIMIT))
    if status == "open":
        query = query.where(PurchaseOrder.status.in_(OPEN_STATUSES))
    elif status:
        query = query.where(PurchaseOrder.status == status)
    orders = list(query.objects())
    totals: dict[int, tuple[int, int]] = {}
    if orders:
        lines = (PurchaseOrderLine.select(PurchaseOrderLine.order, PurchaseOrderLine.quantity,
                                          PurchaseOrderLine.unit_cost)
                 .where(PurchaseOrderLine.order.in_([o.id for o in orders])))
        for line in lines:
            n, value = totals.get(line.order_id, (0, 0))
            totals[line.order_id] = (n + 1, value + line_value(line.quantity, line.unit_cost))
    return [OrderRow(o.id, o.supplier_id, o.supplier_name, o.status, *totals.get(o.id, (0, 0)), o.created_at,
                     bool(o.automatic)) for o in orders]


class OrderLineRow(NamedTuple):
    id: int
    line_no: int
    product_id: int
    sku: str
    name: str
    unit: str
    item_code: str
    pack_size: int  # thousandths per pack
    quantity: int  # ordered, thousandths
    received: int
    cancelled: int
    unit_cost: int  # minor units per unit

    @property
    def key(self) -> int:
        return self.id

    @property
    def outstanding(self) -> int:
        """Still expected: ordered, less received and cancelled (never below zero: an over-delivery is not owed)."""
        return max(self.quantity - self.received - self.cancelled, 0)

    @property
    def over(self) -> int:
        """Received beyond what was ordered."""
        return max(self.received - self.quantity, 0)

    @property
    def packs(self) -> tuple[int, int]:
        """Ordered quantity as whole packs and the thousandths left over (0 when it is a whole number of packs)."""
        size = self.pack_size or 1000
        return divmod(self.quantity, size)


class OrderDetail(NamedTuple):
    order: OrderRow
    lines: list[OrderLineRow]

    @property
    def missing(self) -> int:
        """Thousandths still expected on all lines."""
        return sum(line.outstanding for line in self.lines)


def order_detail(order_id: int) -> OrderDetail | None:
    """One order and its lines in line order; None when there is no such order."""
    heads = [o for o in _order_head(order_id)]
    if not heads:
        return None
    query = (PurchaseOrderLine.select(PurchaseOrderLine, Product.sku, Product.name, Product.unit)
             .join(Product, on=(PurchaseOrderLine.product == Product.id))
             .where(PurchaseOrderLine.order == order_id)
             .order_by(PurchaseOrderLine.line_no, PurchaseOrderLine.id))
    lines = [OrderLineRow(line.id, line.line_no, line.product_id, line.product.sku, line.product.name,
                          line.product.unit, line.item_code, line.pack_size, line.quantity, line.received,
                          line.cancelled, line.unit_cost) for line in query]
    value = sum(line_value(line.quantity, line.unit_cost) for line in lines)
    return OrderDetail(heads[0]._replace(lines=len(lines), value=value), lines)


def _order_head(order_id: int) -> list[OrderRow]:
    query = (PurchaseOrder.select(PurchaseOrder, Supplier.name.alias("supplier_name"))
             .join(Supplier, on=(PurchaseOrder.supplier == Supplier.id))
             .where(PurchaseOrder.id == order_id))
    return [OrderRow(o.id, o.supplier_id, o.supplier_name, o.status, 0, 0, o.created_at, bool(o.automatic))
            for o in query.objects()]


def product_for_code(code: str) -> ProductHit:
    """The product a scanned or typed code names (SKU or barcode, in any GTIN form: ``catalog.find_product``).
    Raises ``NotFound`` (or ``InvalidInput`` for a barcode with a wrong check digit)."""
    from shopkeeper.services.catalog import find_product

    p = find_product(code)
    return ProductHit(p.id, p.sku, p.name, p.unit)
