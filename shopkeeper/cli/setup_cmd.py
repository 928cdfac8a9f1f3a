"""Set-up: init, demo; and launching the app."""

from __future__ import annotations

import argparse
import sys
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
    p.add_argument("--reset", action="store_true", help="start the demo shop afresh")
    p.add_argument("--products", type=int, default=0, metavar="N", help="add N generated products (try 100000)")
    p.add_argument("--no-tui", action="store_true", help="only create the demo database and print where it is")
    p.set_defaults(func=demo)


def init(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.config import Config, find_config_path, parse_config, write_config
    from shopkeeper.db import open_database

    path, _ = find_config_path(args.config)
    if path.exists() and not args.force:
        raise ShopError(f"{path}: config already exists (use --force to overwrite)")
    shop = {k: v for k, v in {
        "name": args.name, "currency": args.currency, "decimals": args.decimals, "default_tax_rate": args.tax,
        "negative_stock": args.negative_stock,
        "prices_include_tax": False if args.prices_exclude_tax else None}.items() if v is not None}
    location = args.db or str(path.parent / "shop.db")
    config: Config = parse_config({"shop": shop, "database": {"url": location}}, path)
    is_file = "://" not in location
    moved = None
    if is_file and Path(location).exists():
        if not args.force:
            raise ShopError(f"{location}: database already exists (use --force to start a new one; the old one is "
                            "kept beside it)")
        moved = _move_aside(Path(location))
    if is_file:
        Path(location).parent.mkdir(parents=True, exist_ok=True)
    write_config(path, config, force=args.force)
    open_database(location, busy_timeout_ms=config.database.busy_timeout_ms)
    cli.emit({"config": str(path), "database": location, "moved_aside": str(moved) if moved else None},
             f"wrote {path}\ncreated database {location}" + (f"\nold database kept as {moved}" if moved else ""))
    return EXIT_OK


def _move_aside(db: Path) -> Path:
    import datetime as dt

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = db.with_name(f"{db.name}.{stamp}.bak")
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(db) + suffix)
        if src.exists():
            src.rename(Path(str(target) + suffix))
    return target


def demo(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.config import default_data_dir
    from shopkeeper.db import open_database
    from shopkeeper.demo import seed_demo

    location = args.db or str(default_data_dir() / "demo.db")
    if "://" not in location:
        Path(location).parent.mkdir(parents=True, exist_ok=True)
        if args.reset:
            for suffix in ("", "-wal", "-shm"):
                Path(location + suffix).unlink(missing_ok=True)
    cli._location = location
    config = cli.config
    if not config.shop.name or config.shop.name == "My Shop":
        config = replace(config, shop=replace(config.shop, name="Demo Grocery"))
    open_database(location, busy_timeout_ms=config.database.busy_timeout_ms)
    ctx = cli.context()
    seed_demo(replace(ctx, staff=""), extra_products=args.products)
    if args.no_tui or not sys.stdout.isatty():
        cli.emit({"database": location}, f"demo shop ready: {location}\n"
                 f"try: shopkeeper --db {location} stock")
        return EXIT_OK
    return _launch(location, config, ctx)


def run_app(args: argparse.Namespace, cli: Cli) -> int:
    """``shopkeeper`` with no command: open the app on the configured shop."""
    if not sys.stdout.isatty():
        raise ShopError("the app needs a terminal; use a command (see shopkeeper --help)")
    cli.open_db(create=False)
    return _launch(cli.location, cli.config, cli.context())


def _launch(location: str, config, ctx) -> int:
    """Run the app on ``location``, which the caller has opened (``open_database``) in this thread."""
    from shopkeeper.tui.app import run_app as run_tui

    run_tui(location, config, ctx)
    return EXIT_OK
