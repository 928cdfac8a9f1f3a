"""Read-only queries for the screens: the stock window, the low-stock list, journals. Nothing here writes.

Every query is shaped to stay fast at 100,000 products:

* the stock table reads a *window* of rows (``LIMIT``), either by ``OFFSET`` or, once known, by the ordered list of
  matching ids (``stock_ids``: one scan, run in a thread by the screen), so scrolling anywhere costs one indexed
  ``IN (...)`` lookup;
* an unfiltered window sorted by SKU or name walks an index; a filtered one, on SQLite, scans once and keeps only
  the top rows (SQLite's sorter with ``LIMIT``), which costs about 10 ms at 100k products whatever the filter
  matches; on PostgreSQL the trigram index finds the few rows a narrow filter matches, and a broad one walks the
  sort index (``shopkeeper/dialect.py`` holds the differences; ``bench/bench_filter.py`` measures both); a barcode
  prefix matching many codes is checked while walking the sort order, not looked up code by code;
* the product journal walks the ``(product, id)`` index and computes the running balance with a window function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from shopkeeper import dialect
from shopkeeper.barcodes import parse_scan
from shopkeeper.errors import ShopError
from shopkeeper.models import database
from shopkeeper.services.reorder import LOW_SQL, low_stock_query, reorder_line

# --- the stock table ------------------------------------------------------------------------------------------

STATUS_OK, STATUS_LOW, STATUS_OUT, STATUS_INACTIVE = "ok", "low", "out", "inactive"
STATUS_ORDERED = "ordered"

_STATUS_SQL = ("(CASE WHEN NOT p.active THEN 4 WHEN p.on_hand <= 0 THEN 0 "
               "WHEN p.reorder_point > 0 AND p.on_hand + p.on_order <= p.reorder_point THEN 1 "
               "WHEN p.reorder_point > 0 AND p.on_hand <= p.reorder_point THEN 2 ELSE 3 END)")

SORT_COLUMNS: dict[str, str] = {
    "sku": "p.sku",
    "name": "p.name",  # ordered without regard to case: see _order
    "on_hand": "p.on_hand",
    "unit": "p.unit",
    "reorder_point": "p.reorder_point",
    "price": "p.price",
    "status": _STATUS_SQL,
}
"""Columns the stock table sorts by, and the SQL expression for each. ``status`` sorts out, low, ok, inactive."""

_INDEXED_SORTS = {"sku", "name"}
_STOCK_COLUMNS = "p.id, p.sku, p.name, p.unit, p.on_hand, p.reorder_point, p.price, p.active, p.on_order"


def stock_status(on_hand: int, reorder_point: int, active: bool = True, on_order: int = 0) -> str:
    """``out`` at or below zero; at or below a reorder point ``low`` when what is on order does not lift the
    inventory position above it (the low-stock pane's rule), else ``ordered`` (low on the shelf, an order covers
    it); ``inactive`` for a retired product."""
    if not active:
        return STATUS_INACTIVE
    if on_hand <= 0:
        return STATUS_OUT
    if reorder_point > 0 and on_hand <= reorder_point:
        return STATUS_LOW if on_hand + on_order <= reorder_point else STATUS_ORDERED
    return STATUS_OK


class StockRow(NamedTuple):
    id: int
    sku: str
    name: str
    unit: str
    on_hand: int  # thousandths
    reorder_point: int  # thousandths
    price: int  # minor units
    active: bool
    on_order: int = 0  # thousandths on open purchase orders, not yet received (``Product.on_order``)

    @property
    def status(self) -> str:
        return stock_status(self.on_hand, self.reorder_point, self.active, self.on_order)

    @property
    def key(self) -> int:
        return self.id


@dataclass(frozen=True)
class StockQuery:
    """What the stock table shows: a filter text (name, SKU or barcode; case-insensitive substring, barcode
    prefix) and a sort."""

    text: str = ""
    sort: str = "name"
    descending: bool = False

    def __post_init__(self) -> None:
        if self.sort not in SORT_COLUMNS:
            raise ValueError(f"unknown sort column {self.sort!r}")


BARCODE_PREFIX_MIN = 8
"""Typed digits match barcodes by prefix from this many on (a GTIN-8's length)."""

BROAD_PREFIX_CODES = 1000
"""A barcode prefix matching more codes than this is *broad*: its products are looked for while walking the sort
order (which stops once the window is full) rather than each looked up by id (see ``dialect.in_subquery``)."""


class _Where(NamedTuple):
    sql: str
    args: list
    broad: bool = False  # a broad barcode prefix: walking the sort index finds the window soonest


def _where(query: StockQuery, *, window: bool = True) -> _Where:
    """The filter's condition; ``window``: for a ``LIMIT`` window, where a broad barcode prefix is worth knowing
    (for every matching row, looking the ids up stays the cheaper way)."""
    text = query.text.strip()
    if not text:
        return _Where("1 = 1", [])
    p = database.param
    label = _label_codes(text)
    if label:  # a GS1 label (Digital Link, element string): the product its GTIN names, not the text's letters
        by_code = dialect.in_subquery("p.id", f"SELECT b.product_id FROM barcode b WHERE b.code IN "
                                              f"({', '.join([p] * len(label))})")
        return _Where(by_code, list(label))
    name_or_sku, args = dialect.name_or_sku_contains(text)
    if len(text) < BARCODE_PREFIX_MIN:
        # A short prefix such as "4006" matches a whole manufacturer's range: tens of thousands of codes, a pause
        # on every keystroke. Short input matches a barcode only exactly.
        by_code = dialect.in_subquery("p.id", f"SELECT b.product_id FROM barcode b WHERE b.code = {p}")
        return _Where(f"({name_or_sku} OR {by_code})", [*args, text])
    prefix, prefix_args = dialect.starts_with("b.code"), dialect.starts_with_args(text)
    broad = window and _counts_more(f"SELECT 1 FROM barcode b WHERE {prefix}", prefix_args, BROAD_PREFIX_CODES)
    by_code = dialect.in_subquery("p.id", f"SELECT b.product_id FROM barcode b WHERE {prefix}", broad=broad)
    return _Where(f"({name_or_sku} OR {by_code})", [*args, *prefix_args], broad)


def _label_codes(text: str) -> tuple[str, ...]:
    """The barcode forms of the GTIN a GS1 label carries (a Digital Link URI, an element string with lot or
    expiry) when ``text`` is one, as the till reads it; () for anything else (a name, a SKU, a barcode prefix)."""
    if not (text.startswith(("http://", "https://", "]")) or (text.isdigit() and len(text) > 14)):
        return ()  # a name, a SKU, a barcode or its prefix: matched as typed (and no label reader per keystroke)
    try:
        scan = parse_scan(text)
    except ShopError:
        return ()
    return scan.keys if scan.kind == "gs1" else ()


def _counts_more(sql: str, args: list, limit: int) -> bool:
    """Whether ``sql`` returns more than ``limit`` rows, reading at most ``limit + 1`` of them."""
    p = database.param
    row = database.execute_sql(f"SELECT COUNT(*) FROM ({sql} LIMIT {p}) s", [*args, limit + 1]).fetchone()
    return row[0] > limit


def _order(query: StockQuery, where: _Where) -> str:
    expr = SORT_COLUMNS[query.sort]
    direction = "DESC" if query.descending else "ASC"
    if where.args and not where.broad and query.sort in _INDEXED_SORTS:
        expr = dialect.filtered_order(expr)  # SQLite scans once and keeps the top rows: see there
    if query.sort == "name":
        expr = dialect.nocase(expr)
    return f"{expr} {direction}, p.id {direction}"


def _stock_row(row: tuple) -> StockRow:
    return StockRow(row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]), row[8])


def stock_window(query: StockQuery, offset: int, limit: int) -> list[StockRow]:
    """Rows ``[offset, offset + limit)`` of the stock table."""
    where = _where(query)
    p = database.param
    sql = (f"SELECT {_STOCK_COLUMNS} FROM product p WHERE {where.sql} "
           f"ORDER BY {_order(query, where)} LIMIT {p} OFFSET {p}")
    return [_stock_row(r) for r in database.execute_sql(sql, [*where.args, limit, offset]).fetchall()]


def stock_ids(query: StockQuery) -> list[int]:
    """Every matching product id in table order: the screen's index for paging and for finding a product again."""
    where = _where(query, window=False)
    sql = f"SELECT p.id FROM product p WHERE {where.sql} ORDER BY {_order(query, where)}"
    return [r[0] for r in database.execute_sql(sql, where.args).fetchall()]


def stock_rows(ids: list[int]) -> list[StockRow]:
    """The rows for ``ids``, in that order (ids no longer in the table are skipped)."""
    if not ids:
        return []
    marks = ", ".join([database.param] * len(ids))
    rows = database.execute_sql(f"SELECT {_STOCK_COLUMNS} FROM product p WHERE p.id IN ({marks})", ids).fetchall()
    by_id = {r[0]: _stock_row(r) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


# --- low stock ------------------------------------------------------------------------------------------------


def low_stock_ids() -> set[int]:
    """Ids of the active products whose inventory position is at or below their reorder point (the
    ``product_position`` index)."""
    sql = f"SELECT id FROM product WHERE {LOW_SQL}"
    return {r[0] for r in database.execute_sql(sql).fetchall()}


def low_stock_count() -> int:
    return low_stock_query().count()


class AlertRow(NamedTuple):
    """A row of the low-stock pane: a ``ReorderLine`` and what is already on order. ``suggested`` is what to order
    on top of it: the inventory position (on hand + on order) decides, so an order already out is not suggested
    again (0 when what is on order lifts the position above the reorder point)."""

    product_id: int
    sku: str
    name: str
    unit: str
    on_hand: int
    on_order: int
    reorder_point: int
    supplier: str
    suggested: int  # thousandths

    @property
    def position(self) -> int:
        return self.on_hand + self.on_order


def low_stock_window(offset: int, limit: int) -> list[AlertRow]:
    """A window of ``reorder.low_stock()``: worst first, with what is on order, the quantity still to order and
    the supplier."""
    query = low_stock_query().offset(offset).limit(limit)
    rows = []
    for p in query.objects():
        line = reorder_line(p)  # the reorder rule's suggestion, at the inventory position
        rows.append(AlertRow(line.product_id, line.sku, line.name, line.unit, line.on_hand, line.on_order,
                             line.reorder_point, line.supplier, line.suggested))
    return rows


# --- journals -------------------------------------------------------------------------------------------------


class JournalRow(NamedTuple):
    id: int
    created_at: str  # UTC ISO-8601
    product_id: int
    sku: str
    name: str
    kind: str
    quantity: int  # signed thousandths
    balance: int | None  # running stock after this movement (product journal only)
    unit_cost: int | None
    unit_price: int | None
    staff: str
    terminal: str
    reason: str
    reference: str

    @property
    def key(self) -> int:
        return self.id


_JOURNAL_COLUMNS = ("m.id, m.created_at, m.product_id, p.sku, p.name, m.kind, m.quantity, {balance}, m.unit_cost, "
                    "m.unit_price, COALESCE(s.name, ''), COALESCE(t.name, ''), m.reason, m.reference")
_JOURNAL_JOINS = ("JOIN product p ON p.id = m.product_id LEFT JOIN staff s ON s.id = m.staff_id "
                  "LEFT JOIN terminal t ON t.id = m.terminal_id")


def product_journal(product_id: int, offset: int = 0, limit: int = 50) -> list[JournalRow]:
    """A product's movements, newest first, each with the running stock balance after it."""
    p = database.param
    inner = ("SELECT m.*, SUM(m.quantity) OVER (ORDER BY m.id ROWS UNBOUNDED PRECEDING) AS balance "
             f"FROM movement m WHERE m.product_id = {p}")
    cols = _JOURNAL_COLUMNS.format(balance="m.balance")
    sql = (f"SELECT {cols} FROM ({inner}) m {_JOURNAL_JOINS} ORDER BY m.id DESC LIMIT {p} OFFSET {p}")
    return [JournalRow(*r) for r in database.execute_sql(sql, [product_id, limit, offset]).fetchall()]


def product_journal_count(product_id: int) -> int:
    p = database.param
    return database.execute_sql(f"SELECT COUNT(*) FROM movement WHERE product_id = {p}", [product_id]).fetchone()[0]


class ChangeRow(NamedTuple):
    """One row of a product's change log (``ProductChange``): old and new as stored (integers as text)."""

    id: int
    created_at: str
    field: str
    old: str | None
    new: str
    kind: str
    note: str
    staff: str
    terminal: str

    @property
    def key(self) -> int:
        return self.id


def product_changes(product_id: int, offset: int = 0, limit: int = 50) -> list[ChangeRow]:
    """A product's logged changes of price, tax, average cost, unit and active flag, newest first."""
    p = database.param
    sql = ("SELECT c.id, c.created_at, c.field, c.old, c.new, c.kind, c.note, COALESCE(s.name, ''), "
           "COALESCE(t.name, '') FROM product_change c LEFT JOIN staff s ON s.id = c.staff_id "
           f"LEFT JOIN terminal t ON t.id = c.terminal_id WHERE c.product_id = {p} ORDER BY c.id DESC "
           f"LIMIT {p} OFFSET {p}")
    return [ChangeRow(*r) for r in database.execute_sql(sql, [product_id, limit, offset]).fetchall()]


def product_changes_count(product_id: int) -> int:
    p = database.param
    return database.execute_sql(f"SELECT COUNT(*) FROM product_change WHERE product_id = {p}",
                                [product_id]).fetchone()[0]


@dataclass(frozen=True)
class JournalFilter:
    """Filters for the journal; empty means "any". Times are UTC ISO-8601 bounds: ``since <= created_at < until``."""

    kinds: tuple[str, ...] = ()
    product_id: int | None = None
    staff: str = ""
    terminal: str = ""
    since: str = ""
    until: str = ""
    extra: dict = field(default_factory=dict, compare=False)


def _journal_where(f: JournalFilter) -> tuple[str, list]:
    p = database.param
    parts, args = [], []
    if f.kinds:
        parts.append(f"m.kind IN ({', '.join([p] * len(f.kinds))})")
        args.extend(f.kinds)
    if f.product_id is not None:
        parts.append(f"m.product_id = {p}")
        args.append(f.product_id)
    if f.staff:
        parts.append(f"m.staff_id = (SELECT id FROM staff WHERE name = {p})")
        args.append(f.staff)
    if f.terminal:
        parts.append(f"m.terminal_id = (SELECT id FROM terminal WHERE name = {p})")
        args.append(f.terminal)
    if f.since:
        parts.append(f"m.created_at >= {p}")
        args.append(f.since)
    if f.until:
        parts.append(f"m.created_at < {p}")
        args.append(f.until)
    return (" AND ".join(parts) or "1 = 1"), args


def journal_window(f: JournalFilter, offset: int = 0, limit: int = 50) -> list[JournalRow]:
    """Movements matching ``f``, newest first. ``balance`` is None here (see ``product_journal``)."""
    where, args = _journal_where(f)
    p = database.param
    cols = _JOURNAL_COLUMNS.format(balance="NULL")
    sql = f"SELECT {cols} FROM movement m {_JOURNAL_JOINS} WHERE {where} ORDER BY m.id DESC LIMIT {p} OFFSET {p}"
    return [JournalRow(*r) for r in database.execute_sql(sql, [*args, limit, offset]).fetchall()]


def journal_count(f: JournalFilter) -> int:
    where, args = _journal_where(f)
    return database.execute_sql(f"SELECT COUNT(*) FROM movement m WHERE {where}", args).fetchone()[0]


# --- names and details ----------------------------------------------------------------------------------------


def staff_names(*, active_only: bool = True) -> list[str]:
    sql = "SELECT name FROM staff" + (" WHERE active" if active_only else "") + f" ORDER BY {dialect.nocase('name')}"
    return [r[0] for r in database.execute_sql(sql).fetchall()]


def terminal_names() -> list[str]:
    sql = f"SELECT name FROM terminal ORDER BY {dialect.nocase('name')}"
    return [r[0] for r in database.execute_sql(sql).fetchall()]


class ProductDetail(NamedTuple):
    id: int
    sku: str
    name: str
    unit: str
    price: int
    tax_rate: int
    avg_cost: int
    reorder_point: int
    reorder_qty: int
    supplier: str
    category: str
    active: bool
    on_hand: int
    barcodes: tuple[str, ...]

    @property
    def status(self) -> str:
        return stock_status(self.on_hand, self.reorder_point, self.active)


def product_detail(product_id: int) -> ProductDetail | None:
    p = database.param
    row = database.execute_sql(
        "SELECT p.id, p.sku, p.name, p.unit, p.price, p.tax_rate, p.avg_cost, p.reorder_point, p.reorder_qty, "
        "COALESCE(s.name, ''), p.category, p.active, p.on_hand FROM product p "
        f"LEFT JOIN supplier s ON s.id = p.supplier_id WHERE p.id = {p}", [product_id]).fetchone()
    if row is None:
        return None
    codes = tuple(r[0] for r in database.execute_sql(
        f"SELECT code FROM barcode WHERE product_id = {p} ORDER BY id", [product_id]).fetchall())
    return ProductDetail(*row[:11], bool(row[11]), row[12], codes)


# --- stock counts ---------------------------------------------------------------------------------------------


class CountRow(NamedTuple):
    product_id: int
    sku: str
    name: str
    unit: str
    expected: int
    counted: int
    counted_at: str

    @property
    def variance(self) -> int:
        return self.counted - self.expected

    @property
    def key(self) -> int:
        return self.product_id


def open_count_session(terminal: str) -> int | None:
    """The newest open count session started at ``terminal`` (to resume a walk-the-shelves audit)."""
    p = database.param
    row = database.execute_sql(
        "SELECT c.id FROM count_session c JOIN terminal t ON t.id = c.terminal_id "
        f"WHERE c.status = 'open' AND t.name = {p} ORDER BY c.id DESC LIMIT 1", [terminal]).fetchone()
    return row[0] if row else None


def count_lines(session_id: int) -> list[CountRow]:
    """The lines of a count session, most recently counted first."""
    p = database.param
    rows = database.execute_sql(
        "SELECT l.product_id, p.sku, p.name, p.unit, l.expected, l.counted, l.counted_at FROM count_line l "
        f"JOIN product p ON p.id = l.product_id WHERE l.session_id = {p} ORDER BY l.counted_at DESC, l.id DESC",
        [session_id]).fetchall()
    return [CountRow(*r) for r in rows]


def product_id_for_sku(sku: str) -> int | None:
    p = database.param
    row = database.execute_sql(f"SELECT id FROM product WHERE sku = {p}", [sku.strip()]).fetchone()
    return row[0] if row else None
