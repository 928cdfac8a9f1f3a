"""One refund plan (``sales.plan_refund``) for the till's preview and the committed refund: what the till shows is
what the refund pays, and a sale refunded in any pieces pays back exactly what it took, to the cent."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopkeeper.db import close_database, open_database
from shopkeeper.models import SaleLine
from shopkeeper.money import extend
from shopkeeper.services import sales, stock, till
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.context import Context


def _pens(ctx: Context) -> sales.SaleResult:
    save_product(ProductData(sku="PEN", name="Pen", price=100, tax_rate=20_000))
    stock.receive(ctx, "PEN", 10_000, 40)
    return sales.sell(ctx, [sales.LineInput("PEN", 3000)], discount=1, payment="card")  # 2.99


def test_one_line_listed_in_pieces_pays_back_what_it_took(db, ctx):
    sale = _pens(ctx)
    back = sales.refund(ctx, [sales.ReturnInput("PEN", 1000)] * 3, sale_id=sale.sale_id, payment="card")
    assert (back.total, back.tax) == (-sale.total, -sale.tax) == (-299, -50)
    assert [line.quantity for line in back.lines] == [3000], "the pieces of one line are one refund line"


def test_pieces_then_the_rest_pay_back_what_the_line_took(db, ctx):
    sale = _pens(ctx)
    first = sales.refund(ctx, [sales.ReturnInput("PEN", 1000)] * 2, sale_id=sale.sale_id)
    rest = sales.refund(ctx, sale_id=sale.sale_id)
    assert first.total + rest.total == -sale.total and first.tax + rest.tax == -sale.tax


PRODUCTS = (("PEN", "pcs", 20_000), ("INK", "pcs", 7_000), ("TEA-KG", "kg", 5_500))


@st.composite
def sale_lines(draw):
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        sku, unit, _rate = draw(st.sampled_from(PRODUCTS))
        qty = draw(st.integers(1, 4000)) if unit == "kg" else 1000 * draw(st.integers(1, 6))
        price = draw(st.integers(1, 4999))
        gross = extend(qty, price)
        lines.append((sku, qty, price, draw(st.integers(0, gross // 2))))
    return lines


def _by_sku(lines) -> dict[str, tuple[int, int]]:
    """Money and tax per product (the till shows one line per product; the refund one per line of the sale)."""
    out: dict[str, tuple[int, int]] = {}
    for sku, total, tax in lines:
        before = out.get(sku, (0, 0))
        out[sku] = (before[0] + total, before[1] + tax)
    return out


def _refund_in_pieces(ctx, data, sale_id, *, through_till: bool) -> sales.SaleResult:
    """One refund of random pieces of what is left: through the till's draft (checking its preview against what
    is committed), or straight through ``sales.refund`` with each piece listed on its own."""
    returnable = sales.returnable(sale_id)
    if not any(returnable.values()):
        return None
    left: dict[str, int] = {}
    for line in SaleLine.select().where(SaleLine.sale == sale_id):
        left[line.product.sku] = left.get(line.product.sku, 0) + returnable[line.id]
    if through_till:
        draft = till.start_refund(ctx, sale_id)
        for line in draft.lines:
            qty = data.draw(st.integers(0, line.quantity), label=f"{line.sku} back")
            draft = till.set_quantity(ctx, line.id, qty)
        if draft.empty:
            till.void(ctx)
            return None
        shown = draft.total, draft.tax, _by_sku((line.sku, line.priced.total, line.priced.tax) for line in draft.lines)
        result = till.complete(ctx, "cash")
        committed = -result.total, -result.tax, _by_sku((line.sku, line.total, line.tax) for line in result.lines)
        assert committed == shown, "the till showed one refund and committed another"
        return result
    pieces = []
    for sku, qty in left.items():
        while qty and data.draw(st.booleans(), label=f"another piece of {sku}"):
            piece = data.draw(st.integers(1, qty), label=f"{sku} piece")
            pieces.append(sales.ReturnInput(sku, piece))
            qty -= piece
    if not pieces:
        return None
    return sales.refund(ctx, pieces, sale_id=sale_id, payment="card")


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=sale_lines(), sale_discount=st.integers(0, 100), include_tax=st.booleans(), data=st.data())
def test_a_sale_refunded_in_random_pieces_pays_back_exactly_what_it_took(lines, sale_discount, include_tax, data):
    ctx = Context(staff="t", terminal="till-1", prices_include_tax=include_tax, negative_stock="allow")
    with tempfile.TemporaryDirectory() as tmp:
        open_database(str(Path(tmp) / "shop.db"))
        try:
            for sku, unit, rate in PRODUCTS:
                save_product(ProductData(sku=sku, name=sku.title(), unit=unit, price=100, tax_rate=rate))
            inputs = [sales.LineInput(sku, qty, price, disc) for sku, qty, price, disc in lines]
            net = sum(extend(qty, price) - disc for _, qty, price, disc in lines)
            sale = sales.sell(ctx, inputs, discount=min(sale_discount, net), payment="card")
            refunds = []
            for n in range(data.draw(st.integers(0, 3), label="refunds before the rest")):
                result = _refund_in_pieces(ctx, data, sale.sale_id, through_till=data.draw(st.booleans()))
                if result is not None:
                    refunds.append(result)
                    assert sum(r.total for r in refunds) >= -sale.total
            if any(sales.returnable(sale.sale_id).values()):
                draft = till.start_refund(ctx, sale.sale_id)  # the rest, through the till
                shown = draft.total
                refunds.append(till.complete(ctx, "cash"))
                assert -refunds[-1].total == shown
            assert sum(r.total for r in refunds) == -sale.total
            assert sum(r.tax for r in refunds) == -sale.tax
            for orig in SaleLine.select().where(SaleLine.sale == sale.sale_id):
                back = SaleLine.select().where(SaleLine.original_line == orig.id)
                assert sum(line.total for line in back) == -orig.total, f"line {orig.line_no}"
                assert sum(line.tax for line in back) == -orig.tax, f"line {orig.line_no} tax"
                assert sum(line.quantity for line in back) == orig.quantity
        finally:
            close_database()
