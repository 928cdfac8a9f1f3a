"""Product list import and export (CSV)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shopkeeper.cli import Cli, add_json
from shopkeeper.errors import ShopError


def register(sub: argparse._SubParsersAction) -> None:
    products = sub.add_parser("products", help="import or export the product list (CSV)")
    psub = products.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(products))

    p = psub.add_parser("import", help="create or update products from a CSV file")
    p.add_argument("file", help="CSV file (UTF-8, ',' or ';' separated)")
    p.add_argument("--skip-bad", action="store_true", help="import the good rows and report the bad ones")
    p.add_argument("--ignore-stock", action="store_true",
                   help="ignore an on_hand column (re-importing an edited export: its stock is out of date)")
    layout = p.add_mutually_exclusive_group()
    layout.add_argument("--from", dest="system", metavar="SYSTEM",
                        help="the file is an export of SYSTEM: square, shopify, woocommerce, loyverse, lightspeed "
                             "(R- or X-Series, told by the header; or lightspeed-r, lightspeed-x), odoo, erpnext "
                             "(without it a known system's header is recognised)")
    layout.add_argument("--map", metavar="FILE",
                        help="TOML column map for any other layout: [columns] \"their column\" = \"our field\", "
                             "[fixed] field = \"value\"; extends = \"SYSTEM\" starts from a system's layout "
                             "([taxes] \"tax name\" = \"rate\")")
    p.add_argument("--location", metavar="NAME",
                   help="the shop's location, where the file has a stock column per location")
    p.add_argument("--preview", action="store_true",
                   help="show the first rows as they would be stored, and change nothing")
    add_json(p)
    p.set_defaults(func=import_csv)

    p = psub.add_parser("history", help="a product's logged changes of price, tax, average cost, unit, active")
    p.add_argument("product", help="SKU or barcode")
    add_json(p)
    p.set_defaults(func=history)

    p = psub.add_parser("export", help="write the product list as CSV (to stdout without FILE)")
    p.add_argument("file", nargs="?", help="file to write")
    p.add_argument("--force", action="store_true", help="overwrite FILE")
    p.set_defaults(func=export_csv)


def import_csv(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services import import_runs
    from shopkeeper.services.import_profiles import load_map, profile_named
    from shopkeeper.services.products_csv import import_products, parse_products_csv
    from shopkeeper.times import local_time

    path = Path(args.file)
    profile = profile_named(args.system) if args.system else load_map(Path(args.map)) if args.map else None
    try:
        data = path.open("rb")  # streamed: a million-row file is never held in memory
    except OSError as exc:
        raise ShopError(f"{path}: cannot read: {exc.strerror}") from None
    with data:
        cli.open_db()
        layouts = cli.config.extra.get("barcodes")
        try:
            if args.preview:
                ctx = cli.context()
                parsed = parse_products_csv(data, decimals=ctx.decimals, layouts=layouts, profile=profile,
                                            currency=ctx.currency, location=args.location,
                                            prices_include_tax=ctx.prices_include_tax)
                return _preview(cli, path, parsed)
            try:
                report = import_products(cli.context(), data, source=str(path), skip_bad=args.skip_bad,
                                         ignore_stock=args.ignore_stock, layouts=layouts, profile=profile,
                                         location=args.location)
            except KeyboardInterrupt:
                print(cli.lines(_interrupted(path)), file=sys.stderr)
                return 130
        except OSError as exc:
            raise ShopError(f"{path}: cannot read: {exc.strerror}") from None
        except ShopError as exc:
            if exc.line is not None and not str(exc).startswith(str(path)):  # a decoding problem, located in the file
                raise ShopError(f"{path}: {exc}", reason=exc.reason, line=exc.line) from None
            raise
    if report.resumed is not None:
        run = report.resumed
        print(cli.lines(f"{path}: finished the import of this file started {local_time(run.started_at)} and "
                        f"interrupted after "
                        f"{run.rows_done} of {run.rows_total} rows (those were not redone)"), file=sys.stderr)
    for run in import_runs.unfinished():
        print(cli.lines(f"warning: the import of {run.source} started {local_time(run.started_at)} stopped after "
                        f"{run.rows_done} of {run.rows_total} rows; run it again to finish it"), file=sys.stderr)
    if report.profile is not None:
        print(cli.lines(f"{path}: read as {report.profile.describe()}"), file=sys.stderr)
    for error in report.skipped:
        print(cli.lines(f"skipped {path}: {error}"), file=sys.stderr)
    for note in report.notes:
        print(cli.lines(f"{path}: {note}"), file=sys.stderr)
    cli.emit({"layout": report.profile.name if report.profile else "shopkeeper", "created": report.created, "updated": report.updated, "counted": report.counted,
              "skipped": [{"line": e.line, "column": e.column, "reason": e.reason} for e in report.skipped],
              "notes": [{"line": n.line, "column": n.column, "note": n.reason} for n in report.notes]},
             f"{path}: {report.created} created, {report.updated} updated, {report.counted} counted"
             + (f", {len(report.skipped)} skipped" if report.skipped else ""))
    return 0


def _interrupted(path: Path) -> str:
    """What Ctrl+C left of an import of ``path``: the batches stored before it stay, and running the same file again
    carries on after them."""
    from shopkeeper.services import import_runs

    run = next((r for r in reversed(import_runs.unfinished()) if r.source == str(path)), None)
    if run is None or not run.rows_done:
        return f"{path}: import interrupted before any row was stored: nothing changed"
    return (f"{path}: import interrupted after {run.rows_done} of {run.rows_total} rows; those are stored. Run the "
            f"same command again to finish it (stored rows are not redone)")


PREVIEW_ROWS = 10


def _preview(cli: Cli, path: Path, parsed) -> int:
    """The first rows as they would be stored; nothing is changed."""
    from shopkeeper.money import format_money, format_qty, format_rate

    d = cli.decimals
    rows = [{"line": r.line, "sku": r.data.sku, "name": r.data.name, "barcodes": r.data.barcodes or [],
             "price": None if r.data.price is None else format_money(r.data.price, d),
             "cost": None if r.cost is None else format_money(r.cost, d), "unit": r.data.unit,
             "tax": None if r.data.tax_rate is None else format_rate(r.data.tax_rate), "category": r.data.category,
             "supplier": r.data.supplier, "on_hand": None if r.on_hand is None else format_qty(r.on_hand)}
            for r in parsed.rows[:PREVIEW_ROWS]]
    layout = parsed.profile.describe() if parsed.profile else "shopkeeper's own columns"

    def text() -> str:
        # codes and figures are shown whole (a column widens for a long one); only a long name is shortened
        sku_w = max([10, *(len(r["sku"]) for r in rows)])
        out = [f"{path}: read as {layout}; preview, nothing changed",
               f"{'SKU':<{sku_w}} {'Name':<26} {'Price':>8} {'Cost':>8} {'Unit':<4} {'Tax':>5} {'Stock':>6}",
               "  Barcodes · Category / Supplier"]
        for r in rows:
            name = r["name"] if len(r["name"]) <= 26 else r["name"][:25] + "…"
            out.append(f"{r['sku']:<{sku_w}} {name:<26} {r['price'] or '-':>8} {r['cost'] or '-':>8} "
                       f"{r['unit'] or '-':<4} {r['tax'] or '-':>5} {r['on_hand'] or '-':>6}")
            out.append(f"  {'|'.join(r['barcodes']) or '-'} · {r['category'] or '-'} / {r['supplier'] or '-'}")
        more = len(parsed.rows) - len(rows)
        out.append(f"{len(parsed.rows)} good row(s)" + (f" ({more} not shown)" if more > 0 else "")
                   + (f", {len(parsed.errors)} bad:" if parsed.errors else ""))
        out += [f"  {path}: {e}" for e in parsed.errors]
        out += [f"{path}: {note}" for note in parsed.notes]
        return cli.lines("\n".join(out))

    cli.emit({"layout": parsed.profile.name if parsed.profile else "shopkeeper", "rows": rows,
              "good": len(parsed.rows),
              "bad": [{"line": e.line, "column": e.column, "reason": e.reason} for e in parsed.errors],
              "notes": [{"line": n.line, "column": n.column, "note": n.reason} for n in parsed.notes]}, text)
    return 0


def export_csv(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.products_csv import export_products, record_export

    cli.open_db()
    if not args.file:
        record_export(cli.context(), "stdout", export_products(sys.stdout, cli.decimals))
        return 0
    path = Path(args.file)
    if path.exists() and not args.force:
        raise ShopError(f"{path}: already exists (use --force to overwrite)")
    tmp = path.with_name(path.name + ".partial")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as out:
            n = export_products(out, cli.decimals)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ShopError(f"{path}: cannot write: {exc.strerror}") from None
    record_export(cli.context(), str(path.resolve()), n)
    print(f"wrote {n} products to {path}", file=sys.stderr)
    return 0


def history(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services import queries
    from shopkeeper.services.catalog import change_text, find_product

    cli.open_db()
    product = find_product(args.product)
    rows = list(reversed(queries.product_changes(product.id, 0, queries.product_changes_count(product.id))))
    text = "\n".join(
        f"{r.created_at}  {r.kind:<11} {r.field:<8} {change_text(r.field, r.old, cli.decimals):>10} → "
        f"{change_text(r.field, r.new, cli.decimals):<10} {r.staff or '-'} @ {r.terminal or '-'}"
        + (f"  ({r.note})" if r.note else "") for r in rows) or f"{product.sku}: no changes logged"
    def shown(field: str, value: str | None) -> str | None:
        return None if value is None else change_text(field, value, cli.decimals)

    cli.emit([{"at": r.created_at, "field": r.field, "old": shown(r.field, r.old), "new": shown(r.field, r.new),
               "kind": r.kind, "note": r.note, "staff": r.staff, "terminal": r.terminal} for r in rows], text)
    return 0
