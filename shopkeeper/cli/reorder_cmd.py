"""Reorder commands: ``reorder recompute``, ``reorder explain SKU``, ``reorder list``, ``reorder set``, ``reorder auto``."""

from __future__ import annotations

import argparse
import datetime as dt
import math
from statistics import NormalDist

from shopkeeper.cli import Cli, add_json
from shopkeeper.errors import NotFound
from shopkeeper.money import format_money, format_qty, json_qty, parse_qty


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reorder", help="reorder points learned from what sells; what to order")
    rsub = p.add_subparsers(dest="reorder_command", metavar="ACTION", required=True, parser_class=type(p))

    q = rsub.add_parser("recompute", help="learn every automatic product's reorder point from the journal")
    add_json(q)
    q.set_defaults(func=recompute)

    q = rsub.add_parser("explain", help="every figure behind a product's reorder point and suggested order")
    q.add_argument("product", help="SKU or barcode")
    add_json(q)
    q.set_defaults(func=explain)

    q = rsub.add_parser("list", help="what to order now: products at or below their reorder point")
    q.add_argument("--supplier", help="only this supplier's products (name)")
    add_json(q)
    q.set_defaults(func=list_suggestions)

    q = rsub.add_parser("set", help="type a reorder point by hand (the product becomes manual)")
    q.add_argument("product", help="SKU or barcode")
    q.add_argument("point", help="reorder point, e.g. 12")
    q.add_argument("--qty", help="order in multiples of this quantity")
    add_json(q)
    q.set_defaults(func=set_point)

    q = rsub.add_parser("auto", help="let the product's reorder point be learned again")
    q.add_argument("product", help="SKU or barcode")
    add_json(q)
    q.set_defaults(func=set_auto)


def _settings(cli: Cli):
    from shopkeeper.services.reorder import settings_of

    return settings_of(cli.config)


def recompute(args: argparse.Namespace, cli: Cli) -> int:
    import time

    from shopkeeper.services import reorder

    cli.open_db()
    started = time.perf_counter()
    result = reorder.recompute(cli.context(), settings=_settings(cli))
    seconds = time.perf_counter() - started
    data = {"window_days": result.window_days, "products": result.products, "changed": result.changed,
            "kept": result.kept, "seconds": round(seconds, 3)}
    cli.emit(data, f"learned the reorder points of {result.products} automatic products from the last "
                   f"{result.window_days} days: {result.changed} changed, {result.kept} kept as they were (too few "
                   f"days in stock to learn from), in {seconds:.2f} s")
    return 0


def _line_for(ctx, product):
    from shopkeeper.services.reorder import suggestions

    for line in suggestions(ctx):
        if line.product_id == product.id:
            return line
    return None


def explain(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.models import ProductSupplier, Supplier
    from shopkeeper.services.catalog import find_product
    from shopkeeper.services.reorder import AUTO, learn

    cli.open_db()
    settings = _settings(cli)
    product = find_product(args.product)
    today = dt.date.today()
    learned = learn(settings, today, [product.id], manual_too=True)[0] if product.active else []
    item = learned[0] if learned else None
    link = (ProductSupplier.select().where((ProductSupplier.product == product.id) & ProductSupplier.preferred)
            .first())
    supplier_id = link.supplier_id if link else product.supplier_id
    supplier = Supplier.get_or_none(Supplier.id == supplier_id) if supplier_id else None
    line = _line_for(cli.context(), product)
    d = cli.decimals
    unit = product.unit

    def q(milli: int | float) -> str:
        return f"{format_qty(round(milli))} {unit}"

    position = product.on_hand + product.on_order
    data: dict = {"sku": product.sku, "name": product.name, "mode": product.reorder_mode,
                  "reorder_point": json_qty(product.reorder_point), "reorder_qty": json_qty(product.reorder_qty),
                  "on_hand": json_qty(product.on_hand), "on_order": json_qty(product.on_order),
                  "position": json_qty(position), "supplier": supplier.name if supplier else None,
                  "service_level": str(settings.service_level), "window_days": settings.window_weeks * 7}
    out = [f"{product.sku}  {product.name}"]
    if product.reorder_mode == AUTO:
        out.append("Reorder point: learned from what sells (automatic). `shopkeeper reorder set` types one by hand.")
    else:
        out.append("Reorder point: typed by hand (manual); learning leaves it alone. `shopkeeper reorder auto "
                   f"{product.sku}` lets it be learned.")
    if item is not None:
        s = item.stats
        first = today - dt.timedelta(days=s.window)
        last = today - dt.timedelta(days=1)
        sd = math.sqrt(s.variance)
        data.update({"days": s.window, "days_out_of_stock": s.censored, "days_ran_out": s.ran_out,
                     "days_counted": s.days, "days_with_sales": s.demand_days, "sold": json_qty(s.sold),
                     "demand": json_qty(s.total),
                     "average_daily": round(s.mean / 1000, 3), "daily_sd": round(sd / 1000, 3),
                     "pattern": s.pattern, "lead_days": item.lead_days, "review_days": item.review_days})
        out += ["",
                f"Sales history: the {s.window} days from {first} to {last} (today is not over yet)",
                f"  days out of stock, left out:  {s.censored}"
                + ("  (nothing on the shelf as the day began: its sales say nothing about demand)"
                   if s.censored else ""),
                f"  days counted:                 {s.days}, with sales on {s.demand_days} of them",
                f"  sold on the days counted:     {q(s.sold)} (net of returns)"]
        if s.ran_out:
            days = ("1 day: customers later that day found none, so it counts" if s.ran_out == 1 else
                    f"{s.ran_out} days: customers later those days found none, so each counts")
            out += [f"  ran out during the day:       {days} as at least an average day",
                    f"  demand counted:               {q(s.total)}"]
        out += [f"  average daily sales:          {q(s.mean)}",
                f"  day-to-day variability:       {q(sd)} (standard deviation of a day's sales)",
                f"  sales pattern:                {_pattern_text(s)}"]
        who = f"supplier {supplier.name}" if supplier else "no supplier (defaults from the config)"
        out += ["", f"Ordering from {who}:",
                f"  lead time {item.lead_days} days + {item.review_days} days until the next order = "
                f"{item.lead_days + item.review_days} days the stock must last"]
        f = item.figures
        if f is None and s.days < settings.min_days:
            out.append(f"  only {s.days} days in stock; at least {settings.min_days} are needed to learn "
                       "(reorder.min_days): the stored figures are kept")
        elif f is None:
            out.append("  no sales on the days counted: the stored figures are kept (a product that does not "
                       "sell is not reordered anyway)")
        else:
            level = float(settings.service_level)
            data.update({"method": f.method, "expected": json_qty(f.expected), "safety_stock": json_qty(f.safety),
                         "learned_reorder_point": json_qty(f.reorder_point), "learned_target": json_qty(f.target)})
            out.append(f"  expected sales over {f.horizon} days:   {q(f.expected)} "
                       f"({q(s.mean)} × {f.horizon})")
            if f.method == "normal":
                z = NormalDist().inv_cdf(level)
                out.append(f"  service level {level:.0%}: safety stock {q(f.safety)} "
                           f"(z {z:.2f} × variability {q(sd)} × √{f.horizon} days, rounded up to whole units)")
            else:
                out.append(f"  service level {level:.0%}: safety stock {q(f.safety)} — a slow seller, so the "
                           f"reorder point is the amount sold in {f.horizon} days that is not exceeded "
                           f"{level:.0%} of the time, from a {f.method} distribution with the same average and "
                           "variability (a normal curve would be wrong for a few sales a month)")
            unused = "" if product.reorder_mode == AUTO else " — not used: the typed one is"
            out.append(f"  learned reorder point:        {q(f.reorder_point)} (expected + safety stock){unused}")
            out.append(f"  learned target (order up to): {q(f.target)} (reorder point + {q(f.cycle)}, "
                       f"{item.review_days} days of sales until the next order){unused}")
            if product.reorder_mode == AUTO and (f.reorder_point, f.target) != (product.reorder_point,
                                                                                product.reorder_qty):
                out.append("  (stored figures differ: sales since the last `shopkeeper reorder recompute`)")
    out += ["", "Now:",
            f"  reorder point {q(product.reorder_point)}"
            + (f", order up to {q(product.reorder_qty)}" if product.reorder_mode == AUTO
               else (f", order in multiples of {q(product.reorder_qty)}" if product.reorder_qty else "")),
            f"  on hand {q(product.on_hand)} + on order {q(product.on_order)} = inventory position {q(position)}"]
    if line is None:
        if product.reorder_point <= 0:
            out.append("  no reorder point: never suggested")
        else:
            out.append(f"  position above the reorder point: nothing to order ({q(position - product.reorder_point)}"
                       " to go)")
        data["suggested"] = None
    else:
        need = line.quantity - line.rounded - line.topped_up
        out.append(f"  at or below the reorder point: order {q(need)} to reach {q(line.target_level)}")
        if line.pack_size != 1000 or line.rounded:
            out.append(f"  rounded up to whole packs of {q(line.pack_size)}: +{q(line.rounded)}")
        if line.topped_up:
            minimum = format_money(supplier.min_order, d) if supplier else "?"
            out.append(f"  topped up to {line.supplier}'s minimum order of {minimum}: +{q(line.topped_up)}")
        packs = f" = {line.packs} packs" if line.pack_size != 1000 else ""
        cost = format_money(line.unit_cost * line.quantity // 1000, d)
        out.append(f"  suggested order: {q(line.quantity)}{packs}, about {cost} at cost")
        data["suggested"] = {"quantity": json_qty(line.quantity), "packs": line.packs,
                             "pack_size": json_qty(line.pack_size), "rounded": json_qty(line.rounded),
                             "topped_up": json_qty(line.topped_up), "unit_cost": format_money(line.unit_cost, d)}
    cli.emit(data, "\n".join(out))
    return 0


def _pattern_text(stats) -> str:
    return {
        "smooth": "steady (sells most days, in similar amounts)",
        "erratic": "erratic (sells most days, amounts vary a lot)",
        "intermittent": "slow (days without sales between sales)",
        "lumpy": "lumpy (days without sales, and amounts vary a lot)",
        "none": "no sales",
    }[stats.pattern] + (f"; on average {stats.adi:.1f} days between sales" if stats.demand_days else "")


def list_suggestions(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.models import Supplier
    from shopkeeper.services.reorder import suggestions

    cli.open_db()
    supplier_id = None
    if args.supplier:
        supplier = Supplier.get_or_none(Supplier.name == args.supplier.strip())
        if supplier is None:
            raise NotFound(f"unknown supplier {args.supplier!r}", field="supplier", value=args.supplier)
        supplier_id = supplier.id
    lines = suggestions(cli.context(), supplier_id)
    d = cli.decimals
    rows = [{"sku": s.sku, "name": s.name, "supplier": s.supplier or None, "item_code": s.item_code,
             "on_hand": json_qty(s.on_hand), "on_order": json_qty(s.on_order),
             "reorder_point": json_qty(s.reorder_point), "target_level": json_qty(s.target_level),
             "quantity": json_qty(s.quantity), "packs": s.packs, "pack_size": json_qty(s.pack_size),
             "unit_cost": format_money(s.unit_cost, d), "mode": s.mode} for s in lines]

    def text() -> str:
        if not lines:
            return "nothing to order: every product's inventory position is above its reorder point"
        out, current = [], object()
        for s in lines:
            if s.supplier != current:
                current = s.supplier
                out.append(s.supplier or "(no supplier)")
            packs = f" ({s.packs} × {format_qty(s.pack_size)})" if s.pack_size != 1000 else ""
            out.append(f"  {s.sku}  order {format_qty(s.quantity)} {s.unit}{packs}  — on hand "
                       f"{format_qty(s.on_hand)}, on order {format_qty(s.on_order)}, reorder point "
                       f"{format_qty(s.reorder_point)}  {s.name}")
        return "\n".join(out)

    cli.emit(rows, text)
    return 0


def set_point(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.catalog import find_product
    from shopkeeper.services.reorder import set_manual

    cli.open_db()
    product = find_product(args.product)
    point = parse_qty(args.point, what="reorder point")
    qty = parse_qty(args.qty, what="--qty") if args.qty is not None else None
    set_manual(cli.context(), product, point, qty)
    cli.emit({"sku": product.sku, "mode": "manual", "reorder_point": json_qty(point),
              "reorder_qty": json_qty(qty if qty is not None else product.reorder_qty)},
             f"{product.sku}: reorder point {format_qty(point)} {product.unit}, typed by hand (manual)")
    return 0


def set_auto(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.models import Product
    from shopkeeper.services.catalog import find_product
    from shopkeeper.services.reorder import set_auto as make_auto

    cli.open_db()
    product = find_product(args.product)
    make_auto(cli.context(), product, _settings(cli))
    p = Product.get_by_id(product.id)
    cli.emit({"sku": p.sku, "mode": p.reorder_mode, "reorder_point": json_qty(p.reorder_point),
              "reorder_qty": json_qty(p.reorder_qty)},
             f"{p.sku}: reorder point learned from sales: {format_qty(p.reorder_point)} {p.unit}, order up to "
             f"{format_qty(p.reorder_qty)} (see `shopkeeper reorder explain {p.sku}`)")
    return 0
