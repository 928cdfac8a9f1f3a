"""``shopkeeper scanner list|listen`` and ``shopkeeper labels``.

``scanner listen`` decodes a live device (until Ctrl+C) or a recording (``--replay``) through the same decoder, and
prints each scan: ``CODE  [symbology]  source`` or, with ``--json``, one object per line.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from dataclasses import replace
from pathlib import Path

from shopkeeper.errors import InvalidInput, ShopError


def register(sub: argparse._SubParsersAction) -> None:
    scanner = sub.add_parser("scanner", help="barcode scanners: list devices, print decoded scans")
    ssub = scanner.add_subparsers(dest="scanner_command", metavar="COMMAND", required=True)

    p = ssub.add_parser("list", help="input devices that look like barcode scanners")
    p.add_argument("--all", action="store_true", help="show every keyboard-like input device")
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    p.set_defaults(func=run_list)

    p = ssub.add_parser("listen", help="print each decoded scan (a device until Ctrl+C, or a recording)")
    p.add_argument("--device", metavar="D", help="/dev/input/by-id/…, a device name or vendor:product "
                                                 "(default: scanner.device in the config)")
    p.add_argument("--replay", metavar="FILE", help="decode an evtest or evemu-record recording instead")
    p.add_argument("--layout", choices=("us", "uk", "de", "fr"), help="keyboard layout (default: config)")
    p.add_argument("--prefix", help="strip this prefix from each code")
    p.add_argument("--suffix", help="strip this suffix from each code")
    p.add_argument("--tab", action="store_true", help="Tab ends a scan too")
    p.add_argument("--terminators", metavar="KEYS", type=_terminators,
                   help="keys that end a scan, comma-separated: enter, tab, or none (with --emit-on-pause)")
    p.add_argument("--pause-ms", metavar="MS", type=_positive_ms,
                   help="a longer gap between two keys of one scan drops it (default: config, 150)")
    p.add_argument("--emit-on-pause", action=argparse.BooleanOptionalAction, default=None,
                   help="a pause ends the scan instead of dropping it (scanners that send no terminator)")
    p.add_argument("--keep-aim", action="store_true", help="keep an AIM symbology identifier (]E0, ]C1…) in the code")
    p.add_argument("--no-grab", action="store_true", help="do not take the device exclusively")
    p.add_argument("--parse", action="store_true", help="also show what each code means (GTIN, weight, price…)")
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="one JSON object per line")
    p.set_defaults(func=run_listen)

    p = sub.add_parser("labels", help="write barcode labels (SVG, PNG with Pillow) and A4 sheets")
    p.add_argument("products", nargs="*", metavar="PRODUCT", help="SKU or barcode (default: every active product)")
    p.add_argument("--out", required=True, metavar="DIR", help="directory for the label files")
    p.add_argument("--no-png", action="store_true", help="SVG only")
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    p.set_defaults(func=run_labels)


def _positive_ms(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of milliseconds above 0")
    return value


def _terminators(text: str) -> tuple[str, ...]:
    from shopkeeper.scanner.settings import TERMINATOR_CHOICES

    keys = tuple(k.strip().lower() for k in text.split(",") if k.strip())
    if keys == ("none",):
        return ()
    bad = [k for k in keys if k not in TERMINATOR_CHOICES]
    if bad or not keys:
        raise argparse.ArgumentTypeError(f"{text!r}: give enter, tab, both (enter,tab) or none")
    return keys


def _settings(args: argparse.Namespace, cli):
    """The ``[scanner]`` settings with this command's options on top, so support can try a setting on a recording
    without writing a config."""
    from shopkeeper.scanner.settings import ScannerSettings

    try:
        settings = cli.config.section("scanner")
    except (KeyError, AttributeError):
        settings = ScannerSettings()
    changes = {}
    if getattr(args, "layout", None):
        changes["layout"] = args.layout
    if getattr(args, "prefix", None) is not None:
        changes["prefix"] = args.prefix
    if getattr(args, "suffix", None) is not None:
        changes["suffix"] = args.suffix
    if getattr(args, "terminators", None) is not None:
        changes["terminators"] = args.terminators
    if getattr(args, "tab", False) and "tab" not in changes.get("terminators", settings.terminators):
        changes["terminators"] = (*changes.get("terminators", settings.terminators), "tab")
    if getattr(args, "pause_ms", None) is not None:
        changes["pause_ms"] = args.pause_ms
    if getattr(args, "emit_on_pause", None) is not None:
        changes["emit_on_pause"] = args.emit_on_pause
    if changes.get("terminators") == () and not changes.get("emit_on_pause", settings.emit_on_pause):
        raise InvalidInput("--terminators none needs --emit-on-pause: a scanner that sends no Enter or Tab ends a "
                           "scan with a pause", field="terminators")
    if getattr(args, "keep_aim", False):
        changes["strip_aim"] = False
    if getattr(args, "no_grab", False):
        changes["grab"] = False
    try:
        return replace(settings, **changes) if changes else settings
    except ValueError as exc:  # ScannerSettings checks the combination (no terminator needs --emit-on-pause)
        raise InvalidInput(f"scanner settings: {exc}") from None


# --- scanner list -----------------------------------------------------------------------------------------

def run_list(args: argparse.Namespace, cli) -> int:
    from shopkeeper.scanner.evdev_source import list_input_devices, unreadable_devices

    devices = [d for d in list_input_devices() if d.scanner or (args.all and d.keyboard)]
    hidden = unreadable_devices()
    data = {"devices": [{"path": d.path, "name": d.name, "vendor_product": d.vendor_product, "links": list(d.links),
                         "scanner": d.scanner, "reason": d.reason} for d in devices],
            "unreadable": hidden}

    def text() -> str:
        lines = []
        for d in devices:
            mark = "scanner" if d.scanner else "keyboard"
            lines.append(f"{d.path}  {d.vendor_product}  {d.name}  [{mark}: {d.reason}]")
            lines += [f"    {link}" for link in d.links if "/by-id/" in link]
        if not devices:
            lines.append("no scanner found" + ("" if args.all else " (--all lists every keyboard-like device)"))
        if hidden:
            lines.append(f"{len(hidden)} input device(s) not readable by this user ({', '.join(hidden[:3])}"
                         f"{', …' if len(hidden) > 3 else ''}): add yourself to the 'input' group or install "
                         f"contrib/99-shopkeeper-scanner.rules")
        return "\n".join(lines)

    cli.emit(data, text)
    return 0


# --- scanner listen ---------------------------------------------------------------------------------------

def _scan_record(event, parse: bool, cli) -> dict:
    record = {"code": event.code, "symbology": event.symbology, "source": event.source, "time": f"{event.time:.6f}"}
    if parse:
        from shopkeeper.barcodes import BarcodeError, parse_scan

        try:
            layouts = cli.config.section("barcodes")
        except (KeyError, AttributeError):
            layouts = None
        try:
            currency = cli.config.shop.currency
        except AttributeError:
            currency = None
        try:
            s = parse_scan(event.code, layouts, symbology=event.symbology, currency_decimals=cli.decimals,
                           currency=currency)
            record.update(kind=s.kind, lookup=s.code, price_minor=s.price_minor, quantity_milli=s.quantity_milli)
            record.update({k: v for k, v in (("lot", s.lot), ("expiry", s.expiry and s.expiry.isoformat()),
                                              ("serial", s.serial), ("addon", s.addon)) if v is not None})
        except BarcodeError as exc:
            record["error"] = str(exc)
    return record


def _print_scan(record: dict, cli) -> None:
    if cli.json:
        print(json.dumps(record, ensure_ascii=False), file=cli.out, flush=True)
        return
    shown = record["code"].replace("\x1d", "<GS>")
    parts = [shown, f"[{record['symbology']}]" if record["symbology"] else "", record["source"]]
    if "kind" in record:
        parts.append(f"→ {record['kind']} {record['lookup']}")
        if record["price_minor"] is not None:
            parts.append(f"price {record['price_minor']} (minor units)")
        if record["quantity_milli"] is not None:
            parts.append(f"qty {record['quantity_milli']}/1000")
        parts += [f"{key} {record[key]}" for key in ("lot", "expiry", "serial", "addon") if key in record]
    if "error" in record:
        parts.append(f"! {record['error']}")
    print(cli.lines("  ".join(p for p in parts if p)), file=cli.out, flush=True)


def run_listen(args: argparse.Namespace, cli) -> int:
    settings = _settings(args, cli)
    parse = bool(args.parse)
    if args.replay:
        from shopkeeper.scanner.replay import replay

        path = Path(args.replay)
        if not path.is_file():
            raise InvalidInput(f"--replay {path}: no such file")
        dropped = []
        for event in replay(path, settings, on_drop=lambda text, why: dropped.append((text, why))):
            _print_scan(_scan_record(event, parse, cli), cli)
        for text, why in dropped:
            print(f"dropped {text!r}: {why}", file=sys.stderr)
        return 0

    device = args.device or settings.device
    if not device:
        raise InvalidInput("no scanner device: give --device (see `shopkeeper scanner list`), set scanner.device in "
                           "the config, or use --replay FILE")
    from shopkeeper.scanner.evdev_source import EvdevScanSource
    from shopkeeper.scanner.source import ScanHub

    hub = ScanHub()
    lock = threading.Lock()

    def on_scan(event) -> None:
        with lock:
            _print_scan(_scan_record(event, parse, cli), cli)

    def on_status(status) -> None:
        print(f"{status.state}: {status.message}", file=sys.stderr, flush=True)

    hub.subscribe(on_scan, on_status)
    hub.add_source(EvdevScanSource(replace(settings, device=device)))
    import signal

    def on_term(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    hub.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        hub.stop()
        signal.signal(signal.SIGTERM, previous)
    return 0


# --- labels -----------------------------------------------------------------------------------------------

def run_labels(args: argparse.Namespace, cli) -> int:
    from shopkeeper.labels import Label, write_labels
    from shopkeeper.money import format_money
    from shopkeeper.services import catalog

    cli.open_db()
    if args.products:
        products = [catalog.find_product(ref) for ref in args.products]
    else:
        from shopkeeper.models import Product

        products = list(Product.select().where(Product.active).order_by(Product.sku))
    layouts = cli.config.extra.get("barcodes")
    prefix = getattr(layouts, "in_store_prefix", "20")
    currency = cli.config.shop.currency
    labels, scale = [], []
    for product in products:
        codes = catalog.product_barcodes(product)
        items = [(code, catalog.scale_item(code, layouts)) for code in codes]
        if items and all(item for _, item in items):
            # Sold by weight or price from a scale: the scale prints its labels; say what to program into it.
            scale.extend({"sku": product.sku, "code": code, "scale_item": item} for code, item in items)
            continue
        # Goods without a barcode get an in-store EAN-13 now, stored on the product so the label scans.
        code = next((code for code, item in items if not item), None) or catalog.assign_in_store_barcode(product,
                                                                                                        prefix)
        labels.append(Label(code, product.name, f"{currency} {format_money(product.price, cli.decimals)}"))
    for entry in scale:
        print(cli.lines(f"{entry['sku']}: sold from a scale: program item {entry['scale_item']} into the scale "
                        f"(its labels read as {entry['code']} with the weight or price)"), file=sys.stderr)
    if not labels and scale:
        cli.emit({"written": [], "scale": scale}, "no labels to write: every product named is labelled by a scale")
        return 0
    if not labels:
        raise InvalidInput("no products to label")
    try:
        paths = write_labels(labels, args.out, png=False if args.no_png else None)
    except OSError as exc:
        raise ShopError(f"--out {args.out}: cannot write labels: {exc.strerror or exc}") from None
    cli.emit({"written": [str(p) for p in paths], "scale": scale},
             f"wrote {len(paths)} file(s) for {len(labels)} product(s) to {args.out}")
    return 0
