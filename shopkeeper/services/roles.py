"""Roles and what each may do: the permission names, the default roles, and the config's ``[roles.<name>]``
merged over them. Read by ``services.permissions``; carried on every ``Context`` as ``ctx.access``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from shopkeeper.errors import ConfigError, ShopError

REFUND = "refund"
VOID_SALE = "void_sale"
REMOVE_LINE_AFTER_PAYMENT = "remove_line_after_payment"
DISCOUNT_OVER_LIMIT = "discount_over_limit"
PRICE_OVERRIDE = "price_override"
ONE_OFF_ITEM = "one_off_item"
STOCK_ADJUST = "stock_adjust"
POST_COUNT = "post_count"
EDIT_PRODUCTS = "edit_products"
EDIT_PRICES_COSTS = "edit_prices_costs"
OPEN_DRAWER = "open_drawer"
CLOSE_DAY = "close_day"
EXPORT_BOOKS = "export_books"
MANAGE_STAFF = "manage_staff"
MANAGE_ORDERS = "manage_orders"
TRAINING = "training"

PERMISSIONS = (REFUND, VOID_SALE, REMOVE_LINE_AFTER_PAYMENT, DISCOUNT_OVER_LIMIT, PRICE_OVERRIDE, ONE_OFF_ITEM,
               STOCK_ADJUST, POST_COUNT, EDIT_PRODUCTS, EDIT_PRICES_COSTS, OPEN_DRAWER, CLOSE_DAY, EXPORT_BOOKS,
               MANAGE_STAFF, MANAGE_ORDERS, TRAINING)
"""Every permission there is; ``"*"`` in a role's list stands for all of them."""

WHAT = {
    REFUND: "give a refund", VOID_SALE: "void a sale", REMOVE_LINE_AFTER_PAYMENT: "remove a line after payment started",
    DISCOUNT_OVER_LIMIT: "give a discount above the limit", PRICE_OVERRIDE: "override a price",
    ONE_OFF_ITEM: "sell a one-off item", STOCK_ADJUST: "adjust stock", POST_COUNT: "post a stock count",
    EDIT_PRODUCTS: "edit products", EDIT_PRICES_COSTS: "change prices and costs", OPEN_DRAWER: "open the drawer",
    CLOSE_DAY: "close the day", EXPORT_BOOKS: "export the books", MANAGE_STAFF: "manage staff",
    MANAGE_ORDERS: "manage purchase orders", TRAINING: "switch a till to training",
}


@dataclass(frozen=True)
class Role:
    name: str
    permissions: frozenset[str]
    max_discount: int | None = None  # basis points a discount may reach without DISCOUNT_OVER_LIMIT; None: any


DEFAULT_ROLES = {
    "cashier": Role("cashier", frozenset({ONE_OFF_ITEM}), max_discount=1000),
    "supervisor": Role("supervisor", frozenset({
        REFUND, VOID_SALE, REMOVE_LINE_AFTER_PAYMENT, DISCOUNT_OVER_LIMIT, PRICE_OVERRIDE, ONE_OFF_ITEM,
        STOCK_ADJUST, POST_COUNT, EDIT_PRODUCTS, OPEN_DRAWER, CLOSE_DAY, MANAGE_ORDERS, TRAINING})),
    "owner": Role("owner", frozenset(PERMISSIONS)),
}


@dataclass(frozen=True)
class Access:
    """The shop's roles and PIN rules, as the config says (defaults: cashier, supervisor, owner)."""

    roles: Mapping[str, Role] = field(default_factory=lambda: MappingProxyType(dict(DEFAULT_ROLES)))
    max_pin_failures: int = 5
    lockout_minutes: int = 5

    def role(self, name: str) -> Role | None:
        return self.roles.get(name)

    @classmethod
    def from_config(cls, config) -> Access:
        roles = dict(DEFAULT_ROLES)
        for name, section in config.roles.items():
            base = roles.get(name, Role(name, frozenset()))
            perms = base.permissions
            if section.permissions is not None:
                perms = _permissions(name, section.permissions)
            limit = base.max_discount
            if section.max_discount is not None:
                limit = _limit(name, section.max_discount)
            roles[name] = Role(name, perms, limit)
        return cls(MappingProxyType(roles), config.staff.max_pin_failures, config.staff.lockout_minutes)


def _permissions(role: str, names: tuple[str, ...]) -> frozenset[str]:
    if "*" in names:
        return frozenset(PERMISSIONS)
    unknown = sorted(set(names) - set(PERMISSIONS))
    if unknown:
        raise ConfigError(f"roles.{role}.permissions: unknown permission {unknown[0]!r} (known: "
                          f"{', '.join(PERMISSIONS)}, or \"*\" for all)", field=f"roles.{role}.permissions")
    return frozenset(names)


def _limit(role: str, text: str) -> int | None:
    from shopkeeper.money import PERCENT_SCALE, parse_percent

    text = text.strip().removesuffix("%").strip()
    if not text:
        return None
    try:
        rate = parse_percent(text, what=f"roles.{role}.max_discount")  # basis points, as discounts are
    except ShopError as exc:  # naming the key
        raise ConfigError(str(exc), field=f"roles.{role}.max_discount") from None
    if not 0 <= rate <= PERCENT_SCALE:
        raise ConfigError(f'roles.{role}.max_discount: between "0%" and "100%"', field=f"roles.{role}.max_discount")
    return rate
