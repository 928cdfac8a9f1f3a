"""A small deterministic shop for the TUI tests and snapshots: fixed timestamps, fixed names, through the services."""

from __future__ import annotations

from unittest import mock

from shopkeeper.services import catalog, sales, stock
from shopkeeper.services.context import Context

# sku, name, unit, price, cost, reorder point, reorder qty, supplier, barcode, opening stock (thousandths)
PRODUCTS = [
    ("APPLE-KG", "Apples, Cox (loose)", "kg", 299, 140, 8_000, 20_000, "Green Acres", "", 22_000),
    ("BREAD-SD", "Sourdough loaf", "pcs", 395, 150, 4_000, 10_000, "Corner Bakery", "", 12_000),
    ("BUTTER-250", "Butter 250 g", "pcs", 249, 160, 6_000, 12_000, "Hill Farm Dairy", "5000112548167", 8_000),
    ("CANDLE", "Beeswax candle", "pcs", 650, 300, 3_000, 6_000, "", "", 7_000),
    ("COFFEE-500", "Coffee beans 500 g", "pcs", 1150, 640, 5_000, 10_000, "Bean Roasters", "8711000530085", 14_000),
    ("CROISSANT", "Butter croissant", "pcs", 145, 55, 10_000, 24_000, "Corner Bakery", "", 3_000),
    ("EGGS-6", "Free-range eggs x6", "pcs", 289, 190, 10_000, 20_000, "Hill Farm Dairy", "", 9_000),
    ("MILK-1L", "Whole milk 1 l", "pcs", 129, 82, 12_000, 24_000, "Hill Farm Dairy", "4006381333931", 30_000),
    ("OLIVES-KG", "Kalamata olives (loose)", "kg", 1490, 820, 2_000, 5_000, "Deli Imports", "", 4_250),
    ("SOAP-BAR", "Olive oil soap", "pcs", 350, 140, 5_000, 10_000, "Deli Imports", "", 0),
    ("TEA-EB", "English breakfast tea x80", "pcs", 425, 230, 4_000, 12_000, "Bean Roasters", "", 2_000),
    ("WATER-1.5", "Still water 1.5 l", "pcs", 89, 35, 24_000, 48_000, "Cellar Direct", "5449000000996", 60_000),
]

T0 = "2026-01-05T09:00:00.000000Z"


def _at(minute: int) -> str:
    return f"2026-01-05T09:{minute:02d}:00.000000Z"


def seed_shop(ctx: Context, *, extra: int = 0) -> None:
    """Twelve products, opening stock, two sales and a damaged adjustment, all at fixed times."""
    clock = iter(range(60))

    def fixed() -> str:
        return _at(next(clock))

    with mock.patch("shopkeeper.services.stock.utcnow", fixed), mock.patch("shopkeeper.services.sales.utcnow", fixed), \
            mock.patch("shopkeeper.services.catalog.utcnow", lambda: T0):
        for sku, name, unit, price, cost, point, rq, supplier, code, opening in PRODUCTS:
            catalog.save_product(catalog.ProductData(
                sku=sku, name=name, unit=unit, price=price, tax_rate=7_000, reorder_point=point, reorder_qty=rq,
                supplier=supplier, category="Test", barcodes=[code] if code else []))
            if opening:
                stock.receive(ctx.as_staff("Sam"), sku, opening, cost, reference="delivery:opening")
        for n in range(extra):
            catalog.save_product(catalog.ProductData(sku=f"ITEM-{n:05d}", name=f"Generated item {n}", price=100 + n,
                                                     reorder_point=0))
        sales.sell(ctx.as_staff("Ana"), [sales.LineInput("MILK-1L", 2000), sales.LineInput("BREAD-SD", 1000)],
                   payment="cash", tendered=1000)
        sales.sell(ctx.as_staff("Ben"), [sales.LineInput("OLIVES-KG", 250)], payment="card")
        stock.adjust(ctx.as_staff("Ben"), "EGGS-6", -1000, "damaged", note="dropped box")
