"""How a report is shown, the same on the command line (text, CSV, JSON, ``--plot``) and on the Reports screen: a
figure as text by its column's kind (exact, locale-free), and the sales chart's bars."""

from __future__ import annotations

from typing import Any

from shopkeeper.money import format_money, format_qty, format_rate, format_share

BAR_WIDTH = 0.6
"""A chart bar's width, of its period's slot: the gap keeps two periods of the same height apart (touching, they
read as one wide bar)."""


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
