"""The ``[accounts]`` config section: the account names the books export (``shopkeeper export books``) posts to.

Every name is a colon-separated account path whose first part is one of the five roots (Assets, Liabilities,
Equity, Income, Expenses) and whose parts start with a capital letter or a digit and hold only letters, digits and
``-``: the strictest of the three tools' rules (beancount's), so one set of names serves beancount, hledger and
ledger alike. A name may hold a placeholder the export fills in, itself made a valid part:
``{rate}`` (a tax rate: 20 → ``20``, 5.5 → ``5-5``), ``{reason}`` (a stock loss's reason: ``Damaged``) and
``{supplier}`` (a supplier's name: ``Acme Foods & Co`` → ``Acme-Foods-Co``). See docs/books.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

ROOTS = ("Assets", "Liabilities", "Equity", "Income", "Expenses")
_PART = re.compile(r"^[A-Z0-9][A-Za-z0-9-]*$")
PLACEHOLDERS = {"sales": "rate", "discounts": "rate", "refunds": "rate", "tax": "rate", "shrinkage": "reason",
                "payable": "supplier"}
"""Which placeholder each name may hold (the others hold none)."""


def check_account(name: str, where: str, placeholder: str | None = None) -> None:
    """Refuse an account name that one of the tools would refuse, naming ``where`` (raises ValueError)."""
    probe = name.replace("{" + placeholder + "}", "X") if placeholder else name
    parts = probe.split(":")
    if parts[0] not in ROOTS:
        raise ValueError(f"{where}: {name!r} must start with one of {', '.join(ROOTS)}")
    if len(parts) < 2:
        raise ValueError(f"{where}: {name!r} needs at least one part after {parts[0]}")
    for part in parts:
        if not _PART.match(part):
            extra = f" (the only placeholder here is {{{placeholder}}})" if "{" in part and placeholder else ""
            raise ValueError(f"{where}: {name!r}: the part {part!r} must start with a capital letter or a digit and "
                             f"hold only letters, digits and '-'{extra}")


@dataclass(frozen=True)
class AccountsSection:
    drawer: str = "Assets:Cash:Drawer"
    # Cash in the tills' drawers: cash payments and refunds, floats, cash in and out, the Z report's count.
    safe: str = "Assets:Cash:Safe"
    # Where a till's float comes from when a session opens and where its counted cash goes when it closes.
    card: str = "Assets:Card-Clearing"
    # Card payments, until the card processor pays them out to the bank.
    other: str = "Assets:Other-Payments"
    # Payments by any other method (vouchers, bank transfer).
    inventory: str = "Assets:Inventory"
    # Stock at moving-average cost: its balance equals `shopkeeper report valuation --at DAY`.
    sales: str = "Income:Sales:VAT-{rate}"
    # Revenue before discounts, net of tax, per tax rate. With `discounts` it gives the taxable turnover per rate.
    discounts: str = "Income:Discounts:VAT-{rate}"
    # Discounts given at the till (a debit), per tax rate, as the till gave them (see docs/books.md).
    refunds: str = "Income:Refunds:VAT-{rate}"
    # Refunds paid back, net of tax, per tax rate (a debit).
    tax: str = "Liabilities:VAT-Payable"
    # Tax collected on sales less tax paid back on refunds. May hold {rate} for one account per rate.
    cash_rounding: str = "Income:Cash-Rounding"
    # Cash rounding: what cash payments were rounded by (to 0.05, to whole units).
    over_short: str = "Expenses:Cash-Over-Short"
    # A drawer's counted cash less the expected, at each Z report (short is a debit).
    cash_in: str = "Assets:Cash:Safe"
    # Where cash put into a drawer during a session comes from.
    cash_out: str = "Expenses:Paid-Outs"
    # Where cash taken out of a drawer during a session goes (paid-outs, petty cash, safe drops).
    cogs: str = "Expenses:COGS"
    # Cost of goods sold, less the cost of goods refunded, at the cost the journal recorded.
    shrinkage: str = "Expenses:Shrinkage:{reason}"
    # Stock lost (adjustments and count variances below zero), per reason: Damaged, Expired, Lost, Stolen, ...
    found: str = "Income:Found-Stock"
    # Stock found (adjustments and count variances above zero).
    payable: str = "Liabilities:Payable:{supplier}"
    # Deliveries at cost, less returns to the supplier, per supplier (Unassigned: a receipt with no supplier).
    cost_rounding: str = "Expenses:Cost-Rounding"
    # What keeps inventory equal to the valuation: moving-average rounding and revaluations (docs/books.md).
    opening: str = "Equity:Opening-Balances"
    # The other side of the opening inventory, with `export books --opening`.

    def __post_init__(self) -> None:
        for f in fields(self):
            check_account(getattr(self, f.name), f"accounts.{f.name}", PLACEHOLDERS.get(f.name))
