"""The largest values the shop stores, in one place.

Money is integer minor units and quantities integer thousandths (``money.py``); the database keeps them in signed
64-bit integers (SQLite INTEGER, PostgreSQL ``bigint``). SQLite does not refuse a sum that leaves that range: it
quietly turns it into a float, and ``product.on_hand`` would become ``-9.3e+18`` for good. So every value the shop
writes is bounded well inside 64 bits:

* a quantity (one movement, a count, stock on hand): at most ``MAX_QUANTITY`` thousandths, 10^12 (a billion units);
* an amount (a price, a cost, a line or sale total, cash tendered): at most ``MAX_MONEY`` minor units, 10^13
  (a hundred billion at two decimals).

A sum of such values stays far from 2^63 (about 9.2 * 10^18): a product's journal adds up to its stock on hand,
which is bounded; a quantity times a price is worked out in Python (exact) and the result is bounded before it is
stored; summing 900,000 sales of the largest amount still fits. Input is checked where it is parsed (naming the
field), and the services check again what they are about to write (stock after a movement, a sale's totals).
"""

from __future__ import annotations

import argparse
from decimal import Decimal

from shopkeeper.errors import InvalidInput

MAX_QUANTITY = 10**12
"""Largest quantity in thousandths: one movement, one count, a product's stock on hand (either sign)."""
MAX_MONEY = 10**13
"""Largest amount in minor units: a price, a cost, a line or sale total, cash tendered (either sign)."""
MAX_ID = 2**63 - 1
"""Largest row id (a sale number) a database can hold."""
MAX_ROWS = 10**9
"""Largest row count a command is asked to list (``journal --limit``)."""


def _units(value: int, places: int) -> str:
    return f"{Decimal(value).scaleb(-places):f}"


def quantity(value: int, what: str, *, line: int | None = None) -> int:
    """``value`` (thousandths), or ``InvalidInput`` naming ``what`` if it is beyond ``MAX_QUANTITY``."""
    if -MAX_QUANTITY <= value <= MAX_QUANTITY:
        return value
    reason = f"{_units(value, 3).rstrip('0').rstrip('.')} is more than the shop can record (at most " \
             f"{_units(MAX_QUANTITY, 3).split('.')[0]})"
    raise InvalidInput(f"{what}: {reason}; nothing was saved", field=what, reason=reason, value=value, line=line)


def money(value: int, what: str, decimals: int, *, line: int | None = None) -> int:
    """``value`` (minor units), or ``InvalidInput`` naming ``what`` if it is beyond ``MAX_MONEY``."""
    if -MAX_MONEY <= value <= MAX_MONEY:
        return value
    reason = f"{_units(value, decimals)} is more than the shop can record (at most {_units(MAX_MONEY, decimals)})"
    raise InvalidInput(f"{what}: {reason}; nothing was saved", field=what, reason=reason, value=value, line=line)


def int_arg(lowest: int = 1, highest: int = MAX_ID):
    """An argparse ``type`` for a whole number between ``lowest`` and ``highest``: a sale number, a row limit.

    A number past SQLite's 64-bit integers would otherwise reach the driver and end in a traceback."""

    def parse(text: str) -> int:
        value = int(text)  # ValueError: argparse says "invalid int value"
        if not lowest <= value <= highest:
            raise argparse.ArgumentTypeError(f"{text} is not between {lowest} and {highest}")
        return value

    parse.__name__ = "int"
    return parse
