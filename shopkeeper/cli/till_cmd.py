"""Till sessions and receipts: ``shopkeeper till open|cash-in|cash-out|no-sale|x|close|z|sessions`` and
``shopkeeper receipt SALE``.

The till is ``--terminal`` (or ``[till] terminal``, else the host name), as everywhere. Amounts are typed as the
currency is written (``150.00``); counts by denomination as ``20.00x3`` (``--count`` again for each).
"""

from __future__ import annotations

import argparse

from shopkeeper.bounds import int_arg
from shopkeeper.cli import Cli, add_json
from shopkeeper.errors import InvalidInput
from shopkeeper.money import format_money, parse_money

MONEY_KEYS = {"float", "cash_sales", "cash_refunds", "cash_in", "cash_out", "expected_cash", "counted_cash",
              "over_short", "sales_total", "refunds_total", "discounts", "rounding"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("till", help="till sessions: open with a float, cash in/out, no sale, X and Z reports, close")
    tsub = p.add_subparsers(dest="till_command", metavar="ACTION", required=True, parser_class=type(p))

    q = tsub.add_parser("open", help="open a session at this till with a float")
    q.add_argument("--float", dest="float_amount", metavar="AMOUNT", help="the float in the drawer, e.g. 150.00")
    _counts(q)
    add_json(q)
    q.set_defaults(func=open_session)

    for name, helptext in (("cash-in", "cash put into the drawer (change from the safe)"),
                           ("cash-out", "cash taken out (a paid-out, petty cash, a safe drop)")):
        q = tsub.add_parser(name, help=helptext)
        q.add_argument("amount", metavar="AMOUNT")
        q.add_argument("--reason", required=True, help="why (required)")
        add_json(q)
        q.set_defaults(func=cash_movement, kind=name.replace("-", "_"))

    q = tsub.add_parser("no-sale", help="open the cash drawer without a sale (recorded)")
    q.add_argument("--reason", default="", help="why")
    add_json(q)
    q.set_defaults(func=no_sale)

    q = tsub.add_parser("x", help="X report: the open session's figures now (nothing is reset)")
    q.add_argument("--print", action="store_true", help="print it on the receipt printer")
    add_json(q)
    q.set_defaults(func=x_report)

    q = tsub.add_parser("close", help="close the session with the counted drawer; prints the Z report")
    q.add_argument("--counted", metavar="AMOUNT", help="the cash counted in the drawer")
    _counts(q)
    q.add_argument("--print", action="store_true", help="print the Z report on the receipt printer")
    add_json(q)
    q.set_defaults(func=close_session)

    q = tsub.add_parser("z", help="show (or print again) the Z report of session N")
    q.add_argument("number", type=int_arg(), metavar="N")
    q.add_argument("--print", action="store_true", help="print it on the receipt printer")
    add_json(q)
    q.set_defaults(func=z_report)

    q = tsub.add_parser("sessions", help="this till's latest sessions (--all: every till's)")
    q.add_argument("--all", action="store_true", help="every till")
    q.add_argument("--limit", type=int_arg(), default=50)
    add_json(q)
    q.set_defaults(func=list_sessions)

    p = sub.add_parser("receipt", help="show (or --print) the receipt of a sale again, marked COPY")
    p.add_argument("sale", type=int_arg(), metavar="SALE")
    p.add_argument("--print", action="store_true", help="print it on the receipt printer")
    add_json(p)
    p.set_defaults(func=receipt)


def _counts(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", action="append", default=[], metavar="VALUExN",
                        help="notes or coins counted, e.g. 20.00x3 (repeat for each denomination)")


def _amount(cli: Cli, text: str | None, what: str) -> int | None:
    return None if text is None else parse_money(text, cli.decimals, what=what)


def _parse_counts(cli: Cli, texts: list[str]) -> dict[int, int] | None:
    from shopkeeper.denominations import for_currency, merge_counts, parse_count

    if not texts:
        return None
    allowed = for_currency(cli.config.shop.currency, cli.decimals, cli.config.till.denominations)
    return merge_counts(parse_count(text, cli.decimals, allowed) for text in texts)


def _money_json(data, decimals: int):
    """A report as JSON for people and scripts: amounts as decimal strings (the stored report keeps minor units)."""
    def money(value):
        return None if value is None else format_money(value, decimals)

    out = dict(data)
    for key in MONEY_KEYS & out.keys():
        out[key] = money(out[key])
    for key in ("sales_by_method", "refunds_by_method"):
        out[key] = {method: money(v) for method, v in out.get(key, {}).items()}
    for key in ("float_detail", "counted_detail"):
        out[key] = {format_money(int(value), decimals): n for value, n in out.get(key, {}).items()}
    out["tax_by_rate"] = {rate: {"net": money(v["net"]), "tax": money(v["tax"])}
                          for rate, v in out.get("tax_by_rate", {}).items()}
    return out


def _print(cli: Cli, text: str, *, kick: bool = False) -> None:
    from shopkeeper import printer

    if not printer.configured(cli.config):
        raise InvalidInput("no receipt printer is configured ([printer] kind, or [till] receipt_printer)",
                           field="printer")
    printer.send(cli.config, text, kick=kick)


def _session_json(session, decimals: int) -> dict:
    return {"id": session.id, "terminal": session.terminal, "number": session.number,
            "opened_at": session.opened_at, "opened_by": session.opened_by,
            "float": format_money(session.float_amount, decimals),
            "float_detail": {format_money(k, decimals): n for k, n in session.float_detail.items()},
            "closed_at": session.closed_at}


def open_session(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services import till_session

    amount = _amount(cli, args.float_amount, "--float")
    counts = _parse_counts(cli, args.count)
    if amount is None and counts is None:
        raise InvalidInput("till open: give --float AMOUNT or --count VALUExN", field="float")
    cli.open_db()
    session = till_session.open(cli.context(), amount, counts)
    cli.emit(_session_json(session, cli.decimals),
             f"till {session.terminal}: session {session.number} open with a float of "
             f"{format_money(session.float_amount, cli.decimals)}")
    return 0


def cash_movement(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper import printer
    from shopkeeper.services import till_session

    amount = _amount(cli, args.amount, "amount")
    cli.open_db()
    ctx = cli.context()
    move = till_session.cash_in if args.kind == "cash_in" else till_session.cash_out
    move_id = move(ctx, amount, args.reason)
    _kick(cli, printer)
    words = "into" if args.kind == "cash_in" else "out of"
    cli.emit({"id": move_id, "kind": args.kind, "amount": format_money(amount, cli.decimals),
              "reason": args.reason.strip()},
             f"{format_money(amount, cli.decimals)} {words} the drawer of till {ctx.terminal}: {args.reason.strip()}")
    return 0


def _kick(cli: Cli, printer) -> None:
    """Open the drawer once the act is recorded; a drawer that fails is a warning (the record stands)."""
    from shopkeeper.errors import ShopError

    try:
        printer.open_drawer(cli.config)
    except ShopError as exc:
        cli.warn(str(exc))


def no_sale(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper import printer
    from shopkeeper.services import till_session

    cli.open_db()
    ctx = cli.context()
    move_id = till_session.no_sale(ctx, args.reason)
    _kick(cli, printer)
    cli.emit({"id": move_id, "kind": "no_sale", "reason": args.reason.strip()},
             f"no sale recorded at till {ctx.terminal}")
    return 0


def x_report(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services import till_session

    cli.open_db()
    report = till_session.x_report(cli.context())
    if args.print:
        _print(cli, report.text)
    cli.emit(_money_json(report.as_json(), cli.decimals), report.text.rstrip("\n"))
    return 0


def close_session(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services import till_session

    amount = _amount(cli, args.counted, "--counted")
    counts = _parse_counts(cli, args.count)
    if amount is None and counts is None:
        raise InvalidInput("till close: give --counted AMOUNT or --count VALUExN", field="counted")
    cli.open_db()
    report = till_session.close(cli.context(), amount, counts)
    cli.emit(_money_json(report.as_json(), cli.decimals), report.text.rstrip("\n"))
    if args.print:
        _print(cli, report.text)  # the session is closed either way: a printer failure is reported after it
    _keep_report_figures()
    return 0


def _keep_report_figures() -> None:
    """After a close, the reports' figures of the closed days not kept yet (``report_upkeep``). Best effort: the
    session is closed and its Z report printed whatever happens here."""
    from peewee import DatabaseError

    from shopkeeper.errors import ShopError
    from shopkeeper.services import report_upkeep

    try:
        report_upkeep.keep_closed_days()
    except (DatabaseError, ShopError):
        pass


def z_report(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services import till_session

    cli.open_db()
    stored = till_session.z_report(cli.context(), args.number)
    if args.print:
        _print(cli, stored["text"])
    cli.emit(_money_json(stored, cli.decimals), stored["text"].rstrip("\n"))
    return 0


def list_sessions(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services import till_session
    from shopkeeper.times import local_time

    cli.open_db()
    rows = till_session.sessions(cli.context(), all_tills=args.all, limit=args.limit)
    d = cli.decimals

    def text() -> str:
        if not rows:
            return "no till sessions"
        out = [f"{'till':<12} {'no':>4}  {'opened':<16}  {'closed':<16}  {'float':>10}"]
        out += [f"{s.terminal[:12]:<12} {s.number:>4}  {local_time(s.opened_at):<16}  "
                f"{local_time(s.closed_at) if s.closed_at else 'open':<16}  {format_money(s.float_amount, d):>10}"
                for s in rows]
        return "\n".join(out)

    cli.emit([_session_json(s, d) for s in rows], text)
    return 0


def receipt(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.receipts import reprint

    cli.open_db()
    text = reprint(args.sale, cli.config)
    if args.print:
        _print(cli, text)  # a copy never opens the drawer
    cli.emit({"sale": args.sale, "text": text}, text.rstrip("\n"))
    return 0
