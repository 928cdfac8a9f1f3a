"""Who is acting, where, and under which shop rules: passed to every service call."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from shopkeeper.config import Config
from shopkeeper.db import on_rollback
from shopkeeper.models import Staff, Terminal, database
from shopkeeper.money import parse_money, parse_rate
from shopkeeper.services.roles import Access
from shopkeeper.tax import TaxRules
from shopkeeper.text import clean


@dataclass(frozen=True)
class Context:
    staff: str = ""
    terminal: str = ""
    negative_stock: Literal["allow", "warn", "refuse"] = "warn"
    prices_include_tax: bool = True
    decimals: int = 2
    default_tax_rate: int = 0  # basis points
    currency: str | None = None  # ISO 4217 ("EUR"): a label's price in another currency (GS1 AI 393n) is refused
    tax_rules: TaxRules = TaxRules()  # [shop] tax_rounding and tax_rounding_mode
    cash_rounding: int = 0  # minor units: cash due is rounded to a multiple of this (5 = 0.05); 0: none
    access: Access = field(default_factory=Access, compare=False)  # roles and PIN rules (services/permissions.py)
    supervisor: str = ""  # who approves an act ``staff`` may not do alone: checked by PIN in the service
    supervisor_pin: str = field(default="", repr=False, compare=False)

    @classmethod
    def from_config(cls, config: Config, *, staff: str | None = None, terminal: str | None = None) -> Context:
        import socket

        shop, till = config.shop, config.till
        return cls(
            staff=staff if staff is not None else till.staff,
            terminal=terminal if terminal is not None else (till.terminal or socket.gethostname()),
            negative_stock=shop.negative_stock,
            prices_include_tax=shop.prices_include_tax,
            decimals=shop.decimals,
            default_tax_rate=parse_rate(shop.default_tax_rate),
            currency=shop.currency,
            tax_rules=TaxRules(shop.tax_rounding, shop.tax_rounding_mode),
            cash_rounding=parse_money(till.cash_rounding, shop.decimals, what="till.cash_rounding"),
            access=Access.from_config(config),
        )

    def as_staff(self, staff: str) -> Context:
        return replace(self, staff=staff, supervisor="", supervisor_pin="")

    def approved_by(self, supervisor: str, pin: str) -> Context:
        """This context with a supervisor's approval to be checked: the service verifies the PIN
        (``permissions.require``), the screen only passes it on."""
        return replace(self, supervisor=supervisor, supervisor_pin=pin)


_ids: dict[tuple[str, str, str], int] = {}
on_rollback(_ids.clear)  # a staff row created in a transaction that rolled back does not exist


def _named_id(model: type[Staff | Terminal], name: str) -> int | None:
    """Id of the staff member or terminal called ``name``, created on first use. Rows are never deleted."""
    if not name:
        return None
    key = (str(database.obj.database), model._meta.table_name, name)
    if key not in _ids:
        row = model.get_or_none(model.name == name)
        if row is None:  # a new name is stored under the text rule (a control character is refused)
            stored = clean(name, field=model._meta.table_name).strip() or name
            model.insert(name=stored).on_conflict_ignore().execute()
            row = model.get(model.name == stored)
        _ids[key] = row.id
    return _ids[key]


def staff_id(ctx: Context) -> int | None:
    return _named_id(Staff, ctx.staff)


def terminal_id(ctx: Context) -> int | None:
    return _named_id(Terminal, ctx.terminal)
