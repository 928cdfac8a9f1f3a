"""Products, their barcodes, and suppliers."""

from __future__ import annotations

import contextlib
import functools
import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from peewee import AutoField, BooleanField, CharField, ForeignKeyField, IntegerField, IntegrityError, TextField
from peewee import __exception_wrapper__ as peewee_errors

from shopkeeper.barcodes import BarcodeError, Layouts, lookup_keys, parse_scan
from shopkeeper.db import is_sqlite, statement, utcnow, write_transaction
from shopkeeper.errors import InvalidInput, NotFound, ShopError
from shopkeeper.models import Barcode, Product, Supplier, database
from shopkeeper.money import format_money, format_rate
from shopkeeper.services.context import Context, staff_id, terminal_id
from shopkeeper.text import clean, is_clean


def _columns() -> str:
    return ", ".join(f'p."{f.column_name}"' for f in Product._meta.sorted_fields)


def _find_sql(p: str) -> str:
    """One statement finding a product by SKU, else by exact barcode."""
    columns = _columns()
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
    texts = [value for name in TEXT_FIELDS if isinstance(value := getattr(data, name), str)]
    if is_clean("".join(texts)):  # the common case: nothing to clean, no copy
        return data
    changes = {name: cleaned for name in TEXT_FIELDS
               if isinstance(value := getattr(data, name), str) and (cleaned := clean(value, field=name)) != value}
    return replace(data, **changes) if changes else data


FIELDS = ("name", "unit", "price", "tax_rate", "avg_cost", "reorder_point", "reorder_qty", "supplier", "category",
          "active", "barcodes")
"""The fields a product save may change (``sku`` names the product; ``on_hand`` only moves through the journal)."""

LOGGED = ("price", "tax_rate", "avg_cost", "unit", "active")
"""Fields whose every change is written to the product change log."""

CODE_SEPARATORS = ",|"
"""What separates codes in a list (the product screen's field, a CSV cell): never part of a code."""

MAX_CODE_LENGTH = 48


class EditConflict(ShopError):
    """Fields the user changed were changed elsewhere (another till, an import) after the user's screen loaded them.
    Nothing was saved. ``theirs`` maps each such field to the value it has now."""

    def __init__(self, sku: str, theirs: dict[str, object]) -> None:
        self.theirs = theirs
        names = ", ".join(name.replace("_", " ") for name in theirs)
        first = next(iter(theirs))
        super().__init__(f"{sku}: {names} changed elsewhere since you opened it; nothing was saved",
                         field=first, reason="changed elsewhere since you opened it", value=theirs[first])


@dataclass(frozen=True)
class Code:
    """A code as it will be stored, and a note when it is not what was typed (a scale label's item code)."""

    code: str
    note: str = ""


def product_code(text: str, layouts: Layouts = None) -> Code:
    """The one rule for what a product code may be, used by the product screen, CSV import and the CLI.

    Printable ASCII up to ``MAX_CODE_LENGTH`` characters (letters, digits, spaces inside, ``_``, ``+`` …) except
    the list separators ``,`` and ``|``. A GTIN must have a right check digit and is stored in its canonical form. A
    variable-measure scale label of a configured layout is stored as its item code (value zeroed, check digits
    recomputed), so every weight or price of that item finds the product; ``note`` says so.
    """
    code = text.strip()

    def refuse(reason: str) -> InvalidInput:
        return InvalidInput(f"barcode {code!r}: {reason}", field="barcodes", reason=reason, value=code)

    if not code:
        raise refuse("empty code")
    if any(sep in code for sep in CODE_SEPARATORS):
        raise refuse("a code cannot contain , or | (they separate codes in a list)")
    if not code.isprintable():
        raise refuse("a code cannot contain control characters")
    if not code.isascii():
        raise refuse("letters, digits, spaces and ASCII punctuation only (what a scanner sends, Code 128 prints)")
    if len(code) > MAX_CODE_LENGTH:
        raise refuse(f"longer than {MAX_CODE_LENGTH} characters")
    try:
        scan = parse_scan(code, layouts)
    except BarcodeError as exc:
        raise InvalidInput(f"barcode {code!r}: {exc}", field="barcodes", reason=str(exc), value=code) from None
    if scan.kind == "variable_measure":
        return Code(scan.code, f"{code} is a scale label: stored as item code {scan.code} (item {scan.item_number} "
                               f"on the scale), so every {scan.measure} of it is found")
    return Code(scan.code)


def scale_item(code: str, layouts: Layouts = None) -> str | None:
    """The item number to program into a scale when ``code`` (as stored) is a variable-measure item code of one of
    the configured layouts; None for any other code."""
    try:
        scan = parse_scan(code, layouts)
    except BarcodeError:
        return None
    return scan.item_number if scan.kind == "variable_measure" else None


def product_codes(text: str | Iterable[str], layouts: Layouts = None) -> list[Code]:
    """Codes from a list (``text`` split on ``,`` and ``|``, or already split), each checked by ``product_code``,
    duplicates dropped, in order."""
    parts = re.split(f"[{re.escape(CODE_SEPARATORS)}]", text) if isinstance(text, str) else list(text)
    codes: list[Code] = []
    for part in parts:
        if part.strip():
            code = product_code(part, layouts)
            if all(c.code != code.code for c in codes):
                codes.append(code)
    return codes


def _check(data: ProductData) -> None:
    sku = data.sku.strip()
    if not sku:
        raise InvalidInput("sku: must not be empty", field="sku", reason="must not be empty", value=data.sku)
    for name in ("name", "unit"):
        value = getattr(data, name)
        if value is not None and not value.strip():
            raise InvalidInput(f"{sku}: {name} must not be empty", field=name, reason="must not be empty",
                               value=value)
    for name in ("price", "avg_cost", "reorder_point", "reorder_qty"):
        value = getattr(data, name)
        if value is not None and value < 0:
            raise InvalidInput(f"{sku}: {name.replace('_', ' ')} must not be negative", field=name,
                               reason="must not be negative", value=value)


def product_values(product_id: int) -> dict[str, object]:
    """A product's editable fields as a save compares them: supplier by name (``""`` for none), barcodes as a
    list. What a screen shows and passes back as ``seen``."""
    return _values(Product.get_by_id(product_id), FIELDS)


def _values(product: Product, names: Iterable[str]) -> dict[str, object]:
    """The product's ``names`` fields as a save compares them (reads supplier and barcodes only when named)."""
    values: dict[str, object] = {}
    for name in names:
        if name == "supplier":
            values[name] = (Supplier.select(Supplier.name).where(Supplier.id == product.supplier_id).scalar()
                            if product.supplier_id is not None else None) or ""
        elif name == "barcodes":
            values[name] = product_barcodes(product)
        else:
            values[name] = getattr(product, name)
    return values


def _wanted(data: ProductData, codes: list[Code] | None) -> dict[str, object]:
    wanted: dict[str, object] = {}
    for name in FIELDS:
        value = getattr(data, name)
        if value is not None:
            wanted[name] = value.strip() if isinstance(value, str) else value
    if codes is not None:
        wanted["barcodes"] = [c.code for c in codes]
    return wanted


class Prepared(NamedTuple):
    """A product save checked and put in the form a save compares and writes (``prepare_product``)."""

    sku: str
    wanted: dict[str, object]
    """The fields to set, as stored: text stripped, barcodes as their stored codes (``product_codes``)."""


def prepare_product(data: ProductData, layouts: Layouts = None, *, codes_checked: bool = False) -> Prepared:
    """The rules a save applies to one product before it touches the database, for ``save_product`` and
    ``save_products`` alike: the stored-text rule, no empty name or unit, nothing negative, every barcode by
    ``product_code``. Raises ``InvalidInput`` naming the field. ``codes_checked``: ``data.barcodes`` are already
    as ``product_codes`` returns them (an import's parser ran it on each cell)."""
    data = _cleaned(data)
    _check(data)
    if data.barcodes is None:
        codes = None
    elif codes_checked:
        codes = [Code(code) for code in data.barcodes]
    else:
        codes = product_codes(data.barcodes, layouts)
    return Prepared(data.sku.strip(), _wanted(data, codes))


def save_product(data: ProductData, *, default_tax_rate: int = 0, seen: Mapping[str, object] | None = None,
                 ctx: Context | None = None, layouts: Layouts = None, kind: str = "edit", note: str = "",
                 new: bool | None = None, checked: bool = False) -> Product:
    """Create the product ``data.sku`` or change the fields given; the one function that saves products.

    Only fields whose value differs from the stored one are written, in one UPDATE: never ``on_hand`` (stock moves
    only through the journal), so a save racing a sale loses nothing. ``seen``: the values the user's screen
    loaded (``product_values``); a field the user changes that was changed elsewhere since raises
    ``EditConflict`` and nothing is saved. The row is locked while it is compared and written (PostgreSQL).

    Every change of price, tax rate, average cost, unit or active flag is written to the product change log in the
    same transaction, with who (``ctx``), when and at which till; an average cost set by hand is logged as a
    ``revaluation``. ``kind``/``note`` describe the save (``edit``, ``import`` with the file's name). ``new``:
    True refuses an existing SKU, None creates or updates. Barcodes, when given, replace the old ones.

    With ``ctx``, the acting staff member needs ``edit_products``, and ``edit_prices_costs`` to change an existing
    product's price or average cost (``services/permissions.py``); ``checked``: the caller already required both
    (an import, once for the whole file).
    """
    sku, wanted = prepare_product(data, layouts)
    approvals = _approvals(ctx, sku, wanted) if ctx is not None and not checked else []
    with write_transaction():
        db = database.obj
        sql = statement(db, "catalog.lock_sku", lambda p: _lock_sql(p, sqlite=is_sqlite(db)))
        row = db.execute_sql(sql, (sku,)).fetchone()
        product = _product_from_row(row) if row is not None else None
        if product is not None and new:
            raise InvalidInput(f"{sku} already exists", field="sku", reason="already exists", value=sku)
        if product is None:
            product = _create(sku, wanted, default_tax_rate)
            _log(ctx, product.id, _created_log(product.__data__), "create", note)
            changes = {name: value for name, value in wanted.items() if name != "barcodes" or value}
        else:
            current = _values(product, wanted)
            changes = _changed(wanted, current)
            if seen is not None:
                clashes = {name: current[name] for name in changes if name in seen and seen[name] != current[name]}
                if clashes:
                    raise EditConflict(sku, clashes)
            _update(product, changes)
            _log(ctx, product.id, {name: (current[name], changes[name]) for name in LOGGED if name in changes},
                 kind, note)
        if "barcodes" in changes:
            set_barcodes(product, changes["barcodes"])
        for approval in approvals:
            approval.record(ctx, f"product:{product.id}", {"sku": sku})
        return product


PRICES_COSTS = ("price", "avg_cost")
"""The fields whose change on an existing product needs ``edit_prices_costs`` besides ``edit_products``."""


def _approvals(ctx: Context, sku: str, wanted: dict[str, object]) -> list:
    """The permission checks of a save, before its transaction (a supervisor's wrong PIN is recorded)."""
    from shopkeeper.services import permissions

    approvals = [permissions.require(ctx, permissions.EDIT_PRODUCTS)]
    current = Product.get_or_none(Product.sku == sku)
    if current is not None and any(name in wanted and wanted[name] != getattr(current, name)
                                   for name in PRICES_COSTS):
        approvals.append(permissions.require(ctx, permissions.EDIT_PRICES_COSTS))
    return approvals


def _lock_sql(p: str, *, sqlite: bool) -> str:
    """The product with this SKU, its row locked until the transaction ends (PostgreSQL; SQLite's write lock is
    already held). Built once per kind of database: a Peewee query costs more to build than to run."""
    lock = "" if sqlite else " FOR NO KEY UPDATE"  # the lock an UPDATE takes, as db.locked
    return f"SELECT {_columns()} FROM product p WHERE p.sku = {p}{lock}"


def _mark_manual(values: dict[str, object], *, created: bool) -> None:
    """A reorder point or quantity typed by hand (a form, an import) makes the product's reordering manual: learning
    leaves it alone (``services/reorder.py``). A new product without one learns its own."""
    typed = (values.get("reorder_point") or values.get("reorder_qty")) if created else (
        "reorder_point" in values or "reorder_qty" in values)
    if typed:
        values["reorder_mode"] = "manual"


def _new_columns(sku: str, wanted: dict[str, object], default_tax_rate: int) -> dict[str, object]:
    """The columns a new product is inserted with (its supplier and barcodes apart): it needs a name, takes the
    shop's default tax rate unless given one, and a typed reorder point makes its reordering manual."""
    if "name" not in wanted:
        raise InvalidInput(f"{sku}: a new product needs a name", field="name", reason="a new product needs a name")
    columns = dict(wanted)
    columns.pop("supplier", None)
    columns.pop("barcodes", None)
    columns.setdefault("tax_rate", default_tax_rate)
    _mark_manual(columns, created=True)
    return columns


_DEFAULTS = {name: Product._meta.fields[name].default for name in LOGGED}


def _created_log(columns: dict[str, object]) -> dict[str, tuple[object, object]]:
    """The change log of a new product: every logged field, from nothing to its value (the column's default when
    not given)."""
    return {name: (None, columns.get(name, _DEFAULTS[name])) for name in LOGGED}


def _changed(wanted: dict[str, object], current: dict[str, object]) -> dict[str, object]:
    """The fields of an existing product a save writes: those whose value differs from the stored one (a typed
    reorder point or quantity makes reordering manual)."""
    changes = {name: value for name, value in wanted.items() if value != current[name]}
    _mark_manual(changes, created=False)
    return changes


def _logged_kind(name: str, kind: str) -> str:
    """How a change of ``name`` is logged: an average cost set on an existing product is a ``revaluation``."""
    return "revaluation" if name == "avg_cost" and kind != "create" else kind


def _create(sku: str, wanted: dict[str, object], default_tax_rate: int) -> Product:
    columns = _new_columns(sku, wanted, default_tax_rate)
    if wanted.get("supplier"):
        columns["supplier"] = get_supplier(wanted["supplier"])
    # Another till may create the same SKU meanwhile (PostgreSQL): its row wins and this save says so.
    now = utcnow()
    product_id = Product.insert(sku=sku, updated_at=now, **columns).on_conflict_ignore().execute()
    if not product_id:
        raise InvalidInput(f"{sku} was created elsewhere at the same moment; nothing was saved", field="sku",
                           reason="created elsewhere at the same moment", value=sku)
    return Product(id=product_id, sku=sku, updated_at=now, **columns)  # the row as inserted, defaults and all


def _update(product: Product, changes: dict[str, object]) -> None:
    """Write the changed columns in one UPDATE, and mirror them on ``product`` (which the save returns)."""
    columns = {name: value for name, value in changes.items() if name not in ("supplier", "barcodes")}
    if "supplier" in changes:
        columns["supplier"] = get_supplier(changes["supplier"])
    if columns:
        columns["updated_at"] = utcnow()
        Product.update(**columns).where(Product.id == product.id).execute()
        for name, value in columns.items():
            setattr(product, name, value)


def _text(value: object) -> str | None:
    if value is None:
        return None
    return str(int(value)) if isinstance(value, bool) else str(value)


def _log(ctx: Context | None, product_id: int, changes: dict[str, tuple[object, object]], kind: str,
         note: str) -> None:
    """Write the product change log rows of one save (inside its transaction)."""
    if not changes:
        return
    staff, terminal = (staff_id(ctx), terminal_id(ctx)) if ctx is not None else (None, None)
    now = utcnow()
    db = database.obj
    sql = statement(db, "catalog.log", _log_sql)
    for name, (old, new) in changes.items():
        logged = _logged_kind(name, kind)
        db.execute_sql(sql, (product_id, name, _text(old), _text(new), logged, note, staff, terminal, now))


def _log_sql(p: str) -> str:
    return ("INSERT INTO product_change (product_id, field, old, new, kind, note, staff_id, terminal_id, created_at) "
            f"VALUES ({', '.join([p] * 9)})")


def _text_sql(name: str) -> str:
    """``_text`` of product column ``name`` in SQL: an integer as its digits, the active flag as 1 or 0."""
    column = Product._meta.fields[name]
    if isinstance(column, BooleanField):
        return f"CASE WHEN p.{name} THEN '1' ELSE '0' END"
    if isinstance(column, IntegerField):
        return f"CAST(p.{name} AS TEXT)"
    return f"p.{name}"


@functools.lru_cache(maxsize=8)
def _created_log_sql(n: int, p: str) -> str:
    """The change log of ``n`` products just inserted, in one INSERT … SELECT: ``_created_log`` of each, read from
    the rows as stored, fields in ``LOGGED`` order, product by product."""
    fields = " UNION ALL ".join(f"SELECT '{name}' AS name, {i} AS n" for i, name in enumerate(LOGGED))
    new = "CASE f.name " + " ".join(f"WHEN '{name}' THEN {_text_sql(name)}" for name in LOGGED) + " END"
    return ("INSERT INTO product_change (product_id, field, old, new, kind, note, staff_id, terminal_id, created_at) "
            f"SELECT p.id, f.name, NULL, {new}, 'create', {p}, {p}, {p}, {p} FROM product p CROSS JOIN ({fields}) f "
            f"WHERE p.id IN ({', '.join([p] * n)}) ORDER BY p.id, f.n")


def change_text(field: str, value: str | None, decimals: int = 2) -> str:
    """A logged value (``ProductChange.old``/``new``) as a person reads it: money, a rate in %, yes/no."""
    if value is None:
        return "-"
    if field in ("price", "avg_cost"):
        return format_money(int(value), decimals)
    if field == "tax_rate":
        return format_rate(int(value)) + "%"
    if field == "active":
        return "yes" if value == "1" else "no"
    return value


def set_barcodes(product: Product, codes: Iterable[str], layouts: Layouts = None) -> None:
    """Replace the product's barcodes; a code already on another product is refused, naming that product."""
    wanted = [c.code for c in product_codes(codes, layouts)]
    with write_transaction():
        for code in wanted:
            holder = (Product.select(Product.sku).join(Barcode)
                      .where((Barcode.code == code) & (Product.id != product.id)).first())
            if holder is not None:
                raise InvalidInput(f"{product.sku}: barcode {code} already belongs to {holder.sku}",
                                   field="barcodes", reason=f"{code} already belongs to {holder.sku}", value=code)
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


# --- many products at once (imports) ---------------------------------------------------------------------------

IN_CHUNK = 500
"""Values in one ``IN (…)`` list: well under SQLite's and PostgreSQL's parameter limits."""


class Saved(NamedTuple):
    """One product of a batch save (a tuple: an import makes one per row)."""

    product_id: int
    sku: str
    created: bool


def _chunks(values: Sequence, size: int = IN_CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _existing(skus: Sequence[str]) -> dict[str, Product]:
    """The products with these SKUs, their rows locked as a single save locks one (PostgreSQL)."""
    lock = "" if is_sqlite() else " FOR NO KEY UPDATE"
    found: dict[str, Product] = {}
    for chunk in _chunks(sorted(skus)):
        marks = ", ".join([database.obj.param] * len(chunk))
        for row in database.execute_sql(f"SELECT {_columns()} FROM product p WHERE p.sku IN ({marks}) "
                                        f"ORDER BY p.id{lock}", list(chunk)):
            product = _product_from_row(row)
            found[product.sku] = product
    return found


def _barcodes_of(product_ids: Sequence[int]) -> dict[int, list[str]]:
    codes: dict[int, list[str]] = {}
    for chunk in _chunks(list(product_ids)):
        marks = ", ".join([database.obj.param] * len(chunk))
        for product_id, code in database.execute_sql(
                f"SELECT product_id, code FROM barcode WHERE product_id IN ({marks}) ORDER BY id", list(chunk)):
            codes.setdefault(product_id, []).append(code)
    return codes


def barcode_holders(codes: Sequence[str]) -> dict[str, str]:
    """Which product (SKU) holds each of ``codes`` now; codes no product has are left out."""
    holders: dict[str, str] = {}
    for chunk in _chunks(sorted(set(codes))):
        marks = ", ".join([database.obj.param] * len(chunk))
        holders.update(database.execute_sql(
            f"SELECT b.code, p.sku FROM barcode b JOIN product p ON p.id = b.product_id WHERE b.code IN ({marks})",
            list(chunk)).fetchall())
    return holders


def save_products(batch: Sequence[ProductData], *, default_tax_rate: int = 0, ctx: Context | None = None,
                  layouts: Layouts = None, kind: str = "import", note: str = "",
                  codes_checked: bool = False) -> list[Saved]:
    """``save_product`` for many products in one transaction, in a few set-based statements instead of several
    per product: the same rules (text, codes, only changed fields written, every logged change in the product
    change log, a barcode on another product refused), for imports of many thousands of rows.

    All or nothing: the first refused product raises its ``InvalidInput`` (with ``value`` = its SKU's position in
    ``batch``) and the caller's transaction rolls back. SKUs must be unique within ``batch``.
    ``codes_checked``: the barcodes are already as ``product_codes`` returns them (an import's parser ran it)."""
    prepared = []
    for position, data in enumerate(batch):
        try:
            prepared.append(prepare_product(data, layouts, codes_checked=codes_checked))
        except InvalidInput as exc:
            exc.line = position
            raise
    return save_prepared(prepared, default_tax_rate=default_tax_rate, ctx=ctx, kind=kind, note=note)


def save_prepared(prepared: Sequence[Prepared], *, default_tax_rate: int = 0, ctx: Context | None = None,
                  kind: str = "import", note: str = "", savepoint: bool = True) -> list[Saved]:
    """``save_products`` for products ``prepare_product`` has already checked (an import checks its whole file
    before it takes the database, and writes it batch by batch).

    ``savepoint=False`` joins the caller's transaction (an error rolls all of it back, as the caller wants) rather
    than opening a savepoint: inside one, SQLite keeps a statement journal of every page a statement changes once
    ``product`` has triggers (``stock_value``), and an import's batch insert ran 8× slower."""
    with write_transaction() if savepoint or not database.obj.in_transaction() else contextlib.nullcontext():
        db = database.obj
        existing = _existing([sku for sku, _ in prepared])
        current_codes = _barcodes_of([p.id for p in existing.values()]) if any(
            "barcodes" in wanted for _, wanted in prepared) else {}
        suppliers: dict[str, int | None] = {}

        def supplier_id(name: str) -> int | None:
            if name not in suppliers:
                supplier = get_supplier(name)
                suppliers[name] = supplier.id if supplier is not None else None
            return suppliers[name]

        supplier_names = _supplier_names([p.supplier_id for p in existing.values()]) if any(
            "supplier" in wanted for _, wanted in prepared) else {}
        now = utcnow()
        creates, updates, logs, code_changes = [], {}, [], {}
        for position, (sku, wanted) in enumerate(prepared):
            product = existing.get(sku)
            if product is None:
                try:
                    columns = _new_columns(sku, wanted, default_tax_rate)
                except InvalidInput as exc:
                    exc.line = position
                    raise
                if wanted.get("supplier"):
                    columns["supplier"] = supplier_id(wanted["supplier"])
                creates.append((sku, columns))
                if wanted.get("barcodes"):
                    code_changes[sku] = ([], wanted["barcodes"])
                continue
            current = {name: (current_codes.get(product.id, []) if name == "barcodes" else
                              (supplier_names.get(product.supplier_id, "") if name == "supplier"
                               else getattr(product, name)))
                       for name in wanted}
            changes = _changed(wanted, current)
            columns = {name: value for name, value in changes.items() if name not in ("supplier", "barcodes")}
            if "supplier" in changes:
                columns["supplier_id"] = supplier_id(changes["supplier"])
            if columns:
                updates.setdefault(tuple(sorted(columns)), []).append((product.id, columns))
            for name in LOGGED:
                if name in changes:
                    logs.append((product.id, name, _text(current[name]), _text(changes[name]),
                                 _logged_kind(name, kind)))
            if "barcodes" in changes:
                code_changes[sku] = (current["barcodes"], changes["barcodes"])
        ids = _insert_products(creates, now)
        for names, rows in updates.items():
            sets = ", ".join(f'"{"supplier_id" if n == "supplier_id" else n}" = {db.param}' for n in names)
            db.cursor().executemany(
                f"UPDATE product SET {sets}, updated_at = {db.param} WHERE id = {db.param}",
                [[columns[n] for n in names] + [now, product_id] for product_id, columns in rows])
        staff, terminal = (staff_id(ctx), terminal_id(ctx)) if ctx is not None and (logs or ids) else (None, None)
        if logs:
            db.cursor().executemany(statement(db, "catalog.log", _log_sql),
                                    [(*row[:4], row[4], note, staff, terminal, now) for row in logs])
        created = [ids[sku] for sku, _ in creates]
        for chunk in _chunks(created):
            db.execute_sql(_created_log_sql(len(chunk), db.param), [note, staff, terminal, now, *chunk])
        if code_changes:
            _replace_barcodes({ids.get(sku) or existing[sku].id: change for sku, change in code_changes.items()},
                              {sku: position for position, (sku, _) in enumerate(prepared)}, ids, existing)
    return [Saved(ids.get(sku) or existing[sku].id, sku, sku in ids) for sku, _ in prepared]


def _supplier_names(supplier_ids: Iterable[int | None]) -> dict[int, str]:
    """The names of these suppliers, in one query (a batch compares each product's supplier by name)."""
    wanted = sorted({i for i in supplier_ids if i is not None})
    if not wanted:
        return {}
    return dict(Supplier.select(Supplier.id, Supplier.name).where(Supplier.id.in_(wanted)).tuples())


def _insert_products(creates: list[tuple[str, dict[str, object]]], now: str) -> dict[str, int]:
    """Insert the new products (grouped by the columns they set) and return their ids by SKU."""
    if not creates:
        return {}
    db = database.obj
    defaults = {f.name: f.default for f in Product._meta.sorted_fields
                if f.name not in ("id", "sku", "updated_at") and f.default is not None and not callable(f.default)}
    names = sorted({*defaults, *(name for _, columns in creates for name in columns)})
    fields = Product._meta.fields
    # Integer and text values go to the driver as they are; only the rest (the active flag, a supplier) through
    # the field's db_value, as Peewee's own insert would.
    plain = {n for n in names if isinstance(fields[n], (IntegerField, TextField, CharField))
             and not isinstance(fields[n], ForeignKeyField)}
    convert = [(i, fields[n].db_value) for i, n in enumerate(names) if n not in plain]
    pick = operator.itemgetter(*names)
    unset = dict.fromkeys(names)
    rows = []
    for sku, columns in creates:
        values = list(pick({**unset, **defaults, **columns}))
        for i, db_value in convert:
            values[i] = db_value(values[i])
        rows.append([sku, now, *values])
    listed = ", ".join(["sku", "updated_at", *(f'"{fields[n].column_name}"' for n in names)])
    db.cursor().executemany(f"INSERT INTO product ({listed}) VALUES ({', '.join([db.param] * (2 + len(names)))})",
                            rows)
    ids: dict[str, int] = {}
    skus = [sku for sku, _ in creates]
    for chunk in _chunks(skus):
        marks = ", ".join([db.param] * len(chunk))
        ids.update(db.execute_sql(f"SELECT sku, id FROM product WHERE sku IN ({marks})", list(chunk)).fetchall())
    return ids


def _replace_barcodes(changes: dict[int, tuple[list[str], list[str]]], positions: dict[str, int],
                      created: dict[str, int], existing: dict[str, Product]) -> None:
    """Give each product its wanted codes: codes it no longer has go first (another row of the batch may take
    them), then a code still on another product is refused, naming it (looked up only then: the unique index
    checks every code as it is inserted)."""
    db = database.obj
    gone = [(product_id, code) for product_id, (old, new) in changes.items() for code in old if code not in new]
    if gone:
        db.cursor().executemany(f"DELETE FROM barcode WHERE product_id = {db.param} AND code = {db.param}", gone)
    wanted = {code: product_id for product_id, (old, new) in changes.items() for code in new if code not in old}
    if not wanted:
        return
    try:
        # the unique index finds a code on another product (a till gave it meanwhile); the driver's error as Peewee's
        with db.savepoint(), peewee_errors:
            db.cursor().executemany(f"INSERT INTO barcode (code, product_id) VALUES ({db.param}, {db.param})",
                                    list(wanted.items()))
    except IntegrityError:
        sku_of = {**{pid: sku for sku, pid in created.items()}, **{p.id: sku for sku, p in existing.items()}}
        for code, holder in barcode_holders(list(wanted)).items():
            sku = sku_of[wanted[code]]
            raise InvalidInput(f"{sku}: barcode {code} already belongs to {holder}", field="barcodes",
                               reason=f"{code} already belongs to {holder}", value=code,
                               line=positions[sku]) from None
        raise
