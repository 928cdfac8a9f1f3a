"""``shopkeeper training``: open the app on the practice copy of the shop (see services/training.py)."""

from __future__ import annotations

import argparse
import sys

from shopkeeper.cli import EXIT_OK, Cli, add_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("training", help="open the app on a practice copy of the shop (catalogue, prices and stock "
                                        "copied; nothing reaches the real journal, drawer or books), with a guided "
                                        "first day for a new cashier")
    p.add_argument("--reset", action="store_true", help="start the practice copy afresh from the shop as it is now")
    p.add_argument("--no-tui", action="store_true", help="only prepare the practice copy and print where it is")
    add_json(p)
    p.set_defaults(func=training)


def training(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.db import close_database, open_database
    from shopkeeper.services.training import allowed, prepare, record_start

    cli.open_db()
    real = cli.location
    busy = cli.config.database.busy_timeout_ms
    ctx = cli.context()
    approval = allowed(ctx)  # the ``training`` permission (--staff), before anything is made or reset
    done = prepare(real, reset=args.reset, busy_timeout_ms=busy)
    open_database(real, busy_timeout_ms=busy)
    record_start(ctx, approval)  # in the shop's audit log, once the copy is there
    close_database()
    open_database(str(done.path), busy_timeout_ms=busy)
    if args.no_tui or not sys.stdout.isatty():
        what = (f"practice copy made: {done.products} products copied" if done.created
                else "practice copy kept as it was (--reset starts it afresh)")
        cli.emit({"training_database": str(done.path), "created": done.created, "products": done.products},
                 f"{what}\n{done.path}\nopen it: shopkeeper training")
        return EXIT_OK
    from shopkeeper.tui.app import run_app

    run_app(str(done.path), cli.config, cli.context(), exact_till=bool(args.terminal or cli.config.till.terminal),
            training_of=real)
    return EXIT_OK
