"""Text receipts, and sending them to a printer command.

``format_receipt`` lays a committed ``SaleResult`` out in a fixed width (``printer.width``: 32 on 58 mm paper, the
escpos profile's columns on 80 mm). ``receipt_for`` adds the shop's header and footer from the config and the
sale's payments as stored (several with split tender). ``reprint`` lays out any stored sale again, marked COPY.
``print_receipt`` pipes the text to a command (``printer.command`` or ``till.receipt_printer``, e.g.
``lp -d thermal``), run without a shell; ESC/POS printers are in ``shopkeeper.printer``. By then the sale is
committed, so a printer that fails raises a ``PrinterError`` the till shows, and the sale stands.

The receipt is plain text: every line of it goes through ``shopkeeper.text.printable``, which drops control
characters, so an ESC in a product name, staff name or shop name never reaches the printer as a command (on a raw
ESC/POS printer ``ESC p`` opens the cash drawer). Printer commands, if any are ever needed, belong to this renderer
alone, added after that step.
"""

from __future__ import annotations

import datetime as dt
import shlex
import subprocess
import textwrap
from collections import defaultdict
from collections.abc import Sequence

from shopkeeper.errors import ShopError
from shopkeeper.money import format_money, format_percent, format_qty, format_rate
from shopkeeper.services.sales import PricedLine, SaleResult, allocate
from shopkeeper.services.training import RECEIPT_MARK
from shopkeeper.text import printable

MIN_WIDTH = 24


class PrinterError(ShopError):
    """The receipt printer command failed; the sale itself is committed."""


def _local_time(created_at: str) -> str:
    try:
        when = dt.datetime.strptime(created_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return created_at
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _row(left: str, right: str, width: int) -> str:
    """``left`` and ``right`` on one line, right-aligned; ``left`` is cut short to make room."""
    room = width - len(right) - 1
    if len(left) > room:
        left = left[: max(room - 1, 0)] + "…" if room > 1 else ""
    return f"{left}{' ' * (width - len(left) - len(right))}{right}"


Tender = tuple[str, int, int | None, int | None]
"""One payment row as a receipt shows it: method, amount (signed like the sale), cash tendered, change."""

COPY = "*** COPY ***"


def format_receipt(result: SaleResult, *, shop_name: str = "", currency: str = "", decimals: int = 2,
                   width: int = 32, staff: str = "", terminal: str = "", original_sale: int | None = None,
                   prices_include_tax: bool = True, footer: str | Sequence[str] = "Thank you!",
                   header: Sequence[str] = (), vat_number: str = "", payments: Sequence[Tender] = (),
                   rounding: int = 0, copy: bool = False) -> str:
    """The receipt for ``result`` as plain text, ``width`` characters wide (every line at most that long).

    ``payments``: the sale's payment rows; with more than one (split tender) each is listed. ``copy`` marks a
    reprint at the top and the bottom."""
    width = max(width, MIN_WIDTH)
    # data first, so lines are laid out at their printed length; the final join checks every line again
    shop_name, currency, staff, terminal, vat_number = map(printable, (shop_name, currency, staff, terminal,
                                                                       vat_number))
    footer = [printable(line) for line in ([footer] if isinstance(footer, str) else footer) if line]
    header = [printable(line) for line in header if line]

    def money(minor: int) -> str:
        return format_money(minor, decimals)

    refund = result.kind == "return"
    out: list[str] = []
    if copy:
        out.append(COPY.center(width).rstrip())
    if shop_name:
        out += [line.center(width).rstrip() for line in textwrap.wrap(shop_name, width)]
    for line in header:
        out += [part.center(width).rstrip() for part in textwrap.wrap(line, width)]
    if vat_number:
        out += [part.center(width).rstrip() for part in textwrap.wrap(f"VAT {vat_number}", width)]
    title = f"REFUND #{result.sale_id}" if refund else f"Sale #{result.sale_id}"
    out.append(title.center(width).rstrip())
    if refund and original_sale is not None:
        out.append(f"for sale #{original_sale}".center(width).rstrip())
    out.append(_local_time(result.created_at).center(width).rstrip())
    out.append("-" * width)

    for line in result.lines:
        amount = line.total if refund else line.gross
        qty_text = format_qty(line.quantity)
        description = printable(line.description)
        if line.quantity == 1000 and not refund:
            out.append(_row(description, money(amount), width))
        else:
            out += textwrap.wrap(description, width) or [""]
            out.append(_row(f"  {qty_text} x {money(line.unit_price)}", money(amount), width))
        if line.line_discount and not refund:
            rate = f" {format_percent(line.discount_rate)} %" if line.discount_rate is not None else ""
            out.append(_row(f"  discount{rate}", "-" + money(line.line_discount), width))
    out.append("-" * width)

    if not refund:
        gross = sum(line.gross for line in result.lines)
        line_discounts = gross - result.subtotal
        if line_discounts or result.discount:
            out.append(_row("Items", money(gross), width))
        if line_discounts:
            out.append(_row("Line discounts", "-" + money(line_discounts), width))
        if result.discount:
            out.append(_row("Subtotal", money(result.subtotal), width))
            rate = f" {format_percent(result.discount_rate)} %" if result.discount_rate is not None else ""
            out.append(_row(f"Sale discount{rate}", "-" + money(result.discount), width))
        if not prices_include_tax and result.tax:
            out.append(_row("Tax", money(result.tax), width))
    label = "REFUND TOTAL" if refund else "TOTAL"
    total = -result.total if refund else result.total
    out.append(_row(f"{label} {currency}".rstrip(), money(total), width))

    by_rate: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for line in result.lines:
        by_rate[line.tax_rate][0] += line.total - (0 if prices_include_tax else line.tax)
        by_rate[line.tax_rate][1] += line.tax
    if any(tax for _, tax in by_rate.values()):
        out.append("")
        included = " incl." if prices_include_tax else ""
        for rate in sorted(by_rate):
            gross_amount, tax = by_rate[rate]
            out.append(_row(f"Tax {format_rate(rate)}%{included} on {money(gross_amount)}", money(tax), width))

    out.append("")
    if rounding:
        out.append(_row("Cash rounding", money(rounding), width))
    tenders = list(payments) or [(result.payment, result.total, result.tendered, result.change)]
    for method, amount, tendered, change in tenders:
        paid = _METHODS.get(method, printable(method))
        if refund:
            out.append(_row(f"Paid back ({paid.lower()})", money(-amount), width))
        elif method == "cash" and tendered is not None:
            if len(tenders) > 1:
                out.append(_row(paid, money(amount), width))
            out.append(_row("Cash tendered", money(tendered), width))
            out.append(_row("Change", money(change or 0), width))
        else:
            out.append(_row(paid, money(amount), width))
    out.append("")
    who = ", ".join(part for part in (f"Served by {staff}" if staff else "", f"terminal {terminal}" if terminal else "")
                    if part)
    if who:
        out += textwrap.wrap(who, width)
    for line in footer:
        out += [part.center(width).rstrip() for part in textwrap.wrap(line, width)]
    if copy:
        out.append(COPY.center(width).rstrip())
    return "\n".join(printable(line) for line in out) + "\n"


def mark_training(text: str, width: int) -> str:
    """A receipt printed in training mode: "TRAINING — NOT A RECEIPT" above, below, and between every few lines, so
    no piece of it can pass for a real one."""
    width = max(width, MIN_WIDTH)
    mark = printable(RECEIPT_MARK if len(RECEIPT_MARK) <= width else "TRAINING").center(width).rstrip()
    lines = text.rstrip("\n").split("\n")
    out = [mark, "*" * width]
    for n, line in enumerate(lines, 1):
        out.append(line)
        if n % 8 == 0 and n < len(lines):
            out.append(mark)
    out += ["*" * width, mark]
    return "\n".join(out) + "\n"



_METHODS = {"cash": "Cash", "card": "Card", "other": "Other"}


def receipt_for(result: SaleResult, config, ctx=None, *, original_sale: int | None = None, copy: bool = False,
                staff: str | None = None, terminal: str | None = None) -> str:
    """``format_receipt`` with the shop's name, header, footer, currency and width from ``config``, who/where from
    ``ctx`` (or ``staff``/``terminal``), and the sale's payment rows and cash rounding as stored; marked all over
    on a training copy (``services.training``)."""
    from shopkeeper import printer
    from shopkeeper.services import training

    text = _receipt_for(result, config, ctx, original_sale=original_sale, copy=copy, staff=staff, terminal=terminal)
    return mark_training(text, printer.width(config)) if training.active() else text


def _receipt_for(result: SaleResult, config, ctx=None, *, original_sale: int | None = None, copy: bool = False,
                 staff: str | None = None, terminal: str | None = None) -> str:
    from shopkeeper import printer

    payments, rounding = sale_payments(result.sale_id)
    return format_receipt(result, shop_name=config.shop.name, currency=config.shop.currency,
                          decimals=config.shop.decimals, width=printer.width(config),
                          staff=staff if staff is not None else (ctx.staff if ctx else ""),
                          terminal=terminal if terminal is not None else (ctx.terminal if ctx else ""),
                          original_sale=original_sale, prices_include_tax=config.shop.prices_include_tax,
                          header=config.receipt.header, vat_number=config.receipt.vat_number,
                          footer=config.receipt.footer, payments=payments, rounding=rounding, copy=copy)


def sale_payments(sale_id: int) -> tuple[list[Tender], int]:
    """The payment rows of sale ``sale_id`` in the order they were taken, and its cash rounding."""
    from shopkeeper.models import Payment, Sale

    rows = [(p.method, p.amount, p.tendered, p.change)
            for p in Payment.select().where(Payment.sale == sale_id).order_by(Payment.id)]
    rounding = Sale.select(Sale.rounding).where(Sale.id == sale_id).scalar() or 0
    return rows, rounding


def opens_drawer(sale_id: int) -> bool:
    """Whether sale ``sale_id`` moved cash (a cash sale or cash refund): then the drawer is kicked."""
    from shopkeeper.models import Payment

    return Payment.select().where((Payment.sale == sale_id) & (Payment.method == "cash")).exists()


def load_sale(sale_id: int) -> tuple[SaleResult, int | None, str, str]:
    """A stored sale as ``format_receipt`` takes it: the result, its original sale (refunds), staff and terminal.

    A line's own discount is not stored apart from its share of the sale discount; it is worked back out with the
    same largest-remainder split the sale used (``sales.allocate``), so the reprint shows what was printed."""
    from shopkeeper.errors import NotFound
    from shopkeeper.models import Sale, SaleLine, Staff, Terminal

    sale = Sale.get_or_none(Sale.id == sale_id) if 0 < sale_id < 2**63 else None
    if sale is None:
        raise NotFound(f"no sale {sale_id}", field="sale", value=sale_id)
    sign = -1 if sale.kind == "return" else 1
    rows = list(SaleLine.select().where(SaleLine.sale == sale_id).order_by(SaleLine.line_no))
    lines = [PricedLine(r.product_id, r.description, r.quantity, r.unit_price, sign * r.discount, r.tax_rate,
                        tax=sign * r.tax, total=sign * r.total, unit_cost=r.unit_cost,
                        sku=r.product.sku if r.product_id else "", lot=r.lot, expiry=r.expiry) for r in rows]
    sale_discount = sign * sale.discount
    own = [line.discount for line in lines]
    for _ in range(4):  # the split depends on the lines' own discounts: settles in a step or two
        shares = allocate(sale_discount, [line.gross - d for line, d in zip(lines, own)])
        own = [line.discount - share for line, share in zip(lines, shares)]
    for line, d in zip(lines, own):
        line.line_discount = d if sale.kind == "sale" else 0
    staff = Staff.select(Staff.name).where(Staff.id == sale.staff_id).scalar() or "" if sale.staff_id else ""
    terminal = (Terminal.select(Terminal.name).where(Terminal.id == sale.terminal_id).scalar() or ""
                if sale.terminal_id else "")
    result = SaleResult(sale.id, sale.kind, lines, sale.subtotal, sale.discount, sale.tax, sale.total, sale.payment,
                        sale.tendered, sale.change, sale.created_at)
    return result, sale.original_id, staff, terminal


def reprint(sale_id: int, config) -> str:
    """Receipt ``sale_id`` again, as stored, marked COPY."""
    result, original, staff, terminal = load_sale(sale_id)
    return receipt_for(result, config, original_sale=original, copy=True, staff=staff, terminal=terminal)


def print_receipt(text: str, command: str, *, timeout: float = 15.0) -> None:
    """Pipe ``text`` to ``command`` (split like a shell would, not run through one). Raises ``PrinterError``."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise PrinterError(f"receipt printer command {command!r}: {exc}") from None
    if not argv:
        raise PrinterError("no receipt printer command configured (till.receipt_printer)")
    try:
        proc = subprocess.run(argv, input=text.encode("utf-8"), capture_output=True, timeout=timeout)
    except FileNotFoundError:
        raise PrinterError(f"receipt printer command not found: {argv[0]} (till.receipt_printer); "
                           "the sale is saved") from None
    except PermissionError:
        raise PrinterError(f"receipt printer command {argv[0]} is not executable; the sale is saved") from None
    except subprocess.TimeoutExpired:
        raise PrinterError(f"receipt printer {argv[0]} did not finish within {timeout:g} s; the sale is saved") \
            from None
    except OSError as exc:
        raise PrinterError(f"receipt printer command {argv[0]} cannot run: {exc.strerror or exc}; "
                           "the sale is saved") from None
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        why = detail[-1] if detail else f"exit status {proc.returncode}"
        raise PrinterError(f"receipt printer {argv[0]} failed: {why}; the sale is saved")

