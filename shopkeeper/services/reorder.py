"""Low stock and what to order."""

from __future__ import annotations

from typing import NamedTuple

from peewee import JOIN

from shopkeeper.models import Product, Supplier


class ReorderLine(NamedTuple):
    product_id: int
    sku: str
    name: str
    unit: str
    on_hand: int
    reorder_point: int
    reorder_qty: int
    supplier: str
    suggested: int  # thousandths to order


def suggest_order(on_hand: int, reorder_point: int, reorder_qty: int) -> int:
    """How much to order: whole multiples of the reorder quantity that lift stock above the reorder point;
    without a reorder quantity, enough to reach twice the reorder point."""
    shortfall = reorder_point - on_hand
    if reorder_qty > 0:
        packs = max(1, -(-(shortfall + 1) // reorder_qty)) if shortfall >= 0 else 1
        return packs * reorder_qty
    return max(2 * reorder_point - on_hand, 0)


def low_stock_query():
    """Active products at or below their reorder point (a product without one is never low), worst first."""
    return (Product.select(Product, Supplier.name.alias("supplier_name"))
            .join(Supplier, join_type=JOIN.LEFT_OUTER, on=(Product.supplier == Supplier.id))
            .where(Product.active & (Product.reorder_point > 0) & (Product.on_hand - Product.reorder_point <= 0))
            .order_by(Product.on_hand - Product.reorder_point, Product.sku))


def low_stock(limit: int | None = None) -> list[ReorderLine]:
    query = low_stock_query()
    if limit:
        query = query.limit(limit)
    return [
        ReorderLine(p.id, p.sku, p.name, p.unit, p.on_hand, p.reorder_point, p.reorder_qty,
                    getattr(p, "supplier_name", None) or "",
                    suggest_order(p.on_hand, p.reorder_point, p.reorder_qty))
        for p in query.objects()
    ]
