"""``shopkeeper counter``: a headless counter (a Pi with a scanner at a stock-room door or a self-service shelf).

See ``shopkeeper/counter.py`` for what each mode does with a scan and how a sale is delimited.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path

from shopkeeper.cli import Cli
from shopkeeper.errors import InvalidInput, ShopError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "counter", help="run a headless counter: each scan becomes a sale, a receipt or a count at once",
        description="Read scans from a scanner (or a recording) with no screen and post each one through the "
                    "services at once. Stops cleanly on SIGTERM/SIGINT.")
    p.add_argument("--device", metavar="D", help="scanner device: /dev/input/by-id/…, a name or vendor:product "
                                                 "(default: scanner.device in the config)")
    p.add_argument("--mode", choices=("sell", "receive", "count"), required=True, help="what a scan does")
    p.add_argument("--replay", metavar="FILE", help="read scans from an evtest/evemu recording instead of a device, "
                                                    "then stop at its end")
    p.add_argument("--realtime", action="store_true", help="with --replay: keep the recording's pace")
    p.add_argument("--feedback", metavar="CMD", help="command run after each scan as `CMD ok|error|sale CODE` "
                                                     "(a beep or an LED)")
    p.add_argument("--sale-end", choices=("each", "idle"), default="each",
                   help="sell mode: each scan is a sale (default), or scans group into a sale that ends after "
                        "--idle seconds without a scan or when --total-code is scanned")
    p.add_argument("--idle", type=float, default=20.0, metavar="SECONDS",
                   help="sell mode with --sale-end idle: commit the sale after this many idle seconds (default 20)")
    p.add_argument("--total-code", default="", metavar="CODE",
                   help="sell mode with --sale-end idle: scanning this code commits the sale at once")
    p.add_argument("--payment", choices=("cash", "card", "other"), default="other",
                   help="payment recorded on counter sales (default other: taken outside shopkeeper)")
    p.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    p.set_defaults(func=run_counter)


def _source(args: argparse.Namespace, cli):
    settings = _scanner_settings(cli)
    if args.replay:
        from shopkeeper.scanner.replay import ReplaySource

        path = Path(args.replay)
        if not path.is_file():
            raise InvalidInput(f"--replay {path}: no such file")
        return ReplaySource(path, settings, realtime=args.realtime)
    device = args.device or getattr(settings, "device", "")
    if not device:
        raise InvalidInput("no scanner: give --device (or scanner.device in the config), or --replay FILE")
    try:
        from shopkeeper.scanner.evdev_source import EvdevScanSource
    except ImportError as exc:
        raise ShopError(f"cannot read scanner devices here: {exc} (install the evdev package; Linux only)") from None
    return EvdevScanSource(replace(settings, device=device))


def _scanner_settings(cli):
    from shopkeeper.scanner.settings import ScannerSettings

    try:
        return cli.config.section("scanner")
    except KeyError:
        return ScannerSettings()


def _barcode_settings(cli):
    try:
        return cli.config.section("barcodes")
    except KeyError:
        return None


def run_counter(args: argparse.Namespace, cli) -> int:
    from shopkeeper.counter import Counter, Feedback, run

    if args.mode != "sell" and (args.sale_end != "each" or args.total_code):
        raise InvalidInput("--sale-end and --total-code only apply to --mode sell")
    from shopkeeper.cli import SafeLogFormatter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeLogFormatter("%(asctime)s %(levelname)s %(message)s"))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, handlers=[handler])
    source = _source(args, cli)
    cli.open_db()
    counter = Counter(_counter_context(cli), args.mode, layouts=_barcode_settings(cli), sale_end=args.sale_end,
                      idle_seconds=args.idle, total_code=args.total_code, payment=args.payment,
                      feedback=Feedback(args.feedback), printer_config=cli.config)
    if args.mode != "sell" or args.sale_end != "idle":
        return run(counter, source)
    from shopkeeper.services.till_claim import held

    # Grouped sales live in this terminal's open sale, like a till's: no app or other counter may share it.
    with held(counter.ctx.terminal, exact=True):
        return run(counter, source)


def _counter_context(cli: Cli):
    """The counter acts as ``--staff``, else ``[staff] counter``, else as any command would (``Cli.context``)."""
    from shopkeeper.services.context import Context

    staff = cli.args.staff or cli.config.staff.counter or None
    return Context.from_config(cli.config, staff=staff if staff else cli.acting_staff(),
                               terminal=cli.args.terminal)
