"""The open sale at a till, saved as it grows.

A till rings up a sale line by line. Each change (a scan, a new quantity, a discount) is its own small write
transaction on the ``open_sale`` / ``open_sale_line`` tables, so a dropped SSH session, a closed terminal or a crash
loses nothing: the next session at the same terminal calls ``current_sale`` and carries on. ``complete`` turns the
draft into a ``Sale`` through ``sales.sell`` / ``sales.refund`` and deletes the draft in the same transaction, so a
sale is either still open or committed, never both and never neither.

Every mutating call returns the ``Draft`` as it now stands, priced by ``sales.price_lines`` — the same arithmetic
``sales.sell`` uses — so what the screen shows is what will be charged.

Drafts are per terminal (``ctx.terminal``): one ``open`` draft per terminal, any number ``parked``. A parked sale
can be resumed at any terminal. Refunds are drafts too (``mode='refund'``): against a sale (its returnable lines are
loaded, each at the price paid) or without a receipt (a reason is required; items are scanned at today's price).

Amounts on a ``Draft`` are positive for sales and refunds alike; ``mode`` says which way the money goes.

Payment starts with the first part payment taken on the open sale (``take_payment``: a card payment for part of
the total, cash that does not cover it), kept with the draft until ``complete`` pays the rest. From then on the
customer has paid for what is on the sale: taking a line off, or lowering a line's quantity, needs
``remove_line_after_payment`` (a cashier gets a supervisor's approval) and is in the audit log, and no change
may bring the total below what has been paid.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from peewee import IntegrityError

from shopkeeper.barcode_settings import BarcodeSettings
from shopkeeper.barcodes import BadCheckDigit, Scan, addon_price, parse_scan
from shopkeeper.db import retry_clashes, utcnow, write_transaction
from shopkeeper.errors import InvalidInput, NotFound
from shopkeeper.models import OpenSale, OpenSaleLine, OpenSalePayment, Product, Sale, SaleLine, database
from shopkeeper.money import PERCENT_SCALE, QTY_SCALE, extend, format_money, format_qty, parse_qty, round_div
from shopkeeper.services import audit_log, permissions, sales, till_session
from shopkeeper.services.catalog import find_product
from shopkeeper.services.context import Context, staff_id, terminal_id
from shopkeeper.services.tenders import METHODS, Tender, cash_due, legacy_tenders
from shopkeeper.text import clean

MODES = ("sale", "refund")


class UnknownCode(NotFound):
    """A scanned or typed code that matches no product. The till offers to create it or sell a one-off item."""

    def __init__(self, code: str, scan: Scan | None = None, quantity: int | None = None) -> None:
        super().__init__(f"unknown code {code!r}: no product has this SKU or barcode")
        self.code = code
        self.scan = scan
        self.quantity = quantity


@dataclass(frozen=True)
class DraftLine:
    id: int
    line_no: int
    product_id: int | None
    sku: str
    unit: str
    description: str
    quantity: int  # thousandths
    unit_price: int
    discount: int  # the line's own discount (its share of the sale discount is in the priced line)
    tax_rate: int
    code: str
    weighed: bool  # sold from a variable-measure label: never merged with another scan
    discount_rate: int | None = None  # the line's discount in percent (basis points); ``discount`` is its amount now
    priced: sales.PricedLine | None = None  # discount, tax and total as they will be charged
    lot: str | None = None  # from the item's label (GS1 AI 10)
    expiry: str | None = None  # ISO date from the label (AI 17)


@dataclass
class Draft:
    """The open (or a parked) sale as it stands now."""

    id: int
    mode: str  # sale | refund
    status: str  # open | parked
    original_sale: int | None
    reason: str
    discount: int  # sale discount, minor units (worked out from ``discount_rate`` when that is set)
    terminal: str
    created_at: str
    updated_at: str
    lines: list[DraftLine] = field(default_factory=list)
    subtotal: int = 0  # lines after line discounts, before the sale discount
    tax: int = 0
    total: int = 0  # what the customer pays (sale) or gets back (refund)
    problem: str | None = None  # why it cannot be completed as it stands (e.g. a product was made inactive)
    changed_line: int | None = None  # id of the line the last call touched
    discount_rate: int | None = None  # the sale discount in percent (basis points), recomputed on every change
    notice: str | None = None  # what the last call changed besides what was asked (e.g. a sale discount removed)
    payments: list[tuple[str, int]] = field(default_factory=list)  # part payments taken so far (method, amount)

    @property
    def paid(self) -> int:
        """What the part payments taken so far settle."""
        return sum(amount for _, amount in self.payments)

    @property
    def payment_started(self) -> bool:
        return bool(self.payments)

    @property
    def due(self) -> int:
        """What is still to pay: the total less the part payments."""
        return self.total - self.paid

    @property
    def empty(self) -> bool:
        return not self.lines

    @property
    def units(self) -> int:
        """Thousandths of units over all lines."""
        return sum(line.quantity for line in self.lines)

    @property
    def items(self) -> int:
        """How many things the customer takes, as a cashier counts them: pieces by their number, a line of goods
        sold by measure (1.25 kg of cheese) as one; a refund's lines likewise. Adding kilograms to pieces would say
        nothing a cashier can check against the bag."""
        return sum(-(-abs(line.quantity) // 1000) if line.unit == "pcs" else 1 for line in self.lines)

    def line(self, line_id: int) -> DraftLine:
        for line in self.lines:
            if line.id == line_id:
                return line
        raise NotFound(f"line {line_id} is not on this sale")


@dataclass(frozen=True)
class ParkedSale:
    id: int
    terminal: str
    staff: str
    mode: str
    note: str
    lines: int
    updated_at: str
    payments: list[tuple[str, int]] = field(default_factory=list)  # part payments taken on it (method, amount)


# --- parsing typed input ------------------------------------------------------------------------------------

# A number (signed or malformed, to refuse it) before ``*``: a quantity prefix, never part of a code.
_MULTIPLIER = re.compile(r"^\s*(?P<n>[-+−]?\s*[\d.,]*\d[\d.,]*)\s*[*×]\s*(?P<code>.*)$", re.DOTALL)


def split_quantity(text: str) -> tuple[int | None, str]:
    """``"3*4006381333931"`` → ``(3000, "4006381333931")``; ``"0.5*OLIVES-KG"`` → ``(500, "OLIVES-KG")``.

    Without a multiplier the quantity is ``None``. ``"3*"`` alone (waiting for the scan) gives ``(3000, "")``.
    """
    m = _MULTIPLIER.match(text)
    if not m:
        return None, text.strip()
    n = m["n"].replace(" ", "")
    try:
        qty = parse_qty(n) if n[0].isdigit() else 0
    except InvalidInput:
        qty = 0
    if qty <= 0:
        raise InvalidInput(f"quantity {n}* before the code must be a positive number such as 3* or 0.5*",
                           field="quantity", reason="must be a positive number", value=n)
    return qty, m["code"].strip()


@contextlib.contextmanager
def _writing(ctx: Context) -> Iterator[None]:
    """A write transaction for a draft change. The staff and terminal rows are looked up (or created) first, in
    their own commit: ``context`` caches their ids, and an id created inside a transaction that then rolls back
    would be cached for a row that no longer exists."""
    staff_id(ctx)
    terminal_id(ctx)
    with write_transaction():
        yield


# --- reading ------------------------------------------------------------------------------------------------

def _open_filter(terminal: int | None):
    where = OpenSale.status == "open"
    return where & (OpenSale.terminal.is_null() if terminal is None else OpenSale.terminal == terminal)


def _open_row(ctx: Context, *, create: bool) -> OpenSale | None:
    """The open draft of ``ctx.terminal``; created when missing and ``create`` (call inside the write lock).

    The schema allows one open draft per till (``open_sale_one_open_per_till``). On PostgreSQL two sessions may
    both find none and both insert: the second insert waits for the first to commit and then fails, and this
    session reads the draft the other made, so both work on one."""
    terminal = terminal_id(ctx)
    row = OpenSale.select().where(_open_filter(terminal)).order_by(OpenSale.id).first()
    if row is None and create:
        now = utcnow()
        try:
            with database.obj.atomic():  # a savepoint: the clash must not end the caller's transaction
                row = OpenSale.create(terminal=terminal, staff=staff_id(ctx), status="open", mode="sale",
                                      created_at=now, updated_at=now)
        except IntegrityError:
            row = OpenSale.select().where(_open_filter(terminal)).order_by(OpenSale.id).first()
            if row is None:
                raise
    return row


_LINES_SQL = (
    "SELECT l.id, l.line_no, l.product_id, COALESCE(p.sku, ''), COALESCE(p.unit, ''), l.description, l.quantity, "
    "l.unit_price, l.discount, l.tax_rate, l.code, l.discount_rate, l.lot, l.expiry FROM open_sale_line l "
    "LEFT JOIN product p ON p.id = l.product_id "
    "WHERE l.open_sale_id = {p} ORDER BY l.line_no, l.id"
)
_WEIGHED = "~"  # prefix of OpenSaleLine.code for a line sold from a variable-measure label


def _load(row: OpenSale, ctx: Context) -> Draft:
    from shopkeeper.models import Terminal

    terminal = ""
    if row.terminal_id is not None:
        terminal = Terminal.select(Terminal.name).where(Terminal.id == row.terminal_id).scalar() or ""
    draft = Draft(row.id, row.mode, row.status, row.original_sale, row.note, row.discount, terminal,
                  row.created_at, row.updated_at, discount_rate=row.discount_rate)
    cursor = database.execute_sql(_LINES_SQL.format(p=database.param), (row.id,))
    for (lid, no, pid, sku, unit, desc, qty, price, disc, rate, code, disc_rate, lot,
         expiry) in cursor.fetchall():
        weighed = code.startswith(_WEIGHED)
        if disc_rate is not None:
            disc = sales.percent_of(extend(qty, price), disc_rate)
        draft.lines.append(DraftLine(lid, no, pid, sku, unit, desc, qty, price, disc, rate,
                                     code[1:] if weighed else code, weighed, disc_rate, lot=lot, expiry=expiry))
    draft.payments = [(method, amount) for method, amount in _taken(row.id)]
    _price(draft, ctx)
    return draft


def _taken(draft_id: int) -> list[tuple[str, int]]:
    """The part payments taken on draft ``draft_id``, in the order they were taken."""
    return list(OpenSalePayment.select(OpenSalePayment.method, OpenSalePayment.amount)
                .where(OpenSalePayment.open_sale == draft_id).order_by(OpenSalePayment.id).tuples())


def _inputs(draft: Draft) -> list[sales.LineInput]:
    ids = {line.product_id for line in draft.lines if line.product_id is not None}
    # Whole rows, fetched at once: price_lines takes a Product as it is instead of one query per line.
    products = {p.id: p for p in Product.select().where(Product.id.in_(list(ids)))} if ids else {}
    return [sales.LineInput(products.get(line.product_id, line.product_id), line.quantity, line.unit_price,
                            line.discount, line.description, line.tax_rate, line.discount_rate, line.lot,
                            line.expiry)
            for line in draft.lines]


def _lines_net(lines) -> int:
    """The lines' sum after their own discounts: a sale's subtotal, and the most a sale discount can be."""
    return sum(extend(line.quantity, line.unit_price) - line.discount for line in lines)


def _price(draft: Draft, ctx: Context) -> None:
    if not draft.lines:
        return
    if draft.mode == "sale":
        draft.subtotal = _lines_net(draft.lines)  # shown even when the sale cannot be priced as it stands
    try:
        if draft.mode == "refund" and draft.original_sale is not None:
            priced = _refund_preview(ctx, draft)
        else:
            priced = sales.price_lines(ctx, _inputs(draft), draft.discount, sale_discount_rate=draft.discount_rate)
    except InvalidInput as exc:
        draft.problem = str(exc)
        return
    draft.lines = [_with_priced(line, p) for line, p in zip(draft.lines, priced)]
    if draft.mode == "sale":
        draft.discount = sum(p.discount - p.line_discount for p in priced)
    else:
        draft.subtotal = sum(p.gross - p.discount for p in priced)
    draft.tax = sum(p.tax for p in priced)
    draft.total = sum(p.total for p in priced)


def _with_priced(line: DraftLine, priced: sales.PricedLine) -> DraftLine:
    from dataclasses import replace

    return replace(line, priced=priced)


def _refund_preview(ctx: Context, draft: Draft) -> list[sales.PricedLine]:
    """What ``complete`` will pay back for each line of a refund against a sale: ``sales.plan_refund`` on the
    same items ``complete`` hands to ``sales.refund``, so the till shows what the refund commits."""
    parts = sales.plan_refund(draft.original_sale, _return_items(draft))
    by_key: dict[tuple, list[sales.RefundPart]] = {}
    for part in parts:
        by_key.setdefault(_key(part.line.product_id, part.line.description), []).append(part)
    out = []
    for key, lines in _lines_by_key(draft).items():
        got = by_key.get(key, [])
        amounts = sales.allocate(sum(p.amount for p in got), [line.quantity for line in lines])
        taxes = sales.allocate(sum(p.tax for p in got), [line.quantity for line in lines])
        for line, amount, tax in zip(lines, amounts, taxes):
            gross = extend(line.quantity, line.unit_price)
            out.append((line.id, sales.PricedLine(
                line.product_id, line.description, line.quantity, line.unit_price,
                gross - amount + (0 if ctx.prices_include_tax else tax), line.tax_rate, tax=tax, total=amount,
                sku=line.sku)))
    order = {line.id: n for n, line in enumerate(draft.lines)}
    return [priced for _, priced in sorted(out, key=lambda item: order[item[0]])]


def _key(product_id: int | None, description: str) -> tuple:
    """What a refund line is: the product, or a one-off item's description."""
    return (product_id, description if product_id is None else "")


def _lines_by_key(draft: Draft) -> dict[tuple, list[DraftLine]]:
    out: dict[tuple, list[DraftLine]] = {}
    for line in draft.lines:
        out.setdefault(_key(line.product_id, line.description), []).append(line)
    return out


def current_sale(ctx: Context, *, create: bool = True) -> Draft | None:
    """The open sale of ``ctx.terminal``, resumed as it was left; a new empty one when there is none."""
    row = _open_row(ctx, create=False)
    if row is None:
        if not create:
            return None
        with _writing(ctx):
            row = _open_row(ctx, create=True)
    return _load(row, ctx)


# --- changing the open sale ---------------------------------------------------------------------------------

def _touch(row: OpenSale) -> None:
    OpenSale.update(updated_at=utcnow()).where(OpenSale.id == row.id).execute()


def _next_line_no(row: OpenSale) -> int:
    from peewee import fn

    return (OpenSaleLine.select(fn.MAX(OpenSaleLine.line_no)).where(OpenSaleLine.open_sale == row.id).scalar()
            or 0) + 1


def lookup(code: str, scan: Scan | None = None) -> Product | None:
    """The product a code names: SKU as typed first, then any barcode form of the scan; None when unknown."""
    keys = None
    if scan is not None:
        keys = list(scan.keys)
        if scan.code not in keys:
            keys.insert(0, scan.code)
    try:
        return find_product(code.strip(), keys=keys)
    except NotFound:
        return None


def _parse(code: str, layouts: BarcodeSettings | None, ctx: Context) -> Scan | None:
    """Read the code as a barcode. A bad check digit is refused; text that is no barcode is looked up as typed."""
    strict = layouts.strict_check_digits if layouts is not None else True
    return parse_scan(code, layouts, currency_decimals=ctx.decimals, strict=strict, currency=ctx.currency)


def _exact_sku(code: str) -> Scan | None:
    """``code`` as a plain code when it is exactly a product's SKU (numeric SKUs whose last digit is no check
    digit: an import keeps them as written); None otherwise."""
    text = code.strip()
    if not Product.select().where(Product.sku == text).exists():
        return None
    return Scan(raw=text, kind="free", code=text, keys=(text,))


def _weighed_price(price: int, unit_price: int) -> tuple[int, int, int]:
    """A price label on a product sold by measure: (quantity, unit price, discount) that add up to ``price``.

    The quantity is worked out from the product's price (so stock goes down by the weight sold); the unit price is
    chosen so that quantity × unit price is the label's amount exactly, with at most a rounding cent as discount.
    """
    qty = max(1, round_div(price * QTY_SCALE, unit_price))
    for u in (round_div(price * QTY_SCALE, qty), unit_price):
        if extend(qty, u) == price:
            return qty, u, 0
    u = -(-price * QTY_SCALE // qty)  # ceiling: extend(qty, u) >= price
    return qty, u, extend(qty, u) - price


@dataclass(frozen=True)
class ScannedItem:
    """What one scan (with an optional ``N*`` multiplier) means: which product, how much, at what price."""

    product: Product
    quantity: int  # thousandths
    unit_price: int
    discount: int  # rounding correction so a label's printed price is charged exactly
    weighed: bool  # a variable-measure or GS1 label: its own line, never merged
    code: str
    lot: str | None = None  # from a GS1 label (AI 10): kept on the sale line and the movement
    expiry: dt.date | None = None  # from a GS1 label (AI 17)
    serial: str | None = None  # AI (21)
    addon: str | None = None  # an EAN-13's 2- or 5-digit add-on (a magazine's issue, a book's price)
    addon_price: tuple[str, int] | None = None  # a book's add-on price: (currency, minor units), shown, never charged


class ExpiredItem(InvalidInput):
    """The label says the item expired (GS1 AI 17, a date before today). The till sells it only once the cashier
    has acknowledged that (``add_scan(..., accept_expired=True)``); the CLI and the counter refuse it."""

    def __init__(self, item: ScannedItem) -> None:
        lot = f", lot {item.lot}" if item.lot else ""
        super().__init__(f"{item.product.sku} {item.product.name}: EXPIRED on {item.expiry.isoformat()}{lot}",
                         field="expiry", reason="expired", value=item.expiry.isoformat())
        self.item = item


def resolve_scan(ctx: Context, code: str, quantity: int | None = None, *,
                 layouts: BarcodeSettings | None = None, accept_expired: bool = False,
                 today: dt.date | None = None) -> ScannedItem:
    """Read a scan the way the till sells it; the headless counter receives and counts by the same rules.

    A weight label sells its weight (times a multiplier: ``3*`` three such packs); a price label on goods sold by
    weight sells the weight its price buys; a label with both weight and price charges the printed price for the
    printed weight, and refuses a multiplier (scan each label). A weight on a product sold by the piece is refused
    (never 0.5 pieces). An unknown code raises ``UnknownCode``; a label whose expiry date (AI 17) is before
    ``today`` raises ``ExpiredItem`` unless ``accept_expired``.
    """
    item = _resolve(ctx, code, quantity, layouts)
    if not accept_expired and _expired(item, today):
        raise ExpiredItem(item)
    return item


def _expired(item: ScannedItem, today: dt.date | None) -> bool:
    """The label's expiry date (AI 17) is before today (the till's local date)."""
    return item.expiry is not None and item.expiry < (today or dt.date.today())


def _resolve(ctx: Context, code: str, quantity: int | None, layouts: BarcodeSettings | None) -> ScannedItem:
    typed_qty, code = split_quantity(code)
    if quantity is None:
        quantity = typed_qty
    elif typed_qty is not None:
        quantity = round_div(quantity * typed_qty, QTY_SCALE)
    if not code:
        raise InvalidInput("nothing scanned: a code is needed after the quantity")
    if quantity is not None and quantity <= 0:
        raise InvalidInput("quantity must be more than zero")
    try:
        scan = _parse(code, layouts, ctx)
    except BadCheckDigit:
        scan = _exact_sku(code)  # a numeric SKU (kept as imported) is that SKU, not a mis-scanned barcode
        if scan is None:
            raise
    product = lookup(code, scan)
    if product is None:
        raise UnknownCode(code, scan, quantity)
    if scan.measure == "weight" and scan.quantity_milli is not None and product.unit == "pcs":
        raise InvalidInput(f"{product.sku} is sold by the piece, but this label gives a weight "
                           f"({format_qty(scan.quantity_milli)} kg): it is not sold as "
                           f"{format_qty(scan.quantity_milli)} pieces; check the product's unit or the label",
                           field="quantity", reason="a weight on a product sold by the piece",
                           value=format_qty(scan.quantity_milli))
    label = {"lot": scan.lot, "expiry": scan.expiry, "serial": scan.serial, "addon": scan.addon,
             "addon_price": addon_price(scan)}
    weighed = scan is not None and scan.kind in ("variable_measure", "gs1") and scan.measure is not None
    if not weighed:
        return ScannedItem(product, quantity or QTY_SCALE, product.price, 0, False, code, **label)
    unit_price, discount = product.price, 0
    if scan.price_minor is not None and scan.quantity_milli is not None:
        if quantity is not None:
            raise InvalidInput("a quantity cannot be applied to a label with its own weight and price; "
                               "scan each label")
        unit_price, discount = _unit_for(scan.quantity_milli, scan.price_minor)
        return ScannedItem(product, scan.quantity_milli, unit_price, discount, True, code, **label)
    if scan.quantity_milli is not None:
        qty = scan.quantity_milli
    elif product.unit != "pcs" and product.price > 0:
        qty, unit_price, discount = _weighed_price(scan.price_minor, product.price)
    else:
        qty, unit_price = QTY_SCALE, scan.price_minor
    if quantity is not None:  # "2*" before a label: two such packs
        if discount:
            raise InvalidInput("a quantity cannot be applied to a weighed price label; scan each label")
        qty = round_div(qty * quantity, QTY_SCALE)
    return ScannedItem(product, qty, unit_price, discount, True, code, **label)


def add_scan(ctx: Context, code: str, quantity: int | None = None, *, layouts: BarcodeSettings | None = None,
             accept_expired: bool = False, today: dt.date | None = None) -> Draft:
    """Add what ``code`` names to the open sale (see ``resolve_scan``). Scanning an item already on the sale adds
    to that line; each weighed label, and each item with a lot or expiry date on its label, is its own line.

    An item whose label says it has expired raises ``ExpiredItem``: call again with ``accept_expired=True`` once
    the cashier has acknowledged it. A refund takes expired goods back without the question."""
    item = resolve_scan(ctx, code, quantity, layouts=layouts, accept_expired=True)
    if not accept_expired and _expired(item, today):
        row = _open_row(ctx, create=False)  # read only for an expired item: a scan costs no extra query
        if row is None or row.mode != "refund":
            raise ExpiredItem(item)
    product = item.product
    if not product.active:
        raise InvalidInput(f"{product.sku} is no longer sold (inactive)")
    labelled = {"lot": item.lot, "expiry": item.expiry.isoformat() if item.expiry else None}
    if item.weighed:
        return _add_line(ctx, product.id, product.name, item.quantity, item.unit_price, product.tax_rate, item.code,
                         discount=item.discount, weighed=True, **labelled)
    draft = _add_line(ctx, product.id, product.name, item.quantity, item.unit_price, product.tax_rate, item.code,
                      refund_sku=product.sku, merge=not (item.lot or item.expiry), **labelled)
    draft.notice = _addon_notice(item)
    return draft


def _addon_notice(item: ScannedItem) -> str | None:
    """A book's price add-on, to show beside the shop's own price (it is never what is charged)."""
    if item.addon_price is None:
        return None
    currency, minor = item.addon_price
    return f"{item.product.sku}: the add-on {item.addon} prints a price of {currency} {format_money(minor, 2)}"


def _unit_for(qty: int, price: int) -> tuple[int, int]:
    u = round_div(price * QTY_SCALE, qty)
    if extend(qty, u) == price:
        return u, 0
    u = -(-price * QTY_SCALE // qty)
    return u, extend(qty, u) - price


def add_product(ctx: Context, product: str | int | Product, quantity: int = QTY_SCALE, *,
                unit_price: int | None = None) -> Draft:
    """Add a product chosen by SKU, id or object (e.g. right after creating it for an unknown code)."""
    product = find_product(product)
    if not product.active:
        raise InvalidInput(f"{product.sku} is no longer sold (inactive)")
    if quantity <= 0:
        raise InvalidInput("quantity must be more than zero")
    price = product.price if unit_price is None else unit_price
    if price < 0:
        raise InvalidInput("price must not be negative")
    audit = None
    if price != product.price:
        approval = permissions.require(ctx, permissions.PRICE_OVERRIDE)

        def audit(line_id: int) -> None:
            subject = f"product:{product.id}"
            audit_log.record(ctx, "price_override", subject=subject, supervisor_id=approval.supervisor_id,
                             detail={"sku": product.sku, "catalogue": product.price, "price": price,
                                     "quantity": quantity})
            approval.record(ctx, subject)
    return _add_line(ctx, product.id, product.name, quantity, price, product.tax_rate, product.sku,
                     refund_sku=product.sku, audit=audit)


def add_one_off(ctx: Context, description: str, unit_price: int, quantity: int = QTY_SCALE, *,
                tax_rate: int | None = None, code: str = "") -> Draft:
    """Sell an item that is not in the catalogue at a typed price (no stock movement)."""
    if not description.strip():
        raise InvalidInput("a one-off item needs a description")
    description = clean(description, field="description")
    if unit_price < 0:
        raise InvalidInput("price must not be negative")
    if quantity <= 0:
        raise InvalidInput("quantity must be more than zero")
    rate = ctx.default_tax_rate if tax_rate is None else tax_rate
    approval = permissions.require(ctx, permissions.ONE_OFF_ITEM)
    return _add_line(ctx, None, description.strip(), quantity, unit_price, rate, code, merge=False,
                     audit=lambda line_id: approval.record(ctx, f"open_sale_line:{line_id}",
                                                           {"description": description.strip(),
                                                            "price": unit_price}))


def _add_line(ctx: Context, product_id: int | None, description: str, qty: int, unit_price: int, tax_rate: int,
              code: str, *, discount: int = 0, weighed: bool = False, merge: bool = True,
              refund_sku: str = "", lot: str | None = None, expiry: str | None = None,
              audit: Callable[[int], None] | None = None) -> Draft:
    with _writing(ctx):
        row = _open_row(ctx, create=True)
        if row.mode == "refund" and row.original_sale is None and product_id is None:
            raise InvalidInput("a refund without a receipt takes back catalogue items only")
        if row.mode == "refund" and row.original_sale is not None:
            line_id = _add_refund_line(row, product_id, qty, refund_sku or description)
        else:
            line_id = None
            if merge and not weighed and product_id is not None:
                same = (OpenSaleLine.select(OpenSaleLine.id)
                        .where((OpenSaleLine.open_sale == row.id) & (OpenSaleLine.product == product_id)
                               & (OpenSaleLine.unit_price == unit_price) & (OpenSaleLine.discount == 0)
                               & OpenSaleLine.discount_rate.is_null()
                               & OpenSaleLine.lot.is_null() & OpenSaleLine.expiry.is_null()
                               & ~OpenSaleLine.code.startswith(_WEIGHED))
                        .order_by(OpenSaleLine.line_no.desc()).first())
                if same is not None:
                    line_id = same.id
                    OpenSaleLine.update(quantity=OpenSaleLine.quantity + qty).where(
                        OpenSaleLine.id == line_id).execute()
            if line_id is None:
                line_id = OpenSaleLine.insert(
                    open_sale=row.id, line_no=_next_line_no(row), product=product_id, description=description,
                    quantity=qty, unit_price=unit_price, discount=discount, tax_rate=tax_rate,
                    code=(_WEIGHED + code) if weighed else code, lot=lot, expiry=expiry).execute()
        if audit is not None:
            audit(line_id)
        _touch(row)
    draft = _load(row, ctx)
    draft.changed_line = line_id
    return draft


def _add_refund_line(row: OpenSale, product_id: int | None, qty: int, label: str) -> int:
    """In a refund against a sale, a scan counts one more of that sale's line back."""
    line = (OpenSaleLine.select().where((OpenSaleLine.open_sale == row.id) & (OpenSaleLine.product == product_id))
            .first()) if product_id is not None else None
    if line is None:
        raise InvalidInput(f"{label} is not on sale {row.original_sale} (or was already returned)")
    _check_returnable(row, line, line.quantity + qty)
    OpenSaleLine.update(quantity=line.quantity + qty).where(OpenSaleLine.id == line.id).execute()
    return line.id


def _check_returnable(row: OpenSale, line: OpenSaleLine, qty: int) -> None:
    left = sales.returnable(row.original_sale)
    lines = SaleLine.select(SaleLine.id).where(SaleLine.sale == row.original_sale)
    if line.product_id is not None:
        lines = lines.where(SaleLine.product == line.product_id)
    else:
        lines = lines.where(SaleLine.product.is_null() & (SaleLine.description == line.description))
    available = sum(left.get(o.id, 0) for o in lines)
    if qty > available:
        raise InvalidInput(f"{line.description}: only {format_qty(available)} can be returned on sale "
                           f"{row.original_sale}, not {format_qty(qty)}")


def _line_of(ctx: Context, line_id: int) -> tuple[OpenSale, OpenSaleLine]:
    row = _open_row(ctx, create=False)
    line = None
    if row is not None:
        line = OpenSaleLine.get_or_none((OpenSaleLine.id == line_id) & (OpenSaleLine.open_sale == row.id))
    if line is None:
        raise NotFound(f"line {line_id} is not on the open sale (was it removed at another session?)")
    return row, line


def _fit_sale_discount(ctx: Context, row: OpenSale) -> str | None:
    """After the lines changed: a sale discount given as an amount that is now more than the lines' sum is removed
    (call inside the write transaction); returns the notice to show. A percentage simply follows the lines."""
    if row.mode != "sale" or row.discount_rate is not None or not row.discount:
        return None
    lines = OpenSaleLine.select().where(OpenSaleLine.open_sale == row.id)
    net = sum(extend(line.quantity, line.unit_price)
              - (sales.percent_of(extend(line.quantity, line.unit_price), line.discount_rate)
                 if line.discount_rate is not None else line.discount) for line in lines)
    if row.discount <= net:
        return None
    OpenSale.update(discount=0).where(OpenSale.id == row.id).execute()
    if not net:
        return None  # the last line went: no sale left to discount
    return (f"the sale discount of {format_money(row.discount, ctx.decimals)} was more than the sale now comes to "
            f"({format_money(net, ctx.decimals)}) and was removed; give it again if it still applies")


def _changed(ctx: Context, row: OpenSale, line_id: int | None, notice: str | None) -> Draft:
    draft = _load(OpenSale.get_by_id(row.id), ctx)
    draft.changed_line = line_id
    draft.notice = notice
    return draft


def set_quantity(ctx: Context, line_id: int, quantity: int) -> Draft:
    """Set a line's quantity (thousandths). Zero removes the line."""
    if quantity < 0:
        raise InvalidInput("quantity must not be negative", field="quantity", line=line_id)
    if quantity == 0:
        return remove_line(ctx, line_id)
    row, line = _line_of(ctx, line_id)
    approval = None
    if quantity < line.quantity:
        _refuse_below_paid(ctx, row, lambda: OpenSaleLine.update(quantity=quantity).where(
            OpenSaleLine.id == line.id).execute())
        approval = _removal_approval(ctx, row)
    with _writing(ctx):
        row, line = _line_of(ctx, line_id)
        if line.discount_rate is None and line.discount > extend(quantity, line.unit_price):
            raise InvalidInput(f"{line.description}: the line discount is more than the new line amount",
                               field="quantity", line=line_id)
        if row.mode == "refund" and row.original_sale is not None:
            _check_returnable(row, line, quantity)
        OpenSaleLine.update(quantity=quantity).where(OpenSaleLine.id == line.id).execute()
        if quantity < line.quantity:
            _record_removal(ctx, row, line, approval, left=quantity)
        _touch(row)
        notice = _fit_sale_discount(ctx, row)
        _check_paid(ctx, row)
    return _changed(ctx, row, line_id, notice)


def set_price(ctx: Context, line_id: int, unit_price: int) -> Draft:
    """Sell a line at another unit price than the catalogue's (a price override): needs ``price_override`` and is
    in the audit log (``price_override``); back to the catalogue's price needs nothing. A one-off item's price is
    typed anyway: changing it needs ``one_off_item``. Not on a refund, which pays back what was charged."""
    if unit_price < 0:
        raise InvalidInput("price must not be negative", field="price", line=line_id, value=unit_price)
    row, line = _line_of(ctx, line_id)
    if row.mode == "refund":
        raise InvalidInput("a refund pays back what was charged: its prices are not changed", field="price",
                           line=line_id)
    product = Product.get_by_id(line.product_id) if line.product_id is not None else None
    if unit_price < line.unit_price:
        _refuse_below_paid(ctx, row, lambda: OpenSaleLine.update(unit_price=unit_price).where(
            OpenSaleLine.id == line.id).execute())
    if product is None:
        approval = permissions.require(ctx, permissions.ONE_OFF_ITEM)
    elif unit_price != product.price:
        approval = permissions.require(ctx, permissions.PRICE_OVERRIDE)
    else:
        approval = None
    with _writing(ctx):
        row, line = _line_of(ctx, line_id)
        if line.discount_rate is None and line.discount > extend(line.quantity, unit_price):
            raise InvalidInput(f"{line.description}: the line discount is more than the line at this price",
                               field="price", line=line_id)
        OpenSaleLine.update(unit_price=unit_price).where(OpenSaleLine.id == line.id).execute()
        if approval is not None and unit_price != line.unit_price:
            subject = f"product:{product.id}" if product is not None else f"open_sale_line:{line.id}"
            if product is not None:
                audit_log.record(ctx, "price_override", subject=subject, supervisor_id=approval.supervisor_id,
                                 detail={"sku": product.sku, "catalogue": product.price, "price": unit_price,
                                         "was": line.unit_price, "quantity": line.quantity, "line": line.line_no})
            approval.record(ctx, subject, {"description": line.description, "price": unit_price})
        _touch(row)
        notice = _fit_sale_discount(ctx, row)
        _check_paid(ctx, row)
    return _changed(ctx, row, line_id, notice)


def _line_detail(line: OpenSaleLine) -> dict[str, object]:
    return {"line": line.line_no, "product": line.product_id, "description": line.description,
            "quantity": line.quantity, "unit_price": line.unit_price, "discount": line.discount}


def remove_line(ctx: Context, line_id: int) -> Draft:
    """Take a line off the open sale; recorded in the audit log (``line_removed``) with what it was. Once payment
    has started it needs ``remove_line_after_payment``."""
    row, line = _line_of(ctx, line_id)
    _refuse_below_paid(ctx, row, lambda: OpenSaleLine.delete().where(OpenSaleLine.id == line.id).execute())
    approval = _removal_approval(ctx, row)
    with _writing(ctx):
        row, line = _line_of(ctx, line_id)
        OpenSaleLine.delete().where(OpenSaleLine.id == line.id).execute()
        _record_removal(ctx, row, line, approval)
        _touch(row)
        notice = _fit_sale_discount(ctx, row)
        _check_paid(ctx, row)
    return _changed(ctx, row, None, notice)


def _payment_started(row: OpenSale) -> bool:
    return OpenSalePayment.select().where(OpenSalePayment.open_sale == row.id).exists()


def _removal_approval(ctx: Context, row: OpenSale) -> permissions.Approval | None:
    """Before the write transaction (a supervisor's wrong PIN is kept): once payment has started, taking goods
    off the sale needs ``remove_line_after_payment``; None before."""
    return permissions.require(ctx, permissions.REMOVE_LINE_AFTER_PAYMENT) if _payment_started(row) else None


def _refuse_below_paid(ctx: Context, row: OpenSale, change: Callable[[], object]) -> None:
    """Once payment has started, before a supervisor is asked to approve ``change`` (a removal, a lower quantity
    or price, a discount): refused now if it would bring the sale below what has been paid (tried and undone), not
    after the supervisor has typed their PIN."""
    if not _payment_started(row):
        return
    with _writing(ctx), database.obj.atomic() as trial:
        change()
        _fit_sale_discount(ctx, row)
        _check_paid(ctx, row)
        trial.rollback()


def _record_removal(ctx: Context, row: OpenSale, line: OpenSaleLine, approval: permissions.Approval | None, *,
                    left: int = 0) -> None:
    """Inside the transaction: ``line_removed`` (all of the line, or down to ``left``), with the approval.

    A line lowered before payment started is ringing up, not worth a record; a line taken off always is."""
    started = _payment_started(row)
    if started and approval is None:  # a part payment was taken at another session meanwhile
        raise InvalidInput("a payment was taken on this sale at another session at this terminal meanwhile; "
                           "try again")
    if left and not started:
        return
    subject = f"open_sale:{row.id}"
    detail = _line_detail(line)
    if left:
        detail.update(removed=line.quantity - left, left=left)
    if started:
        detail["paid"] = sum(amount for _, amount in _taken(row.id))
    audit_log.record(ctx, "line_removed", subject=subject, detail=detail,
                     supervisor_id=approval.supervisor_id if approval else None)
    if approval is not None:
        approval.record(ctx, subject, {"line": line.line_no, "description": line.description})


def _check_paid(ctx: Context, row: OpenSale) -> None:
    """Inside the transaction, after a change that can lower the total: refused (rolled back) when the sale would
    come to less than what has already been paid on it."""
    paid = sum(amount for _, amount in _taken(row.id))
    if not paid:
        return
    total = _load(OpenSale.get_by_id(row.id), ctx).total  # as changed: ``row`` is as read before
    if total < paid:
        raise InvalidInput(f"{format_money(paid, ctx.decimals)} has already been paid on this sale: it cannot come "
                           f"to less ({format_money(total, ctx.decimals)}); void the sale to give the payment back",
                           field="payment", reason="less than paid", value=paid)


def _no_refund_discounts(row: OpenSale) -> None:
    if row.mode == "refund":
        raise InvalidInput("discounts do not apply to a refund: it pays back what was charged", field="discount")


def _check_rate(rate: int) -> None:
    if not 0 <= rate <= PERCENT_SCALE:
        raise InvalidInput("a discount in percent must be between 0 and 100 %", field="discount", value=rate)


def set_line_discount(ctx: Context, line_id: int, amount: int = 0, *, rate: int | None = None) -> Draft:
    """A discount off one line: ``amount`` minor units, or ``rate`` basis points (a percentage, which stays one:
    worked out again whenever the line changes). 0 removes it. Above the role's limit it needs
    ``discount_over_limit``; every discount given is in the audit log."""
    if rate is not None:
        _check_rate(rate)
        amount = 0
    row, line = _line_of(ctx, line_id)
    gross = _check_line_discount(ctx, row, line, amount, rate)
    _refuse_below_paid(ctx, row, lambda: OpenSaleLine.update(discount=amount, discount_rate=rate or None).where(
        OpenSaleLine.id == line.id).execute())
    approval = _discount_approval(ctx, rate if rate is not None else permissions.discount_rate(amount, gross))
    with _writing(ctx):
        row, line = _line_of(ctx, line_id)
        _check_line_discount(ctx, row, line, amount, rate)
        OpenSaleLine.update(discount=amount, discount_rate=rate or None).where(OpenSaleLine.id == line.id).execute()
        _record_discount(ctx, approval, f"open_sale:{row.id}", amount, rate, line=line)
        _touch(row)
        notice = _fit_sale_discount(ctx, row)
        _check_paid(ctx, row)
    return _changed(ctx, row, line_id, notice)


def _check_line_discount(ctx: Context, row: OpenSale, line: OpenSaleLine, amount: int, rate: int | None) -> int:
    """The line's gross amount, once the discount is one it can take."""
    _no_refund_discounts(row)
    gross = extend(line.quantity, line.unit_price)
    if rate is None and not 0 <= amount <= gross:
        raise InvalidInput(f"{line.description}: discount must be between 0 and "
                           f"{format_money(gross, ctx.decimals)}", field="discount", line=line.id)
    return gross


def _discount_approval(ctx: Context, rate: int) -> permissions.Approval | None:
    """None for no discount (removing one needs no approval); else the check against the role's limit. Outside
    the write transaction: a supervisor's wrong PIN is recorded."""
    return permissions.require_discount(ctx, rate) if rate else None


def _record_discount(ctx: Context, approval: permissions.Approval | None, subject: str, amount: int,
                     rate: int | None, *, line: OpenSaleLine | None = None) -> None:
    if approval is None:
        return
    detail: dict[str, object] = {"amount": amount, "rate": rate}
    if line is not None:
        detail.update(line=line.line_no, description=line.description)
    audit_log.record(ctx, "discount", subject=subject, detail=detail, supervisor_id=approval.supervisor_id)
    approval.record(ctx, subject, {"amount": amount, "rate": rate})


def parse_discount(text: str, decimals: int) -> tuple[int, int | None]:
    """A discount as typed: ``"1.50"`` → (150, None), ``"10%"`` / ``"12.5 %"`` → (0, 1250) basis points."""
    from shopkeeper.money import parse_money, parse_percent

    text = text.strip()
    if text.endswith("%"):
        return 0, parse_percent(text[:-1].strip(), what="discount percentage")
    return parse_money(text or "0", decimals, what="discount"), None


def set_sale_discount(ctx: Context, amount: int = 0, *, rate: int | None = None) -> Draft:
    """A discount off the whole sale, shared over its lines: ``amount`` minor units, or ``rate`` basis points (a
    percentage of the lines' sum, worked out again on every change until payment). 0 removes it."""
    if amount < 0:
        raise InvalidInput("discount must not be negative", field="discount")
    if rate is not None:
        _check_rate(rate)
        amount = 0
    row = _open_row(ctx, create=False)
    net = _lines_net(_load(row, ctx).lines) if row is not None else 0
    if row is not None and amount <= net:
        _refuse_below_paid(ctx, row, lambda: OpenSale.update(discount=amount, discount_rate=rate or None).where(
            OpenSale.id == row.id).execute())
    approval = _discount_approval(ctx, rate if rate is not None else permissions.discount_rate(amount, net))
    with _writing(ctx):
        row = _open_row(ctx, create=True)
        _no_refund_discounts(row)
        draft = _load(row, ctx)
        net = _lines_net(draft.lines)
        if amount > net:
            raise InvalidInput(f"sale discount must be between 0 and {format_money(net, ctx.decimals)}",
                               field="discount")
        OpenSale.update(discount=amount, discount_rate=rate or None, updated_at=utcnow()).where(
            OpenSale.id == row.id).execute()
        _record_discount(ctx, approval, f"open_sale:{row.id}", amount, rate)
        _check_paid(ctx, row)
    return _load(OpenSale.get_by_id(row.id), ctx)


def void(ctx: Context) -> list[tuple[str, int]]:
    """Throw away the open sale (nothing was sold; no stock moved). A sale with lines needs ``void_sale`` and is
    recorded in the audit log (``sale_voided``) with its lines. Returns the part payments taken on it (method,
    amount), which the customer is to be given back."""
    row = _open_row(ctx, create=False)
    if row is None:
        return []
    has_lines = OpenSaleLine.select().where(OpenSaleLine.open_sale == row.id).exists()
    approval = permissions.require(ctx, permissions.VOID_SALE) if has_lines else None
    with _writing(ctx):
        row = _open_row(ctx, create=False)
        if row is None:
            return []
        taken = _taken(row.id)
        lines = list(OpenSaleLine.select().where(OpenSaleLine.open_sale == row.id).order_by(OpenSaleLine.line_no))
        if lines:
            if approval is None:  # lines were added at another session meanwhile
                raise InvalidInput("the sale changed at another session at this terminal; void it again")
            subject = f"open_sale:{row.id}"
            detail = {"mode": row.mode, "lines": [_line_detail(line) for line in lines],
                      "discount": row.discount, "discount_rate": row.discount_rate}
            if taken:  # part payments to give back
                detail["payments"] = [{"method": method, "amount": amount} for method, amount in taken]
            audit_log.record(ctx, "sale_voided", subject=subject, supervisor_id=approval.supervisor_id,
                             detail=detail)
            approval.record(ctx, subject)
        _delete(row.id)
    return taken


def _delete(draft_id: int) -> None:
    OpenSalePayment.delete().where(OpenSalePayment.open_sale == draft_id).execute()
    OpenSaleLine.delete().where(OpenSaleLine.open_sale == draft_id).execute()
    OpenSale.delete().where(OpenSale.id == draft_id).execute()


# --- parking --------------------------------------------------------------------------------------------------

def park(ctx: Context, note: str = "") -> int:
    """Put the open sale aside to serve another customer; returns its number for ``resume``."""
    note = clean(note, field="note")
    with _writing(ctx):
        row = _open_row(ctx, create=False)
        if row is None or not OpenSaleLine.select().where(OpenSaleLine.open_sale == row.id).exists():
            raise InvalidInput("nothing to park: the sale is empty")
        OpenSale.update(status="parked", note=note.strip() or row.note, updated_at=utcnow()).where(
            OpenSale.id == row.id).execute()
    return row.id


def parked_sales() -> list[ParkedSale]:
    """Every parked sale, at any terminal, oldest first."""
    from peewee import JOIN, fn

    from shopkeeper.models import Staff, Terminal

    query = (OpenSale.select(OpenSale.id, OpenSale.mode, OpenSale.note, OpenSale.updated_at,
                             Terminal.name.alias("terminal_name"), Staff.name.alias("staff_name"),
                             fn.COUNT(OpenSaleLine.id).alias("n"))
             .join(Terminal, JOIN.LEFT_OUTER, on=(OpenSale.terminal == Terminal.id))
             .switch(OpenSale).join(Staff, JOIN.LEFT_OUTER, on=(OpenSale.staff == Staff.id))
             .switch(OpenSale).join(OpenSaleLine, JOIN.LEFT_OUTER)
             .where(OpenSale.status == "parked").group_by(OpenSale.id, Terminal.name, Staff.name)  # PostgreSQL: all
             .order_by(OpenSale.id).dicts())
    rows = list(query)
    taken: dict[int, list[tuple[str, int]]] = {}
    if rows:
        for draft_id, method, amount in (OpenSalePayment.select(OpenSalePayment.open_sale, OpenSalePayment.method,
                                                                OpenSalePayment.amount)
                                         .where(OpenSalePayment.open_sale.in_([r["id"] for r in rows]))
                                         .order_by(OpenSalePayment.id).tuples()):
            taken.setdefault(draft_id, []).append((method, amount))
    return [ParkedSale(r["id"], r["terminal_name"] or "", r["staff_name"] or "", r["mode"], r["note"], r["n"],
                       r["updated_at"], taken.get(r["id"], [])) for r in rows]


def resume(ctx: Context, draft_id: int) -> Draft:
    """Make parked sale ``draft_id`` the open sale here. A non-empty open sale is parked in its place."""
    with _writing(ctx):
        target = OpenSale.get_or_none((OpenSale.id == draft_id) & (OpenSale.status == "parked"))
        if target is None:
            raise NotFound(f"no parked sale {draft_id} (already resumed or completed elsewhere?)")
        _check_cash_stays(ctx, target)
        row = _open_row(ctx, create=False)
        if row is not None:
            if OpenSaleLine.select().where(OpenSaleLine.open_sale == row.id).exists():
                OpenSale.update(status="parked", updated_at=utcnow()).where(OpenSale.id == row.id).execute()
            else:
                _delete(row.id)
        OpenSale.update(status="open", terminal=terminal_id(ctx), updated_at=utcnow()).where(
            OpenSale.id == draft_id).execute()
        target = OpenSale.get_by_id(draft_id)
    return _load(target, ctx)


def _check_cash_stays(ctx: Context, target: OpenSale) -> None:
    """A parked sale holding cash part payments is resumed only at the till whose drawer has that cash: completed
    elsewhere, its cash would be expected in the other drawer."""
    here = terminal_id(ctx)
    if target.terminal_id is None or target.terminal_id == here:
        return
    cash = till_session.held_cash_of(target.id)
    if cash:
        from shopkeeper.models import Terminal

        there = Terminal.select(Terminal.name).where(Terminal.id == target.terminal_id).scalar() or "?"
        raise InvalidInput(f"parked sale {target.id}: cash {format_money(cash, ctx.decimals)} paid on it is in the "
                           f"drawer of till {there}: resume it there", field="sale", reason="cash at another till",
                           value=target.id)


# --- refunds ----------------------------------------------------------------------------------------------------

def start_refund(ctx: Context, sale_id: int | None = None, reason: str = "") -> Draft:
    """Turn the (empty) open sale into a refund.

    With ``sale_id``: every line of that sale not yet returned is loaded at the price paid; remove lines or lower
    quantities for a partial refund. Without: a ``reason`` is required and items are scanned at today's price.
    """
    if sale_id is None and not reason.strip():
        raise InvalidInput("a refund without a receipt needs a reason")
    reason = clean(reason, field="reason")
    with _writing(ctx):
        row = _open_row(ctx, create=True)
        if OpenSaleLine.select().where(OpenSaleLine.open_sale == row.id).exists():
            raise InvalidInput("finish, park or void the current sale before starting a refund")
        if sale_id is not None:
            sale = Sale.get_or_none(Sale.id == sale_id) if 0 < sale_id < 2**63 else None
            if sale is None or sale.kind != "sale":
                raise NotFound(f"no sale {sale_id}")
            left = sales.returnable(sale_id)
            n = 0
            merged: dict[tuple, int] = {}
            for orig in SaleLine.select().where(SaleLine.sale == sale_id).order_by(SaleLine.line_no):
                qty = left.get(orig.id, 0)
                if qty <= 0:
                    continue
                key = (orig.product_id, orig.description if orig.product_id is None else "")
                if key in merged:
                    OpenSaleLine.update(quantity=OpenSaleLine.quantity + qty).where(
                        OpenSaleLine.id == merged[key]).execute()
                    continue
                n += 1
                merged[key] = OpenSaleLine.insert(
                    open_sale=row.id, line_no=n, product=orig.product_id, description=orig.description,
                    quantity=qty, unit_price=orig.unit_price, discount=0, tax_rate=orig.tax_rate,
                    code=f"sale:{sale_id}").execute()
            if not n:
                raise InvalidInput(f"sale {sale_id}: everything on it has already been returned")
        OpenSale.update(mode="refund", original_sale=sale_id, note=reason.strip(), discount=0, discount_rate=None,
                        updated_at=utcnow()).where(OpenSale.id == row.id).execute()
    return _load(OpenSale.get_by_id(row.id), ctx)


# --- paying ------------------------------------------------------------------------------------------------------

def take_payment(ctx: Context, tender: Tender, *, expected_total: int | None = None) -> Draft:
    """Take a part payment on the open sale: ``tender.amount`` by ``tender.method``, less than what is still due
    (cash: less than that rounded to the cash step), kept with the draft. Payment has started from here on. A
    tender that covers the rest completes the sale instead (``complete``). A refund is paid back in one go."""
    if tender.method not in METHODS:
        raise InvalidInput(f"payment must be one of {', '.join(METHODS)}, not {tender.method!r}", field="payment",
                           value=tender.method)
    amount = tender.amount if tender.amount is not None else tender.tendered
    if amount is None or amount <= 0:
        raise InvalidInput("a part payment needs an amount more than zero", field="amount", value=amount)
    with _writing(ctx):
        row = _open_row(ctx, create=False)
        draft = _load(row, ctx) if row is not None else None
        if draft is None or not draft.lines:
            raise InvalidInput("nothing to pay: the sale is empty")
        if draft.mode == "refund":
            raise InvalidInput("a refund is paid back in one go, not in parts", field="payment")
        if draft.problem:
            raise InvalidInput(draft.problem)
        if expected_total is not None and draft.total != expected_total:
            raise InvalidInput(f"the sale changed at another session at this terminal: the total is now "
                               f"{format_money(draft.total, ctx.decimals)}; check it and pay again")
        owed = cash_due(draft.due, ctx.cash_rounding) if tender.method == "cash" else draft.due
        if amount >= owed:
            raise InvalidInput(f"{tender.method} {format_money(amount, ctx.decimals)} covers the "
                               f"{format_money(owed, ctx.decimals)} still due: complete the sale with it",
                               field="amount", value=amount)
        OpenSalePayment.insert(open_sale=row.id, method=tender.method, amount=amount, staff=staff_id(ctx),
                               created_at=utcnow()).execute()
        _touch(row)
    return _load(OpenSale.get_by_id(row.id), ctx)


def _with_taken(draft: Draft, method: str | None, tendered: int | None,
                tenders: list[Tender] | None) -> list[Tender] | None:
    """The tenders that pay ``draft``: its part payments first, then those given now (the rest when the part
    payments already cover it, none). Without part payments, ``tenders`` as given."""
    if not draft.payments:
        return tenders
    given = tenders if tenders is not None else legacy_tenders(method or "cash", tendered)
    taken = [Tender(m, amount) for m, amount in draft.payments]
    return taken if draft.due <= 0 else taken + list(given)


# --- completing --------------------------------------------------------------------------------------------------

@retry_clashes
def complete(ctx: Context, payment: str | Sequence[sales.Tender] | None = None, tendered: int | None = None, *,
             expected_total: int | None = None) -> sales.SaleResult:
    """Commit the open sale (or refund) and delete its draft, in one transaction. Returns what was committed.

    ``payment`` is a method (``"cash"``; ``tendered`` is the cash handed over) or the list of tenders of a split
    payment (``services.tenders``). None: cash for a sale; for a refund, the way the original sale was paid."""
    tenders = None if payment is None or isinstance(payment, str) else list(payment)
    method = payment if isinstance(payment, str) else None
    ahead = _open_row(ctx, create=False)
    if ahead is not None and ahead.mode == "refund":  # checked now, outside the lock, so a wrong PIN is kept
        permissions.require(ctx, permissions.REFUND)
    with _writing(ctx):
        row = _open_row(ctx, create=False)
        if row is None:
            raise InvalidInput("nothing to pay: the sale is empty")
        draft = _load(row, ctx)
        if not draft.lines:
            raise InvalidInput("nothing to pay: the sale is empty")
        if expected_total is not None and draft.total != expected_total:
            raise InvalidInput(f"the sale changed at another session at this terminal: the total is now "
                               f"{format_money(draft.total, ctx.decimals)}; check it and pay again")
        session = till_session.session_for_sale(ctx)  # the open till session, locked until this sale commits
        if draft.mode == "refund":
            if tendered is not None:
                raise InvalidInput("an amount tendered does not apply to a refund")
            result = sales.refund(ctx, _return_items(draft), sale_id=draft.original_sale, reason=draft.reason,
                                  payment=method, payments=tenders, till_session=session)
        else:
            paying = _with_taken(draft, method, tendered, tenders)
            result = sales.sell(ctx, _inputs(draft), payment=method or "cash",
                                tendered=tendered if paying is tenders else None, discount=draft.discount,
                                discount_rate=draft.discount_rate, payments=paying, till_session=session,
                                discount_approved=True)  # approved and recorded when given
        _delete(row.id)
    return result


def _return_items(draft: Draft) -> Sequence[sales.ReturnInput]:
    """The refund draft as ``sales.refund`` takes it (and ``sales.plan_refund``, for the preview)."""
    if draft.original_sale is None:
        if any(line.product_id is None for line in draft.lines):
            raise InvalidInput("a refund without a receipt takes back catalogue items only; remove the one-off line")
        return [sales.ReturnInput(line.product_id, line.quantity, unit_price=line.unit_price, discount=line.discount,
                                  tax_rate=line.tax_rate) for line in draft.lines]
    return [sales.ReturnInput(line.product_id, line.quantity, description=line.description) for line in draft.lines]
