"""Checks and copies: check, backup, restore."""

from __future__ import annotations

import argparse

from shopkeeper.cli import EXIT_FAIL, EXIT_OK, Cli, add_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="check the database file (SQLite's integrity check), the hash chains over "
                                     "the journal, sales and audit log, and every product's stock against the "
                                     "journal; print the chain head; exit 1 on any problem")
    p.add_argument("--full", action="store_true", help="the full integrity check (indexes against tables, foreign "
                                                       "keys) instead of the quick one, and re-hash every row of "
                                                       "the chains instead of starting from the last checkpoint")
    p.add_argument("--against", metavar="HEAD", help="a chain head printed earlier (Z report, books export): prove "
                                                     "that today's history extends the one it names")
    add_json(p)
    p.set_defaults(func=check)

    p = sub.add_parser("backup", help="copy the database safely while others keep working; the copy is checked")
    p.add_argument("dest", help="file to write (never the database's own files)")
    p.add_argument("--force", action="store_true", help="replace DEST if it exists")
    add_json(p)
    p.set_defaults(func=backup)

    p = sub.add_parser("restore", help="replace the database by a checked backup; the current one is moved aside")
    p.add_argument("src", help="backup file to restore")
    add_json(p)
    p.set_defaults(func=restore)


def check(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.db import describe_error, unprotected
    from shopkeeper.models import database
    from shopkeeper.money import format_qty, json_qty
    from shopkeeper.services.audit import check_integrity
    from shopkeeper.services.chain import parse_head
    from shopkeeper.services.chain_check import check as check_chains

    if args.against:
        parse_head(args.against)  # bad input is refused before the (long) check
    cli.open_db()
    mode = "full" if args.full else "quick"
    problems = check_integrity(full=args.full)
    exposed = unprotected(database.obj)
    report, unreadable = None, None
    try:
        report = check_chains(full=args.full, against=args.against)
    except Exception as exc:  # a damaged file can fail the stock query too; the integrity problems say why
        from peewee import DatabaseError

        if not isinstance(exc, DatabaseError):
            raise
        unreadable = describe_error(exc) or str(exc)
    mismatches = report.mismatches if report else []
    total = report.products if report else 0
    data = {"products": total,
            "mismatches": [{"sku": m.sku, "on_hand": json_qty(m.cached), "journal": json_qty(m.journal)}
                           for m in mismatches],
            "integrity": None if problems is None else {"check": mode, "ok": not problems, "problems": problems}}
    if report:
        data["chain"] = {
            "head": str(report.head), "ok": not report.breaks and not report.checkpoint_problem,
            "from_checkpoint": report.checkpoint, "checkpoint_problem": report.checkpoint_problem,
            "verified": {s: {"from": a, "to": b} for s, (a, b) in report.verified.items()},
            "breaks": [{"table": b.stream if b.stream != "audit" else "audit_event", "row": b.row_id,
                        "position": b.position, "reason": b.reason} for b in report.breaks],
            "stored_checkpoint": report.stored_checkpoint,
            "unsealed": {chain_table(s): n for s, n in report.unsealed.items()}}
        if report.against:
            data["chain"]["against"] = {"head": report.against.printed, "ok": report.against.ok,
                                        "reason": report.against.reason}
    if unreadable:
        data["stock_unreadable"] = unreadable
    data["append_only"] = {"ok": not exposed, "unprotected": exposed}

    def text() -> str:
        lines = []
        if unreadable:
            lines.append(f"stock could not be read: {unreadable}")
        elif not mismatches:
            lines.append(f"ok: stock of all {total} products agrees with the journal")
        else:
            lines += [f"{m.sku}: cached on hand {format_qty(m.cached)}, journal says {format_qty(m.journal)}"
                      for m in mismatches]
            lines.append(f"{len(mismatches)} of {total} products disagree with the journal")
        if report:
            lines += _chain_text(report, args.full)
        if problems == []:
            lines.append(f"ok: database file intact ({mode} integrity check"
                         f"{'' if args.full else '; --full for the complete one'})")
        elif problems:
            lines.append(f"database file damaged ({mode} integrity check):")
            lines += [f"  {p}" for p in problems]
            lines.append("restore the last good backup (shopkeeper restore FILE)")
        if exposed:
            lines.append("append-only protection REMOVED (someone changed the database file behind the app's back): "
                         + "; ".join(exposed))
            lines.append("  check --against the chain head on the last Z report or books export says whether history "
                         "was rewritten")
        if report:
            lines.append(f"chain head: {report.head}")
        return "\n".join(lines)

    cli.emit(data, text)
    failed = mismatches or problems or unreadable or exposed or (report and not report.ok)
    return EXIT_FAIL if failed else EXIT_OK


def chain_table(stream: str) -> str:
    from shopkeeper.services.chain import TABLES

    return TABLES[stream]


def _chain_text(report, full: bool) -> list[str]:
    lines = []
    if report.checkpoint_problem:
        lines.append(f"chain: {report.checkpoint_problem}; verified from the start instead")
    for brk in report.breaks:
        lines.append(f"chain broken: first row that does not fit: {brk}")
    if not report.breaks:
        since = (f"since checkpoint {report.checkpoint}" if report.checkpoint and not full else "every row")
        count = sum(b - a for a, b in report.verified.values())
        lines.append(f"ok: hash chains verified ({since}: {count} rows"
                     f"{'' if full else '; --full re-hashes every row'})")
    if report.unsealed:
        rows = ", ".join(f"{n} {chain_table(s)}" for s, n in report.unsealed.items())
        why = f" ({report.not_sealed_because})" if report.not_sealed_because else " (committed meanwhile)"
        lines.append(f"not sealed yet: {rows} row(s) committed after the last seal{why}; the next seal links them")
    if report.against is not None:
        if report.against.ok:
            lines.append(f"ok: today's history extends {report.against.printed}")
        else:
            lines.append(f"history does NOT extend {report.against.printed}: {report.against.reason}")
    return lines


def backup(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.backup import backup as backup_db

    cli.open_db()
    done = backup_db(args.dest, force=args.force, ctx=cli.context(), group=cli.config.files.group)
    notes = []
    if done.replaced:
        notes.append("replaced the file that was there")
    if done.stale_partial:
        notes.append("a partial copy left by an interrupted backup was replaced")
    cli.emit({"backup": str(done.path), "bytes": done.size, "checked": True, "replaced": done.replaced,
              "stale_partial": done.stale_partial},
             f"backup written to {done.path} ({done.size} bytes, integrity checked)"
             + "".join(f"\n{note}" for note in notes))
    return EXIT_OK


def restore(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services.backup import restore as restore_db

    done = restore_db(args.src, cli.location)
    cli.emit({"restored": str(done.source), "database": str(done.database),
              "moved_aside": [str(p) for p in done.moved_aside], "schema_version": done.schema_version,
              "products": done.products, "movements": done.movements},
             lambda: _restore_text(done))
    return EXIT_OK


def _restore_text(done) -> str:
    lines = [f"checked {done.source}: intact (full integrity check), {done.products} products, "
             f"{done.movements} movements"]
    if done.moved_aside:
        others = [p.name[len(done.moved_aside[0].name):] for p in done.moved_aside[1:]]
        lines.append(f"moved the current database aside to {done.moved_aside[0]}"
                     + (f" (with its {', '.join(others)} file{'s' if len(others) > 1 else ''})" if others else ""))
    else:
        lines.append(f"there was no database at {done.database} yet")
    lines.append(f"restored {done.source} as {done.database}")
    return "\n".join(lines)
