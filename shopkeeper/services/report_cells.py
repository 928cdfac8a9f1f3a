"""A report's figure as text, by its column's kind: one form for the command line's text, CSV and JSON and for the
Reports screen, so a column reads the same everywhere (exact, locale-free)."""

from __future__ import annotations

from typing import Any

from shopkeeper.money import format_money, format_qty, format_rate, format_share


def cell(value: Any, kind: str, decimals: int) -> str:
    """``value`` of a column of ``kind`` (``reports.Column``); empty for None. Shares and margins (``pct``) always
    with two decimals ("12.50", "3.00"): a column whose cells had "12.5" beside "3" did not line up."""
    if value is None:
        return ""
    if kind == "money":
        return format_money(value, decimals)
    if kind == "qty":
        return format_qty(value)
    if kind == "pct":
        return format_share(value)
    if kind == "rate":
        return format_rate(value)
    return str(value)
