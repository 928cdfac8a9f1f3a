"""Display helpers for screens: money, quantities and times as staff read them. Exact: no float anywhere."""

from __future__ import annotations

import datetime as dt

from shopkeeper.money import format_money, format_qty


def money(minor: int | None, decimals: int = 2) -> str:
    return "" if minor is None else format_money(minor, decimals)


def qty(milli: int | None) -> str:
    return "" if milli is None else format_qty(milli)


def signed_qty(milli: int) -> str:
    text = format_qty(milli)
    return f"+{text}" if milli > 0 else text


def local_time(utc_iso: str, *, with_year: bool = False) -> str:
    """``2026-01-05T10:00:00.000000Z`` → ``26-01-05 11:00`` in the local time zone."""
    if not utc_iso:
        return ""
    try:
        moment = dt.datetime.fromisoformat(utc_iso.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return utc_iso[:16]
    return moment.strftime("%Y-%m-%d %H:%M" if with_year else "%y-%m-%d %H:%M")


def local_day_bounds(text: str, *, end: bool = False) -> str:
    """A local date ``YYYY-MM-DD`` as a UTC ISO bound: its start, or (``end``) the start of the next day.

    Raises ValueError with a readable message."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a date like 2026-01-31") from None
    if end:
        day += dt.timedelta(days=1)
    moment = dt.datetime.combine(day, dt.time()).astimezone().astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


STATUS_MARK = {"ok": " ", "low": "▼", "out": "✗", "inactive": "–"}
STATUS_TEXT = {"ok": "ok", "low": "LOW", "out": "OUT", "inactive": "off"}


def movement_at(row) -> int | None:
    """The amount a journal row shows after "@": the unit price of a sale or return, else the unit cost."""
    return row.unit_price if row.kind in ("sale", "return") and row.unit_price is not None else row.unit_cost


def movement_detail(row, decimals: int = 2, *, with_product: bool = True) -> str:
    """Everything about one journal row (a ``queries.JournalRow``) on one or two lines, for the line under a
    journal table: its narrow columns cut long names, reasons and references short at 80 columns."""
    at = movement_at(row)
    parts = [local_time(row.created_at, with_year=True)]
    if with_product:
        parts.append(f"{row.sku} {row.name}")
    price = f" @ {money(at, decimals)}" if at is not None else ""
    parts.append(f"{row.kind} {signed_qty(row.quantity)}{price}")
    parts.append(f"by {row.staff or '-'} at {row.terminal or '-'}")
    parts.extend(text for text in (row.reason, row.reference) if text)
    return " · ".join(parts)
