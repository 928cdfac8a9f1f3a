"""Exact money and quantities.

Money is stored as integer minor units (cents); quantities as integer thousandths (so 0.250 kg is exact). Text is
converted at the edges only, through these functions. Nothing here ever touches ``float``.
"""

from __future__ import annotations

import bisect
import operator
import re
from collections.abc import Iterable, Sequence
from itertools import chain, compress, count, repeat
from decimal import Decimal, InvalidOperation

from shopkeeper.bounds import MAX_MONEY, MAX_QUANTITY
from shopkeeper.errors import InvalidInput

QTY_SCALE = 1000
"""Quantities are integer thousandths of a unit."""

RATE_DECIMALS = 3
RATE_SCALE = 100 * 10**RATE_DECIMALS
"""Tax rates are integer thousandths of a percent: 100 % is ``RATE_SCALE``; 20 % is 20000, 8.875 % is 8875. The
one place their scale is set (``parse_rate``/``format_rate`` read and write them; m017 rescaled stored rates)."""

PERCENT_SCALE = 10_000
"""Discount percentages are basis points: 100 % is 10000, 12.5 % is 1250 (``parse_percent``/``format_percent``)."""

ROUNDING_MODES = ("half-even", "half-up")


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


_PLAIN = re.compile(r"([0-9]{1,15})(?:\.([0-9]*))?")


def _plain(text: object, places: int, limit: int) -> int | None:
    """The common case without ``Decimal``: ``text`` plain digits with at most ``places`` decimals after a point
    (``"12.5"``, ``"3"``), within ``limit``, in units of 10^-places; None for anything else (the general reading
    decides, and names what is wrong). ``tests/test_money.py`` checks it gives what the general reading does."""
    match = _PLAIN.fullmatch(text) if type(text) is str else None
    if match is None:
        return None
    decimals = match[2] or ""
    if len(decimals) > places:
        return None
    value = int(match[1] + decimals.ljust(places, "0")) if places else int(match[1])
    return value if value <= limit else None


def parse_money(text: str | int | Decimal, decimals: int = 2, *, what: str = "amount") -> int:
    """``"2.50"`` → ``250`` minor units. Refuses more decimals than the currency has, and amounts beyond
    ``bounds.MAX_MONEY``."""
    value = _plain(text, decimals, MAX_MONEY)
    return value if value is not None else _scaled(to_decimal(text, what=what), decimals, what, text, MAX_MONEY)


def parse_qty(text: str | int | Decimal, *, what: str = "quantity") -> int:
    """``"0.250"`` → ``250`` thousandths; ``"3"`` → ``3000``. Refuses quantities beyond ``bounds.MAX_QUANTITY``."""
    value = _plain(text, 3, MAX_QUANTITY)
    return value if value is not None else _scaled(to_decimal(text, what=what), 3, what, text, MAX_QUANTITY)


def parse_rate(text: str | int | Decimal, *, what: str = "tax rate") -> int:
    """A tax rate in percent such as ``"20"``, ``"5.5"`` or ``"8.875"`` → thousandths of a percent (``RATE_SCALE``:
    ``20000``, ``5500``, ``8875``)."""
    value = _plain(text, RATE_DECIMALS, MAX_MONEY)
    if value is None:
        value = _scaled(to_decimal(text, what=what), RATE_DECIMALS, what, text, MAX_MONEY)
    if not 0 <= value <= RATE_SCALE:
        raise _bad(what, f"{text!s} is not between 0 and 100", text)
    return value


def parse_percent(text: str | int | Decimal, *, what: str = "percentage") -> int:
    """A discount in percent such as ``"10"`` or ``"12.5"`` → basis points (``1000``, ``1250``)."""
    value = _scaled(to_decimal(text, what=what), 2, what, text, MAX_MONEY)
    if not 0 <= value <= PERCENT_SCALE:
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


def format_rate(rate: int) -> str:
    """A tax rate (``RATE_SCALE``) → ``"20"``, ``"5.5"``, ``"8.875"``."""
    text = f"{Decimal(rate).scaleb(-RATE_DECIMALS):.{RATE_DECIMALS}f}".rstrip("0").rstrip(".")
    return text or "0"


def format_percent(bp: int) -> str:
    """A discount percentage in basis points → ``"10"`` or ``"12.5"``."""
    text = f"{Decimal(bp).scaleb(-2):.2f}".rstrip("0").rstrip(".")
    return text or "0"


def format_share(bp: int) -> str:
    """A share or margin in basis points with both its decimals always written: ``1250`` → ``"12.50"``, ``300`` →
    ``"3.00"``. Exact (a basis point is the second decimal), and a column of them lines up on the point."""
    return f"{Decimal(bp).scaleb(-2):.2f}"


def json_qty(milli: int) -> int | Decimal:
    """A quantity as a JSON number: an int when whole, else an exact Decimal (the JSON encoder writes it as-is)."""
    return milli // QTY_SCALE if milli % QTY_SCALE == 0 else qty_decimal(milli)


def round_div(numerator: int, denominator: int, mode: str = "half-even") -> int:
    """Integer division rounded to the nearest integer, exact for any sign. A tie goes to the even neighbour
    (``half-even``, banker's rounding) or away from zero (``half-up``, as on a school sheet)."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, remainder = divmod(numerator, denominator)  # floor division: 0 <= remainder < denominator
    twice = 2 * remainder
    if twice == denominator:
        if mode == "half-up":
            return quotient + (1 if numerator > 0 else 0)
        if mode != "half-even":
            raise ValueError(f"rounding mode must be one of {', '.join(ROUNDING_MODES)}, not {mode!r}")
        return quotient + (quotient & 1)
    return quotient + (1 if twice > denominator else 0)


def round_div_all(numerators: Iterable[int], denominator: int) -> list[int]:
    """``round_div(n, denominator)`` (half-even) of every numerator, the divisions done by C loops: a share of a
    whole for each of 100k products took a tenth of the ABC report one call at a time. Half up is
    ``floor((2n + d) / 2d)``; a tie (nothing left over) that landed on an odd quotient goes down to the even one."""
    if denominator < 0:
        numerators, denominator = map(operator.neg, numerators), -denominator
    if denominator == 0:
        raise ZeroDivisionError("round_div_all by zero")
    twice = 2 * denominator
    doubled = list(map(operator.add, map(operator.lshift, numerators, repeat(1)), repeat(denominator)))
    quotients = list(map(operator.floordiv, doubled, repeat(twice)))
    for n in compress(count(), map(operator.not_, map(operator.mod, doubled, repeat(twice)))):  # the ties
        quotients[n] -= quotients[n] & 1
    return quotients


BASIS_POINTS = tuple(range(10_001))
"""0 to 100 % in basis points, as numbers made once: lists that share them stay small in the CPU cache."""


def running_shares(running: Sequence[int], whole: int) -> list[int]:
    """``round_div(r * 10_000, whole)`` (basis points, half-even) of each of ``running``, a nondecreasing list
    of numbers from 0 to ``whole`` (> 0), as ``BASIS_POINTS``. Found by bisection, one per basis point, where
    the share reaches it: 100k running totals took 40 ms one division each, 10,001 bisections take a few.
    ``r * 10_000 / whole`` reaches ``b - 1/2`` at ``(2b - 1) * whole / 20_000``; exactly there it rounds to the
    even one of ``b - 1`` and ``b``."""
    ends = [0]
    for b in range(1, 10_001):
        at, rest = divmod((2 * b - 1) * whole, 20_000)
        ends.append(bisect.bisect_left(running, at if rest == 0 and b % 2 == 0 else at + 1, ends[-1]))
    ends.append(len(running))
    return list(chain.from_iterable(map(repeat, BASIS_POINTS, map(operator.sub, ends[1:], ends))))


def allocate(amount: int, weights: list[int]) -> list[int]:
    """Split ``amount`` (not negative) in proportion to ``weights``, largest remainder first, so the shares add up
    exactly."""
    total = sum(weights)
    if amount == 0 or total == 0:
        return [0] * len(weights)
    shares = [amount * w // total for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (amount * weights[i]) % total, reverse=True)
    for i in remainders[: amount - sum(shares)]:
        shares[i] += 1
    return shares


def round_to_step(amount: int, step: int) -> int:
    """``amount`` minor units to the nearest multiple of ``step`` (cash rounding: 0.05 → step 5), a tie away from
    zero (9.975 → 10.00 at 0.05, 0.50 → 1 at whole units). ``step`` 0 or 1 leaves it as it is."""
    if step <= 1:
        return amount
    return round_div(amount, step, "half-up") * step


def extend(qty_milli: int, unit_minor: int) -> int:
    """Amount for ``qty`` thousandths at ``unit`` minor units each, rounded half-even to a minor unit."""
    return round_div(qty_milli * unit_minor, QTY_SCALE)
