"""Read-only helpers for the ordering screens beyond the views ``services.suppliers`` and ``services.ordering``
already give (suppliers, links, orders and their lines): finding the product a code or a typed search names, and
``detached`` to run any service call from a thread worker. Nothing here writes.

The screens call services from thread workers through ``detached``: each thread works on its own connection
(Peewee's connections are per thread), so a slow read or write never holds up the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, TypeVar

from peewee import JOIN, fn

from shopkeeper.models import Barcode, Product, database

T = TypeVar("T")


def detached(call: Callable[[], T]) -> T:
    """``call()`` from a thread worker, on this thread's own connection (closed after)."""
    with database.connection_context():
        return call()


# --- products -------------------------------------------------------------------------------------------------


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


def product_for_code(code: str) -> ProductHit:
    """The product a scanned or typed code names (SKU or barcode, in any GTIN form: ``catalog.find_product``).
    Raises ``NotFound`` (or ``InvalidInput`` for a barcode with a wrong check digit)."""
    from shopkeeper.services.catalog import find_product

    p = find_product(code)
    return ProductHit(p.id, p.sku, p.name, p.unit)
