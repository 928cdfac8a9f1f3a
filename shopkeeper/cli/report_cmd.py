"""``shopkeeper report NAME``: the reports of ``services/reports.py`` as text, JSON or CSV, and a sales chart."""

from __future__ import annotations

import argparse
import csv
import io
from typing import Any

from shopkeeper.cli import Cli, add_json
from shopkeeper.errors import InvalidInput
from shopkeeper.money import format_money, json_qty
from shopkeeper.services.report_cells import BAR_WIDTH, cell

NAMES = ("sales", "best-sellers", "worst-sellers", "slow-movers", "valuation", "shrinkage", "movement", "abc")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="what sells, what sits, what the stock is worth, what went missing",
                       description="Dates are local calendar days, inclusive (default: the last 30 days; abc: "
                                   "365). Money is exact; CSV and JSON carry the same figures as the text.")
    p.add_argument("name", nargs="?", choices=NAMES, metavar="NAME", help=", ".join(NAMES))
    p.add_argument("--keep", action="store_true",
                   help="no report: keep the figures of every closed day not kept yet, so the next reports read "
                        "only the days since (for the owner's cron, e.g. nightly)")
    p.add_argument("--from", dest="start", metavar="DATE", help="first day, e.g. 2026-11-01")
    p.add_argument("--to", dest="end", metavar="DATE", help="last day (default: today)")
    p.add_argument("--by", choices=("day", "week", "month"), default="day", help="period (sales, shrinkage)")
    p.add_argument("--category", metavar="C", help="only products of this category")
    p.add_argument("--supplier", metavar="S", help="only products of this supplier (by name)")
    p.add_argument("--rank", choices=("units", "revenue", "margin"), default="units",
                   help="best-sellers/worst-sellers: rank by")
    p.add_argument("--days", type=int, default=60, help="slow-movers: no sale for this many days (default 60)")
    p.add_argument("--at", metavar="DATE", help="valuation: as it stood at the end of this day")
    p.add_argument("--limit", type=int, help="rows of a product list (0: all)")
    p.add_argument("--table", metavar="NAME", help="with --csv: which table (default: the first)")
    p.add_argument("--csv", action="store_true", help="print CSV")
    p.add_argument("--plot", action="store_true", help="sales: draw net sales per period in the terminal")
    add_json(p)
    p.set_defaults(func=report)


def options(args: argparse.Namespace):
    from shopkeeper.services.reports import Options, parse_date

    if args.limit is not None and args.limit < 0:
        raise InvalidInput("--limit must not be negative", field="limit", value=args.limit)
    return Options(
        start=parse_date(args.start, what="--from") if args.start else None,
        end=parse_date(args.end, what="--to") if args.end else None,
        by=args.by, category=args.category, supplier=args.supplier, rank=args.rank, days=args.days,
        at=parse_date(args.at, what="--at") if args.at else None, limit=args.limit)


def json_cell(value: Any, kind: str, decimals: int) -> Any:
    if value is None:
        return None
    if kind == "qty":
        return json_qty(value)
    if kind in ("money", "pct", "rate"):
        return cell(value, kind, decimals)
    return value


def as_json(rep, decimals: int) -> dict:
    def row(r: dict, columns) -> dict:
        out = {c.key: json_cell(r.get(c.key), c.kind, decimals) for c in columns}
        if "product_id" in r:
            out["product_id"] = r["product_id"]
        return out

    return {"report": rep.name, "title": rep.title, **rep.params, "tables": {
        t.name: {"title": t.title, "rows": [row(r, t.columns) for r in t.rows],
                 "total": row(t.total, t.columns) if t.total else None} for t in rep.tables}}


def csv_cell(value: Any, kind: str, decimals: int) -> str:
    """A figure as text; a text cell (a name) that a spreadsheet would run as a formula gets a leading apostrophe,
    as the product export does (``products_csv``); numbers stay numbers."""
    from shopkeeper.services.products_csv import FORMULA_START

    text = cell(value, kind, decimals)
    return "'" + text if kind == "text" and text.startswith(FORMULA_START) else text


def as_csv(rep, decimals: int, table: str | None) -> str:
    t = rep.table(table) if table else rep.tables[0]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.key for c in t.columns])
    for r in t.rows + ([t.total] if t.total else []):
        writer.writerow([csv_cell(r.get(c.key), c.kind, decimals) for c in t.columns])
    return buf.getvalue().rstrip("\n")


PARAM_WORDS = {"product_id": "product", "days": "unsold for days", "rate_days": "rate of sale over days"}
"""The header's words for a report's parameters where the JSON key is not one (the JSON keeps the keys)."""


def as_text(rep, decimals: int) -> str:
    params = "  ".join(f"{PARAM_WORDS.get(k, k)} {v}" for k, v in rep.params.items())
    out = [f"{rep.title}  ({params})"]
    for t in rep.tables:
        rows = [[cell(r.get(c.key), c.kind, decimals) for c in t.columns] for r in t.rows]
        if t.total:
            rows.append([cell(t.total.get(c.key), c.kind, decimals) for c in t.columns])
        widths = [max([len(c.title), *(len(r[i]) for r in rows)]) for i, c in enumerate(t.columns)]
        widths = [min(w, 30) if c.kind == "text" else w for w, c in zip(widths, t.columns)]

        def line(values: list[str]) -> str:
            parts = []
            for value, width, column in zip(values, widths, t.columns):
                value = value if len(value) <= width else value[:width - 1] + "…"
                parts.append(value.ljust(width) if column.kind == "text" else value.rjust(width))
            return "  ".join(parts).rstrip()

        out += ["", t.title, line([c.title for c in t.columns]), "  ".join("-" * w for w in widths)]
        out += [line(r) for r in rows[:-1 if t.total else None]]
        if t.total:
            out += ["  ".join("-" * w for w in widths), line(rows[-1])]
        if not t.rows:
            out.append("(nothing)")
    return "\n".join(out)


def plot_text(rep, decimals: int, width: int = 100, height: int = 25) -> str:
    """Net sales per period as a bar chart (plotext), drawn as text."""
    import plotext as plt

    plt.clear_figure()
    plt.theme("clear")  # plain characters: readable on any terminal, and in a file
    plt.plotsize(width, height)
    labels = [label for label, _ in rep.chart]
    values = [float(format_money(v, decimals)) for _, v in rep.chart]  # a picture only: every figure stays exact
    plt.bar(list(range(len(values))), values, width=BAR_WIDTH)
    step = max(1, len(labels) // 8)
    plt.xticks(list(range(0, len(labels), step)), labels[::step])
    plt.title(f"Net sales by {rep.params.get('by', 'day')}, {rep.params['from']} to {rep.params['to']}")
    text = plt.uncolorize(plt.build())  # the clear theme still ends every line with a colour reset
    plt.clear_figure()
    return text


def report(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.reports import run

    if args.keep:
        return keep(args, cli)
    if args.name is None:
        raise InvalidInput(f"name a report ({', '.join(NAMES)}), or give --keep", field="name")
    if args.plot and args.name != "sales":
        raise InvalidInput("--plot draws the sales report only", field="plot")
    if args.csv and cli.json:
        raise InvalidInput("choose one of --csv and --json", field="csv")
    if args.csv and args.plot:
        raise InvalidInput("choose one of --csv and --plot", field="csv")
    opts = options(args)
    cli.open_db()
    rep = run(args.name, opts)
    d = cli.decimals
    if args.csv:
        print(cli.lines(as_csv(rep, d, args.table)), file=cli.out)
        return 0
    if args.plot and not cli.json:
        import shutil

        size = shutil.get_terminal_size((100, 30))
        print(plot_text(rep, d, min(size.columns, 160), max(12, min(size.lines - 2, 30))), file=cli.out)
        return 0
    cli.emit(as_json(rep, d), lambda: as_text(rep, d))
    return 0


def keep(args: argparse.Namespace, cli: Cli) -> int:
    """``report --keep``: ``report_upkeep.keep_closed_days``, and how long each step took."""
    from shopkeeper.services import report_upkeep

    if args.name is not None:
        raise InvalidInput(f"--keep runs no report: leave out {args.name!r}", field="keep", value=args.name)
    cli.open_db()
    took = report_upkeep.keep_closed_days()
    cli.emit({"kept_ms": {step: round(seconds * 1000) for step, seconds in took.items()}},
             lambda: "kept the figures of the closed days: " + ", ".join(
                 f"{step} {seconds:.1f} s" for step, seconds in took.items()))
    return 0
