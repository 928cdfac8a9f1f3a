"""Command line: ``shopkeeper [global options] COMMAND ...``.

Each command group lives in its own module under ``shopkeeper/cli/`` and exposes
``register(sub: argparse._SubParsersAction) -> None``, which adds its parsers and sets ``func`` to a handler
``handler(args: argparse.Namespace, cli: Cli) -> int``. Add the module name to ``COMMAND_MODULES``.

Handlers call one service and print through ``cli.emit(data, text)`` (JSON with ``--json``). Any ``ShopError``
becomes one line on stderr and exit code 2; never a traceback. Text output, warnings and errors quote names and
codes from the data, so their control characters are written escaped (``shopkeeper.text.safe``): a product name
must not retitle or clear the terminal. ``--json`` needs nothing more: JSON escapes them itself.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from shopkeeper.errors import ShopError
from shopkeeper.text import safe

COMMAND_MODULES = [
    "shopkeeper.cli.setup_cmd",  # init, demo
    "shopkeeper.cli.audit_cmd",  # check, backup, restore
    "shopkeeper.cli.stock_cmd",  # receive, adjust, count, stock, journal
    "shopkeeper.cli.sales_cmd",  # sell, return
    "shopkeeper.cli.till_cmd",  # till open/cash-in/cash-out/no-sale/x/close/z/sessions, receipt
    "shopkeeper.cli.products_cmd",  # products import/export
    "shopkeeper.cli.report_cmd",  # report NAME
    "shopkeeper.cli.serve_cmd",  # serve (the app in a browser)
    "shopkeeper.cli.export_cmd",  # export books
    "shopkeeper.cli.suppliers_cmd",  # suppliers add/edit/list/show/link/unlink
    "shopkeeper.cli.po_cmd",  # po draft/list/show/new/add/set/remove/send/close/cancel, return-to-supplier
    "shopkeeper.cli.reorder_cmd",  # reorder recompute/explain/list/set/auto
    "shopkeeper.cli.staff_cmd",  # staff add/list/set-pin/set-role/deactivate
    "shopkeeper.cli.audit_log_cmd",  # audit (the audit trail)
    "shopkeeper.cli.training_cmd",  # training (the practice copy)
]
OPTIONAL_COMMAND_MODULES = [
    "shopkeeper.cli.scanner_cmd",  # scanner list/listen, labels
    "shopkeeper.cli.counter_cmd",  # counter
]

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def encode_json(data: Any) -> str:
    """JSON with Decimal quantities written digit for digit (no float round trip)."""

    def convert(value: Any) -> Any:
        if isinstance(value, Decimal):
            return _DecimalToken(value)
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [convert(v) for v in value]
        return value

    return _dumps_with_decimals(convert(data))


class _DecimalToken:
    __slots__ = ("value",)

    def __init__(self, value: Decimal) -> None:
        self.value = value


def _dumps_with_decimals(data: Any) -> str:
    tokens: list[str] = []

    def default(o: Any) -> Any:
        if isinstance(o, _DecimalToken):
            tokens.append(format(o.value, "f"))
            return f"\x00{len(tokens) - 1}\x00"
        raise TypeError(f"cannot encode {type(o).__name__}")

    text = json.dumps(data, default=default, ensure_ascii=False)
    for n, token in enumerate(tokens):
        text = text.replace(f'"\\u0000{n}\\u0000"', token)
    return text


class CliParser(argparse.ArgumentParser):
    """argparse, but usage errors exit 2 with one clear line and no wall of usage text."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


@dataclass
class Cli:
    """What a command handler gets: the parsed global options, the config, output helpers, the database."""

    args: argparse.Namespace
    out: Any = field(default_factory=lambda: sys.stdout)
    _config: Any = None
    _location: str | None = None

    @property
    def json(self) -> bool:
        return bool(getattr(self.args, "json", False))

    @property
    def config(self):
        if self._config is None:
            from shopkeeper.config import load_config

            self._config = load_config(self.args.config)
        return self._config

    @property
    def location(self) -> str:
        if self._location is None:
            from shopkeeper.config import resolve_db

            self._location = resolve_db(self.args.db, self.config)
        return self._location

    def open_db(self, *, create: bool = False):
        """Open the shop database (it must exist unless ``create``) and bring its schema up to date."""
        from shopkeeper.db import open_database
        from shopkeeper.dbfile import refuse_foreign_file
        from shopkeeper.locations import sqlite_path

        from shopkeeper import files

        path = sqlite_path(self.location)
        group = self.config.files.group
        files.restrict_umask(group)  # the database's files, backups and exports: the owner's (and the group's)
        if path is not None:
            refuse_foreign_file(path)
            if create and path.parent.is_dir():
                files.create_private(path, group)
        db = open_database(self.location, busy_timeout_ms=self.config.database.busy_timeout_ms, create=create)
        warning = files.exposed(path)
        if warning:
            self.warn(warning)
        self.check_shop_settings()
        return db

    def check_shop_settings(self) -> None:
        """Refuse a config whose currency or decimals differ from the shop's (see services/shop_settings.py)."""
        from shopkeeper.config import config_label
        from shopkeeper.locations import display_location
        from shopkeeper.services.shop_settings import check_config

        shop = self.config.shop
        notice = check_config(shop.currency, shop.decimals, database=display_location(self.location),
                              config=config_label(self.config))
        if notice:
            self.note(notice)

    def context(self):
        """Who the command acts as: ``--staff``, else the OS user's name mapped in ``[staff] os_users``, else
        ``[till] staff``. Services refuse what that member may not do (``services/permissions.py``)."""
        from shopkeeper.services.context import Context

        return Context.from_config(self.config, staff=self.acting_staff(), terminal=self.args.terminal)

    def acting_staff(self, default: str | None = None) -> str | None:
        if self.args.staff:
            return self.args.staff
        import getpass

        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = ""
        mapped = self.config.staff.os_users.get(user)
        return mapped if mapped else default

    @property
    def decimals(self) -> int:
        return self.config.shop.decimals

    def emit(self, data: Any, text: str | Callable[[], str] | None = None) -> None:
        """Print ``data`` as JSON with --json, else ``text`` (or the data itself)."""
        if self.json:
            print(encode_json(data), file=self.out)
            return
        text = text() if callable(text) else text
        if text is None:
            text = data if isinstance(data, str) else encode_json(data)
        if text:
            print(self.lines(text), file=self.out)

    @staticmethod
    def lines(text: str) -> str:
        """Text output fit for a terminal: each line with its control characters escaped (line breaks kept)."""
        return "\n".join(safe(line) for line in text.split("\n"))

    def warn(self, message: str) -> None:
        print(f"warning: {safe(message)}", file=sys.stderr)

    def note(self, message: str) -> None:
        print(f"note: {safe(message)}", file=sys.stderr)


class SafeLogFormatter(logging.Formatter):
    """Log lines (a counter's, on stderr or in the system journal) quote scans and product names: each line is
    written with its control characters escaped, as the text output is."""

    def format(self, record: logging.LogRecord) -> str:
        return Cli.lines(super().format(record))


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(prog="shopkeeper", description="Perpetual inventory and point of sale for small shops.")
    parser.add_argument("--config", metavar="FILE", help="config file (default: $SHOPKEEPER_CONFIG, then the user "
                                                           "config dir)")
    parser.add_argument("--db", metavar="PATH_OR_URL", help="database (default: $SHOPKEEPER_DB, then the config)")
    parser.add_argument("--staff", metavar="NAME", help="who is working (recorded on every movement)")
    parser.add_argument("--terminal", metavar="NAME",
                        help="this till's name; one running app per till (default: config, then the host name, or "
                        "<host>-2, -3 … when another app holds it)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CliParser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    for name in OPTIONAL_COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def _database_errors() -> tuple[type[Exception], ...]:
    import sqlite3

    from peewee import DatabaseError

    return DatabaseError, sqlite3.DatabaseError


def _version() -> str:
    from shopkeeper import __version__

    return f"shopkeeper {__version__}"


def main(argv: list[str] | None = None) -> int:
    # Start-up creates some 10^5 long-lived objects (Textual, Peewee, our modules), and the cyclic garbage collector
    # would walk them over and over while they load: about 25 ms of the app's first frame. It is switched back on
    # when a command starts, or, for the app, once the first frame is painted (``ShopkeeperApp._freeze_heap``).
    gc.disable()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    finally:
        if sys.exc_info()[0] is not None:
            gc.enable()
    cli = Cli(args)
    if args.command is None:
        from shopkeeper.cli.setup_cmd import run_app

        handler = run_app
    else:
        gc.enable()
        handler = args.func
    try:
        return handler(args, cli) or EXIT_OK
    except ShopError as exc:
        refusal = getattr(exc, "refusal", "")  # permissions.PermissionDenied: no PIN is asked here
        text = (f"{refusal}: act as a staff member who may (--staff NAME, or this OS user mapped in [staff] "
                "os_users)" if refusal else str(exc))
        print(f"shopkeeper: {Cli.lines(text)}", file=sys.stderr)
        return EXIT_USAGE
    except _database_errors() as exc:  # a damaged or unreadable database file, a full disk, ...
        from shopkeeper.db import describe_error
        from shopkeeper.locations import display_location

        where = display_location(cli._location or "")
        detail = " ".join(str(describe_error(exc) or exc).split())  # PostgreSQL's errors run over several lines
        print(safe(f"shopkeeper: database {where}: {detail}".replace(" :", ":")), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("shopkeeper: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAIL
    finally:
        from shopkeeper.db import close_database

        close_database()
        gc.enable()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

