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
    p.add_argument("--pay", choices=["cash", "card", "other"], default="cash")
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
    p.add_argument("--pay", choices=["cash", "card", "other"], default="cash", help="how the refund is paid")
    add_json(p)
    p.set_defaults(func=return_goods)


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
        "change": money(result.change), "warnings": result.warnings,
    }


def _sale_text(result, decimals: int) -> str:
    lines = [f"{format_qty(line.quantity):>7} x {line.description:<28} {format_money(line.total, decimals):>9}"
             for line in result.lines]
    what = "sale" if result.kind == "sale" else "refund"
    lines.append(f"{what} {result.sale_id} committed: total {format_money(result.total, decimals)} "
                 f"({result.payment})")
    if result.change:
        lines.append(f"change {format_money(result.change, decimals)}")
    return "\n".join(lines)


def sell(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.sales import LineInput
    from shopkeeper.services.sales import sell as sell_items
    from shopkeeper.services.till import resolve_scan

    d = cli.decimals
    tendered = parse_money(args.tendered, d, what="--tendered") if args.tendered else None
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
    result = sell_items(ctx, lines, payment=args.pay, tendered=tendered, discount=discount)
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
    cli.open_db()
    items = [ReturnInput(ref, qty or 1000) for ref, qty in map(parse_item, words)]
    ctx = cli.context()
    result = refund(ctx, items, sale_id=sale_id, reason=args.reason, payment=args.pay)
    cli.emit(_sale_json(result, cli.decimals), lambda: _sale_text(result, cli.decimals))
    _print_receipt(cli, ctx, result, sale_id)
    return 0
