"""Suppliers and the products they sell: who the shop buys from, and each product as a supplier sells it (their item
code, the pack it comes in, what a pack costs).

A product may have several suppliers and at most one preferred (a partial unique index, m014). Setting another link
preferred moves the mark; the preferred supplier is also written to ``Product.supplier``, the one supplier the stock
table, the reports and the low-stock pane already show, so there is one answer to "who do we buy this from".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import NamedTuple

from peewee import fn

from shopkeeper.bounds import MAX_MONEY, MAX_QUANTITY
from shopkeeper.db import write_transaction
from shopkeeper.errors import InvalidInput, NotFound
from shopkeeper.models import Product, ProductSupplier, PurchaseOrder, Supplier
from shopkeeper.services.catalog import find_product
from shopkeeper.services.context import Context
from shopkeeper.text import clean

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_DAYS = 366


@dataclass
class SupplierData:
    """Fields to create or edit a supplier with; ``None`` leaves a field as it is on edit (and takes the default on
    create). Money in minor units."""

    name: str | None = None
    contact: str | None = None
    email: str | None = None
    phone: str | None = None
    lead_days: int | None = None
    review_days: int | None = None
    order_days: str | None = None  # "mon,thu"; "" for every ``review_days``
    min_order: int | None = None
    notes: str | None = None
    active: bool | None = None


class LinkInfo(NamedTuple):
    """One product as one supplier sells it."""

    product_id: int
    sku: str
    name: str
    unit: str
    supplier_id: int
    supplier: str
    preferred: bool
    item_code: str
    pack_size: int  # thousandths of a unit per pack
    pack_cost: int  # minor units per pack


class SupplierInfo(NamedTuple):
    id: int
    name: str
    contact: str
    email: str
    phone: str
    lead_days: int
    review_days: int
    order_days: str
    min_order: int
    notes: str
    active: bool
    products: int  # linked products
    open_orders: int  # draft, sent or partly received


# --- validation ------------------------------------------------------------------------------------------------

def _text(value: str, field: str) -> str:
    return clean(value, field=field).strip()


def _bad(field: str, reason: str, value: object) -> InvalidInput:
    return InvalidInput(f"{field}: {reason}", field=field, reason=reason, value=value)


def order_days(text: str) -> str:
    """The stored form of the weekdays orders go out: "Mon, thu" → "mon,thu" (week order, no repeats)."""
    words = [w for w in re.split(r"[\s,;]+", text.strip().lower()) if w]
    days = set()
    for word in words:
        if word not in WEEKDAYS and word not in _DAY_NAMES:
            raise _bad("order_days", f"{word!r} is not a weekday (mon, tue, wed, thu, fri, sat, sun)", text)
        days.add(word[:3])
    return ",".join(d for d in WEEKDAYS if d in days)


def _checked(data: SupplierData) -> dict[str, object]:
    """The columns to write, cleaned and checked; raises ``InvalidInput`` naming the field."""
    values: dict[str, object] = {}
    for f in fields(data):
        value = getattr(data, f.name)
        if value is None:
            continue
        if f.name in ("name", "contact", "email", "phone", "notes"):
            value = _text(value, f.name)
        if f.name == "name" and not value:
            raise _bad("name", "a supplier needs a name", value)
        if f.name == "email" and value and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise _bad("email", f"{value!r} is not an email address", value)
        if f.name == "lead_days" and not 0 <= value <= MAX_DAYS:
            raise _bad("lead_days", f"lead time must be 0 to {MAX_DAYS} days", value)
        if f.name == "review_days" and not 1 <= value <= MAX_DAYS:
            raise _bad("review_days", f"review period must be 1 to {MAX_DAYS} days", value)
        if f.name == "min_order" and not 0 <= value <= MAX_MONEY:
            raise _bad("min_order", "minimum order must not be negative", value)
        if f.name == "order_days":
            value = order_days(value)
        values[f.name] = value
    return values


# --- suppliers -------------------------------------------------------------------------------------------------

def find_supplier(ref: str | int | Supplier) -> Supplier:
    """A supplier by id, exact name, or a name that matches one supplier ignoring case. Raises ``NotFound``."""
    if isinstance(ref, Supplier):
        return ref
    if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
        row = Supplier.get_or_none(Supplier.id == int(ref))
        if row is not None:
            return row
    text = str(ref).strip()
    row = Supplier.get_or_none(Supplier.name == text)
    if row is None:
        matches = list(Supplier.select().where(fn.LOWER(Supplier.name) == text.lower()).limit(2))
        row = matches[0] if len(matches) == 1 else None
    if row is None:
        raise NotFound(f"no supplier {text!r}", field="supplier", reason="no such supplier", value=text)
    return row


def _unique_name(name: str, own_id: int | None = None) -> None:
    clash = Supplier.get_or_none(fn.LOWER(Supplier.name) == name.lower())
    if clash is not None and clash.id != own_id:
        raise _bad("name", f"there is already a supplier called {clash.name!r}", name)


def create_supplier(ctx: Context, data: SupplierData) -> Supplier:
    """A new supplier; its name must be new (ignoring case)."""
    values = _checked(data)
    if "name" not in values:
        raise _bad("name", "a supplier needs a name", "")
    with write_transaction():
        _unique_name(values["name"])
        return Supplier.create(**values)


def edit_supplier(ctx: Context, supplier: str | int | Supplier, data: SupplierData) -> Supplier:
    """Change the fields of ``data`` that are not ``None``."""
    values = _checked(data)
    with write_transaction():
        row = find_supplier(supplier)
        if "name" in values:
            _unique_name(values["name"], row.id)
        if values:
            Supplier.update(**values).where(Supplier.id == row.id).execute()
        return Supplier.get_by_id(row.id)


def deactivate_supplier(ctx: Context, supplier: str | int | Supplier) -> Supplier:
    """Stop ordering from a supplier: ``po draft`` skips it. Its links and orders stay (history); reactivate with
    ``edit_supplier(..., SupplierData(active=True))``."""
    return edit_supplier(ctx, supplier, SupplierData(active=False))


def list_suppliers(*, include_inactive: bool = False) -> list[SupplierInfo]:
    """Every supplier by name, with how many products it sells the shop and how many orders are open."""
    from shopkeeper.services.ordering import OPEN_STATUSES

    links = dict(ProductSupplier.select(ProductSupplier.supplier, fn.COUNT(ProductSupplier.id))
                 .group_by(ProductSupplier.supplier).tuples())
    orders = dict(PurchaseOrder.select(PurchaseOrder.supplier, fn.COUNT(PurchaseOrder.id))
                  .where(PurchaseOrder.status.in_(OPEN_STATUSES)).group_by(PurchaseOrder.supplier).tuples())
    query = Supplier.select().order_by(fn.LOWER(Supplier.name), Supplier.id)
    if not include_inactive:
        query = query.where(Supplier.active)
    return [SupplierInfo(s.id, s.name, s.contact, s.email, s.phone, s.lead_days, s.review_days, s.order_days,
                         s.min_order, s.notes, s.active, links.get(s.id, 0), orders.get(s.id, 0)) for s in query]


# --- product links ---------------------------------------------------------------------------------------------

def _links_query():
    return (ProductSupplier.select(ProductSupplier, Product.id, Product.sku, Product.name, Product.unit,
                                   Supplier.id, Supplier.name)
            .join_from(ProductSupplier, Product).join_from(ProductSupplier, Supplier))


def _info(link) -> LinkInfo:
    return LinkInfo(link.product_id, link.product.sku, link.product.name, link.product.unit, link.supplier_id,
                    link.supplier.name, link.preferred, link.item_code, link.pack_size, link.pack_cost)


def links(*, product: str | int | Product | None = None, supplier: str | int | Supplier | None = None) -> list[LinkInfo]:
    """The links of one product (preferred first) or of one supplier (by SKU), or all of them."""
    query = _links_query()
    if product is not None:
        query = query.where(ProductSupplier.product == find_product(product).id)
    if supplier is not None:
        query = query.where(ProductSupplier.supplier == find_supplier(supplier).id)
    query = query.order_by(ProductSupplier.preferred.desc(), Product.sku, Supplier.name)
    return [_info(link) for link in query]


def link_for(product_id: int, supplier_id: int | None = None) -> ProductSupplier | None:
    """The product's link to ``supplier_id``, or its preferred link when no supplier is named."""
    query = ProductSupplier.select().where(ProductSupplier.product == product_id)
    if supplier_id is None:
        return query.where(ProductSupplier.preferred).first()
    return query.where(ProductSupplier.supplier == supplier_id).first()


def unit_cost(pack_cost: int, pack_size: int) -> int:
    """Minor units per unit from a pack's cost (rounded half-even): 24 at 10.00 a case → 0.42 each."""
    from shopkeeper.money import round_div

    return round_div(pack_cost * 1000, pack_size)


def link_product(ctx: Context, product: str | int | Product, supplier: str | int | Supplier, *,
                 item_code: str | None = None, pack_size: int | None = None, pack_cost: int | None = None,
                 preferred: bool | None = None) -> LinkInfo:
    """Say that ``supplier`` sells ``product`` (or change how): its item code, pack size (thousandths of a unit:
    a case of 24 is 24000) and cost per pack (minor units). ``None`` leaves a value as it is (new link: no code,
    a pack of one, no cost). The first link of a product becomes preferred; ``preferred=True`` moves the mark here."""
    if item_code is not None:
        item_code = _text(item_code, "item_code")
    if pack_size is not None and not 0 < pack_size <= MAX_QUANTITY:
        raise _bad("pack_size", "pack size must be more than zero", pack_size)
    if pack_cost is not None and not 0 <= pack_cost <= MAX_MONEY:
        raise _bad("pack_cost", "pack cost must not be negative", pack_cost)
    with write_transaction():
        prod = find_product(product)
        sup = find_supplier(supplier)
        link = link_for(prod.id, sup.id)
        first = not ProductSupplier.select().where(ProductSupplier.product == prod.id).exists()
        if link is None:
            link = ProductSupplier(product=prod.id, supplier=sup.id)
        for name, value in (("item_code", item_code), ("pack_size", pack_size), ("pack_cost", pack_cost)):
            if value is not None:
                setattr(link, name, value)
        make_preferred = preferred is True or (first and preferred is None)
        if make_preferred and not link.preferred:
            # the old mark goes first: the partial unique index allows one preferred row per product at any moment
            (ProductSupplier.update(preferred=False)
             .where((ProductSupplier.product == prod.id) & ProductSupplier.preferred).execute())
            link.preferred = True
        elif preferred is False:
            link.preferred = False
        link.save()
        if link.preferred:
            Product.update(supplier=sup.id).where(Product.id == prod.id).execute()
        return _info(_links_query().where(ProductSupplier.id == link.id).get())


def unlink_product(ctx: Context, product: str | int | Product, supplier: str | int | Supplier) -> None:
    """The supplier no longer sells the product. Orders already made keep their lines (they copied code and pack).
    If it was the preferred link, no supplier is preferred until one is set."""
    with write_transaction():
        prod = find_product(product)
        sup = find_supplier(supplier)
        link = link_for(prod.id, sup.id)
        if link is None:
            raise NotFound(f"{prod.sku} is not linked to {sup.name}", field="supplier", reason="not linked",
                           value=sup.name)
        link.delete_instance()
