"""Stock commands: receive, adjust, count, stock, journal."""

from __future__ import annotations

import argparse

from peewee import JOIN

from shopkeeper.bounds import MAX_ROWS, int_arg
from shopkeeper.cli import Cli, add_json
from shopkeeper.errors import InvalidInput
from shopkeeper.models import Movement, Product, Staff, Terminal
from shopkeeper.money import format_money, format_qty, json_qty, parse_money, parse_qty


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("receive", help="goods in: add stock at a cost")
    p.add_argument("product", help="SKU or barcode")
    p.add_argument("qty", help="quantity received, e.g. 12 or 2.5")
    p.add_argument("--cost", help="unit cost, e.g. 0.85 (default: current average cost)")
    p.add_argument("--ref", default="", help="delivery note or invoice number")
    p.add_argument("--po", type=int_arg(), help="against this purchase order (cost: the order line's unless --cost)")
    add_json(p)
    p.set_defaults(func=receive)

    p = sub.add_parser("adjust", help="correct stock for a reason (damaged, expired, lost, stolen, found, correction)")
    p.add_argument("product", help="SKU or barcode")
    p.add_argument("delta", help="signed change, e.g. -2")
    p.add_argument("--reason", required=True)
    p.add_argument("--note", default="")
    add_json(p)
    p.set_defaults(func=adjust)

    p = sub.add_parser("count", help="record a stock count; the difference is posted to the journal")
    p.add_argument("product", help="SKU or barcode")
    p.add_argument("counted", help="quantity found on the shelf")
    add_json(p)
    p.set_defaults(func=count)

    p = sub.add_parser("stock", help="list products and stock on hand")
    p.add_argument("--low", action="store_true", help="only products at or below their reorder point")
    add_json(p)
    p.set_defaults(func=show_stock)

    p = sub.add_parser("journal", help="list stock movements, oldest first")
    p.add_argument("--product", help="SKU or barcode")
    p.add_argument("--since", help="date or time, local (YYYY-MM-DD[ HH:MM]); an offset like +01:00 or Z is "
                                   "respected")
    p.add_argument("--lot", help="only goods of this lot (batch) as their label gave it (GS1 AI 10): what a "
                                 "recall asks for")
    p.add_argument("--limit", type=int_arg(0, MAX_ROWS), default=0, help="only the newest N")
    add_json(p)
    p.set_defaults(func=journal)


def _qty(text: str, what: str = "quantity") -> int:
    return parse_qty(text, what=what)


def receive(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services import stock
    from shopkeeper.services.catalog import find_product

    qty = _qty(args.qty)
    cost = parse_money(args.cost, cli.decimals, what="cost") if args.cost is not None else None
    cli.open_db()
    product = find_product(args.product)
    if args.po is not None:
        return _receive_against(args, cli, product, qty, cost)
    posted = stock.receive(cli.context(), product, qty, cost, reference=args.ref)
    _report(cli, product, posted, f"received {format_qty(qty)} {product.unit} of {product.sku}")
    return 0


def _receive_against(args: argparse.Namespace, cli: Cli, product: Product, qty: int, cost: int | None) -> int:
    from shopkeeper.services.ordering import receive_against

    if args.ref:
        raise InvalidInput("--ref and --po: the movement references the order (po:N); give one", field="ref",
                           reason="the order is the reference")
    receipt = receive_against(cli.context(), args.po, [(product, qty, cost)])
    line = receipt.lines[0]
    flag = {"over": f"; more than ordered ({format_qty(line.ordered)})",
            "not_on_order": f"; {product.sku} is not on order {args.po}"}.get(line.flag, "")
    if line.flag:
        cli.warn(flag.lstrip("; "))
    _report(cli, product, receipt, f"received {format_qty(qty)} {product.unit} of {product.sku} against order "
            f"{args.po} at {format_money(line.unit_cost, cli.decimals)} ({format_qty(line.received)} of "
            f"{format_qty(line.ordered)} ordered); order {receipt.status.replace('_', ' ')}",
            extra={"order": args.po, "status": receipt.status, "flag": line.flag,
                   "ordered": json_qty(line.ordered), "received": json_qty(line.received),
                   "unit_cost": format_money(line.unit_cost, cli.decimals)})
    return 0


def adjust(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services import stock
    from shopkeeper.services.catalog import find_product

    delta = _qty(args.delta, "change")
    cli.open_db()
    product = find_product(args.product)
    posted = stock.adjust(cli.context(), product, delta, args.reason, note=args.note)
    _report(cli, product, posted, f"adjusted {product.sku} by {format_qty(delta)} ({args.reason})")
    return 0


def count(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services import stock
    from shopkeeper.services.catalog import find_product

    counted = _qty(args.counted, "counted quantity")
    cli.open_db()
    product = find_product(args.product)
    variance, posted = stock.count(cli.context(), product, counted)
    sign = "+" if variance.variance > 0 else ""
    _report(cli, product, posted, f"counted {format_qty(counted)} {product.unit} of {product.sku}: expected "
            f"{format_qty(variance.expected)}, variance {sign}{format_qty(variance.variance)}",
            extra={"expected": json_qty(variance.expected), "counted": json_qty(counted),
                   "variance": json_qty(variance.variance)})
    return 0


def _report(cli: Cli, product: Product, posted, text: str, extra: dict | None = None) -> None:
    for w in posted.warnings:
        cli.warn(w)
    on_hand = posted.on_hand.get(product.id, Product.get_by_id(product.id).on_hand)
    cli.emit({"sku": product.sku, "on_hand": json_qty(on_hand), "movements": posted.movement_ids,
              "warnings": posted.warnings, **(extra or {})},
             f"{text}; on hand now {format_qty(on_hand)} {product.unit}")


def show_stock(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.reorder import low_stock_query, reorder_line

    cli.open_db()
    d = cli.decimals
    query = low_stock_query() if args.low else Product.select().order_by(Product.sku)
    products = list(query)
    codes: dict[int, list[str]] = {}
    from shopkeeper.models import Barcode, Supplier

    for product_id, code in (Barcode.select(Barcode.product, Barcode.code)
                             .where(Barcode.product.in_([p.id for p in products])).order_by(Barcode.id).tuples()):
        codes.setdefault(product_id, []).append(code)
    suppliers = dict(Supplier.select(Supplier.id, Supplier.name).tuples())
    rows = []
    for p in products:
        row = {"sku": p.sku, "name": p.name, "barcodes": codes.get(p.id, []), "unit": p.unit,
               "on_hand": json_qty(p.on_hand), "price": format_money(p.price, d),
               "reorder_point": json_qty(p.reorder_point), "reorder_qty": json_qty(p.reorder_qty),
               "avg_cost": format_money(p.avg_cost, d), "supplier": suppliers.get(p.supplier_id, ""),
               "category": p.category, "active": p.active}
        if args.low:
            row["on_order"] = json_qty(p.on_order)
            row["suggested_order"] = json_qty(reorder_line(p).suggested)
        rows.append(row)

    def text() -> str:
        if not rows:
            return "no products at or below their reorder point" if args.low else "no products yet"
        width = max(len(p.sku) for p in products)
        out = []
        for p in products:
            low = p.reorder_point and p.on_hand + p.on_order <= p.reorder_point
            mark = "✗" if p.on_hand <= 0 else ("!" if low else " ")
            line = (f"{mark} {p.sku:<{width}}  {format_qty(p.on_hand):>9} {p.unit:<4} "
                    f"{format_money(p.price, d):>9}  {p.name}")
            if args.low:
                on_order = f", on order {format_qty(p.on_order)}" if p.on_order else ""
                line += (f"  (reorder point {format_qty(p.reorder_point)}{on_order}, order "
                         f"{format_qty(reorder_line(p).suggested)})")
            out.append(line)
        return "\n".join(out)

    cli.emit(rows, text)
    return 0


def _since(text: str) -> str:
    from shopkeeper.times import parse_local

    try:
        return parse_local(text, what="--since")
    except ValueError as exc:
        raise InvalidInput(str(exc), field="since", value=text) from None


def journal(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.catalog import find_product

    cli.open_db()
    d = cli.decimals
    query = (Movement.select(Movement, Product.sku.alias("sku"), Staff.name.alias("staff_name"),
                             Terminal.name.alias("terminal_name"))
             .join_from(Movement, Product)
             .join_from(Movement, Staff, JOIN.LEFT_OUTER)
             .join_from(Movement, Terminal, JOIN.LEFT_OUTER))
    if args.product:
        query = query.where(Movement.product == find_product(args.product).id)
    if args.since:
        query = query.where(Movement.created_at >= _since(args.since))
    if args.lot:
        query = query.where(Movement.lot == args.lot)
    if args.limit:
        query = query.order_by(Movement.id.desc()).limit(args.limit)
        movements = list(query.objects())[::-1]
    else:
        movements = list(query.order_by(Movement.id).objects())

    def money(value: int | None) -> str | None:
        return None if value is None else format_money(value, d)

    rows = [{"id": m.id, "time": m.created_at, "sku": m.sku, "kind": m.kind,
             "quantity": json_qty(m.quantity), "unit_cost": money(m.unit_cost), "unit_price": money(m.unit_price),
             "reason": m.reason, "reference": m.reference,
             "staff": m.staff_name, "terminal": m.terminal_name, "lot": m.lot, "expiry": m.expiry} for m in movements]

    def text() -> str:
        from shopkeeper.times import local_time, zone_label

        if not rows:
            return "no movements"
        kind_width = max(7, *(len(m.kind) for m in movements))  # supplier_return is the one longer kind
        return "\n".join([f"times in {zone_label()}", *(
            f"{m.id:>7} {local_time(m.created_at, seconds=True)}  {m.kind:<{kind_width}} {m.sku:<14} "
            f"{format_qty(m.quantity):>9}  {m.reference or ''}"
            f"{'  ' + m.reason if m.reason else ''}{'  by ' + m.staff_name if m.staff_name else ''}"
            f"{'  lot ' + m.lot if m.lot else ''}{'  expires ' + m.expiry if m.expiry else ''}"
            for m in movements)])

    cli.emit(rows, text)
    return 0
