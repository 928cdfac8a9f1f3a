"""``shopkeeper export books``: the shop's double-entry books for an accountant's tool (``services/books.py``)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from shopkeeper.cli import Cli
from shopkeeper.errors import ShopError
from shopkeeper.services.books_format import FORMATS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export the books for an accounting tool")
    what = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    books = what.add_parser(
        "books", help="the double-entry books of a period: beancount, hledger, ledger or a CSV general journal",
        description="One transaction per local day (sales, payments, stock at cost) and per Z report (the drawer's "
                    "cash), in the account names of [accounts] in the config. The same period exports "
                    "byte-identical every time. See docs/books.md.")
    books.add_argument("--from", dest="start", required=True, metavar="DATE", help="first local day, e.g. 2026-11-01")
    books.add_argument("--to", dest="end", required=True, metavar="DATE", help="last local day, inclusive")
    books.add_argument("--format", required=True, choices=FORMATS, help=", ".join(FORMATS))
    books.add_argument("--out", metavar="FILE", help="write to FILE (replaced whole, atomically) instead of stdout")
    books.add_argument("--opening", action="store_true",
                       help="start with the inventory's valuation at --from, from accounts.opening (a file that "
                            "stands alone; leave it out for a period that follows one already imported)")
    books.set_defaults(func=export_books)


def export_books(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.db import write_transaction
    from shopkeeper.services import audit_log, books
    from shopkeeper.services.books_format import write
    from shopkeeper.services.reports import parse_date

    from shopkeeper.services import permissions

    start, end = parse_date(args.start, what="--from"), parse_date(args.end, what="--to")
    cli.open_db()
    from shopkeeper.errors import ShopError
    from shopkeeper.services import training

    if training.active():
        raise ShopError("this is a training copy of the shop: its sales are practice, and its books are not the "
                        "shop's; export from the real shop's database")
    approval = permissions.require(cli.context(), permissions.EXPORT_BOOKS)
    shop = cli.config.shop
    result = books.build(start, end, cli.config.section("accounts"), decimals=shop.decimals, opening=args.opening)
    text = write(result, args.format, currency=shop.currency, decimals=shop.decimals)
    if args.out:
        _write_atomically(Path(args.out), text)
    else:
        sys.stdout.write(text)
    with write_transaction():
        audit_log.record(cli.context(), "export_made", subject=f"books:{start}:{end}", detail={
            "what": "books", "format": args.format, "from": str(start), "to": str(end), "opening": args.opening,
            "transactions": len(result.transactions), "out": str(Path(args.out).resolve()) if args.out else ""})
        approval.record(cli.context(), f"books:{start}:{end}")
    if args.out:
        print(f"wrote {len(result.transactions)} transactions from {start} to {end} to {args.out}", file=sys.stderr)
    return 0


def _write_atomically(path: Path, text: str) -> None:
    """Write the whole file beside ``path`` first, then rename it over: a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ShopError(f"{path}: cannot write: {exc.strerror}", field="out", value=str(path)) from None
