"""How a sale or refund is paid: one or more tenders (split tender), change, and cash rounding.

The rules, in the order the tenders are given:

* Each tender settles part of what is still due. ``Tender.amount`` ``None`` means "the rest".
* Card and other settle exactly their amount; an amount above what is still due is refused (change is given only
  from cash).
* Cash: ``amount`` is the money handed over. When cash pays, what is still due is first rounded to the shop's
  ``[till] cash_rounding`` step (to the nearest multiple, a tie up); cash that covers that rounded amount settles
  the sale, the difference is the sale's ``rounding`` (amount paid − total), and what it exceeds is change. Less
  cash settles that much and leaves the rest due, unrounded, for the next tender. So a split of card and cash
  rounds only the cash part's due.
* On a refund nothing is handed over: each tender pays back at most what is still owed (cash rounded likewise);
  there is no change.
* After the last tender nothing may be left due, and no tender may come after the sale is settled.

Amounts here are positive for sales and refunds alike; ``sales`` stores them signed like the sale's total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shopkeeper.errors import InvalidInput
from shopkeeper.money import format_money, round_to_step

METHODS = ("cash", "card", "other")
SPLIT = "split"
"""``Sale.payment`` of a sale paid by more than one method; ``Payment`` rows say how."""


@dataclass(frozen=True)
class Tender:
    """One way the customer pays (or is paid back). ``amount`` ``None``: whatever is still due. For cash,
    ``amount`` is what is handed over; ``tendered`` is its older spelling (``sell(..., tendered=...)``)."""

    method: str
    amount: int | None = None
    tendered: int | None = None


@dataclass(frozen=True)
class Settled:
    """A tender as recorded: what it settles (positive), and for cash on a sale what crossed the counter."""

    method: str
    amount: int
    tendered: int | None = None
    change: int | None = None


@dataclass(frozen=True)
class Settlement:
    tenders: tuple[Settled, ...]
    rounding: int  # amount paid − amount due (cash rounding), in the positive sense of ``settle``'s ``due``

    @property
    def summary(self) -> str:
        """``Sale.payment``: the one method used, or ``split``."""
        methods = {t.method for t in self.tenders}
        return methods.pop() if len(methods) == 1 else SPLIT

    @property
    def tendered(self) -> int | None:
        """Cash handed over in all (``Sale.tendered``); None when no cash crossed the counter."""
        given = [t.tendered for t in self.tenders if t.tendered is not None]
        return sum(given) if given else None

    @property
    def change(self) -> int | None:
        given = [t.change for t in self.tenders if t.change is not None]
        return sum(given) if given else None


def _check_method(method: str, n: int, count: int) -> None:
    if method not in METHODS:
        where = f"payment {n}: " if count > 1 else ""
        raise InvalidInput(f"{where}payment must be one of {', '.join(METHODS)}, not {method!r}", field="payment",
                           value=method)


def settle(due: int, tenders: Sequence[Tender], *, cash_step: int = 0, decimals: int = 2,
           refund: bool = False) -> Settlement:
    """Apply ``tenders`` to ``due`` (minor units, not negative) by the rules above."""
    if not tenders:
        raise InvalidInput("no payment given", field="payment")

    def money(minor: int) -> str:
        return format_money(minor, decimals)

    remaining, rounding, out = due, 0, []
    count = len(tenders)
    for n, tender in enumerate(tenders, 1):
        _check_method(tender.method, n, count)
        where = f"payment {n} ({tender.method})" if count > 1 else tender.method
        if out and remaining == 0:
            raise InvalidInput(f"{where}: nothing is left to pay", field="payment", line=n)
        for value in (tender.amount, tender.tendered):
            if value is not None and value < 0:
                raise InvalidInput(f"{where}: amount must not be negative", field="amount", line=n)
        if tender.method != "cash":
            if tender.tendered is not None:
                raise InvalidInput("an amount tendered only goes with cash", field="tendered", line=n)
            amount = remaining if tender.amount is None else tender.amount
            if amount > remaining:
                raise InvalidInput(f"{where} {money(amount)} is more than the {money(remaining)} still due: change "
                                   "is given only from cash", field="amount", line=n, value=amount)
            if amount == 0 and remaining:
                raise InvalidInput(f"{where}: amount must be more than zero", field="amount", line=n)
            remaining -= amount
            out.append(Settled(tender.method, amount))
            continue
        owed = round_to_step(remaining, cash_step)
        if tender.amount is not None and tender.tendered is not None:
            settles, handed = tender.amount, tender.tendered
            if handed < settles or (handed > settles and settles != owed):
                raise InvalidInput(f"{where}: {money(handed)} handed over for {money(settles)} gives change before "
                                   "the sale is paid", field="tendered", line=n)
        else:
            handed = tender.amount if tender.amount is not None else tender.tendered
            handed = owed if handed is None else handed
            settles = min(handed, owed)
        if settles > owed:
            raise InvalidInput(f"{where} {money(settles)} is more than the {money(owed)} due", field="amount", line=n)
        if handed == 0 and owed:
            raise InvalidInput(f"{where}: amount must be more than zero", field="amount", line=n)
        if refund and handed > owed:
            raise InvalidInput(f"{where}: {money(handed)} is more than the {money(owed)} to pay back in cash",
                               field="amount", line=n, value=handed)
        if count == 1 and settles < owed and not refund:
            raise InvalidInput(f"cash tendered {money(handed)} is less than the total {money(owed)}",
                               field="tendered", value=handed)
        if settles == owed:
            rounding += owed - remaining
            remaining = 0
        else:
            remaining -= settles
        out.append(Settled("cash", settles, None if refund else handed, None if refund else handed - settles))
    if remaining:
        raise InvalidInput(f"{money(remaining)} is still due: add a payment for it", field="payment",
                           value=remaining)
    return Settlement(tuple(out), rounding)


def cash_due(remaining: int, cash_step: int) -> int:
    """What cash must cover when ``remaining`` is still due (rounded to the cash step)."""
    return round_to_step(remaining, cash_step)


def legacy_tenders(payment: str, tendered: int | None) -> list[Tender]:
    """The one tender of the older ``payment=``/``tendered=`` keywords."""
    if payment != "cash" and tendered is not None and payment in METHODS:
        raise InvalidInput("an amount tendered only goes with cash", field="tendered")
    return [Tender(payment, None, tendered)]
