"""Till commands for scripts: sell and return."""

from __future__ import annotations

import argparse
import re

from shopkeeper.bounds import int_arg
from shopkeeper.cli import Cli, add_json
from shopkeeper.errors import InvalidInput, NotFound
from shopkeeper.money import format_money, format_qty, json_qty, parse_money, parse_qty

ITEM = re.compile(r"^(?P<ref>.+)x(?P<qty>\d+(?:[.,]\d+)?)$")


def parse_item(text: str) -> tuple[str, int | None]:
    """``SKU_OR_BARCODE[xQTY]`` → (reference, thousandths or None when no quantity was given):
    ``5012345678900x3``, ``OLIVES-KGx0.250``.

    A product whose own SKU looks like ``box12`` is found by that whole name first; only an unknown name is split
    at its last ``x``.
    """
    from shopkeeper.services.catalog import find_product

    text = text.strip()
    if not text:
        raise InvalidInput("empty item")
    match = ITEM.match(text)
    if match is None:
        return text, None
    try:
        find_product(text)
        return text, None
    except (NotFound, InvalidInput):
        pass
    qty = parse_qty(match["qty"], what=f"item {text}: quantity")
    if qty <= 0:
        raise InvalidInput(f"item {text!r}: quantity must be more than zero")
    return match["ref"], qty


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sell", help="record one sale of one or more items")
    p.add_argument("items", nargs="+", metavar="ITEM", help="SKU_OR_BARCODE[xQTY], e.g. 5012345678900x3")
    p.add_argument("--pay", action="append", metavar="METHOD[:AMOUNT]",
                   help="how it is paid: cash, card or other, with the amount of each part of a split payment "
                        "(--pay card:5.50 --pay cash:20.00); a part without an amount pays the rest; cash beyond "
                        "what is due is change (default: cash)")
    p.add_argument("--payment", choices=["cash", "card", "other"], help="paid all by one method (as --pay METHOD)")
    p.add_argument("--tendered", help="cash handed over (default: the exact total)")
    p.add_argument("--discount", help="discount off the whole sale, e.g. 1.00")
    add_json(p)
    p.set_defaults(func=sell)

    p = sub.add_parser("return", help="take goods back: against a sale (SALE [ITEM…] or --sale SALE), or ITEM… "
                                      "--reason R without a receipt",
                       description="Without --reason the first argument is the sale number from the receipt.")
    p.add_argument("args", nargs="*", metavar="SALE_OR_ITEM", help="sale number, then SKU_OR_BARCODE[xQTY] items; "
                                                                  "no items means the whole sale")
    p.add_argument("--sale", type=int_arg(), help="the sale number from the receipt")
    p.add_argument("--reason", default="", help="why (required without a receipt)")
    p.add_argument("--pay", action="append", metavar="METHOD[:AMOUNT]",
                   help="how the refund is paid back, split as for sell (default: the way the sale was paid; "
                        "cash without a receipt)")
    p.add_argument("--payment", choices=["cash", "card", "other"], help="paid back all by one method")
    add_json(p)
    p.set_defaults(func=return_goods)


def parse_tenders(pay: list[str] | None, payment: str | None, tendered: str | None, decimals: int) -> list | None:
    """``--pay``/``--payment``/``--tendered`` → the tenders (``services.tenders.Tender``), or None for the default."""
    from shopkeeper.services.tenders import METHODS, Tender

    if pay and payment:
        raise InvalidInput("give --pay or --payment, not both")
    texts = list(pay or ([payment] if payment else []))
    if tendered is not None and (len(texts) > 1 or any(":" in t for t in texts)):
        raise InvalidInput("--tendered goes with a single cash payment; in a split give the cash as --pay cash:AMOUNT")
    tenders = []
    for n, text in enumerate(texts, 1):
        method, _, amount = text.partition(":")
        method = method.strip().lower()
        if method not in METHODS:
            raise InvalidInput(f"--pay {text}: the method must be one of {', '.join(METHODS)}", field="payment",
                               value=text)
        value = parse_money(amount, decimals, what=f"--pay {text}: amount") if amount.strip() else None
        tenders.append(Tender(method, value))
    if tendered is not None:
        if tenders and tenders[0].method != "cash":
            raise InvalidInput("--tendered goes with cash")
        tenders = [Tender("cash", None, parse_money(tendered, decimals, what="--tendered"))]
    return tenders or None


def _payments_json(result, decimals: int) -> list[dict]:
    return [{"method": t.method, "amount": format_money(t.amount, decimals),
             "tendered": None if t.tendered is None else format_money(t.tendered, decimals),
             "change": None if t.change is None else format_money(t.change, decimals)} for t in result.payments]


def _sale_json(result, decimals: int) -> dict:
    def money(value):
        return None if value is None else format_money(value, decimals)

    return {
        "sale": result.sale_id, "kind": result.kind, "time": result.created_at,
        "lines": [{"sku": line.sku or None, "description": line.description, "quantity": json_qty(line.quantity),
                   "unit_price": money(line.unit_price), "discount": money(line.discount),
                   "tax": money(line.tax), "total": money(line.total)} for line in result.lines],
        "subtotal": money(result.subtotal), "discount": money(result.discount), "tax": money(result.tax),
        "total": money(result.total), "payment": result.payment, "tendered": money(result.tendered),
        "change": money(result.change), "rounding": money(result.rounding), "paid": money(result.paid),
        "payments": _payments_json(result, decimals), "warnings": result.warnings,
    }


def _sale_text(result, decimals: int) -> str:
    lines = [f"{format_qty(line.quantity):>7} x {line.description:<28} {format_money(line.total, decimals):>9}"
             for line in result.lines]
    what = "sale" if result.kind == "sale" else "refund"
    lines.append(f"{what} {result.sale_id} committed: total {format_money(result.total, decimals)} "
                 f"({result.payment})")
    if result.rounding:
        lines.append(f"cash rounding {format_money(result.rounding, decimals)}: "
                     f"{'paid back' if result.kind == 'return' else 'paid'} {format_money(abs(result.paid), decimals)}")
    if len(result.payments) > 1:
        lines += [f"  {t.method} {format_money(t.amount, decimals)}" for t in result.payments]
    if result.change:
        lines.append(f"change {format_money(result.change, decimals)}")
    return "\n".join(lines)


def sell(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.sales import LineInput
    from shopkeeper.services.sales import sell as sell_items
    from shopkeeper.services.till import resolve_scan

    d = cli.decimals
    tenders = parse_tenders(args.pay, args.payment, args.tendered, d) or None
    discount = parse_money(args.discount, d, what="--discount") if args.discount else 0
    cli.open_db()
    ctx = cli.context()
    layouts = cli.config.extra.get("barcodes")
    lines = []
    for text in args.items:
        ref, qty = parse_item(text)
        # Read as the till reads a scan: scale labels sell their weight or price.
        item = resolve_scan(ctx, ref, qty, layouts=layouts)
        lines.append(LineInput(item.product, item.quantity, item.unit_price, item.discount, lot=item.lot,
                               expiry=item.expiry.isoformat() if item.expiry else None))
    result = sell_items(ctx, lines, payments=tenders, discount=discount)
    for w in result.warnings:
        cli.warn(w)
    cli.emit(_sale_json(result, d), lambda: _sale_text(result, d))
    _print_receipt(cli, ctx, result)
    return 0


def _print_receipt(cli: Cli, ctx, result, original: int | None = None) -> None:
    """The receipt, when a printer is configured; the sale is committed, so a printer failure is a warning."""
    from shopkeeper.errors import ShopError
    from shopkeeper.printer import print_sale

    try:
        print_sale(cli.config, ctx, result, original_sale=original)
    except ShopError as exc:
        cli.warn(str(exc))


def return_goods(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.sales import ReturnInput, refund

    words, sale_id = list(args.args), args.sale
    if sale_id is None and not args.reason:
        if not words or not words[0].isdigit() or len(words[0]) > 12:
            raise InvalidInput("return: give the sale number from the receipt, or --reason for a return without one")
        sale_id = int(words.pop(0))
    tenders = parse_tenders(args.pay, args.payment, None, cli.decimals)
    cli.open_db()
    items = [ReturnInput(ref, qty or 1000) for ref, qty in map(parse_item, words)]
    original = _original_payments(sale_id, cli.decimals) if sale_id is not None else None
    ctx = cli.context()
    result = refund(ctx, items, sale_id=sale_id, reason=args.reason, payments=tenders)
    data, heading = _sale_json(result, cli.decimals), ""
    if original is not None:
        data["original_payments"] = original
        paid = ", ".join(f"{o['method']} {o['amount']}" for o in original)
        heading = f"sale {sale_id} was paid: {paid}\n"
    cli.emit(data, lambda: heading + _sale_text(result, cli.decimals))
    _print_receipt(cli, ctx, result, sale_id)
    return 0


def _original_payments(sale_id: int, decimals: int) -> list[dict]:
    """How sale ``sale_id`` was paid, for the refund's output (an unknown sale is refused by the refund itself)."""
    from shopkeeper.services.sales import sale_payments

    return [{"method": method, "amount": format_money(amount, decimals)} for method, amount in sale_payments(sale_id)]
