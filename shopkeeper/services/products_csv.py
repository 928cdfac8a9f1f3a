"""Product lists as CSV: a pure parser with every error located (line, column, reason), an all-or-nothing
importer, and an exporter whose cells a spreadsheet will not run as formulas."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from shopkeeper.barcodes import Layouts
from shopkeeper.db import is_sqlite, lock_in_order, write_transaction
from shopkeeper.errors import InvalidInput, ShopError
from shopkeeper.models import Barcode, Product, Supplier
from shopkeeper.money import (
    format_money,
    format_qty,
    format_rate,
    parse_money,
    parse_qty,
    parse_rate,
    to_decimal,
)
from shopkeeper.services import queries, stock
from shopkeeper.services.catalog import ProductData, product_codes, save_product
from shopkeeper.services.context import Context
from shopkeeper.services.import_profiles import PROFILES, HeaderRejected, Profile, recognise
from shopkeeper.services.import_values import check_barcode_cell, check_sku_cell, read_amount
from shopkeeper.text import clean, safe

COLUMNS = ("sku", "name", "barcode", "price", "cost", "unit", "tax", "reorder_point", "reorder_qty", "supplier",
           "category", "on_hand")
REQUIRED = ("sku", "name")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.reason}"


@dataclass
class CsvRow:
    line: int
    data: ProductData
    cost: int | None = None
    on_hand: int | None = None


@dataclass
class ParsedCsv:
    rows: list[CsvRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    delimiter: str = ","
    notes: list[RowError] = field(default_factory=list)
    """Codes stored other than as written (a scale label stored as its item code), by line."""
    profile: Profile | None = None
    """The other system's layout the file was read as (None: our own columns)."""


class CsvRejected(ShopError):
    """A file with bad rows, imported as all or nothing: nothing was changed."""

    def __init__(self, source: str, errors: list[RowError], *, skipping: bool = False) -> None:
        self.errors = errors
        lines = "\n".join(f"  {source}: {e}" for e in errors)
        hint = "every row is bad" if skipping else "fix them, or use --skip-bad to import the good rows"
        super().__init__(f"{source}: {len(errors)} bad row(s), nothing imported ({hint}):\n{lines}")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        reason = f"not UTF-8 text (byte {data[exc.start]:#x}); save the file as UTF-8"
        raise ShopError(f"line {line}: {reason}", reason=reason, line=line) from None


def _sniff_delimiter(text: str) -> str:
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: header.count(d) for d in (";", ",", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def _unneutralise(cell: str) -> str:
    """Undo the export's formula guard: a leading apostrophe before a formula character."""
    return cell[1:] if cell.startswith("'") and cell[1:2] in FORMULA_START else cell


def _header_problem(header: list[str]) -> str | None:
    """What is wrong with a header of our own layout, in one message (None: it is fine)."""
    unknown = [name or f"#{i + 1}" for i, name in enumerate(header) if name not in COLUMNS]
    duplicate = [name for i, name in enumerate(header) if name and name in header[:i]]
    missing = [name for name in REQUIRED if name not in header]
    problems = ([f"unknown column(s) {', '.join(unknown)}"] if unknown else []) + \
        ([f"duplicate column(s) {', '.join(duplicate)}"] if duplicate else []) + \
        ([f"required column(s) missing: {', '.join(missing)}"] if missing else [])
    if not problems:
        return None
    return ("; ".join(problems) + f". Known columns: {', '.join(COLUMNS)}. An export of "
            + ", ".join(p.name.split(" (")[0] for p in PROFILES.values())
            + " is recognised by its header; for another layout use --from SYSTEM or --map FILE")


def parse_products_csv(data: bytes, *, decimals: int = 2, layouts: Layouts = None, profile: Profile | None = None,
                       currency: str | None = None, location: str | None = None) -> ParsedCsv:
    """Parse a product list. Never raises for a bad row: every problem is listed with its line and column.
    A header that does not fit raises ``HeaderRejected``: one message, not one per row.

    Barcodes (``|`` between several) follow the catalog's one rule for codes (``catalog.product_code``);
    ``layouts``: the shop's variable-measure layouts, so a scale label is stored as its item code.
    ``profile``: another system's layout (``import_profiles``); without one, a header that is not ours but matches
    a known system's is read as that system's (``ParsedCsv.profile`` says which). ``currency``: the shop's, for
    prices written with a symbol or code. ``location``: the shop's location, where a file has a stock column per
    location."""
    text = _decode(data)
    delimiter = _sniff_delimiter(text)
    decimal_comma = delimiter == ";"
    result = ParsedCsv(delimiter=delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    binding = None
    seen_sku: dict[str, int] = {}
    seen_code: dict[str, tuple[str, int]] = {}
    line = 1
    try:
        for record in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in record]
                problem = None if profile else _header_problem(header)
                chosen = profile or (recognise(record) if problem else None)
                if chosen is not None:
                    binding = chosen.bind(record, location)
                    result.profile = chosen
                elif problem:
                    raise HeaderRejected(problem)
                continue
            if binding is not None:
                try:
                    mapped = binding.cells(record)
                except ValueError as exc:
                    result.errors.append(RowError(start, "", str(exc)))
                    continue
                if mapped is None:
                    continue
                cells = mapped
            else:
                if len(record) > len(header):
                    result.errors.append(RowError(start, "", f"{len(record)} cells but the header has {len(header)}"))
                    continue
                cells = {name: _unneutralise(record[i].strip()) if i < len(record) else ""
                         for i, name in enumerate(header)}
            row = _parse_row(start, cells, decimals, decimal_comma, result.errors, layouts, result.notes, currency)
            if row is None:
                continue
            sku = row.data.sku
            if sku in seen_sku:
                result.errors.append(RowError(start, "sku", f"duplicate SKU {sku} (first on line {seen_sku[sku]})"))
                continue
            seen_sku[sku] = start
            clash = next(((code, seen_code[code]) for code in row.data.barcodes or [] if code in seen_code), None)
            if clash:
                code, (other, other_line) = clash
                result.errors.append(RowError(start, "barcode", f"barcode {code} is also on {other} (line {other_line})"))
                continue
            for code in row.data.barcodes or []:
                seen_code[code] = (sku, start)
            result.rows.append(row)
    except csv.Error as exc:
        result.errors.append(RowError(reader.line_num, "", f"malformed CSV: {exc}"))
    if header is None:
        raise HeaderRejected("empty file: expected a header row naming the columns")
    return result


def _parse_row(line: int, cells: dict[str, str], decimals: int, decimal_comma: bool, errors: list[RowError],
               layouts: Layouts = None, notes: list[RowError] | None = None,
               currency: str | None = None) -> CsvRow | None:
    before = len(errors)

    def fail(column: str, reason: str) -> None:
        errors.append(RowError(line, column, reason))

    for column, value in cells.items():  # the stored-text rule, for every cell: a NUL or ESC is refused here
        try:
            cells[column] = clean(value, field=column).strip()
        except InvalidInput as exc:
            fail(column, exc.reason)
    if len(errors) > before:
        return None

    def number(column: str, parse, **kw):
        value = cells.get(column, "")
        if not value:
            return None
        try:
            if column in ("price", "cost"):
                value = read_amount(value, currency=currency, decimals=decimals, decimal_comma=decimal_comma)
                to_decimal(value, what=column, decimal_comma=False)
            else:
                if column == "tax" and (percent := re.search(r"(\d+(?:[.,]\d+)?)\s*%", value)):
                    value = percent[1]  # "15%", "VAT 15.00%"
                to_decimal(value, what=column, decimal_comma=decimal_comma)
                value = value.replace(",", ".") if decimal_comma else value
            result = parse(value, **kw)
        except InvalidInput as exc:
            fail(column, exc.reason)  # "1.234 has more than 2 decimal places"
            return None
        if result < 0:
            fail(column, f"{value} is negative")
            return None
        return result

    sku = cells.get("sku", "")
    if not sku:
        fail("sku", "empty")
    try:
        check_sku_cell(sku)
    except InvalidInput as exc:
        fail("sku", exc.reason)
    name = cells.get("name", "")
    if not name:
        fail("name", "empty")
    price = number("price", parse_money, decimals=decimals, what="price")
    cost = number("cost", parse_money, decimals=decimals, what="cost")
    tax = number("tax", parse_rate, what="tax")
    point = number("reorder_point", parse_qty, what="reorder_point")
    reorder_qty = number("reorder_qty", parse_qty, what="reorder_qty")
    on_hand = number("on_hand", parse_qty, what="on_hand")
    barcodes = None
    if "barcode" in cells:
        barcodes = []
        for part in cells["barcode"].split("|"):
            try:
                check_barcode_cell(part)
                codes = product_codes([part], layouts)
            except InvalidInput as exc:
                fail("barcode", exc.reason)
                continue
            for code in codes:
                barcodes.append(code.code)
                if code.note and notes is not None:
                    notes.append(RowError(line, "barcode", code.note))
    if len(errors) > before:
        return None
    data = ProductData(
        sku=sku, name=name, unit=cells.get("unit") or None, price=price, tax_rate=tax, reorder_point=point,
        reorder_qty=reorder_qty, supplier=cells.get("supplier") if "supplier" in cells else None,
        category=cells.get("category") if "category" in cells else None, barcodes=barcodes)
    return CsvRow(line, data, cost=cost, on_hand=on_hand)


_COLUMN = {"barcodes": "barcode", "avg_cost": "cost", "tax_rate": "tax", "sku": "sku", "name": "name",
           "price": "price", "unit": "unit", "reorder_point": "reorder_point", "reorder_qty": "reorder_qty"}
"""The CSV column of a product field named by an error."""


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    counted: int = 0
    skipped: list[RowError] = field(default_factory=list)
    count_session: int | None = None
    notes: list[RowError] = field(default_factory=list)
    profile: Profile | None = None


def import_products(ctx: Context, data: bytes, *, source: str = "CSV", skip_bad: bool = False,
                    ignore_stock: bool = False, layouts: Layouts = None, profile: Profile | None = None,
                    location: str | None = None) -> ImportReport:
    """Create or update products from CSV. All or nothing unless ``skip_bad``.

    An ``on_hand`` column is a stock count: the difference to the stock on hand is posted as a ``count`` movement
    in one count session, so the opening audit is in the journal. A ``cost`` is the product's cost for goods on hand.
    ``ignore_stock`` leaves stock alone: for re-importing an exported list after editing prices, whose ``on_hand``
    is out of date as soon as anything sells. Each product is saved by ``catalog.save_product``: only the fields
    that differ are written (never the cached stock, so sales at the same moment lose nothing), and price, tax,
    cost, unit changes go to the product change log as ``import`` (a new cost as a ``revaluation``).
    """
    parsed = parse_products_csv(data, decimals=ctx.decimals, layouts=layouts, profile=profile,
                                currency=ctx.currency, location=location)
    if parsed.errors and not skip_bad:
        raise CsvRejected(source, parsed.errors)
    report = ImportReport(skipped=list(parsed.errors), notes=list(parsed.notes), profile=parsed.profile)
    from shopkeeper.services import permissions

    approvals = [permissions.require(ctx, permissions.EDIT_PRODUCTS),  # once for the file, before its transaction
                 permissions.require(ctx, permissions.EDIT_PRICES_COSTS)]
    with write_transaction():
        if not is_sqlite():  # SQLite's BEGIN IMMEDIATE already lets one writer in at a time
            # The products this file changes, locked in id order as a sale locks them, before any is changed: in
            # file order, an import and a sale could each hold a row the other waits for (PostgreSQL ends one).
            skus = [row.data.sku.strip() for row in parsed.rows]
            lock_in_order(Product, [i for (i,) in Product.select(Product.id).where(Product.sku.in_(skus)).tuples()])
        session = None
        for row in parsed.rows:
            try:
                with write_transaction():  # a savepoint: a refused row rolls back alone
                    exists = queries.product_id_for_sku(row.data.sku) is not None
                    if row.cost is not None:
                        row.data.avg_cost = row.cost
                    product = save_product(row.data, default_tax_rate=ctx.default_tax_rate, ctx=ctx,
                                           layouts=layouts, kind="import", note=f"import of {source}",
                                           checked=True)
                    if row.on_hand is not None and not ignore_stock:
                        session = session or stock.start_count(ctx, f"import of {source}")
                        stock.record_count(ctx, session, product, row.on_hand)
                        report.counted += 1
            except ShopError as exc:
                report.skipped.append(RowError(row.line, _COLUMN.get(exc.field or "", ""), str(exc)))
                continue
            if exists:
                report.updated += 1
            else:
                report.created += 1
        if report.skipped and (not skip_bad or not report.created + report.updated):
            report.skipped.sort(key=lambda e: e.line)
            raise CsvRejected(source, report.skipped, skipping=skip_bad)  # rolls back every row
        for approval in approvals:
            approval.record(ctx, f"import:{source}")
        if session is not None:
            stock.post_count(ctx, session)
            report.count_session = session.id
    report.skipped.sort(key=lambda e: e.line)
    return report


def _safe(cell: str) -> str:
    """A text cell as exported: control characters escaped (``shopkeeper.text.safe``: a name stored before the
    import rule must neither reach a terminal raw nor make an export the import then refuses), and a cell a
    spreadsheet would run as a formula gets a leading apostrophe."""
    cell = safe(cell)
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def export_rows(decimals: int = 2) -> Iterable[list[str]]:
    yield list(COLUMNS)
    codes: dict[int, list[str]] = {}
    for product_id, code in Barcode.select(Barcode.product, Barcode.code).order_by(Barcode.id).tuples():
        codes.setdefault(product_id, []).append(code)
    suppliers = dict(Supplier.select(Supplier.id, Supplier.name).tuples())
    for p in Product.select().order_by(Product.sku):
        yield [
            _safe(p.sku), _safe(p.name), "|".join(codes.get(p.id, [])), format_money(p.price, decimals),
            format_money(p.avg_cost, decimals), _safe(p.unit), format_rate(p.tax_rate), format_qty(p.reorder_point),
            format_qty(p.reorder_qty), _safe(suppliers.get(p.supplier_id, "")), _safe(p.category),
            format_qty(p.on_hand),
        ]


def export_products(out: io.TextIOBase, decimals: int = 2) -> int:
    writer = csv.writer(out, lineterminator="\n")
    n = -1
    for n, row in enumerate(export_rows(decimals)):
        writer.writerow(row)
    return n


def record_export(ctx: Context, target: str, rows: int) -> None:
    """The product list left the shop (with its costs): an ``export_made`` audit event, in its own transaction
    (not in a read-only shop)."""
    from shopkeeper.services import audit_log
    from shopkeeper.services.context import staff_id, terminal_id

    import sqlite3

    from peewee import DatabaseError

    try:
        staff_id(ctx)
        terminal_id(ctx)
        with write_transaction():
            audit_log.record(ctx, "export_made", subject="products", detail={"target": target, "rows": rows})
    except (DatabaseError, sqlite3.DatabaseError, ShopError):  # a read-only shop can be read, not written
        pass
