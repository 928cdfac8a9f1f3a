"""Tax on a sale's lines: the one place tax is worked out (``sales.price_lines`` calls it; the till's preview and
the receipt show what it gave).

Two shop rules (``[shop]`` in the config):

* ``tax_rounding = "line"`` (the default): each line's tax is rounded to a minor unit on its own.
  ``"sale"``: the tax of all lines at one rate is worked out on their sum and rounded once; that amount is then
  shared over those lines in proportion to their amounts (largest remainder first), so every line still carries its
  own tax and the lines add up to the sale's tax exactly.
* ``tax_rounding_mode = "half-even"`` (the default, banker's rounding) or ``"half-up"`` (a tie away from zero).

Rates are ``money.RATE_SCALE`` (100 % = 100000). With prices that include tax the tax is the part of the amount
``amount × rate / (100 % + rate)``; without, it is added on top: ``amount × rate / 100 %``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shopkeeper.money import RATE_SCALE, ROUNDING_MODES, allocate, round_div

TAX_ROUNDINGS = ("line", "sale")


@dataclass(frozen=True)
class TaxRules:
    rounding: str = "line"  # line | sale
    mode: str = "half-even"  # half-even | half-up

    def __post_init__(self) -> None:
        if self.rounding not in TAX_ROUNDINGS:
            raise ValueError(f"tax rounding must be one of {', '.join(TAX_ROUNDINGS)}, not {self.rounding!r}")
        if self.mode not in ROUNDING_MODES:
            raise ValueError(f"tax rounding mode must be one of {', '.join(ROUNDING_MODES)}, not {self.mode!r}")


def tax_of(amount: int, rate: int, *, included: bool, mode: str = "half-even") -> int:
    """The tax on ``amount`` minor units at ``rate``, rounded to a minor unit by ``mode``."""
    if included:
        return round_div(amount * rate, RATE_SCALE + rate, mode)
    return round_div(amount * rate, RATE_SCALE, mode)


def line_taxes(amounts: Sequence[int], rates: Sequence[int], *, included: bool,
               rules: TaxRules = TaxRules()) -> list[int]:
    """Each line's tax for lines of ``amounts`` (after discounts) at ``rates``, under ``rules``."""
    if rules.rounding == "line":
        return [tax_of(amount, rate, included=included, mode=rules.mode) for amount, rate in zip(amounts, rates)]
    taxes = [0] * len(amounts)
    for rate in sorted(set(rates)):
        at_rate = [i for i, r in enumerate(rates) if r == rate]
        total = tax_of(sum(amounts[i] for i in at_rate), rate, included=included, mode=rules.mode)
        for i, share in zip(at_rate, allocate(total, [amounts[i] for i in at_rate])):
            taxes[i] = share
    return taxes
