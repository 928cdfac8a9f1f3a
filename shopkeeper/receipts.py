"""Text receipts, and sending them to a printer command.

``format_receipt`` lays a committed ``SaleResult`` out in a fixed width (``till.receipt_width``, 40 by default).
``print_receipt`` pipes the text to the configured command (``till.receipt_printer``, e.g. ``lp -d thermal``); by
then the sale is committed, so a printer that fails raises a ``PrinterError`` the till shows, and the sale stands
(there is no reprint command).

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

from shopkeeper.errors import ShopError
from shopkeeper.money import format_money, format_qty, format_rate
from shopkeeper.services.sales import SaleResult
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


def format_receipt(result: SaleResult, *, shop_name: str = "", currency: str = "", decimals: int = 2,
                   width: int = 40, staff: str = "", terminal: str = "", original_sale: int | None = None,
                   prices_include_tax: bool = True, footer: str = "Thank you!") -> str:
    """The receipt for ``result`` as plain text, ``width`` characters wide (every line at most that long)."""
    width = max(width, MIN_WIDTH)
    # data first, so lines are laid out at their printed length; the final join checks every line again
    shop_name, currency, staff, terminal, footer = map(printable, (shop_name, currency, staff, terminal, footer))

    def money(minor: int) -> str:
        return format_money(minor, decimals)

    refund = result.kind == "return"
    out: list[str] = []
    if shop_name:
        out += [line.center(width).rstrip() for line in textwrap.wrap(shop_name, width)]
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
            rate = f" {format_rate(line.discount_rate)} %" if line.discount_rate is not None else ""
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
            rate = f" {format_rate(result.discount_rate)} %" if result.discount_rate is not None else ""
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
    paid = {"cash": "Cash", "card": "Card", "other": "Other"}.get(result.payment, result.payment)
    if refund:
        out.append(_row(f"Paid back ({paid.lower()})", money(total), width))
    elif result.payment == "cash" and result.tendered is not None:
        out.append(_row("Cash tendered", money(result.tendered), width))
        out.append(_row("Change", money(result.change or 0), width))
    else:
        out.append(_row(paid, money(total), width))
    out.append("")
    who = ", ".join(part for part in (f"Served by {staff}" if staff else "", f"terminal {terminal}" if terminal else "")
                    if part)
    if who:
        out += textwrap.wrap(who, width)
    if footer:
        out.append(footer.center(width).rstrip())
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


def receipt_for(result: SaleResult, config, ctx, *, original_sale: int | None = None) -> str:
    """``format_receipt`` with the shop's name, currency and width from ``config`` and who/where from ``ctx``;
    marked all over on a training copy (``services.training``)."""
    from shopkeeper.services import training

    text = _receipt_for(result, config, ctx, original_sale=original_sale)
    return mark_training(text, config.till.receipt_width) if training.active() else text


def _receipt_for(result: SaleResult, config, ctx, *, original_sale: int | None = None) -> str:
    return format_receipt(result, shop_name=config.shop.name, currency=config.shop.currency,
                          decimals=config.shop.decimals, width=config.till.receipt_width, staff=ctx.staff,
                          terminal=ctx.terminal, original_sale=original_sale,
                          prices_include_tax=config.shop.prices_include_tax)


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

