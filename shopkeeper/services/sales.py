"""Sales and refunds. A sale is all its lines or none: one transaction writes the sale, its lines and their
movements, or nothing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from peewee import fn

from shopkeeper import bounds
from shopkeeper.db import insert_id, lock_in_order, locked, retry_clashes, statement, utcnow, write_transaction
from shopkeeper.errors import InvalidInput, NotFound
from shopkeeper.models import Payment, Product, Sale, SaleLine, database
from shopkeeper.money import PERCENT_SCALE, allocate, extend, format_qty, round_div
from shopkeeper.services import chain
from shopkeeper.services.catalog import find_product
from shopkeeper.services import audit_log, permissions
from shopkeeper.services.context import Context, staff_id, terminal_id
from shopkeeper.services.stock import Entry, post_movements, take_in_at_cost
from shopkeeper.services.tenders import METHODS, Settled, Settlement, Tender, legacy_tenders, settle
from shopkeeper.tax import line_taxes
from shopkeeper.text import clean

PAYMENTS = METHODS


@dataclass(frozen=True)
class LineInput:
    """One line to sell. ``product`` is a SKU, barcode, id or Product; ``None`` sells a one-off item, which then
    needs ``description`` and ``unit_price``."""

    product: str | int | Product | None
    quantity: int = 1000  # thousandths
    unit_price: int | None = None  # default: the product's price
    discount: int = 0  # minor units off this line
    description: str = ""
    tax_rate: int | None = None  # money.RATE_SCALE (20 % = 20000); default: the product's
    discount_rate: int | None = None  # a percentage off this line (basis points), instead of ``discount``
    lot: str | None = None  # from the item's label (GS1 AI 10), kept on the sale line and the movement
    expiry: str | None = None  # ISO date from the label (AI 17)


@dataclass
class PricedLine:
    product_id: int | None
    description: str
    quantity: int
    unit_price: int
    discount: int  # all of it: the line's own and its share of the sale discount
    tax_rate: int
    tax: int = 0
    total: int = 0
    unit_cost: int = 0
    sku: str = ""
    line_discount: int = 0  # the line's own discount, in minor units
    discount_rate: int | None = None  # when the line's own discount is a percentage (basis points)
    lot: str | None = None
    expiry: str | None = None

    @property
    def gross(self) -> int:
        return extend(self.quantity, self.unit_price)


@dataclass
class SaleResult:
    sale_id: int
    kind: str
    lines: list[PricedLine]
    subtotal: int
    discount: int
    tax: int
    total: int
    payment: str
    tendered: int | None
    change: int | None
    created_at: str
    on_hand: dict[int, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    discount_rate: int | None = None  # when the sale discount was a percentage (basis points)
    payments: tuple[Settled, ...] = ()  # the tenders, positive amounts (the Payment rows carry the sign)
    rounding: int = 0  # cash rounding, signed like ``total``: amount paid = total + rounding

    @property
    def paid(self) -> int:
        """What was paid (or paid back): total + cash rounding; the payments add up to it."""
        return self.total + self.rounding


def percent_of(amount: int, rate: int) -> int:
    """``rate`` basis points of ``amount`` minor units, rounded half to even. The one place a percentage discount
    becomes an amount: at every pricing, so it follows the lines until payment."""
    return round_div(amount * rate, PERCENT_SCALE)


def price_lines(ctx: Context, inputs: Sequence[LineInput], sale_discount: int = 0, *,
                sale_discount_rate: int | None = None) -> list[PricedLine]:
    """Resolve products and work out each line's discount, tax and total. Pure arithmetic in minor units.

    A percentage (``LineInput.discount_rate``, ``sale_discount_rate``) is worked out here from the lines as they
    are, replacing the amount given beside it."""
    if not inputs:
        raise InvalidInput("a sale needs at least one line")
    lines = []
    for n, item in enumerate(inputs, 1):
        if item.quantity <= 0:
            raise InvalidInput(f"line {n}: quantity must be more than zero")
        if item.product is None:
            if item.unit_price is None or not item.description.strip():
                raise InvalidInput(f"line {n}: a one-off item needs a description and a price")
            rate = item.tax_rate if item.tax_rate is not None else ctx.default_tax_rate
            line = PricedLine(None, item.description.strip(), item.quantity, item.unit_price, item.discount, rate)
        else:
            product = find_product(item.product)
            if not product.active:
                raise InvalidInput(f"line {n}: {product.sku} is no longer sold (inactive)")
            price = item.unit_price if item.unit_price is not None else product.price
            rate = item.tax_rate if item.tax_rate is not None else product.tax_rate
            line = PricedLine(product.id, item.description or product.name, item.quantity, price, item.discount,
                              rate, sku=product.sku, lot=item.lot, expiry=item.expiry)
        if line.unit_price < 0:
            raise InvalidInput(f"line {n}: price must not be negative")
        bounds.quantity(line.quantity, f"line {n}: quantity", line=n)
        bounds.money(line.gross, f"line {n}: amount", ctx.decimals, line=n)
        if item.discount_rate is not None:
            if not 0 <= item.discount_rate <= PERCENT_SCALE:
                raise InvalidInput(f"line {n}: discount must be between 0 and 100 %")
            line.discount = percent_of(line.gross, item.discount_rate)
            line.discount_rate = item.discount_rate
        if not 0 <= line.discount <= line.gross:
            raise InvalidInput(f"line {n}: discount must be between 0 and the line amount")
        line.line_discount = line.discount
        lines.append(line)
    net = [line.gross - line.discount for line in lines]
    if sale_discount_rate is not None:
        if not 0 <= sale_discount_rate <= PERCENT_SCALE:
            raise InvalidInput("sale discount must be between 0 and 100 %")
        sale_discount = percent_of(sum(net), sale_discount_rate)
    if not 0 <= sale_discount <= sum(net):
        raise InvalidInput("sale discount must be between 0 and the sale amount")
    amounts = []
    for line, amount, share in zip(lines, net, allocate(sale_discount, net)):
        line.discount += share
        amounts.append(amount - share)
    taxes = line_taxes(amounts, [line.tax_rate for line in lines], included=ctx.prices_include_tax,
                       rules=ctx.tax_rules)
    for line, amount, tax in zip(lines, amounts, taxes):
        line.tax = tax
        line.total = amount if ctx.prices_include_tax else amount + tax
    return lines


def _settle(ctx: Context, due: int, payments: Sequence[Tender] | None, payment: str, tendered: int | None,
            *, refund: bool = False) -> Settlement:
    """The tenders for ``due`` (positive): ``payments``, or the one of the older ``payment``/``tendered``."""
    if payments is None:
        payments = legacy_tenders(payment, tendered)
    elif tendered is not None:
        raise InvalidInput("give the cash handed over in its Tender, not as tendered=", field="tendered")
    return settle(due, payments, cash_step=ctx.cash_rounding, decimals=ctx.decimals, refund=refund)


# The columns in the hash chain's order: the values bound are what ``chain.register_row`` hashes.
def _sale_sql(p: str) -> str:
    return f"INSERT INTO sale ({chain.insert_columns('sale')}) VALUES ({', '.join([p] * 15)})"


def _line_sql(p: str) -> str:
    return f"INSERT INTO sale_line ({chain.insert_columns('sale_line')}) VALUES ({', '.join([p] * 14)})"


def _payment_sql(p: str) -> str:
    return f"INSERT INTO payment ({chain.insert_columns('payment')}) VALUES ({p}, {p}, {p}, {p}, {p})"


def _write_sale(ctx: Context, kind: str, lines: list[PricedLine], entries: list[Entry], *, discount: int,
                paid: Settlement, original: int | None = None, reason: str = "",
                original_lines: list[int | None] | None = None, till_session: int | None = None) -> SaleResult:
    """Insert the sale and its payments, post its movements, then its lines with their cost of goods. Call inside a
    transaction. ``Sale.payment`` is the summary (``cash``, ``card``, ``other``, or ``split``), ``Sale.tendered`` and
    ``change`` the cash that crossed the counter, ``Sale.rounding`` the cash rounding; one ``Payment`` row per
    tender, signed like the total, adding up to total + rounding. ``till_session``: the open till session it was
    rung up in; by default the one open at ``ctx.terminal`` (a sale from the command line or a counter counts in
    that till's cash-up too), locked until the sale commits."""
    if till_session is None:
        from shopkeeper.services.till_session import session_for_sale

        till_session = session_for_sale(ctx)
    db = database.obj
    sale_sql, line_sql = statement(db, "sales.sale", _sale_sql), statement(db, "sales.line", _line_sql)
    now = utcnow()
    sign = -1 if kind == "return" else 1
    subtotal = sign * sum(line.gross - line.discount for line in lines) + sign * discount
    tax = sign * sum(line.tax for line in lines)
    total = sign * sum(line.total for line in lines)
    tendered, change, rounding = paid.tendered, paid.change, sign * paid.rounding
    for what, amount in (("sale total", total), ("subtotal", subtotal), ("tax", tax), ("tendered", tendered or 0)):
        bounds.money(amount, what, ctx.decimals)
    sale = (kind, now, staff_id(ctx), terminal_id(ctx), original, subtotal, sign * discount, tax, total,
            paid.summary, tendered, change, reason, till_session, rounding)
    sale_id = insert_id(db, sale_sql, sale)
    payment_sql = statement(db, "sales.payment", _payment_sql)
    payments = []
    for tender in paid.tenders:
        values = (tender.method, sign * tender.amount, tender.tendered, tender.change)
        payments.append((insert_id(db, payment_sql, (sale_id, *values)), *values))
    reference = f"{kind}:{sale_id}"
    entries = [e._replace(reference=reference, sale_id=sale_id) for e in entries]
    posted = post_movements(ctx, entries, now=now, savepoint=False)  # the sale's transaction is all or nothing
    costs = iter(posted.unit_costs)
    original_lines = original_lines or [None] * len(lines)
    written = []
    for n, (line, original_line) in enumerate(zip(lines, original_lines), 1):
        if line.product_id is not None:
            line.unit_cost = next(costs)
        values = (n, line.product_id, line.description, line.quantity, line.unit_price, sign * line.discount,
                  line.tax_rate, sign * line.tax, sign * line.total, line.unit_cost, original_line, line.lot,
                  line.expiry)
        written.append((insert_id(db, line_sql, (sale_id, *values)), *values))
    chain.register_row("sale", (sale_id, *sale), written, payments)  # sealed at commit from these values
    return SaleResult(sale_id, kind, lines, subtotal, sign * discount, tax, total, paid.summary, tendered, change,
                      now, posted.on_hand, posted.warnings, payments=paid.tenders, rounding=rounding)


@retry_clashes
def sell(ctx: Context, inputs: Sequence[LineInput], *, payment: str = "cash", tendered: int | None = None,
         discount: int = 0, discount_rate: int | None = None, payments: Sequence[Tender] | None = None,
         till_session: int | None = None, discount_approved: bool = False) -> SaleResult:
    """Commit a sale of one or more lines: every line and movement, or nothing. ``discount_rate`` (basis points)
    is a sale discount in percent, worked out from the lines as they are now.

    A sale discount is held to the staff member's role (``permissions.require_discount``) and recorded in the
    audit log, unless ``discount_approved``: the till's, checked and recorded when it was given.

    Paid by ``payments`` (split tender, see ``services.tenders``), or by one ``payment`` method with cash
    ``tendered`` (the older keywords). ``till_session``: the open till session it was rung up in
    (``till.complete``)."""
    # a one-off item's description is new text for the (append-only) sale: the stored-text rule applies
    inputs = [replace(i, description=clean(i.description, field="description")) if i.product is None else i
              for i in inputs]
    lines = price_lines(ctx, inputs, discount, sale_discount_rate=discount_rate)
    given = discount
    if discount_rate is not None:
        discount = sum(line.discount - line.line_discount for line in lines)
    total = sum(line.total for line in lines)
    paid = _settle(ctx, total, payments, payment, tendered)
    approval = None
    if (given or discount_rate) and not discount_approved:
        net = sum(line.gross - line.line_discount for line in lines)
        approval = permissions.require_discount(
            ctx, discount_rate if discount_rate is not None else permissions.discount_rate(discount, net))
    entries = [Entry(line.product_id, "sale", -line.quantity, unit_price=line.unit_price, lot=line.lot,
                     expiry=line.expiry)
               for line in lines if line.product_id is not None]
    with write_transaction():
        result = _write_sale(ctx, "sale", lines, entries, discount=discount, paid=paid, till_session=till_session)
        if approval is not None:
            subject = f"sale:{result.sale_id}"
            detail = {"amount": discount, "rate": discount_rate}
            audit_log.record(ctx, "discount", subject=subject, detail=detail, supervisor_id=approval.supervisor_id)
            approval.record(ctx, subject, detail)
    result.discount_rate = discount_rate
    return result


@dataclass(frozen=True)
class ReturnInput:
    """Goods to take back: a product (SKU, barcode, id), or ``None`` with the ``description`` of a one-off item
    sold on the receipt."""

    product: str | int | Product | None
    quantity: int  # thousandths
    description: str = ""
    unit_price: int | None = None  # without a receipt: the price the till showed (default: today's price)
    discount: int = 0
    tax_rate: int | None = None


def returnable(sale_id: int) -> dict[int, int]:
    """Per original sale line id: the quantity not yet returned."""
    sold = {line.id: line.quantity for line in SaleLine.select().where(SaleLine.sale == sale_id)}
    returned: dict[int, int] = defaultdict(int)
    for line in SaleLine.select().where(SaleLine.original_line.in_(list(sold))):
        returned[line.original_line_id] += line.quantity
    return {line_id: qty - returned[line_id] for line_id, qty in sold.items()}


@retry_clashes
def refund(ctx: Context, items: Sequence[ReturnInput] = (), *, sale_id: int | None = None, reason: str = "",
           payment: str | None = None, payments: Sequence[Tender] | None = None,
           till_session: int | None = None) -> SaleResult:
    """Take goods back and pay the customer.

    Against ``sale_id``: at most what that sale sold and was not yet returned, at the price paid; no items means
    everything still returnable. Without a receipt: a ``reason`` is required, priced at today's price.
    Returned goods go back into stock at the cost they left at.

    Paid back by ``payments`` (split tender), or all by ``payment``; with neither, the way the original sale was
    paid (``refund_tenders``), and cash without a receipt.
    """
    if payment is not None and payment not in PAYMENTS:
        raise InvalidInput(f"payment must be one of {', '.join(PAYMENTS)}, not {payment!r}", field="payment")

    def paid_back(lines: list[PricedLine]) -> Settlement:
        due = sum(line.total for line in lines)
        if payments is not None:
            chosen = payments
        elif payment is not None:
            chosen = [Tender(payment)]
        else:
            chosen = refund_tenders(sale_id, due) if sale_id is not None else [Tender("cash")]
        return settle(due, chosen, cash_step=ctx.cash_rounding, decimals=ctx.decimals, refund=True)
    reason = clean(reason, field="reason")
    approval = permissions.require(ctx, permissions.REFUND)  # before the transaction: a wrong PIN is kept
    with write_transaction():
        result = _refund(ctx, items, sale_id, reason, paid_back, till_session)
        approval.record(ctx, f"sale:{result.sale_id}", {"original": sale_id, "total": result.total})
    return result


def _refund(ctx: Context, items: Sequence[ReturnInput], sale_id: int | None, reason: str, paid_back,
            till_session: int | None) -> SaleResult:
    if sale_id is None:
        if not reason.strip():
            raise InvalidInput("a return without a receipt needs a reason")
        if not items:
            raise InvalidInput("nothing to return")
        lines = price_lines(ctx, [LineInput(i.product, i.quantity, i.unit_price, i.discount, tax_rate=i.tax_rate)
                                  for i in items])
        entries, restocked = [], defaultdict(int)
        lock_in_order(Product, {line.product_id for line in lines})
        for line in lines:
            product = Product.get_by_id(line.product_id)
            entries.append(_return_entry(product, line.quantity, product.avg_cost, line.unit_price,
                                         pending=restocked[product.id]))
            restocked[product.id] += line.quantity
        return _write_sale(ctx, "return", lines, entries, discount=0, paid=paid_back(lines),
                           reason=reason.strip(), till_session=till_session)
    sale = locked(Sale.select().where(Sale.id == sale_id)).first()  # one refund of a sale at a time
    if sale is None or sale.kind != "sale":
        raise NotFound(f"no sale {sale_id}")
    parts = plan_refund(sale_id, items)
    lines, entries, links = [], [], []
    restocked: dict[int, int] = defaultdict(int)  # returned earlier in this refund, not yet posted
    lock_in_order(Product, {part.line.product_id for part in parts} - {None})
    for part in parts:
        orig = part.line
        lines.append(refund_line(ctx, part))
        links.append(orig.id)
        if orig.product_id is not None:
            product = Product.get_by_id(orig.product_id)
            entries.append(_return_entry(product, part.quantity, orig.unit_cost, orig.unit_price,
                                         pending=restocked[product.id], lot=orig.lot, expiry=orig.expiry))
            restocked[product.id] += part.quantity
    return _write_sale(ctx, "return", lines, entries, discount=0, paid=paid_back(lines), original=sale_id,
                       reason=reason.strip(), original_lines=links, till_session=till_session)


def sale_payments(sale_id: int) -> list[tuple[str, int]]:
    """How sale ``sale_id`` was paid: (method, amount) per tender, in order, amounts as stored (signed)."""
    return [(p.method, p.amount) for p in Payment.select(Payment.method, Payment.amount)
            .where(Payment.sale == sale_id).order_by(Payment.id)]


def paid_by_method(sale_id: int) -> list[tuple[str, int]]:
    """How sale ``sale_id`` was paid, one (method, amount) per method in the order first used: two cash part
    payments are one "cash" (what a cashier paying a refund back needs to know)."""
    paid: dict[str, int] = {}
    for method, amount in sale_payments(sale_id):
        paid[method] = paid.get(method, 0) + amount
    return list(paid.items())


def refund_tenders(sale_id: int, due: int) -> list[Tender]:
    """The default way to pay back ``due`` on a refund of sale ``sale_id``: the way it was paid. A sale paid by one
    method is paid back by it; a split sale pays back to its card and other tenders first (each at most what it
    paid less what earlier refunds of that sale paid back to it), then cash for the rest."""
    paid = dict(paid_by_method(sale_id))
    if len(paid) <= 1:
        return [Tender(next(iter(paid), "cash"))]
    returns = Sale.select(Sale.id).where((Sale.original == sale_id) & (Sale.kind == "return"))
    for method, amount in (Payment.select(Payment.method, fn.SUM(Payment.amount)).where(Payment.sale.in_(returns))
                           .group_by(Payment.method).tuples()):
        paid[method] = paid.get(method, 0) + amount  # refunds are stored negative
    out, left = [], due
    for method in ("card", "other"):
        take = min(left, max(paid.get(method, 0), 0))
        if take:
            out.append(Tender(method, take))
            left -= take
    if left or not out:
        out.append(Tender("cash"))
    return out


@dataclass(frozen=True)
class RefundPart:
    """What a refund takes back of one line of the original sale, and what that pays back."""

    line: SaleLine
    quantity: int  # thousandths
    amount: int  # money paid back, tax included (positive)
    tax: int


def plan_refund(sale_id: int, items: Sequence[ReturnInput] = ()) -> list[RefundPart]:
    """The refund plan, for the till's preview and for ``refund`` alike: which lines of sale ``sale_id`` taking
    back ``items`` (none: everything not yet returned) refunds, how many of each, and for how much.

    Items are spread over the sale's lines for their product in line order; the pieces of one line (a product
    listed several times) are merged before the line's total and tax are shared, so a line refunded completely
    pays back exactly what it took, however it was listed.
    """
    originals = {line.id: line for line in SaleLine.select().where(SaleLine.sale == sale_id)
                 .order_by(SaleLine.line_no)}
    left = returnable(sale_id)
    wanted = _match_return(sale_id, items, originals, left) if items else [(i, q) for i, q in left.items() if q > 0]
    if not wanted:
        raise InvalidInput(f"sale {sale_id}: everything on it has already been returned")
    merged: dict[int, int] = {}
    for line_id, qty in wanted:
        merged[line_id] = merged.get(line_id, 0) + qty
    return [RefundPart(originals[line_id], qty, *refund_share(originals[line_id], qty, left[line_id]))
            for line_id, qty in sorted(merged.items(), key=lambda item: originals[item[0]].line_no)]


def refund_line(ctx: Context, part: RefundPart) -> PricedLine:
    """The refund's line for ``part``, at the price paid: its discount is what is not paid back."""
    orig = part.line
    not_paid_back = extend(part.quantity, orig.unit_price) - part.amount + (0 if ctx.prices_include_tax else part.tax)
    return PricedLine(orig.product_id, orig.description, part.quantity, orig.unit_price, not_paid_back,
                      orig.tax_rate, tax=part.tax, total=part.amount, sku=orig.product.sku if orig.product_id else "",
                      lot=orig.lot, expiry=orig.expiry)


def refund_share(orig: SaleLine, qty: int, left: int) -> tuple[int, int]:
    """Money and tax paid back for ``qty`` of sale line ``orig``, of which ``left`` is still returnable.

    Pro rata to what the line cost; the last unit back gets whatever of the line's total and tax is left, so a
    line refunded piece by piece pays back exactly what it took, to the cent, tax included.
    """
    if qty == left:
        earlier = (SaleLine.select(fn.COALESCE(fn.SUM(SaleLine.total), 0), fn.COALESCE(fn.SUM(SaleLine.tax), 0))
                   .where(SaleLine.original_line == orig.id).tuples().get())
        return orig.total + earlier[0], orig.tax + earlier[1]  # earlier refunds are stored negative
    return round_div(orig.total * qty, orig.quantity), round_div(orig.tax * qty, orig.quantity)


def _return_entry(product: Product, qty: int, unit_cost: int, unit_price: int, *, pending: int = 0,
                  lot: str | None = None, expiry: str | None = None) -> Entry:
    """Goods coming back: the moving average takes them in at ``unit_cost``, counting ``pending`` units returned
    earlier in the same refund (their movements are posted together at the end)."""
    take_in_at_cost(product.id, qty, unit_cost, pending=pending)
    return Entry(product.id, "return", qty, unit_cost=unit_cost, unit_price=unit_price, lot=lot, expiry=expiry)


def _match_return(sale_id: int, items: Sequence[ReturnInput], originals: dict[int, SaleLine],
                  left: dict[int, int]) -> list[tuple[int, int]]:
    """Spread each requested quantity over the sale's lines for that product."""
    left = dict(left)
    wanted = []
    for item in items:
        if item.product is None:
            name = item.description.strip()
            lines = [i for i, line in originals.items() if line.product_id is None and line.description == name]
        else:
            product = find_product(item.product)
            name = product.sku
            lines = [i for i, line in originals.items() if line.product_id == product.id]
        if item.quantity <= 0:
            raise InvalidInput(f"{name}: quantity to return must be more than zero")
        need = item.quantity
        if not lines:
            raise InvalidInput(f"{name} was not sold on sale {sale_id}", field="product", value=name)
        available = sum(left[i] for i in lines)
        if need > available:
            raise InvalidInput(f"{name}: only {format_qty(available)} can be returned on sale {sale_id}, "
                               f"not {format_qty(need)}", field="quantity", value=need)
        for i in lines:
            take = min(need, left[i])
            if take:
                wanted.append((i, take))
                left[i] -= take
                need -= take
    return wanted
