"""The receipt printer: ESC/POS through python-escpos, a plain-text command, or none (``[printer]`` in the config).

ESC/POS: the text is encoded in the printer's code page (``printer.code_page``, CP858 by default, so ``Käse`` prints
as Käse and not as mojibake), followed by a paper cut and, for cash, a drawer kick. The bytes are built with
python-escpos's ``Dummy`` printer (``escpos_bytes``) and written to the USB, network or device-file printer in one
go, so a test sees exactly what the printer gets. The receipt text has had its control characters dropped already
(``receipts.format_receipt``): the only commands that reach the printer are the ones added here.

Command: the plain text (UTF-8) is piped to a program, split like a shell would split it but run without one
(``receipts.print_receipt``). It cannot cut or open a drawer.

By the time anything is printed the sale is committed: a failing printer raises ``PrinterError`` and the sale
stands; ``shopkeeper receipt SALE --print`` prints it again, marked COPY.
"""

from __future__ import annotations

from shopkeeper.receipts import PrinterError, print_receipt

NARROW = 32  # characters per line on 58 mm paper in Font A: the width when nothing says otherwise


def kind(config) -> str:
    """``escpos``, ``command`` or ``none``: ``[printer] kind``, else ``command`` when ``till.receipt_printer`` is set."""
    chosen = config.printer.kind
    if chosen:
        return chosen
    return "command" if config.till.receipt_printer else "none"


def configured(config) -> bool:
    return kind(config) != "none"


def width(config) -> int:
    """Characters per receipt line: ``till.receipt_width`` or ``printer.width`` when set, else the escpos profile's
    Font A columns (42 or 48 on 80 mm paper, 32 on 58 mm), else 32."""
    if config.till.receipt_width:
        return config.till.receipt_width
    if config.printer.width:
        return config.printer.width
    if kind(config) == "escpos" and config.printer.profile:
        try:
            return int(_profile(config.printer.profile).profile_data["fonts"]["0"]["columns"])
        except (KeyError, ValueError, TypeError):
            return NARROW
    return NARROW


def _escpos():
    try:
        import escpos.printer
    except ImportError:
        raise PrinterError("python-escpos is not installed (pip install python-escpos), needed for "
                           "[printer] kind = \"escpos\"") from None
    return escpos


def _profile(name: str):
    from escpos.capabilities import get_profile

    try:
        return get_profile(name or None)
    except Exception:  # python-escpos raises its own NotSupported / KeyError for unknown names
        raise PrinterError(f"unknown printer profile {name!r} ([printer] profile; python-escpos lists them: "
                           "python -m escpos.cli showprofiles)") from None


def escpos_bytes(text: str, *, profile: str = "", code_page: str = "CP858", cut: bool = True,
                 kick: bool = False, pin: int = 2) -> bytes:
    """The bytes an ESC/POS printer gets for ``text``: initialise, select ``code_page``, the text, feed, cut, and
    a drawer pulse on ``pin`` when ``kick``."""
    _escpos()
    from escpos.printer import Dummy

    if profile:
        _profile(profile)  # an unknown name: a clear error, not python-escpos's KeyError
    printer = Dummy(profile=profile or None)
    printer.hw("INIT")
    try:
        printer.charcode(code_page)
    except (KeyError, ValueError):
        pages = ", ".join(sorted(printer.profile.get_code_pages()))
        raise PrinterError(f"code page {code_page!r} is not one of the printer's ({pages}); set [printer] "
                           "code_page") from None
    if text:
        printer.text(text if text.endswith("\n") else text + "\n")
    if cut:
        printer.cut()
    if kick:
        printer.cashdraw(pin)
    return printer.output


def _device(config):
    """The python-escpos printer that ``[printer] connection`` names, opened."""
    module = _escpos()
    p = config.printer
    profile = p.profile or None
    try:
        if p.connection == "network":
            if not p.host:
                raise PrinterError("[printer] host is empty: the network printer's address is needed")
            return module.printer.Network(p.host, port=p.port, timeout=p.timeout, profile=profile)
        if p.connection == "usb":
            try:
                vendor, product = int(p.usb_vendor, 16), int(p.usb_product, 16)
            except ValueError:
                raise PrinterError(f"[printer] usb_vendor {p.usb_vendor!r} and usb_product {p.usb_product!r} "
                                   "must be hex ids as lsusb shows them, e.g. \"04b8\"") from None
            return module.printer.Usb(vendor, product, timeout=p.timeout * 1000, profile=profile)
        return module.printer.File(p.device, profile=profile)
    except PrinterError:
        raise
    except Exception as exc:  # pyusb missing, device absent, permission denied, connection refused
        raise PrinterError(f"receipt printer ({p.connection}) cannot be opened: {exc}; the sale is saved") from None


def send(config, text: str, *, kick: bool = False) -> None:
    """Print ``text`` on the configured printer (nothing when there is none); ``kick`` opens the cash drawer (ESC/POS
    only, when ``[printer] drawer`` is on). Raises ``PrinterError``."""
    how = kind(config)
    if how == "none":
        return
    p = config.printer
    if how == "command":
        print_receipt(text, p.command or config.till.receipt_printer, timeout=float(p.timeout))
        return
    data = escpos_bytes(text, profile=p.profile, code_page=p.code_page, cut=p.cut and bool(text),
                        kick=kick and p.drawer, pin=p.drawer_pin)
    device = _device(config)
    try:
        device._raw(data)  # python-escpos opens the connection on first use
    except Exception as exc:
        raise PrinterError(f"receipt printer ({p.connection}) failed: {exc}; the sale is saved") from None
    finally:
        try:
            device.close()
        except Exception:  # closing a printer that failed to open  # noqa: S110
            pass


def open_drawer(config) -> None:
    """Kick the cash drawer alone ("no sale"): ESC/POS with ``[printer] drawer`` on; otherwise nothing to do. Never
    on a training copy: practice does not open the real drawer."""
    from shopkeeper.services import training

    if kind(config) == "escpos" and config.printer.drawer and not training.active():
        send(config, "", kick=True)


def sale_receipt(config, ctx, result, *, original_sale: int | None = None) -> tuple[str, bool]:
    """The receipt of a committed sale or refund, and whether it opens the drawer (it moved cash). Reads the
    sale's payments: call where the database connection is (the app's loop); ``send`` may then run anywhere."""
    from shopkeeper.receipts import opens_drawer, receipt_for
    from shopkeeper.services import training

    kick = opens_drawer(result.sale_id) and not training.active()  # a training till's drawer stays shut
    return receipt_for(result, config, ctx, original_sale=original_sale), kick


def print_sale(config, ctx, result, *, original_sale: int | None = None) -> None:
    """Print the receipt of a committed sale or refund when a printer is configured; a sale or refund that moved
    cash kicks the drawer. Raises ``PrinterError`` (the sale stands)."""
    if configured(config):
        text, kick = sale_receipt(config, ctx, result, original_sale=original_sale)
        send(config, text, kick=kick)
