"""Display helpers for screens: text from data, money, quantities and times as staff read them. Exact: no float
anywhere."""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual.content import Content

from shopkeeper import times
from shopkeeper.money import format_money, format_qty
from shopkeeper.text import safe


def plain(text: object) -> Content:
    """Text that came from data, for a widget: shown as it is, never parsed as markup (``[/x]`` stays ``[/x]``),
    control characters escaped (``shopkeeper.text.safe``). Pass it wherever a widget would take a ``str``
    (``Static.update``, ``Option``, ``Select`` prompts): a ``Content`` is never parsed, whatever the widget's
    ``markup`` setting."""
    return Content(safe(text))


def cell(text: object) -> Text:
    """Text from data for a ``DataTable`` cell: never parsed as markup, control characters escaped, and measured
    for the column's width (Textual's DataTable sizes its columns by ``str`` and rich ``Text`` cells only: a
    ``Content`` cell was cut to the header's width — "till-5" showed as "till")."""
    return Text(safe(text))


def money(minor: int | None, decimals: int = 2) -> str:
    return "" if minor is None else format_money(minor, decimals)


def qty(milli: int | None) -> str:
    return "" if milli is None else format_qty(milli)


def signed_qty(milli: int) -> str:
    text = format_qty(milli)
    return f"+{text}" if milli > 0 else text


def local_time(utc_iso: str) -> str:
    """``2026-01-05T10:00:00.000000Z`` → ``2026-01-05 11:00`` in the local time zone (see ``shopkeeper.times``)."""
    return times.local_time(utc_iso)


def when_title() -> str:
    """A time column's title that says the zone once: ``When (CET)``."""
    return f"When ({dt.datetime.now().astimezone().tzname() or 'local'})"


def local_day_bounds(text: str, *, end: bool = False, what: str = "date") -> str:
    """A local date ``YYYY-MM-DD`` (or date and time) as a UTC ISO bound: its start, or (``end``) the start of the
    next day. Raises ValueError with a readable message."""
    return times.parse_local(text, what=what, end=end)


STATUS_MARK = {"ok": " ", "low": "▼", "ordered": "▽", "out": "✗", "inactive": "–"}
STATUS_TEXT = {"ok": "ok", "low": "LOW", "ordered": "on ord", "out": "OUT", "inactive": "off"}


def movement_at(row) -> int | None:
    """The amount a journal row shows after "@": the unit price of a sale or return, else the unit cost."""
    return row.unit_price if row.kind in ("sale", "return") and row.unit_price is not None else row.unit_cost


def movement_detail(row, decimals: int = 2, *, with_product: bool = True) -> str:
    """Everything about one journal row (a ``queries.JournalRow``) on one or two lines, for the line under a
    journal table: its narrow columns cut long names, reasons and references short at 80 columns."""
    at = movement_at(row)
    parts = [local_time(row.created_at)]
    if with_product:
        parts.append(f"{row.sku} {row.name}")
    price = f" @ {money(at, decimals)}" if at is not None else ""
    parts.append(f"{row.kind} {signed_qty(row.quantity)}{price}")
    parts.append(f"by {row.staff or '-'} at {row.terminal or '-'}")
    parts.extend(text for text in (row.reason, row.reference) if text)
    return " · ".join(parts)
