"""Exact money and quantities.

Money is stored as integer minor units (cents); quantities as integer thousandths (so 0.250 kg is exact). Text is
converted at the edges only, through these functions. Nothing here ever touches ``float``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from shopkeeper.bounds import MAX_MONEY, MAX_QUANTITY
from shopkeeper.errors import InvalidInput

QTY_SCALE = 1000
"""Quantities are integer thousandths of a unit."""


def _bad(what: str, reason: str, text: object) -> InvalidInput:
    """``what: reason``, with ``field=what`` and ``reason`` apart, so a form shows the reason beside the field.
    The reason names the refused text (``12.345 has more than 2 decimal places``): beside the field, it says which."""
    return InvalidInput(f"{what}: {reason}", field=what, reason=reason, value=text)


_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")


def to_decimal(text: str | int | Decimal, *, what: str = "value", decimal_comma: bool = True) -> Decimal:
    """Parse ``text`` as an exact decimal; ``1,50`` is accepted when ``decimal_comma``."""
    if isinstance(text, Decimal):
        return text
    if isinstance(text, int):
        return Decimal(text)
    if not isinstance(text, str):
        raise _bad(what, f"expected a number, got {type(text).__name__}", text)
    s = text.strip().replace("\u00a0", "").replace(" ", "")
    if decimal_comma and "," in s and "." not in s:
        s = s.replace(",", ".")
    if not _NUMBER.match(s) or "," in s:
        raise _bad(what, f"{text.strip()!r} is not a number", text)
    try:
        return Decimal(s)
    except InvalidOperation:  # pragma: no cover - the regex already guards this
        raise _bad(what, f"{text.strip()!r} is not a number", text) from None


def _scaled(value: Decimal, places: int, what: str, text: object, limit: int) -> int:
    """``value`` in units of 10^-places, refused beyond ``limit`` (see ``bounds.py``)."""
    if not value.is_finite():
        raise _bad(what, f"{text!s} is not a number", text)
    if value.adjusted() > 30:  # scaleb below would round a number this long; it is far past any limit anyway
        value = Decimal(limit + 1).scaleb(-places).copy_sign(value)
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise _bad(what, f"{text!s} has more than {places} decimal places", text)
    if abs(scaled) > limit:
        largest = f"{Decimal(limit).scaleb(-places):f}"
        shown = largest.rstrip('0').rstrip('.') if limit == MAX_QUANTITY else largest
        raise _bad(what, f"{text!s} is too large (at most {shown})", text)
    return int(scaled)


def parse_money(text: str | int | Decimal, decimals: int = 2, *, what: str = "amount") -> int:
    """``"2.50"`` → ``250`` minor units. Refuses more decimals than the currency has, and amounts beyond
    ``bounds.MAX_MONEY``."""
    return _scaled(to_decimal(text, what=what), decimals, what, text, MAX_MONEY)


def parse_qty(text: str | int | Decimal, *, what: str = "quantity") -> int:
    """``"0.250"`` → ``250`` thousandths; ``"3"`` → ``3000``. Refuses quantities beyond ``bounds.MAX_QUANTITY``."""
    return _scaled(to_decimal(text, what=what), 3, what, text, MAX_QUANTITY)


def parse_rate(text: str | int | Decimal, *, what: str = "tax rate") -> int:
    """A percentage such as ``"20"`` or ``"5.5"`` → basis points (``2000``, ``550``)."""
    value = _scaled(to_decimal(text, what=what), 2, what, text, MAX_MONEY)
    if not 0 <= value <= 100_00:
        raise _bad(what, f"{text!s} is not between 0 and 100", text)
    return value


def money_decimal(minor: int, decimals: int = 2) -> Decimal:
    return Decimal(minor).scaleb(-decimals)


def format_money(minor: int, decimals: int = 2) -> str:
    """``250`` → ``"2.50"``: locale-free, the form the CLI and JSON use."""
    return f"{money_decimal(minor, decimals):.{decimals}f}"


def qty_decimal(milli: int) -> Decimal:
    return Decimal(milli).scaleb(-3)


def format_qty(milli: int) -> str:
    """``3000`` → ``"3"``; ``250`` → ``"0.25"``; trailing zeros dropped."""
    text = f"{qty_decimal(milli):.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_rate(bp: int) -> str:
    """Basis points → ``"20"`` or ``"5.5"``."""
    text = f"{Decimal(bp).scaleb(-2):.2f}".rstrip("0").rstrip(".")
    return text or "0"


def json_qty(milli: int) -> int | Decimal:
    """A quantity as a JSON number: an int when whole, else an exact Decimal (the JSON encoder writes it as-is)."""
    return milli // QTY_SCALE if milli % QTY_SCALE == 0 else qty_decimal(milli)


def round_div(numerator: int, denominator: int) -> int:
    """Integer division rounded half to even (banker's rounding), exact for any sign."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, remainder = divmod(numerator, denominator)  # floor division: 0 <= remainder < denominator
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient & 1):
        quotient += 1
    return quotient


def extend(qty_milli: int, unit_minor: int) -> int:
    """Amount for ``qty`` thousandths at ``unit`` minor units each, rounded half-even to a minor unit."""
    return round_div(qty_milli * unit_minor, QTY_SCALE)
