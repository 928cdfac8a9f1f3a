"""Product lists as CSV: a pure parser with every error located (line, column, reason), an all-or-nothing
importer, and an exporter whose cells a spreadsheet will not run as formulas."""

from __future__ import annotations

import csv
import hashlib
import io
import marshal
import multiprocessing
import os
import re
import sys
import tempfile
import threading
import time
from array import array
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO, NamedTuple

from shopkeeper.barcodes import Layouts
from shopkeeper.db import deferred_sync, is_sqlite, let_writers_in, write_transaction
from shopkeeper.errors import InvalidInput, ShopError
from shopkeeper.file_kinds import not_csv_text
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
from shopkeeper.services import import_runs, stock
from shopkeeper.services.catalog import (
    Prepared,
    ProductData,
    barcode_holders,
    prepare_product,
    product_codes,
    save_prepared,
)
from shopkeeper.services.context import Context
from shopkeeper.services.import_profiles import PROFILES, Binding, Family, HeaderRejected, Profile, recognise
from shopkeeper.services.import_runs import ImportRun
from shopkeeper.services.import_values import check_barcode_cell, check_sku_cell, read_amount
from shopkeeper.text import clean, is_clean, safe

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
        rows = len({e.line for e in errors})  # a row with two bad cells is one bad row
        hint = "every row is bad" if skipping else "fix them, or use --skip-bad to import the good rows"
        lines = "\n".join(f"  {source}: {text}" for text in _summarised(errors))
        super().__init__(f"{source}: {rows} bad row(s), nothing imported ({hint}):\n{lines}")


SAME_SHOWN = 3
"""Problems of one kind in one column (the same reason but for the value quoted) listed line by line; the rest of
them are one line naming how many and where: a file of 100k rows in another currency is a screenful, not 200k
lines."""


def _same_kind(error: RowError) -> tuple[str, str]:
    return error.column, re.sub(r"'[^']*'", "'…'", error.reason)


def _summarised(errors: list[RowError]) -> list[str]:
    """The errors in file order, each kind's first ``SAME_SHOWN`` in full, then one line for the rest of it."""
    seen: dict[tuple[str, str], list[int]] = {}
    out: list[str] = []
    for error in errors:
        lines = seen.setdefault(_same_kind(error), [])
        lines.append(error.line)
        if len(lines) <= SAME_SHOWN:
            out.append(str(error))
    for (column, _), lines in seen.items():
        rest = lines[SAME_SHOWN:]
        if rest:
            where = ", ".join(map(str, rest[:5])) + (f", … {rest[-1]}" if len(rest) > 5 else "")
            out.append(f"the same{f' in column {column}' if column else ''} on {len(rest)} more line(s): {where}")
    return out


def _binary(source: bytes | BinaryIO) -> BinaryIO:
    stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    stream.seek(0)
    return stream


def _lines(stream: BinaryIO) -> Iterator[str]:
    """The file's lines as text, line endings kept (the csv module joins a quoted cell's lines); a byte that is not
    UTF-8 is refused naming its line."""
    for number, raw in enumerate(stream, 1):
        if number == 1 and (reason := not_csv_text(raw)):
            raise ShopError(reason, reason=reason, line=1)
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            reason = f"not UTF-8 text (byte {raw[exc.start]:#x}); save the file as UTF-8"
            raise ShopError(f"line {number}: {reason}", reason=reason, line=number) from None


def _sniff_delimiter(stream: BinaryIO) -> str:
    """The delimiter of the header (the first line with text): the most frequent of ``;``, ``,`` and tab."""
    start = stream.tell()
    header = ""
    for raw in stream:
        header = raw.decode("utf-8-sig", errors="replace")
        if header.strip():
            break
    stream.seek(start)
    counts = {d: header.count(d) for d in (";", ",", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def _unneutralise(cell: str) -> str:
    """Undo the export's formula guard: a leading apostrophe before a formula character."""
    return cell[1:] if cell.startswith("'") and cell[1:2] in FORMULA_START else cell


def _header_problem(header: list[str], shown: list[str]) -> str | None:
    """What is wrong with a header of our own layout (``header``: its names lowercased; ``shown``: as the file
    writes them), in one message (None: it is fine)."""
    if len(header) == 1 and (separator := _other_separator(shown[0])):
        return (f"one column, {shown[0]!r}: its columns seem separated by {separator!r}; save the "
                "file with ',' or ';' (or a tab) between columns")
    unknown = [shown[i] or f"#{i + 1}" for i, name in enumerate(header) if name not in COLUMNS]
    duplicate = [name for i, name in enumerate(header) if name and name in header[:i]]
    missing = [name for name in REQUIRED if name not in header]
    problems = ([f"unknown column(s) {', '.join(unknown)}"] if unknown else []) + \
        ([f"duplicate column(s) {', '.join(duplicate)}"] if duplicate else []) + \
        ([f"required column(s) missing: {', '.join(missing)}"] if missing else [])
    if not problems:
        return None
    return ("; ".join(problems) + f". Known columns: {', '.join(COLUMNS)}. An export of "
            + ", ".join(dict.fromkeys(p.name.split(" (")[0] for p in PROFILES.values()))
            + " is recognised by its header; for another layout use --from SYSTEM or --map FILE")


def _bound(profile: Profile | Family, record: list[str], location: str | None, **shop: Any) -> Binding:
    """``profile`` bound to the file's header; a header that does not fit but is another system's export says
    which (a Square file read ``--from shopify``)."""
    try:
        return profile.bind(record, location, **shop)
    except HeaderRejected as exc:
        other = recognise(record)
        if other is None or other.key == getattr(profile, "key", None):
            raise
        raise HeaderRejected(f"{exc.reason}; the header is that of a {other.name} export: try --from {other.key}") \
            from None


def _other_separator(cell: str) -> str | None:
    """The character a one-column header seems to be separated by (``sku|name|price``), if it names a column of
    ours on each side of it."""
    marks = [ch for ch in dict.fromkeys(cell) if not ch.isalnum() and ch not in "_ -"]
    for mark in sorted(marks, key=cell.count, reverse=True):
        names = [part.strip().lower() for part in cell.split(mark)]
        if sum(name in COLUMNS for name in names) >= 2:
            return mark
    return None


class _Seen:
    """Which keys (SKUs, barcodes) a file has had, and on which line first: an open-addressing table of 64-bit
    hashes and line numbers in two flat arrays, 12 bytes a slot, so a million-row file costs megabytes, not the
    hundreds a set of strings would. (Two different keys sharing a 64-bit hash would be reported as duplicates:
    a chance of about one in 10¹¹ for a million keys.)"""

    def __init__(self) -> None:
        self._size = 1 << 12
        self._keys = array("q", bytes(8 * self._size))
        self._lines = array("i", bytes(4 * self._size))
        self._used = 0

    def first_line(self, key: str, line: int) -> int | None:
        """The line ``key`` was first seen on, or None (and ``key`` is now seen on ``line``)."""
        digest = hash(key) or 1
        mask = self._size - 1
        slot = digest & mask
        keys = self._keys
        while keys[slot]:
            if keys[slot] == digest:
                return self._lines[slot]
            slot = (slot + 1) & mask
        keys[slot], self._lines[slot] = digest, line
        self._used += 1
        if self._used * 3 > self._size * 2:  # fuller than two thirds: twice the slots
            self._grow()
        return None

    def _grow(self) -> None:
        old_keys, old_lines = self._keys, self._lines
        self._size *= 2
        self._keys = array("q", bytes(8 * self._size))
        self._lines = array("i", bytes(4 * self._size))
        mask = self._size - 1
        keys, lines = self._keys, self._lines
        for digest, line in zip(old_keys, old_lines):
            if digest:
                slot = digest & mask
                while keys[slot]:
                    slot = (slot + 1) & mask
                keys[slot], lines[slot] = digest, line


class ProductCsvReader:
    """Reads a product list row by row, streaming: every good row is yielded as a ``CsvRow``, every problem is kept
    in ``errors`` with its line and column (a bad row, a duplicate SKU or barcode) and never raised. A header that
    does not fit raises ``HeaderRejected``: one message, not one per row; text that is not UTF-8 raises a
    ``ShopError`` naming the line. Iterating again reads the file again, from the start, identically.

    Barcodes (``|`` between several) follow the catalog's one rule for codes (``catalog.product_code``);
    ``layouts``: the shop's variable-measure layouts, so a scale label is stored as its item code.
    ``profile``: another system's layout (``import_profiles``); without one, a header that is not ours but matches
    a known system's is read as that system's (``profile`` says which afterwards). ``currency``: the shop's, for
    prices written with a symbol or code. ``location``: the shop's location, where a file has a stock column per
    location. ``prices_include_tax``: the shop's rule, for a layout whose prices exclude tax (Lightspeed X-Series)."""

    def __init__(self, source: bytes | BinaryIO, *, decimals: int = 2, layouts: Layouts = None,
                 profile: Profile | None = None, currency: str | None = None, location: str | None = None,
                 prices_include_tax: bool = True) -> None:
        self.source, self.decimals, self.layouts = source, decimals, layouts
        self.given_profile, self.currency, self.location = profile, currency, location
        self.prices_include_tax = prices_include_tax
        self.profile: Profile | None = profile
        self.errors: list[RowError] = []
        self.notes: list[RowError] = []
        self.delimiter = ","

    def __iter__(self) -> Iterator[CsvRow]:
        for checked in self._checked(prepare=False):
            yield checked[_ROW]

    def _checked(self, *, prepare: bool, pool: _CheckPool | None = None) -> Iterator[tuple]:
        """Every row the file has, checked, in order: ``_check_rows``'s tuples for the rows that are good and no
        duplicate (the others are in ``errors``). The rows are parsed (and with ``prepare`` prepared) in chunks,
        by ``pool``'s processes when given: reading the CSV and the checks across rows stay here."""
        self.errors, self.notes = [], []
        stream = _binary(self.source)
        self.delimiter = _sniff_delimiter(stream)
        self._binding, self._header = None, None
        chunks = self._tasks(self._records(_lines(stream)), prepare)
        results = _in_pool(pool, chunks) if pool is not None else map(_check_rows, chunks)
        seen_sku, seen_code = _Seen(), _Seen()
        errors, notes = self.errors, self.notes
        for chunk in results:
            for checked in chunk:
                line, problems, row_notes, sku, codes = checked[:5]
                if row_notes:
                    notes.extend(row_notes)
                if problems:
                    errors.extend(problems)
                    continue
                first = seen_sku.first_line(sku, line)
                if first is not None:
                    errors.append(RowError(line, "sku", f"duplicate SKU {sku} (first on line {first})"))
                    continue
                clash = next(((code, first) for code in codes or ()
                              if (first := seen_code.first_line(code, line)) is not None), None)
                if clash:
                    code, other_line = clash
                    errors.append(RowError(line, "barcode", f"barcode {code} is also on line {other_line}"))
                    continue
                yield checked
        if self._binding is not None:  # what the layout's mapping said once for the file (a tax without a rate...)
            notes.extend(RowError(*note) for note in self._binding.notes())

    def _tasks(self, records: Iterator[tuple[int, object]], prepare: bool) -> Iterator[tuple]:
        """``(parser, rows)`` tasks of up to ``CHECK_CHUNK_ROWS`` rows for ``_check_rows`` (the parser made once
        the header is read)."""
        parser = None
        chunk: list[tuple[int, object]] = []
        for item in records:
            chunk.append(item)
            if len(chunk) >= CHECK_CHUNK_ROWS:
                parser = parser or self._parser(prepare)
                yield parser, chunk
                chunk = []
        if chunk:
            yield parser or self._parser(prepare), chunk

    def _parser(self, prepare: bool) -> _RowParser:
        return _RowParser(self._header, self.decimals, self.delimiter == ";", self.layouts, self.currency, prepare)

    def _records(self, text: Iterator[str]) -> Iterator[tuple[int, object]]:
        """The file's rows as ``(line, cells)``: a list of cells in our own layout (the header goes with the
        chunk), a dict of our columns mapped from another system's (its mapping carries state from row to row, so
        it runs here, in order), or a ``RowError`` for a row that is wrong as a whole."""
        reader = csv.reader(text, delimiter=self.delimiter)
        header: list[str] | None = None
        binding = None
        held: tuple[int, dict[str, str]] | None = None
        line = 1
        try:
            for record in reader:
                start, line = line, reader.line_num + 1
                if not any(cell.strip() for cell in record):
                    continue
                if header is None:
                    header = [cell.strip().lower() for cell in record]
                    problem = None if self.given_profile else _header_problem(header, [c.strip() for c in record])
                    chosen = self.given_profile or (recognise(record) if problem else None)
                    if chosen is not None:
                        binding = self._binding = _bound(chosen, record, self.location, decimals=self.decimals,
                                                         prices_include_tax=self.prices_include_tax)
                        self.profile = binding.profile  # a family's (--from lightspeed) is the layout it found
                    elif problem:
                        raise HeaderRejected(problem)
                    else:
                        self._header = tuple(header)
                    continue
                if binding is not None:
                    try:
                        mapped = binding.cells(record, start)
                    except ValueError as exc:
                        mapped = RowError(start, "", str(exc))
                    if held is not None and mapped is not None:  # a row after it cannot add to it any more
                        yield held
                        held = None
                    if isinstance(mapped, dict) and binding.continued:
                        held = (start, mapped)  # rows below may continue it (a further barcode, variant value)
                    elif mapped is not None:
                        yield start, mapped
                elif len(record) > len(header):
                    yield start, RowError(start, "", f"{len(record)} cells but the header has {len(header)}")
                else:
                    yield start, record
        except csv.Error as exc:
            if held is not None:
                yield held
                held = None
            yield reader.line_num, RowError(reader.line_num, "", f"malformed CSV: {exc}")
        if held is not None:
            yield held
        if header is None:
            raise HeaderRejected("empty file: expected a header row naming the columns")


CHECK_CHUNK_ROWS = 1000
"""Rows checked together (one task of the check pool)."""

_ROW = 5
"""Where ``_check_rows``'s tuple holds the ``CsvRow`` (without ``prepare``) or the ``Prepared`` row (with it)."""


class _RowParser(NamedTuple):
    """What checking a row needs, none of it the database: picklable, for the check pool's processes."""

    header: tuple[str, ...] | None
    decimals: int
    decimal_comma: bool
    layouts: Layouts
    currency: str | None
    prepare: bool


def _check_rows(task: tuple[_RowParser, list[tuple[int, object]]]) -> list[tuple]:
    """Check a chunk of rows (in a check pool's process, or here): for each row ``(line, problems, notes, sku,
    codes, row, on_hand)``. ``problems``: the row's own (a bad cell; then the rest is empty). ``row``: the
    ``CsvRow``, or with ``prepare`` the row as ``catalog.prepare_product`` makes it, ``(sku, wanted)``, or the
    ``RowError`` it raised (reported only if the row is no duplicate)."""
    parser, rows = task
    header, out = parser.header, []
    for line, cells in rows:
        if isinstance(cells, RowError):
            out.append((line, [cells], None, None, None, None, None))
            continue
        if header is not None:  # our own layout: a list of cells, at most as many as the header names
            if len(cells) < len(header):
                cells = cells + [""] * (len(header) - len(cells))
            # stripped by _parse_row; a cell with an apostrophe first, to find the export's formula guard
            cells = {name: _unneutralise(cell.strip()) if "'" in cell else cell for name, cell in zip(header, cells)}
        problems: list[RowError] = []
        notes: list[RowError] = []
        row = _parse_row(line, cells, parser.decimals, parser.decimal_comma, problems, parser.layouts, notes,
                         parser.currency)
        if row is None:
            out.append((line, problems, notes, None, None, None, None))
            continue
        data = row.data
        if not parser.prepare:
            out.append((line, problems, notes, data.sku, data.barcodes, row, row.on_hand))
            continue
        if row.cost is not None:
            data.avg_cost = row.cost
        try:
            prepared = tuple(prepare_product(data, parser.layouts, codes_checked=True))
        except InvalidInput as exc:
            prepared = RowError(line, _COLUMN.get(exc.field or "", exc.field or ""), exc.reason or str(exc))
        out.append((line, problems, notes, data.sku, data.barcodes, prepared, row.on_hand))
    return out


def _in_pool(pool: _CheckPool, tasks: Iterator[tuple]) -> Iterator[list[tuple]]:
    """``_check_rows`` of every task, results in order: by ``pool``'s processes once they are up (until then, and
    for good if the pool breaks, here), at most ``CHECK_IN_FLIGHT`` tasks submitted and not yet taken (the file is
    never all in memory)."""
    pending: deque[tuple[tuple, Future | list[tuple]]] = deque()

    def taken() -> list[tuple]:
        task, result = pending.popleft()
        if isinstance(result, list):
            return result
        try:
            return result.result()
        except BrokenProcessPool:  # a process died (killed, out of memory): the rest is checked here
            pool.broken = True
            return _check_rows(task)

    for task in tasks:
        pending.append((task, pool.submit(task) if pool.ready() else _check_rows(task)))
        while pending and (len(pending) >= CHECK_IN_FLIGHT or isinstance(pending[0][1], list)):
            yield taken()
    while pending:
        yield taken()


CHECK_IN_FLIGHT = 6
"""Chunks at most in the check pool at once: enough to keep its processes busy while this one reads."""


def parse_products_csv(data: bytes | BinaryIO, *, decimals: int = 2, layouts: Layouts = None,
                       profile: Profile | None = None, currency: str | None = None,
                       location: str | None = None, prices_include_tax: bool = True) -> ParsedCsv:
    """Parse a whole product list into memory (a preview, a small file): ``ProductCsvReader``'s rows and problems.
    Never raises for a bad row."""
    reader = ProductCsvReader(data, decimals=decimals, layouts=layouts, profile=profile, currency=currency,
                              location=location, prices_include_tax=prices_include_tax)
    rows = list(reader)
    return ParsedCsv(rows=rows, errors=reader.errors, delimiter=reader.delimiter, notes=reader.notes,
                     profile=reader.profile)


_PLAIN_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?")
_AMOUNTS = ("price", "cost")


def _parse_row(line: int, cells: dict[str, str], decimals: int, decimal_comma: bool, errors: list[RowError],
               layouts: Layouts = None, notes: list[RowError] | None = None,
               currency: str | None = None) -> CsvRow | None:
    before = len(errors)

    def fail(column: str, reason: str) -> None:
        errors.append(RowError(line, column, reason))

    if is_clean("".join(cells.values())):  # the common case: no control character in the whole row
        for column, value in cells.items():
            cells[column] = value.strip()
    else:
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
            if _PLAIN_NUMBER.fullmatch(value) and (column not in _AMOUNTS or len(value.partition(".")[2]) <= decimals):
                return parse(value, **kw)  # the common case, read as written in every layout (no sign, mark, comma)
            if column in _AMOUNTS:
                value = read_amount(value, currency=currency, decimals=decimals, decimal_comma=decimal_comma)
                exact = to_decimal(value, what=column, decimal_comma=False)
            else:
                if column == "tax" and (percent := re.search(r"(\d+(?:[.,]\d+)?)\s*%", value)):
                    value = percent[1]  # "15%", "VAT 15.00%"
                exact = to_decimal(value, what=column, decimal_comma=decimal_comma)
                value = value.replace(",", ".") if decimal_comma else value
            try:
                result = parse(exact, **kw)  # the number read once
            except InvalidInput:
                result = parse(value, **kw)  # raises again, its message naming the text as written
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
    resumed: ImportRun | None = None
    """An earlier run of the same file that was interrupted, which this one finished (its rows were not redone)."""


class ImportStopped(ShopError):
    """An import that stopped part way (a barcode taken by a till meanwhile, the disk full, a lost connection):
    the rows before ``line`` are stored, the rest are not; running the same file again finishes it."""


BATCH_SECONDS = 0.3
"""How long one batch holds the database: the batch size is adjusted as the import goes so that each takes about
this long (a till's sale waits at most for one batch and the pause after it). At 0.4 s, on a loaded machine
(bench/bench_import.py), a sale waited up to 0.9 s: too close to the second a till may wait."""

MAX_BATCH_ROWS = 50_000
"""The most rows in one batch (its prepared rows are held in memory while it is written)."""

BATCH_PAUSE = 0.11
"""Seconds the importer lets go of the database between batches on SQLite when it cannot see who waits (no
writers' lock file: ``db.let_writers_in``), and every ``UNANNOUNCED_EVERY``. A till waiting for the write lock
polls (SQLite's busy handler) at least every 100 ms: a longer pause lets it in for certain."""

UNANNOUNCED_EVERY = 2.0
"""Seconds of batches after which the importer pauses ``BATCH_PAUSE`` even though no writer announced itself: one
that cannot (an older shopkeeper on another till during an upgrade, the sqlite3 shell, a user who may not open the
lock file) still gets in, after about two seconds instead of never (a busy handler's polls rarely fall in the
moments between two batches)."""


def import_products(ctx: Context, data: bytes | BinaryIO, *, source: str = "CSV", skip_bad: bool = False,
                    ignore_stock: bool = False, layouts: Layouts = None, profile: Profile | None = None,
                    location: str | None = None, batch_rows: int | None = None) -> ImportReport:
    """Create or update products from CSV: all or nothing as the user sees it, in short transactions.

    The whole file is read and checked first, without taking the database (every bad row, duplicate and barcode
    already on another product is found then): a file with bad rows changes nothing unless ``skip_bad``. Then the
    rows are written in batches of about ``BATCH_SECONDS`` each (or of ``batch_rows``), each its own short
    transaction; between two, the tills waiting for the database go first (``db.let_writers_in``: no pause when
    none waits), so tills keep selling. The file is streamed twice and never held in memory as rows. Progress is kept in ``import_run``: if the import is
    interrupted (killed, a power cut, a barcode a till took meanwhile: ``ImportStopped``), running the same file
    again carries on after the last stored row and says so (``ImportReport.resumed``).

    An ``on_hand`` column is a stock count: the difference to the stock on hand is posted as a ``count`` movement
    in one count session, so the opening audit is in the journal. A ``cost`` is the product's cost for goods on hand.
    ``ignore_stock`` leaves stock alone: for re-importing an exported list after editing prices, whose ``on_hand``
    is out of date as soon as anything sells. Each row is checked by ``catalog.prepare_product`` (the rules a
    single save applies) before any write, and saved by ``catalog.save_prepared``: only the fields that differ are
    written (never the cached stock, so sales at the same moment lose nothing), and price, tax, cost, unit changes
    go to the product change log as ``import`` (a new cost as a ``revaluation``).
    """
    reader = ProductCsvReader(data, decimals=ctx.decimals, layouts=layouts, profile=profile, currency=ctx.currency,
                              location=location, prices_include_tax=ctx.prices_include_tax)
    with tempfile.TemporaryFile() as spool:
        return _import(ctx, reader, spool, source=source, skip_bad=skip_bad, ignore_stock=ignore_stock,
                       layouts=layouts, batch_rows=batch_rows)


def _import(ctx: Context, reader: ProductCsvReader, spool: BinaryIO, *, source: str, skip_bad: bool,
            ignore_stock: bool, layouts: Layouts, batch_rows: int | None) -> ImportReport:
    from shopkeeper.services import permissions

    approvals = [permissions.require(ctx, permissions.EDIT_PRODUCTS),  # once for the file, before any write
                 permissions.require(ctx, permissions.EDIT_PRICES_COSTS)]
    digest, rows, errors = _check_file(reader, spool, layouts)
    if errors and (not skip_bad or not rows - len({e.line for e in errors})):
        raise CsvRejected(source, errors, skipping=skip_bad and bool(errors))
    report = ImportReport(skipped=errors, notes=list(reader.notes), profile=reader.profile)
    bad = {e.line for e in errors}
    run = import_runs.begin(ctx, source, digest, rows - len(bad))
    if any(approval.supervisor_id is not None for approval in approvals):
        with write_transaction():
            for approval in approvals:
                approval.record(ctx, f"import:{source}")
    report.resumed = run if run.rows_done else None
    size = [batch_rows or 200]
    with deferred_sync():  # the batches flushed to disk together, by the run's end (a rerun redoes lost ones)
        _write_batches(ctx, run, _batches(spool, bad, run.last_line, size), size, report, source=source,
                       ignore_stock=ignore_stock, layouts=layouts, sized=batch_rows is None)
    report.count_session = import_runs.finish(ctx, run)
    return report


def _write_batches(ctx: Context, run: ImportRun, batches: Iterator[list[_Spooled]], size: list[int],
                   report: ImportReport, *, source: str, ignore_stock: bool, layouts: Layouts, sized: bool) -> None:
    """Write ``batches``, each in its own transaction; between two, tills waiting for the database go first."""
    batch = next(batches, None)
    paused = time.perf_counter()
    while batch is not None:
        started = time.perf_counter()
        try:
            _write_batch(ctx, run, batch, report, source=source, ignore_stock=ignore_stock, layouts=layouts)
        except ShopError as exc:
            line = batch[exc.line if isinstance(exc.line, int) and exc.line < len(batch) else 0][0]
            raise ImportStopped(
                f"{source}: import stopped at line {line}: {exc}. The rows before it are stored; fix this and run "
                f"the same file again to finish (stored rows are not redone)", line=line) from None
        if sized:  # the next batch sized to take about BATCH_SECONDS, as this one went
            took = max(time.perf_counter() - started, 1e-3)
            size[0] = max(20, min(MAX_BATCH_ROWS, 2 * len(batch), int(len(batch) * BATCH_SECONDS / took)))
        released = time.perf_counter()
        del batch  # its rows are freed before the next batch's are read: one batch in memory at a time
        batch = next(batches, None)  # read from the spool while the tills that waited have the database
        if not is_sqlite():  # PostgreSQL: the batch's row locks, no lock on the whole database
            continue
        waited = let_writers_in()
        if waited:
            paused = time.perf_counter()
        elif waited is None or time.perf_counter() - paused > UNANNOUNCED_EVERY:  # a pause any writer gets in by
            time.sleep(max(0.0, BATCH_PAUSE - (time.perf_counter() - released)))
            paused = time.perf_counter()


_Spooled = tuple[int, int | None, str, dict]
"""A row checked and prepared before the import takes the database, as spooled and written: ``(line, on_hand,
sku, wanted)``, the last two a ``catalog.Prepared``'s."""


def _check_file(reader: ProductCsvReader, spool: BinaryIO, layouts: Layouts) -> tuple[str, int, list[RowError]]:
    """Read the whole file once without a write lock: its SHA-256, its number of rows, and every problem (the
    reader's, the catalog's rules for a product (``catalog.prepare_product``), and barcodes already on another
    product in the shop, looked up in chunks). The rows as prepared go to ``spool`` (marshalled, ``SPOOL_ROWS`` at
    a time), so writing them needs neither a second parse, nor a check per row under the lock, nor the memory to
    hold them. A file of more than ``PARALLEL_ROWS`` lines is parsed and prepared by a pool of ``CHECK_PROCESSES``
    processes (``_check_rows``); reading it, the checks across rows and the database's stay in this one."""
    sha = hashlib.sha256()
    stream = _binary(reader.source)
    lines = 0
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        sha.update(chunk)
        lines += chunk.count(b"\n")
    refused: list[RowError] = []
    pending: list[tuple] = []

    def check() -> None:
        holders = barcode_holders([code for row in pending for code in row[4] or ()])
        spooled = []
        for line, _, _, sku, codes, prepared, on_hand in pending:
            holder = next((holders[c] for c in codes or () if holders.get(c, sku) != sku), None)
            if holder is not None:
                code = next(c for c in codes if holders.get(c) == holder)
                refused.append(RowError(line, "barcode", f"barcode {code} already belongs to {holder}"))
            elif isinstance(prepared, RowError):
                refused.append(prepared)
            else:
                spooled.append((line, on_hand, *prepared))
        _spool_write(spool, spooled)
        pending.clear()

    rows = 0
    with _check_pool(lines) as pool:
        for row in reader._checked(prepare=True, pool=pool):
            rows += 1
            pending.append(row)
            if len(pending) >= SPOOL_ROWS:
                check()
    check()
    errors = sorted(reader.errors + refused, key=lambda e: e.line)
    return sha.hexdigest(), rows + len({e.line for e in reader.errors}), errors  # a row with two bad cells is one row


PARALLEL_ROWS = 20_000
"""A file of more lines than this is checked by a pool of processes when the machine has ``SPARE_CORES``.
Starting the pool costs about 0.3 s (the first chunks are checked here meanwhile) and each row about 15 µs here
instead of 45 µs (bench/bench_import.py's rows): it pays from about 15,000 rows on a machine with an idle core."""

CHECK_PROCESSES = 2


SPARE_CORES = 0.5
"""The idle share of a core the check pool needs (``_spare_cores``). Measured with bench_import.py on 2 cores
shared with other work: at a load of 1 the pool took 100k rows from 9.6 s to 8.7 s; with both cores busy (a
load of 3) it made the check slower (4.8 s against 4.65 s), the rows sent to and fro for nothing."""


def _spare_cores() -> float:
    """Cores this process may use that are not busy (the load average of the last minute below their number): a
    second process only helps when one is idle; on a loaded machine it only adds the cost of sending the rows."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores - os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0


class _CheckPool:
    """``CHECK_PROCESSES`` processes from a fresh server process (``forkserver``, not a fork of this one: a TUI's
    threads and an open database connection stay here), started by a thread of their own: the server's imports
    (about half a second) overlap the first chunks, which are checked here meanwhile (``ready``)."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        self.executor = ProcessPoolExecutor(CHECK_PROCESSES, mp_context=context)
        self.broken = False
        self._up = threading.Event()
        threading.Thread(target=self._start, name="check-pool-start", daemon=True).start()

    def _start(self) -> None:
        try:
            for started in [self.executor.submit(_started) for _ in range(CHECK_PROCESSES)]:
                started.result()
        except Exception:  # noqa: BLE001 - a pool that cannot start: the file is checked here, as without one
            self.broken = True
        self._up.set()

    def ready(self) -> bool:
        return self._up.is_set() and not self.broken

    def submit(self, task: tuple) -> Future:
        return self.executor.submit(_check_rows, task)

    def close(self) -> None:
        self._up.wait()  # not while its thread may still submit
        self.executor.shutdown(cancel_futures=True)


def _started() -> None:
    """A check pool's process is up (its first task)."""


def _can_start_processes() -> bool:
    """Whether a pool's processes can start: each re-imports the main module from its file, which a script read
    from stdin (``python -``) has none of."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return path is None or getattr(main, "__spec__", None) is not None or os.path.isfile(path)


@contextmanager
def _check_pool(lines: int) -> Iterator[_CheckPool | None]:
    """A ``_CheckPool`` for a file of more than ``PARALLEL_ROWS`` lines on a machine with ``SPARE_CORES`` to spare
    (``_spare_cores``), else None (also when processes cannot start: ``_can_start_processes``)."""
    if lines <= PARALLEL_ROWS or CHECK_PROCESSES < 2 or _spare_cores() < SPARE_CORES or not _can_start_processes():
        yield None
        return
    pool = _CheckPool()
    try:
        yield pool
    finally:
        pool.close()


SPOOL_ROWS = 500


def _spool_write(spool: BinaryIO, rows: list[tuple]) -> None:
    """``rows`` marshalled, after their length: read back in one ``read`` (``marshal.load`` from a file reads it
    in pieces, a tenth of the import's time)."""
    data = marshal.dumps(rows)
    spool.write(len(data).to_bytes(8, "little"))
    spool.write(data)


def _spooled(spool: BinaryIO) -> Iterator[list[tuple]]:
    """The chunks ``_spool_write`` wrote, from where ``spool`` is."""
    while size := spool.read(8):
        yield marshal.loads(spool.read(int.from_bytes(size, "little")))


def _batches(spool: BinaryIO, bad: set[int], after_line: int, size: list[int]) -> Iterator[list[_Spooled]]:
    """The spooled rows still to write, in batches of ``size[0]`` (which the caller may change between batches)."""
    spool.seek(0)
    batch: list[_Spooled] = []
    for chunk in _spooled(spool):
        if after_line or bad:
            chunk = [row for row in chunk if row[0] > after_line and row[0] not in bad]
        while chunk:
            room = size[0] - len(batch)
            batch += chunk[:room]
            chunk = chunk[room:]
            if len(batch) >= size[0]:
                yield batch
                batch = []
    if batch:
        yield batch


def _write_batch(ctx: Context, run: ImportRun, batch: list[_Spooled], report: ImportReport, *, source: str,
                 ignore_stock: bool, layouts: Layouts) -> None:
    """One batch in one short transaction: the products, their counted stock, and the run's progress. The rows
    were checked before (``_check_file``): under the lock only the set-based writes are left."""
    with write_transaction():
        saved = save_prepared([Prepared(sku, wanted) for _, _, sku, wanted in batch],
                              default_tax_rate=ctx.default_tax_rate, ctx=ctx, kind="import",
                              note=f"import of {source}", savepoint=False)
        counts = [] if ignore_stock else [(s.product_id, row[1]) for s, row in zip(saved, batch)
                                          if row[1] is not None]
        if counts:
            session = import_runs.count_session(ctx, run, note=f"import of {source}")
            stock.count_now(ctx, session, counts)
        created = sum(s.created for s in saved)
        import_runs.advance(run, batch[-1][0], len(batch))
    report.created += created
    report.updated += len(saved) - created
    report.counted += len(counts)


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
