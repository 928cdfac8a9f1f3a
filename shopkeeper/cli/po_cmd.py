"""Purchase orders and returns to a supplier: ``shopkeeper po draft|list|show|new|add|set|remove|send|receive|close|
cancel`` and ``shopkeeper return-to-supplier``. One item against an order is ``shopkeeper receive --po N``
(stock_cmd); a whole delivery file is ``po receive N --file``."""

from __future__ import annotations

import argparse

from shopkeeper.bounds import int_arg
from shopkeeper.cli import Cli, add_json
from shopkeeper.money import format_money, format_qty, json_qty, parse_money, parse_qty


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("po", help="purchase orders: draft from the suggestions, edit, send, close, cancel")
    psub = group.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(group))

    p = psub.add_parser("draft", help="turn today's suggestions into draft orders, one per supplier (a second run "
                                      "updates the drafts, never duplicates)")
    p.add_argument("--supplier", help="only this supplier (name or id)")
    add_json(p)
    p.set_defaults(func=draft)

    p = psub.add_parser("list", help="orders, newest first")
    p.add_argument("--status", help="draft, sent, partly_received, received, cancelled, or open")
    p.add_argument("--supplier", help="name or id")
    add_json(p)
    p.set_defaults(func=list_)

    p = psub.add_parser("show", help="one order: lines (ordered, received) and its history")
    p.add_argument("order", type=int_arg(), help="order number")
    add_json(p)
    p.set_defaults(func=show)

    p = psub.add_parser("new", help="an empty draft order to a supplier")
    p.add_argument("supplier", help="name or id")
    p.add_argument("--note", default="")
    add_json(p)
    p.set_defaults(func=new)

    p = psub.add_parser("add", help="add a product to an open order")
    p.add_argument("order", type=int_arg(), help="order number")
    p.add_argument("product", help="SKU or barcode")
    amount = p.add_mutually_exclusive_group()
    amount.add_argument("--qty", help="units, e.g. 48")
    amount.add_argument("--packs", help="packs of the supplier's pack size (default 1)")
    p.add_argument("--cost", help="unit cost (default: from the supplier's pack cost)")
    add_json(p)
    p.set_defaults(func=add)

    p = psub.add_parser("set", help="change a line's quantity or cost")
    p.add_argument("order", type=int_arg(), help="order number")
    p.add_argument("line", type=int_arg(), help="line number")
    p.add_argument("--qty", help="units ordered")
    p.add_argument("--packs", help="packs ordered")
    cost = p.add_mutually_exclusive_group()
    cost.add_argument("--cost", help="unit cost")
    cost.add_argument("--pack-cost", help="cost of one pack")
    add_json(p)
    p.set_defaults(func=set_line)

    p = psub.add_parser("remove", help="take a line off an open order")
    p.add_argument("order", type=int_arg(), help="order number")
    p.add_argument("line", type=int_arg(), help="line number")
    add_json(p)
    p.set_defaults(func=remove)

    p = psub.add_parser("send", help="mark a draft sent and write it as text and CSV for the supplier")
    p.add_argument("order", type=int_arg(), help="order number")
    p.add_argument("--out", metavar="DIR", default=".", help="where to write po-N.txt and po-N.csv (default: here)")
    add_json(p)
    p.set_defaults(func=send)

    p = psub.add_parser("print", help="an order as text for the supplier (stdout), or its text and CSV files")
    p.add_argument("order", type=int_arg(), help="order number")
    p.add_argument("--out", metavar="DIR", help="write po-N.txt and po-N.csv there instead")
    add_json(p)
    p.set_defaults(func=print_order)

    p = psub.add_parser("receive", help="receive a delivery against an order from a CSV file (sku,qty[,cost])")
    p.add_argument("order", type=int_arg(), help="order number")
    p.add_argument("--file", required=True, help="CSV with a header: sku (or barcode), qty, and optionally cost")
    add_json(p)
    p.set_defaults(func=receive_file)

    p = psub.add_parser("close", help="close a sent order: what has not come is cancelled")
    p.add_argument("order", type=int_arg(), help="order number")
    p.add_argument("--note", default="")
    add_json(p)
    p.set_defaults(func=close)

    p = psub.add_parser("cancel", help="cancel a draft or a sent order nothing has come against")
    p.add_argument("order", type=int_arg(), help="order number")
    p.add_argument("--note", default="")
    add_json(p)
    p.set_defaults(func=cancel)

    p = sub.add_parser("return-to-supplier", help="send goods back to a supplier (damaged, wrong item)")
    p.add_argument("product", help="SKU or barcode")
    p.add_argument("qty", help="quantity going back, e.g. 2")
    p.add_argument("--supplier", help="name or id (default: the order's)")
    p.add_argument("--po", type=int_arg(), help="the order the goods came on (they leave at its cost)")
    p.add_argument("--reason", required=True, help="why they go back")
    add_json(p)
    p.set_defaults(func=return_to_supplier)


def _status(status: str) -> str:
    return status.replace("_", " ")


def order_json(order, cli: Cli) -> dict:
    d = cli.decimals
    return {
        "id": order.id, "supplier": order.supplier, "status": order.status, "automatic": order.automatic,
        "created_at": order.created_at, "updated_at": order.updated_at, "staff": order.staff, "note": order.note,
        "value": format_money(order.value, d),
        "lines": [{"line": line.line_no, "sku": line.sku, "name": line.name, "item_code": line.item_code,
                   "pack_size": json_qty(line.pack_size), "packs": json_qty(line.packs),
                   "quantity": json_qty(line.quantity), "unit_cost": format_money(line.unit_cost, d),
                   "pack_cost": format_money(line.pack_cost, d), "value": format_money(line.value, d),
                   "received": json_qty(line.received), "cancelled": json_qty(line.cancelled),
                   "outstanding": json_qty(line.outstanding), "edited": line.edited} for line in order.lines],
        "history": [{"status": e.status, "staff": e.staff, "terminal": e.terminal, "time": e.created_at,
                     "note": e.note} for e in order.events],
    }


def order_text(order, cli: Cli) -> str:
    from shopkeeper.times import local_time

    d = cli.decimals
    out = [f"order {order.id} to {order.supplier}: {_status(order.status)}"
           f"{' (drafted automatically)' if order.automatic else ''}, {format_money(order.value, d)}"]
    if order.note:
        out.append(f"  note: {order.note}")
    for line in order.lines:
        flag = "  not on the order" if line.not_on_order else (f"  over by {format_qty(line.over)}" if line.over
                                                               else "")
        cancelled = f", {format_qty(line.cancelled)} cancelled" if line.cancelled else ""
        out.append(f"{line.line_no:>3} {line.sku:<14} {format_qty(line.packs):>5} × {format_qty(line.pack_size):<4}"
                   f" ordered {format_qty(line.quantity):>7}, received {format_qty(line.received):>7}{cancelled}"
                   f"  at {format_money(line.unit_cost, d)}{'  (edited)' if line.edited else ''}{flag}")
    for e in order.events:
        who = f" by {e.staff}" if e.staff else ""
        note = f" ({e.note})" if e.note else ""
        out.append(f"    {local_time(e.created_at)} {_status(e.status)}{who}{note}")
    return "\n".join(out)


def draft(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.ordering import draft_orders

    cli.open_db()
    done = draft_orders(cli.context(), args.supplier)
    data = [{"order": r.order_id, "supplier": r.supplier, "created": r.created, "added": r.added,
             "raised": r.raised, "topped_up": r.topped_up} for r in done]

    def text() -> str:
        if not done:
            return "nothing new to order"
        out = []
        for r in done:
            parts = [f"{len(r.added)} new line(s)" if r.added else "", f"{len(r.raised)} raised" if r.raised else "",
                     "topped up to the minimum order" if r.topped_up else ""]
            out.append(f"order {r.order_id} to {r.supplier}: {'drafted' if r.created else 'updated'}; "
                       f"{', '.join(p for p in parts if p)}")
        return "\n".join(out)

    cli.emit(data, text)
    return 0


def list_(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.ordering import list_orders
    from shopkeeper.times import local_time

    cli.open_db()
    orders = list_orders(status=args.status, supplier=args.supplier)
    d = cli.decimals
    data = [{"id": o.id, "supplier": o.supplier, "status": o.status, "automatic": o.automatic,
             "created_at": o.created_at, "updated_at": o.updated_at, "lines": o.lines,
             "value": format_money(o.value, d), "outstanding": json_qty(o.outstanding)} for o in orders]

    def text() -> str:
        if not orders:
            return "no purchase orders"
        width = max(len(o.supplier) for o in orders)
        return "\n".join(f"{o.id:>5}  {local_time(o.updated_at)}  {_status(o.status):<15} {o.supplier:<{width}}  "
                         f"{o.lines:>3} lines  {format_money(o.value, d):>10}" for o in orders)

    cli.emit(data, text)
    return 0


def show(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.ordering import get_order

    cli.open_db()
    order = get_order(args.order)
    cli.emit(order_json(order, cli), lambda: order_text(order, cli))
    return 0


def new(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.ordering import create_order, get_order

    cli.open_db()
    order = get_order(create_order(cli.context(), args.supplier, note=args.note).id)
    cli.emit(order_json(order, cli), f"order {order.id} to {order.supplier}: draft")
    return 0


def _cost(text: str | None, cli: Cli, what: str) -> int | None:
    return parse_money(text, cli.decimals, what=what) if text is not None else None


def _show_after(cli: Cli, order_id: int, text: str) -> None:
    from shopkeeper.services.ordering import get_order

    order = get_order(order_id)
    cli.emit(order_json(order, cli), lambda: f"{text}\n{order_text(order, cli)}")


def add(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.ordering import add_line

    qty = parse_qty(args.qty, what="--qty") if args.qty is not None else None
    packs = parse_qty(args.packs, what="--packs") if args.packs is not None else None
    cost = _cost(args.cost, cli, "--cost")
    cli.open_db()
    line = add_line(cli.context(), args.order, args.product, quantity=qty, packs=packs, unit_cost=cost)
    _show_after(cli, args.order, f"line {line.line_no}: {format_qty(line.quantity)} {line.unit} of {line.sku}")
    return 0


def set_line(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.errors import InvalidInput
    from shopkeeper.services.ordering import set_line as change

    if args.qty is not None and args.packs is not None:
        raise InvalidInput("give --qty or --packs, not both", field="quantity", reason="give one")
    qty = parse_qty(args.qty, what="--qty") if args.qty is not None else None
    packs = parse_qty(args.packs, what="--packs") if args.packs is not None else None
    cost, pack_cost = _cost(args.cost, cli, "--cost"), _cost(args.pack_cost, cli, "--pack-cost")
    if qty is None and packs is None and cost is None and pack_cost is None:
        raise InvalidInput("nothing to change: give --qty, --packs, --cost or --pack-cost", field="quantity",
                           reason="nothing to change")
    cli.open_db()
    line = change(cli.context(), args.order, args.line, quantity=qty, packs=packs, unit_cost=cost,
                  pack_cost=pack_cost)
    _show_after(cli, args.order, f"line {line.line_no} changed")
    return 0


def remove(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.ordering import remove_line

    cli.open_db()
    remove_line(cli.context(), args.order, args.line)
    _show_after(cli, args.order, f"line {args.line} removed")
    return 0


def send(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.ordering import send_order

    cli.open_db()
    sent = send_order(cli.context(), args.order, out_dir=args.out, decimals=cli.decimals)
    cli.emit({"order": sent.order_id, "files": [str(p) for p in sent.paths]},
             f"order {sent.order_id} sent; written to {', '.join(str(p) for p in sent.paths)}")
    return 0


def print_order(args: argparse.Namespace, cli: Cli) -> int:
    """Any order's documents again (a lost email, a printer jam); changes nothing."""
    from shopkeeper.services.ordering import SentOrder, order_documents, write_order_files

    cli.open_db()
    doc = SentOrder(args.order, *order_documents(args.order, cli.decimals))
    if args.out is None:
        cli.emit({"order": doc.order_id, "text": doc.text, "csv": doc.csv}, doc.text.rstrip("\n"))
        return 0
    paths = write_order_files(doc, args.out)
    cli.emit({"order": doc.order_id, "files": [str(p) for p in paths]},
             f"order {doc.order_id} written to {', '.join(str(p) for p in paths)}")
    return 0


def close(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.ordering import close_order

    cli.open_db()
    order = close_order(cli.context(), args.order, note=args.note)
    cli.emit(order_json(order, cli), lambda: order_text(order, cli))
    return 0


def cancel(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.ordering import cancel_order

    cli.open_db()
    cancel_order(cli.context(), args.order, note=args.note)
    _show_after(cli, args.order, f"order {args.order} cancelled")
    return 0


def return_to_supplier(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.models import Product
    from shopkeeper.services.catalog import find_product
    from shopkeeper.services.ordering import return_to_supplier as give_back

    qty = parse_qty(args.qty)
    cli.open_db()
    product = find_product(args.product)
    posted = give_back(cli.context(), product, qty, supplier=args.supplier, order_id=args.po, reason=args.reason)
    for w in posted.warnings:
        cli.warn(w)
    on_hand = posted.on_hand.get(product.id, Product.get_by_id(product.id).on_hand)
    cli.emit({"sku": product.sku, "on_hand": json_qty(on_hand), "movements": posted.movement_ids,
              "unit_cost": format_money(posted.unit_costs[0], cli.decimals), "warnings": posted.warnings},
             f"returned {format_qty(qty)} {product.unit} of {product.sku} at "
             f"{format_money(posted.unit_costs[0], cli.decimals)}; on hand now {format_qty(on_hand)} {product.unit}")
    return 0


def _arrivals(path: str, decimals: int) -> list[tuple[str, int, int | None]]:
    """Rows of a delivery CSV: ``sku`` (or ``barcode``), ``qty`` (or ``quantity``), optional ``cost``; a bad row is
    refused naming its line and column, and nothing is received."""
    import csv
    from pathlib import Path

    from shopkeeper.errors import InvalidInput, ShopError

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ShopError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    reader = csv.DictReader(text.splitlines(), delimiter=";" if text.split("\n", 1)[0].count(";") else ",")
    header = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    code = header.get("sku") or header.get("barcode")
    qty = header.get("qty") or header.get("quantity")
    cost = header.get("cost") or header.get("unit_cost")
    if code is None or qty is None:
        raise InvalidInput(f"{path}: the header needs sku (or barcode) and qty columns", field="file",
                           reason="needs sku and qty columns")
    rows = []
    for line, row in enumerate(reader, 2):
        try:
            amount = parse_qty(row.get(qty) or "", what="qty")
            price = parse_money(row[cost], decimals, what="cost") if cost and (row.get(cost) or "").strip() else None
        except InvalidInput as exc:
            raise InvalidInput(f"{path} line {line}: {exc}", field=exc.field, reason=exc.reason, value=exc.value,
                               line=line) from None
        rows.append(((row.get(code) or "").strip(), amount, price))
    return rows


def receive_file(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.ordering import receive_against

    arrivals = _arrivals(args.file, cli.decimals)
    cli.open_db()
    receipt = receive_against(cli.context(), args.order, arrivals)
    for line in receipt.flagged:
        cli.warn(f"{line.sku}: " + ("not on the order" if line.flag == "not_on_order"
                                    else f"more than ordered ({format_qty(line.received)} of {format_qty(line.ordered)})"))
    for w in receipt.warnings:
        cli.warn(w)
    data = {"order": receipt.order_id, "status": receipt.status, "movements": receipt.movement_ids,
            "lines": [{"sku": ln.sku, "line": ln.line_no, "quantity": json_qty(ln.quantity),
                       "unit_cost": format_money(ln.unit_cost, cli.decimals), "ordered": json_qty(ln.ordered),
                       "received": json_qty(ln.received), "flag": ln.flag} for ln in receipt.lines]}
    cli.emit(data, f"received {len(receipt.lines)} line(s) against order {receipt.order_id}; order "
                   f"{_status(receipt.status)}")
    return 0
