"""The shop's settings kept in its own database: currency, decimals, and who created it (``init`` or ``demo``).

Prices are stored as integer minor units, so what 1290 means depends on the currency's decimals. The config is per
till; the database is shared. ``init`` records the shop's currency and decimals, and every command, counter and app
opening the shop checks its config against them (``check_config``): a till whose config disagrees is refused rather
than selling at a tenth of the price. A database made before this record existed adopts the config's values the
first time it is opened, and says so once.
"""

from __future__ import annotations

from dataclasses import dataclass

from shopkeeper.db import write_transaction
from shopkeeper.errors import ConfigError
from shopkeeper.models import ShopSetting

CREATED_BY_INIT, CREATED_BY_DEMO, CREATED_BY_ADOPTED = "init", "demo", "adopted"


@dataclass(frozen=True)
class ShopSettings:
    currency: str | None
    decimals: int | None
    created_by: str | None = None
    demo_products: int | None = None

    @property
    def is_demo(self) -> bool:
        return self.created_by == CREATED_BY_DEMO


def read_settings() -> ShopSettings:
    values = dict(ShopSetting.select(ShopSetting.key, ShopSetting.value).tuples())

    def number(key: str) -> int | None:
        text = values.get(key)
        return int(text) if text is not None and text.lstrip("-").isdigit() else None

    return ShopSettings(currency=values.get("currency"), decimals=number("decimals"),
                        created_by=values.get("created_by"), demo_products=number("demo_products"))


def record_settings(currency: str, decimals: int, *, created_by: str, demo_products: int | None = None) -> None:
    """Write the shop's settings (a new shop: ``init`` or ``demo``)."""
    values = {"currency": currency, "decimals": str(decimals), "created_by": created_by}
    if demo_products is not None:
        values["demo_products"] = str(demo_products)
    with write_transaction():
        for key, value in values.items():
            (ShopSetting.insert(key=key, value=value)
             .on_conflict(conflict_target=[ShopSetting.key], update={ShopSetting.value: value}).execute())


def check_config(currency: str, decimals: int, *, database: str, config: str) -> str | None:
    """Refuse a config whose currency or decimals differ from the shop's, naming both. A shop with none recorded
    (made by an older shopkeeper) adopts these; the returned notice says so, once: later openings find them."""
    shop = read_settings()
    if shop.currency is None or shop.decimals is None:
        with write_transaction():
            for key, value in (("currency", currency), ("decimals", str(decimals)),
                               ("created_by", CREATED_BY_ADOPTED)):
                ShopSetting.insert(key=key, value=value).on_conflict_ignore().execute()
        adopted = read_settings()  # another process may have adopted its own values a moment earlier
        if (adopted.currency, adopted.decimals) == (currency, decimals):
            return (f"database {database} had no currency recorded; it now keeps {_money(currency, decimals)} "
                    f"from {config}")
        shop = adopted
    if (shop.currency, shop.decimals) != (currency, decimals):
        raise ConfigError(
            f"{config} says {_money(currency, decimals)}, but the shop in database {database} keeps "
            f"{_money(shop.currency, shop.decimals)}; use the shop's config or set shop.currency and shop.decimals "
            "to match", field="shop.decimals" if shop.currency == currency else "shop.currency",
            reason="differs from the shop's database", value=(currency, decimals))
    return None


def _money(currency: str | None, decimals: int | None) -> str:
    return f"{currency} with {decimals} decimal{'s' if decimals != 1 else ''}"
