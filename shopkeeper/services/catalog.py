"""Products, their barcodes, and suppliers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from peewee import AutoField, CharField, ForeignKeyField, IntegerField, TextField

from shopkeeper.barcodes import BarcodeError, lookup_keys, normalize
from shopkeeper.db import locked, statement, utcnow, write_transaction
from shopkeeper.errors import InvalidInput, NotFound
from shopkeeper.models import Barcode, Product, Supplier, database
from shopkeeper.text import clean


def _find_sql(p: str) -> str:
    """One statement finding a product by SKU, else by exact barcode."""
    columns = ", ".join(f'p."{f.column_name}"' for f in Product._meta.sorted_fields)
    return (f"SELECT {columns} FROM product p WHERE p.sku = {p} UNION ALL "
            f"SELECT {columns} FROM barcode b JOIN product p ON p.id = b.product_id WHERE b.code = {p} LIMIT 1")


# Integer and text columns come back from both drivers as the Python value itself; only the rest (the active flag,
# 0/1 in SQLite) goes through the field's python_value, as Peewee's own row reader would.
_NAMES = [f.name for f in Product._meta.sorted_fields]
_CONVERTERS = [(i, f.name, f.python_value) for i, f in enumerate(Product._meta.sorted_fields)
               if not isinstance(f, (AutoField, IntegerField, CharField, TextField, ForeignKeyField))]


def _product_from_row(row: tuple) -> Product:
    """A Product from a row of ``_find_sql``, as Peewee's own cursor wrapper builds one (no dirty fields)."""
    product = Product(__no_default__=True)
    data = product.__data__ = dict(zip(_NAMES, row))
    for i, name, convert in _CONVERTERS:
        if row[i] is not None:
            data[name] = convert(row[i])
    return product


def find_product(ref: str | int | Product, *, keys: Sequence[str] | None = None) -> Product:
    """A product by SKU or barcode (or id, or the product itself). Raises NotFound.

    ``keys``: the barcode forms to try when the text itself is neither a SKU nor a stored barcode, when the caller
    has already parsed the scan (a scale label's item code); by default every form of the text as a GTIN.
    """
    if isinstance(ref, Product):
        return ref
    if isinstance(ref, int):
        product = Product.get_or_none(Product.id == ref)
        if product is None:
            raise NotFound(f"no product with id {ref}")
        return product
    text = ref.strip()
    if not text:
        raise InvalidInput("empty product code")
    db = database.obj
    row = db.execute_sql(statement(db, "catalog.find", _find_sql), (text, text)).fetchone()
    if row is not None:
        return _product_from_row(row)
    if keys is None:
        keys = lookup_keys(text)  # a GTIN with a wrong check digit raises here, saying so
    product = Product.select().join(Barcode).where(Barcode.code.in_(keys)).first()
    if product is None:
        raise NotFound(f"unknown product {text!r} (no such SKU or barcode)")
    return product


def product_barcodes(product: Product) -> list[str]:
    return [b.code for b in Barcode.select(Barcode.code).where(Barcode.product == product).order_by(Barcode.id)]


def get_supplier(name: str) -> Supplier | None:
    """The supplier called ``name``, created on first use; ``None`` for an empty name."""
    name = clean(name, field="supplier").strip()
    if not name:
        return None
    Supplier.insert(name=name).on_conflict_ignore().execute()
    return Supplier.get(Supplier.name == name)


@dataclass
class ProductData:
    """Fields to create or update a product with; ``None`` leaves a field as it is on update."""

    sku: str
    name: str | None = None
    unit: str | None = None
    price: int | None = None
    tax_rate: int | None = None
    avg_cost: int | None = None
    reorder_point: int | None = None
    reorder_qty: int | None = None
    supplier: str | None = None
    category: str | None = None
    active: bool | None = None
    barcodes: list[str] | None = None


TEXT_FIELDS = ("sku", "name", "unit", "supplier", "category")


def _cleaned(data: ProductData) -> ProductData:
    """``data`` with its text fields under the stored-text rule (``shopkeeper.text.clean``); refuses control
    characters with ``InvalidInput(field=...)``."""
    changes = {name: clean(value, field=name) for name in TEXT_FIELDS
               if isinstance(value := getattr(data, name), str)}
    return replace(data, **changes)


def _check(data: ProductData) -> None:
    if not data.sku.strip():
        raise InvalidInput("sku: must not be empty")
    if data.name is not None and not data.name.strip():
        raise InvalidInput(f"{data.sku}: name must not be empty")
    for name in ("price", "avg_cost", "reorder_point", "reorder_qty"):
        value = getattr(data, name)
        if value is not None and value < 0:
            raise InvalidInput(f"{data.sku}: {name.replace('_', ' ')} must not be negative")
    if data.unit is not None and not data.unit.strip():
        raise InvalidInput(f"{data.sku}: unit must not be empty")


def save_product(data: ProductData, *, default_tax_rate: int = 0) -> Product:
    """Create the product ``data.sku`` or update the fields given. Barcodes, when given, replace the old ones.

    Stock is never set here: ``on_hand`` only changes through movements. An update writes only the fields given,
    the row locked from the read to the commit: writing back the whole row as read would undo a sale another till
    committed meanwhile (PostgreSQL reads without waiting for writers).
    """
    data = _cleaned(data)
    _check(data)
    with write_transaction():
        product = locked(Product.select().where(Product.sku == data.sku.strip())).first()
        new = product is None
        if new:
            if data.name is None:
                raise InvalidInput(f"{data.sku}: a new product needs a name")
            product = Product(sku=data.sku.strip(), tax_rate=default_tax_rate)
        changed = [Product.updated_at]
        for name in ("name", "unit", "price", "tax_rate", "avg_cost", "reorder_point", "reorder_qty", "category",
                     "active"):
            value = getattr(data, name)
            if value is not None:
                setattr(product, name, value.strip() if isinstance(value, str) else value)
                changed.append(getattr(Product, name))
        if data.supplier is not None:
            product.supplier = get_supplier(data.supplier)
            changed.append(Product.supplier)
        product.updated_at = utcnow()
        product.save(only=None if new else changed)
        if data.barcodes is not None:
            set_barcodes(product, data.barcodes)
    return product


def set_barcodes(product: Product, codes: Iterable[str]) -> None:
    """Replace the product's barcodes; a code already on another product is refused, naming that product."""
    wanted = []
    for code in codes:
        code = code.strip()
        if not code:
            continue
        try:
            code = normalize(code)
        except BarcodeError as exc:
            raise InvalidInput(f"{product.sku}: {exc}") from None
        if code not in wanted:
            wanted.append(code)
    with write_transaction():
        for code in wanted:
            holder = (Product.select(Product.sku).join(Barcode)
                      .where((Barcode.code == code) & (Product.id != product.id)).first())
            if holder is not None:
                raise InvalidInput(f"{product.sku}: barcode {code} already belongs to {holder.sku}")
        Barcode.delete().where((Barcode.product == product) & Barcode.code.not_in(wanted)).execute()
        for code in wanted:
            Barcode.insert(code=code, product=product).on_conflict_ignore().execute()


def assign_in_store_barcode(product: Product, prefix: str = "20") -> str:
    """Give a product without a barcode a new in-store EAN-13 under ``prefix`` (unique: chosen and stored under
    the write lock, so two processes never hand out the same code). Returns the product's first barcode."""
    from shopkeeper.barcodes import next_in_store_ean13

    with write_transaction():
        existing = product_barcodes(product)
        if existing:
            return existing[0]
        taken = [code for (code,) in Barcode.select(Barcode.code).where(Barcode.code.startswith(prefix)).tuples()]
        code = next_in_store_ean13(prefix, taken)
        Barcode.insert(code=code, product=product).execute()
    return code
