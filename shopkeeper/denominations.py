"""Notes and coins a drawer is counted in, per currency, and counts typed as ``20.00x3``.

Denominations are minor units (``2000`` is a 20.00 note). ``[till] denominations`` in the config replaces the
built-in list; a currency without one (or with other than two decimals) is counted by its total alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from shopkeeper.errors import InvalidInput
from shopkeeper.money import format_money, parse_money

DEFAULTS: dict[str, tuple[int, ...]] = {
    "EUR": (50000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1),
    "GBP": (5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1),
    "USD": (10000, 5000, 2000, 1000, 500, 200, 100, 25, 10, 5, 1),
    "CHF": (100000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5),
    "SEK": (100000, 50000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100),
}
"""Notes and coins in circulation, largest first, in minor units of a two-decimal currency."""

_COUNT = re.compile(r"^\s*(?P<value>[^x×*]+?)\s*[x×*]\s*(?P<n>\d{1,6})\s*$")


def for_currency(currency: str, decimals: int, configured: Iterable[int] = ()) -> tuple[int, ...]:
    """The denominations to count in, largest first: the configured list, else the built-in one."""
    configured = tuple(configured)
    if configured:
        return tuple(sorted(set(configured), reverse=True))
    if decimals != 2:
        return ()
    return DEFAULTS.get(currency.upper(), ())


def parse_count(text: str, decimals: int, allowed: Iterable[int] = ()) -> tuple[int, int]:
    """``"20.00x3"`` → ``(2000, 3)``: a denomination and how many of it. ``allowed`` (when not empty) lists the
    denominations this till counts in."""
    m = _COUNT.match(text)
    if m is None:
        raise InvalidInput(f"count {text!r}: write it as DENOMINATIONxCOUNT, e.g. 20.00x3", field="count",
                           value=text)
    value = parse_money(m["value"], decimals, what=f"count {text!r}: denomination")
    allowed = tuple(allowed)
    if value <= 0 or (allowed and value not in allowed):
        listed = ", ".join(format_money(d, decimals) for d in allowed)
        raise InvalidInput(f"count {text!r}: {format_money(value, decimals)} is not a denomination of this till"
                           + (f" ({listed})" if listed else ""), field="count", value=text)
    return value, int(m["n"])


def merge_counts(pairs: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Counts by denomination; the same denomination given twice is added up."""
    out: dict[int, int] = {}
    for value, n in pairs:
        out[value] = out.get(value, 0) + n
    return out


def total(counts: Mapping[int, int]) -> int:
    return sum(value * n for value, n in counts.items())


def check_counts(counts: Mapping[int, int], decimals: int) -> dict[int, int]:
    """Counts as stored: positive denominations, counts not negative, largest first."""
    out = {}
    for value, n in sorted(counts.items(), key=lambda item: -int(item[0])):
        value, n = int(value), int(n)
        if value <= 0 or n < 0:
            raise InvalidInput(f"count {format_money(value, decimals)} x {n}: denomination must be more than zero "
                               "and the count not negative", field="count", value=f"{value}x{n}")
        if n:
            out[value] = n
    return out
