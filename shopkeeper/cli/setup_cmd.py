"""Set-up: init, demo; and launching the app."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from shopkeeper.cli import EXIT_OK, Cli
from shopkeeper.errors import ShopError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="write a config file and create the shop database")
    p.add_argument("--force", action="store_true", help="overwrite an existing config; move an existing database "
                                                        "aside (never deleted)")
    p.add_argument("--name", help="shop name")
    p.add_argument("--currency", help="currency code, e.g. EUR")
    p.add_argument("--decimals", type=int, help="decimal places of the currency (default 2)")
    p.add_argument("--tax", help="default tax rate in percent, e.g. 20")
    p.add_argument("--prices-exclude-tax", action="store_true", help="prices are entered before tax")
    p.add_argument("--negative-stock", choices=["allow", "warn", "refuse"])
    p.set_defaults(func=init)

    p = sub.add_parser("demo", help="open the app on a seeded demo shop")
    p.add_argument("--reset", action="store_true", help="start the demo shop afresh (the old one is moved aside; "
                                                        "only ever a demo shop)")
    p.add_argument("--products", type=int, default=None, metavar="N",
                   help="add N generated products (try 100000); a demo of another size is rebuilt")
    p.add_argument("--no-tui", action="store_true", help="only create the demo database and print where it is")
    p.set_defaults(func=demo)


def init(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.config import Config, find_config_path, parse_config, write_config
    from shopkeeper.db import close_database, open_database
    from shopkeeper.dbfile import move_aside
    from shopkeeper.locations import display_location, has_password, is_postgres, sqlite_path
    from shopkeeper.services.shop_settings import CREATED_BY_INIT, check_config, read_settings, record_settings

    path, _ = find_config_path(args.config)
    if path.exists() and not args.force:
        raise ShopError(f"{path}: config already exists (use --force to overwrite)")
    shop = {k: v for k, v in {
        "name": args.name, "currency": args.currency, "decimals": args.decimals, "default_tax_rate": args.tax,
        "negative_stock": args.negative_stock,
        "prices_include_tax": False if args.prices_exclude_tax else None}.items() if v is not None}
    location = args.db or str(path.parent / "shop.db")
    file = sqlite_path(location)
    if file is not None:
        # Absolute, so the config names the same file whatever folder it is later read from.
        file = file.absolute()
        location = str(file)
    config: Config = parse_config({"shop": shop, "database": {"url": location}}, path)
    shown = display_location(location)
    moved = None
    if is_postgres(location) and args.force:
        raise ShopError(f"database {shown}: init --force never replaces a PostgreSQL database; drop or rename it "
                        "with PostgreSQL's own tools first, or init without --force to use the shop it holds")
    if file is not None and file.exists():
        if not args.force:
            raise ShopError(f"{file}: database already exists (use --force to start a new one; the old one is "
                            "kept beside it)")
        close_database()  # locks are per process: our own connection would neither show as "in use" nor survive
        moved = move_aside(file, "run init --force")
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        _private_file(file, config.files.group)
    # The database first: a server that refuses us leaves no config behind pointing at it.
    open_database(location, busy_timeout_ms=config.database.busy_timeout_ms)
    existing = read_settings()
    if existing.currency is None:
        record_settings(config.shop.currency, config.shop.decimals, created_by=CREATED_BY_INIT)
    else:  # a PostgreSQL database that already holds a shop: this config must agree with it
        check_config(config.shop.currency, config.shop.decimals, database=shown, config=f"config {path}")
    write_config(path, config, force=args.force)
    lines = [f"wrote {path}", f"created database {shown}"]
    if moved:
        lines.append(f"old database kept as {moved}")
    if has_password(location):
        lines.append(f"{path} holds the database password and is readable by you only; ~/.pgpass keeps it out "
                     "of the config altogether")
    cli.emit({"config": str(path), "database": shown, "moved_aside": str(moved) if moved else None},
             "\n".join(lines))
    return EXIT_OK


def demo(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.config import config_label
    from shopkeeper.db import close_database, open_database
    from shopkeeper.demo import seed_demo
    from shopkeeper.locations import display_location, redacted, sqlite_path
    from shopkeeper.models import Product
    from shopkeeper.services.shop_settings import CREATED_BY_DEMO, check_config, record_settings

    if args.products is not None and args.products < 0:
        raise ShopError("--products: must not be negative", field="products")
    location = args.db or str(_default_demo())
    cli._location = location
    config = cli.config
    if not config.shop.name or config.shop.name == "My Shop":
        config = replace(config, shop=replace(config.shop, name="Demo Grocery"))
    busy = config.database.busy_timeout_ms
    shown = display_location(location)
    moved = _make_room_for_demo(location, args, cli, busy)
    file = sqlite_path(location)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        _private_file(file, config.files.group)
    close_database()
    open_database(location, busy_timeout_ms=busy)
    if not Product.select().exists():
        record_settings(config.shop.currency, config.shop.decimals, created_by=CREATED_BY_DEMO,
                        demo_products=args.products or 0)
        with _progress("building the demo shop") as progress:
            seed_demo(replace(cli.context(), staff=""), extra_products=args.products or 0, progress=progress)
    else:
        check_config(config.shop.currency, config.shop.decimals, database=shown, config=config_label(config))
    kept = f"the previous demo is kept as {moved}" if moved else ""
    if args.no_tui or not sys.stdout.isatty():
        text = f"demo shop ready: {shown}\ntry: shopkeeper --db {redacted(location)} stock"
        cli.emit({"database": shown, "moved_aside": str(moved) if moved else None},
                 text + (f"\n{kept}" if kept else ""))
        return EXIT_OK
    if kept:
        cli.note(kept)
    return _launch(location, config, cli.context(), exact_till=bool(args.terminal or config.till.terminal))


def _default_demo() -> Path:
    from shopkeeper.config import default_data_dir

    return default_data_dir() / "demo.db"


def _make_room_for_demo(location: str, args: argparse.Namespace, cli: Cli, busy: int) -> Path | None:
    """Decide what to do with a database already at ``location``: refuse a real shop (never touched), keep a demo
    of the asked size, or move a demo aside for ``--reset`` or another ``--products N``. Returns where it went."""
    from shopkeeper.db import close_database, open_database
    from shopkeeper.dbfile import move_aside, refuse_foreign_file
    from shopkeeper.locations import display_location, sqlite_path
    from shopkeeper.models import Product
    from shopkeeper.services.shop_settings import CREATED_BY_INIT, read_settings

    file, shown = sqlite_path(location), display_location(location)
    if file is None and args.reset:
        raise ShopError(f"database {shown}: demo --reset only resets a demo shop's SQLite file; it never replaces "
                        "a PostgreSQL database")
    if file is not None and not file.exists():
        return None
    if file is not None:
        refuse_foreign_file(file)
    open_database(location, busy_timeout_ms=busy)
    shop = read_settings()
    filled = Product.select().exists()
    # A demo made before demo shops were marked lives at the default place and was not made by init.
    is_demo = shop.is_demo or (file == _default_demo() and shop.created_by != CREATED_BY_INIT)
    if not is_demo and (filled or shop.created_by == CREATED_BY_INIT):
        raise ShopError(f"database {shown} is a real shop, not a demo: the demo never changes or replaces it; "
                        "give the demo a --db of its own", field="db", reason="not a demo shop")
    had, wanted = shop.demo_products or 0, args.products
    if not (args.reset or (filled and wanted is not None and wanted != had)):
        return None
    if file is None:
        raise ShopError(f"database {shown}: the demo shop there has {had} generated products; a PostgreSQL demo is "
                        "never rebuilt, give another --db for a different size")
    if not args.reset:
        cli.note(f"rebuilding the demo shop with {wanted} generated products (it had {had})")
    close_database()  # locks are per process: our own connection would neither show as "in use" nor survive
    return move_aside(file, "run the demo")


@contextlib.contextmanager
def _progress(what: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr for long work, when stderr is a terminal; else nothing (``None``)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(what, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _private_file(file, group: str) -> None:
    """The new database (and what SQLite makes beside it) readable by its owner only: see shopkeeper/files.py."""
    from shopkeeper import files

    files.restrict_umask(group)
    files.create_private(file, group)


def run_app(args: argparse.Namespace, cli: Cli) -> int:
    """``shopkeeper`` with no command: open the app on the configured shop."""
    if not sys.stdout.isatty() and not _served():
        raise ShopError("the app needs a terminal; use a command (see shopkeeper --help)")
    cli.open_db(create=False)
    exact = bool(args.terminal or cli.config.till.terminal)
    return _launch(cli.location, cli.config, cli.context(), exact_till=exact)


def _served() -> bool:
    """Whether a Textual driver was named that brings its own screen: textual-serve (``shopkeeper serve``) and
    textual-web run the app with ``$TEXTUAL_DRIVER`` set and its output on a pipe to them, not on a terminal."""
    return bool(os.environ.get("TEXTUAL_DRIVER"))


def _launch(location: str, config, ctx, *, exact_till: bool) -> int:
    """Run the app on ``location``, which the caller has opened (``open_database``) in this thread. A till named
    on purpose (``exact_till``) is that till or a refusal; the default name (the host's) goes to the first free
    ``<host>``, ``<host>-2`` … (see services/till_claim.py)."""
    from shopkeeper.tui.app import run_app as run_tui

    run_tui(location, config, ctx, exact_till=exact_till)
    return EXIT_OK
