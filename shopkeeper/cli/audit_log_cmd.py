"""``shopkeeper audit [--since] [--staff] [--kind] [--json]``: the audit trail, newest first (read-only).
(``cli/audit_cmd.py`` is the other kind of audit: check, backup, restore.)"""

from __future__ import annotations

import argparse

from shopkeeper.cli import EXIT_OK, Cli, add_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="the audit trail: voids, removed lines, discounts, overrides, PIN failures, "
                                     "staff changes, product changes, backups …, newest first")
    p.add_argument("--since", help="date or time, local (YYYY-MM-DD[ HH:MM])")
    p.add_argument("--staff", dest="by", metavar="NAME", help="only what NAME did or approved")
    p.add_argument("--kind", help="only this kind (e.g. sale_voided, discount, override, pin_failed, "
                                  "product_changed)")
    p.add_argument("--limit", type=int, default=500, help="at most this many (default 500; 0: all)")
    add_json(p)
    p.set_defaults(func=audit)


def audit(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.cli.stock_cmd import _since
    from shopkeeper.errors import InvalidInput
    from shopkeeper.services.audit_trail import check_kind, entries

    if args.limit < 0:
        raise InvalidInput("--limit: must not be negative", field="limit")
    cli.open_db()
    if args.kind:
        check_kind(args.kind)
    rows = entries(since=_since(args.since) if args.since else None, staff=args.by, kind=args.kind,
                   limit=args.limit or None)

    def text() -> str:
        from shopkeeper.times import local_time, zone_label

        if not rows:
            return "no audit events"
        out = [f"times in {zone_label()}"]
        for e in rows:
            who = e.staff or "-"
            if e.supervisor:
                who += f" (approved by {e.supervisor})"
            out.append(f"{local_time(e.created_at, seconds=True)}  {e.kind:<17} {who:<24} {e.subject:<18} "
                       f"{e.summary()}".rstrip())
        return "\n".join(out)

    cli.emit([e.as_dict() for e in rows], text)
    return EXIT_OK
