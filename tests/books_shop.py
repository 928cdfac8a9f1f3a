"""A shop whose data has the shapes the books export reads, written straight into the tables: split tenders (several
payment rows per sale), cash rounding, a till session with cash in and out closed 0.50 short, deliveries from a
supplier and a return to it, losses by reason and stock found, a moving average that leaves rounding residue.

Rows are inserted directly (not through the sales and till services) so the export is tested on the rows the
payments, tills and orders branches write, at times of our choosing on past local days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shopkeeper import times
from shopkeeper.db import write_transaction
from shopkeeper.models import (
    CashMovement,
    Movement,
    Payment,
    Product,
    Sale,
    SaleLine,
    Supplier,
    TillSession,
    TillSessionClose,
)
from shopkeeper.money import parse_rate
from shopkeeper.services import catalog
from shopkeeper.services.catalog import ProductData
from shopkeeper.services.context import Context, staff_id, terminal_id
from shopkeeper.services.sales import LineInput, price_lines
from shopkeeper.services.stock import take_in_at_cost

DAY1 = dt.date(2026, 11, 2)
DAY2 = dt.date(2026, 11, 3)


def at(day: dt.date, hour: int, minute: int = 0) -> str:
    """Stored UTC text of a local time on ``day``."""
    return times.to_utc_text(dt.datetime.combine(day, dt.time(hour, minute)))


def move(ctx: Context, sku: str, kind: str, qty: int, when: str, *, unit_cost: int | None = None,
         supplier: int | None = None, reason: str = "", sale: int | None = None) -> int:
    """One journal row, as ``stock.post_movements`` writes it (goods in average their cost in first)."""
    product = Product.get(Product.sku == sku)
    if kind in ("receive", "return"):
        take_in_at_cost(product.id, qty, unit_cost)
    cost = unit_cost if unit_cost is not None else Product.get_by_id(product.id).avg_cost
    Movement.insert(product=product.id, kind=kind, quantity=qty, unit_cost=cost, reason=reason, created_at=when,
                    supplier=supplier, sale=sale, staff=staff_id(ctx), terminal=terminal_id(ctx),
                    reference=f"{kind}:{sale}" if sale else "").execute()
    Product.update(on_hand=Product.on_hand + qty).where(Product.id == product.id).execute()
    return cost


def sell(ctx: Context, when: str, items: list[tuple[str, int]], tenders: list[tuple[str, int]], *,
         kind: str = "sale", session: int | None = None, rounding: int = 0, discount: int = 0,
         line_discounts: dict[str, int] | None = None) -> int:
    """A sale (or a refund, ``kind='return'``) of ``items`` (sku, thousandths), paid by ``tenders`` (method,
    amount as the customer sees it: positive). Amounts stored signed like the sale's total."""
    line_discounts = line_discounts or {}
    sign = -1 if kind == "return" else 1
    with write_transaction():
        lines = price_lines(ctx, [LineInput(sku, qty, discount=line_discounts.get(sku, 0)) for sku, qty in items],
                            discount)
        total = sum(line.total for line in lines)
        assert sum(amount for _, amount in tenders) == total + rounding, "tenders must pay total + rounding"
        sale = Sale.insert(kind=kind, created_at=when, staff=staff_id(ctx), terminal=terminal_id(ctx),
                           subtotal=sign * sum(line.gross - line.discount for line in lines) + sign * discount,
                           discount=sign * discount, tax=sign * sum(line.tax for line in lines), total=sign * total,
                           payment=tenders[0][0], till_session=session, rounding=sign * rounding).execute()
        for method, amount in tenders:
            Payment.insert(sale=sale, method=method, amount=sign * amount,
                           tendered=sign * amount if method == "cash" else None,
                           change=0 if method == "cash" else None).execute()
        for n, line in enumerate(lines, 1):
            sku = Product.get_by_id(line.product_id).sku
            cost = move(ctx, sku, kind, -sign * line.quantity, when, sale=sale,
                        unit_cost=Product.get_by_id(line.product_id).avg_cost if kind == "return" else None)
            SaleLine.insert(sale=sale, line_no=n, product=line.product_id, description=line.description,
                            quantity=line.quantity, unit_price=line.unit_price, discount=sign * line.discount,
                            tax_rate=line.tax_rate, tax=sign * line.tax, total=sign * line.total,
                            unit_cost=cost).execute()
    return sale


@dataclass
class BooksShop:
    supplier: int
    session: int
    short: int  # the Z report's over/short (negative: short)
    expected_cash: int


def seed(ctx: Context) -> BooksShop:
    """Day 1: deliveries, a till session with cash, card, split and other payments, a refund, cash rounding, a
    paid-out and cash in, closed 0.50 short; a loss, stock found by a count, a return to the supplier.
    Day 2: one card sale outside any session."""
    # rates through money.parse_rate: their stored scale is its business
    catalog.save_product(ProductData("CHEESE", name="Käse", price=240, tax_rate=parse_rate("20")), ctx=ctx)
    catalog.save_product(ProductData("BREAD", name="Bread", price=199, tax_rate=parse_rate("5.5")), ctx=ctx)
    with write_transaction():
        supplier = Supplier.insert(name="Käse & Co. (Lyon)").execute()
        move(ctx, "CHEESE", "receive", 10_000, at(DAY1, 7), unit_cost=133, supplier=supplier)
        move(ctx, "CHEESE", "receive", 3_000, at(DAY1, 7, 5), unit_cost=100, supplier=supplier)  # average 1.2538
        move(ctx, "BREAD", "receive", 7_000, at(DAY1, 7, 10), unit_cost=70)  # no supplier on the receipt
        till = terminal_id(ctx)
        session = TillSession.insert(terminal=till, number=1, opened_at=at(DAY1, 8), opened_by=staff_id(ctx),
                                     float_amount=10_000).execute()
    cash = 0
    sell(ctx, at(DAY1, 9), [("CHEESE", 2000)], [("cash", 480)], session=session)
    cash += 480
    # split tender: 2.40 + 3 × 1.99 - 0.60 off the bread = 7.77, 5.00 by card and 2.77 in cash
    sell(ctx, at(DAY1, 9, 30), [("CHEESE", 1000), ("BREAD", 3000)], [("card", 500), ("cash", 277)],
         session=session, line_discounts={"BREAD": 60})
    cash += 277
    sell(ctx, at(DAY1, 10), [("BREAD", 1000)], [("cash", 200)], session=session, rounding=1)  # 1.99 paid 2.00
    cash += 200
    sell(ctx, at(DAY1, 11), [("CHEESE", 1000)], [("cash", 240)], kind="return", session=session)
    cash -= 240
    sell(ctx, at(DAY1, 12), [("BREAD", 1000)], [("other", 199)], session=session)
    with write_transaction():
        for kind, amount, reason, hour in (("cash_out", 1200, "paid-out: milk", 13), ("cash_in", 2000, "change",
                                                                                       14), ("no_sale", 0, "", 15)):
            CashMovement.insert(session=session, kind=kind, amount=amount, reason=reason, staff=staff_id(ctx),
                                terminal=terminal_id(ctx), created_at=at(DAY1, hour)).execute()
        expected = 10_000 + cash - 1200 + 2000
        TillSessionClose.insert(session=session, closed_at=at(DAY1, 20), closed_by=staff_id(ctx),
                                expected_cash=expected, counted_cash=expected - 50, over_short=-50).execute()
        move(ctx, "CHEESE", "adjust", -1000, at(DAY1, 16), reason="damaged: dropped")
        move(ctx, "BREAD", "count", 1000, at(DAY1, 17), reason="counted 3")
        move(ctx, "CHEESE", "supplier_return", -2000, at(DAY1, 18), supplier=supplier)
    sell(ctx, at(DAY2, 10), [("CHEESE", 1500)], [("card", 360)])
    return BooksShop(supplier, session, -50, expected)
