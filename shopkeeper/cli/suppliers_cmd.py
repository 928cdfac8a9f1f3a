"""Suppliers: ``shopkeeper suppliers add|edit|list|show|link|unlink``."""

from __future__ import annotations

import argparse

from shopkeeper.cli import Cli, add_json
from shopkeeper.errors import InvalidInput
from shopkeeper.money import format_money, format_qty, json_qty, parse_money, parse_qty

_FIELDS = (("contact", "contact person"), ("email", "email address"), ("phone", "phone number"),
           ("lead_days", "days from sending an order to the goods on the shelf"),
           ("review_days", "how often orders go out, in days (default 7)"),
           ("order_days", "weekdays orders go out, e.g. mon,thu (empty: every review period)"),
           ("min_order", "minimum order value, e.g. 150.00"), ("notes", "free text"))


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("suppliers", help="suppliers and the products they sell (item code, pack, pack cost)")
    ssub = group.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(group))

    p = ssub.add_parser("add", help="a new supplier")
    p.add_argument("name")
    _supplier_options(p)
    add_json(p)
    p.set_defaults(func=add)

    p = ssub.add_parser("edit", help="change a supplier's details (only the options given)")
    p.add_argument("supplier", help="name or id")
    p.add_argument("--name", help="new name")
    _supplier_options(p)
    state = p.add_mutually_exclusive_group()
    state.add_argument("--inactive", dest="active", action="store_false", default=None,
                       help="stop ordering from it (po draft skips it; history stays)")
    state.add_argument("--active", dest="active", action="store_true", help="order from it again")
    add_json(p)
    p.set_defaults(func=edit)

    p = ssub.add_parser("list", help="suppliers by name")
    p.add_argument("--all", action="store_true", help="include inactive suppliers")
    add_json(p)
    p.set_defaults(func=list_)

    p = ssub.add_parser("show", help="one supplier: details, the products it sells, its open orders")
    p.add_argument("supplier", help="name or id")
    add_json(p)
    p.set_defaults(func=show)

    p = ssub.add_parser("link", help="say a supplier sells a product: item code, pack size, pack cost, preferred")
    p.add_argument("product", help="SKU or barcode")
    p.add_argument("supplier", help="name or id")
    p.add_argument("--code", dest="item_code", help="the supplier's item code")
    p.add_argument("--pack", help="units per pack, e.g. 24 (a case of 24)")
    p.add_argument("--pack-cost", help="cost of one pack, e.g. 19.20")
    p.add_argument("--preferred", action="store_true", default=None,
                   help="order this product from this supplier (moves the mark from another)")
    add_json(p)
    p.set_defaults(func=link)

    p = ssub.add_parser("unlink", help="the supplier no longer sells the product")
    p.add_argument("product", help="SKU or barcode")
    p.add_argument("supplier", help="name or id")
    add_json(p)
    p.set_defaults(func=unlink)


def _supplier_options(p: argparse.ArgumentParser) -> None:
    for name, help_text in _FIELDS:
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, help=help_text)


def _days(text: str | None, field: str) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        reason = f"{text!r} is not a whole number of days"
        raise InvalidInput(f"--{field.replace('_', '-')}: {reason}", field=field, reason=reason, value=text) from None


def _data(args: argparse.Namespace, cli: Cli):
    from shopkeeper.services.suppliers import SupplierData

    return SupplierData(
        name=getattr(args, "name", None), contact=args.contact, email=args.email, phone=args.phone,
        lead_days=_days(args.lead_days, "lead_days"), review_days=_days(args.review_days, "review_days"),
        order_days=args.order_days,
        min_order=parse_money(args.min_order, cli.decimals, what="--min-order") if args.min_order is not None else None,
        notes=args.notes, active=getattr(args, "active", None))


def _supplier_json(s, cli: Cli) -> dict:
    return {"id": s.id, "name": s.name, "contact": s.contact, "email": s.email, "phone": s.phone,
            "lead_days": s.lead_days, "review_days": s.review_days, "order_days": s.order_days,
            "min_order": format_money(s.min_order, cli.decimals), "notes": s.notes, "active": s.active}


def add(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.suppliers import create_supplier

    data = _data(args, cli)
    cli.open_db()
    s = create_supplier(cli.context(), data)
    cli.emit(_supplier_json(s, cli), f"added supplier {s.id}: {s.name}")
    return 0


def edit(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.suppliers import edit_supplier

    data = _data(args, cli)
    cli.open_db()
    s = edit_supplier(cli.context(), args.supplier, data)
    cli.emit(_supplier_json(s, cli), f"supplier {s.id}: {s.name}{'' if s.active else ' (inactive)'}")
    return 0


def list_(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.suppliers import list_suppliers

    cli.open_db()
    rows = list_suppliers(include_inactive=args.all)
    data = [{**_supplier_json(s, cli), "products": s.products, "open_orders": s.open_orders} for s in rows]

    def text() -> str:
        if not rows:
            return "no suppliers yet"
        width = max(len(s.name) for s in rows)
        return "\n".join(
            f"{s.id:>4}  {s.name:<{width}}  lead {s.lead_days:>2} d  "
            f"{('orders ' + s.order_days) if s.order_days else f'every {s.review_days} d':<18} "
            f"min {format_money(s.min_order, cli.decimals):>8}  {s.products:>4} products  {s.open_orders} open"
            f"{'' if s.active else '  (inactive)'}" for s in rows)

    cli.emit(data, text)
    return 0


def _link_json(link, cli: Cli) -> dict:
    return {"sku": link.sku, "name": link.name, "supplier": link.supplier, "preferred": link.preferred,
            "item_code": link.item_code, "pack_size": json_qty(link.pack_size),
            "pack_cost": format_money(link.pack_cost, cli.decimals)}


def _link_text(link, cli: Cli) -> str:
    mark = "*" if link.preferred else " "
    return (f"{mark} {link.sku:<14} {link.item_code or '-':<12} pack {format_qty(link.pack_size):>6} {link.unit:<4}"
            f" at {format_money(link.pack_cost, cli.decimals):>8}  {link.name}")


def show(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.ordering import list_orders
    from shopkeeper.services.suppliers import find_supplier, links

    cli.open_db()
    s = find_supplier(args.supplier)
    products = links(supplier=s)
    orders = list_orders(status="open", supplier=s)
    data = {**_supplier_json(s, cli), "products": [_link_json(link, cli) for link in products],
            "open_orders": [{"id": o.id, "status": o.status, "value": format_money(o.value, cli.decimals)}
                            for o in orders]}

    def text() -> str:
        out = [f"{s.name} (supplier {s.id}){'' if s.active else ' — inactive'}"]
        for label, value in (("contact", s.contact), ("email", s.email), ("phone", s.phone)):
            if value:
                out.append(f"  {label}: {value}")
        out.append(f"  lead time {s.lead_days} days; orders go out "
                   f"{'on ' + s.order_days if s.order_days else f'every {s.review_days} days'}; "
                   f"minimum order {format_money(s.min_order, cli.decimals)}")
        if s.notes:
            out.append(f"  notes: {s.notes}")
        out.append(f"products ({len(products)}; * preferred):" if products else "no products linked")
        out += [_link_text(link, cli) for link in products]
        out += [f"order {o.id}: {o.status.replace('_', ' ')}, {format_money(o.value, cli.decimals)}" for o in orders]
        return "\n".join(out)

    cli.emit(data, text)
    return 0


def link(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.suppliers import link_product

    pack = parse_qty(args.pack, what="--pack") if args.pack is not None else None
    cost = parse_money(args.pack_cost, cli.decimals, what="--pack-cost") if args.pack_cost is not None else None
    cli.open_db()
    info = link_product(cli.context(), args.product, args.supplier, item_code=args.item_code, pack_size=pack,
                        pack_cost=cost, preferred=args.preferred)
    cli.emit(_link_json(info, cli), f"{info.supplier}: {_link_text(info, cli).strip()}")
    return 0


def unlink(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.catalog import find_product
    from shopkeeper.services.suppliers import find_supplier, unlink_product

    cli.open_db()
    product, supplier = find_product(args.product), find_supplier(args.supplier)
    unlink_product(cli.context(), product, supplier)
    cli.emit({"sku": product.sku, "supplier": supplier.name}, f"{supplier.name} no longer sells {product.sku}")
    return 0
