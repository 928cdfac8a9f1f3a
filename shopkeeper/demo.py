"""A seeded demo shop: a small grocery with suppliers, stock, sales and a few items running low."""

from __future__ import annotations

import random
from collections.abc import Callable

from shopkeeper.db import write_transaction
from shopkeeper.models import Product
from shopkeeper.services import catalog, sales, stock
from shopkeeper.services.context import Context

# sku, name, unit, price, cost, tax (money.RATE_SCALE: 7000 = 7 %), reorder point, reorder qty, supplier, category, barcode, opening stock
DEMO_PRODUCTS = [
    ("MILK-1L", "Whole milk 1 l", "pcs", 129, 82, 7_000, 12_000, 24_000, "Hill Farm Dairy", "Dairy", "4006381333931", 30_000),
    ("BUTTER-250", "Butter 250 g", "pcs", 249, 160, 7_000, 6_000, 12_000, "Hill Farm Dairy", "Dairy", "5000112548167", 8_000),
    ("EGGS-6", "Free-range eggs x6", "pcs", 289, 190, 7_000, 10_000, 20_000, "Hill Farm Dairy", "Dairy", "5012345678900", 9_000),
    ("BREAD-SD", "Sourdough loaf", "pcs", 395, 150, 7_000, 4_000, 10_000, "Corner Bakery", "Bakery", "", 12_000),
    ("CROISSANT", "Butter croissant", "pcs", 145, 55, 7_000, 10_000, 24_000, "Corner Bakery", "Bakery", "", 3_000),
    ("COFFEE-500", "Coffee beans 500 g", "pcs", 1150, 640, 7_000, 5_000, 10_000, "Bean Roasters", "Pantry", "8711000530085", 14_000),
    ("TEA-EB", "English breakfast tea x80", "pcs", 425, 230, 7_000, 4_000, 12_000, "Bean Roasters", "Pantry", "5000208081240", 2_000),
    ("OLIVES-KG", "Kalamata olives (loose)", "kg", 1490, 820, 7_000, 2_000, 5_000, "Deli Imports", "Deli", "", 4_250),
    ("CHEESE-KG", "Aged cheddar (by weight)", "kg", 2290, 1350, 7_000, 3_000, 6_000, "Deli Imports", "Deli", "", 5_500),
    ("APPLES-KG", "Apples, Cox (loose)", "kg", 299, 140, 7_000, 8_000, 20_000, "Green Acres", "Produce", "", 22_000),
    ("BANANAS-KG", "Bananas (loose)", "kg", 189, 95, 7_000, 6_000, 18_000, "Green Acres", "Produce", "", 4_500),
    ("WINE-RED", "House red wine 75 cl", "pcs", 899, 520, 20_000, 6_000, 12_000, "Cellar Direct", "Drinks", "3760091720016", 18_000),
    ("WATER-1.5", "Still water 1.5 l", "pcs", 89, 35, 7_000, 24_000, 48_000, "Cellar Direct", "Drinks", "5449000000996", 60_000),
    ("SOAP-BAR", "Olive oil soap", "pcs", 350, 140, 20_000, 5_000, 10_000, "Deli Imports", "Household", "", 0),
    ("CANDLE", "Beeswax candle", "pcs", 650, 300, 20_000, 3_000, 6_000, "", "Household", "", 7_000),
]


# Suppliers: contact, email, phone, lead days, review days, order days, minimum order (minor units)
DEMO_SUPPLIERS = {
    "Hill Farm Dairy": ("Meg Hill", "orders@hillfarm.example", "01632 960111", 1, 7, "mon,thu", 4000),
    "Corner Bakery": ("Tom", "", "01632 960222", 1, 1, "", 0),
    "Bean Roasters": ("Priya Shah", "trade@beanroasters.example", "", 5, 14, "", 10000),
    "Deli Imports": ("Luca Rossi", "sales@deli-imports.example", "01632 960444", 10, 14, "tue", 15000),
    "Green Acres": ("", "greenacres@example.org", "01632 960555", 2, 7, "mon,wed,fri", 2500),
    "Cellar Direct": ("Anne", "anne@cellardirect.example", "", 7, 14, "", 20000),
}

# Links: sku, supplier, item code, pack size (thousandths), pack cost (minor units), preferred
DEMO_LINKS = [
    ("MILK-1L", "Hill Farm Dairy", "HF-M1", 12_000, 960, True),
    ("BUTTER-250", "Hill Farm Dairy", "HF-B250", 10_000, 1_580, True),
    ("EGGS-6", "Hill Farm Dairy", "HF-E6", 10_000, 1_850, True),
    ("BREAD-SD", "Corner Bakery", "SD", 1_000, 150, True),
    ("CROISSANT", "Corner Bakery", "CR", 12_000, 640, True),
    ("COFFEE-500", "Bean Roasters", "BR-HOUSE-500", 6_000, 3_780, True),
    ("TEA-EB", "Bean Roasters", "BR-EB80", 12_000, 2_700, True),
    ("OLIVES-KG", "Deli Imports", "DI-KAL-2", 2_000, 1_600, True),
    ("CHEESE-KG", "Deli Imports", "DI-CHED", 5_000, 6_600, True),
    ("SOAP-BAR", "Deli Imports", "DI-SOAP", 20_000, 2_700, True),
    ("APPLES-KG", "Green Acres", "GA-COX", 10_000, 1_350, True),
    ("BANANAS-KG", "Green Acres", "GA-BAN", 18_000, 1_650, True),
    ("WINE-RED", "Cellar Direct", "CD-HR75", 6_000, 3_060, True),
    ("WATER-1.5", "Cellar Direct", "CD-W15", 6_000, 200, True),
    ("COFFEE-500", "Deli Imports", "DI-COF500", 1_000, 690, False),  # a second source, dearer, not preferred
]


def _seed_suppliers(ctx: Context) -> None:
    """The demo's suppliers' details and what each sells the shop (item codes, packs, pack costs), so the ordering
    cycle can be tried at once: ``shopkeeper po draft``."""
    from shopkeeper.services import suppliers

    for name, (contact, email, phone, lead, review, days, minimum) in DEMO_SUPPLIERS.items():
        suppliers.edit_supplier(ctx, name, suppliers.SupplierData(
            contact=contact, email=email, phone=phone, lead_days=lead, review_days=review, order_days=days,
            min_order=minimum))
    for sku, supplier, code, pack, pack_cost, preferred in DEMO_LINKS:
        suppliers.link_product(ctx, sku, supplier, item_code=code, pack_size=pack, pack_cost=pack_cost,
                               preferred=preferred)


def seed_demo(ctx: Context, *, extra_products: int = 0, sales_count: int = 24, seed: int = 7,
              progress: Callable[[int, int], None] | None = None) -> None:
    """Fill an empty database with the demo shop; ``extra_products`` adds generated ones for trying scale.

    ``progress(done, total)`` is called as products are added (about every 1 %), for a bar on long work."""
    if Product.select().exists():
        return
    total = len(DEMO_PRODUCTS) + extra_products
    step = max(1, total // 100)

    def report(done: int) -> None:
        if progress is not None and (done % step == 0 or done == total):
            progress(done, total)

    rng = random.Random(seed)
    receiving = ctx.as_staff(ctx.staff or "Sam")
    with write_transaction():
        for (sku, name, unit, price, cost, tax, point, qty, supplier, category, code, opening) in DEMO_PRODUCTS:
            catalog.save_product(catalog.ProductData(
                sku=sku, name=name, unit=unit, price=price, tax_rate=tax, reorder_point=point, reorder_qty=qty,
                supplier=supplier, category=category, barcodes=[code] if code else []))
            if opening:
                stock.receive(receiving, sku, opening, cost, reference="delivery:opening")
        _seed_suppliers(ctx)
        report(len(DEMO_PRODUCTS))
        for n in range(extra_products):
            sku = f"ITEM-{n:06d}"
            catalog.save_product(catalog.ProductData(
                sku=sku, name=f"Generated item {n}", price=rng.randint(50, 5000), tax_rate=20_000,
                reorder_point=rng.choice([0, 2000, 5000]), reorder_qty=12_000, category="Generated"))
            stock.receive(receiving, sku, rng.randint(0, 40) * 1000 or 1000, rng.randint(20, 3000),
                          reference="delivery:opening")
            report(len(DEMO_PRODUCTS) + n + 1)
    tills = [ctx.as_staff(name) for name in ("Ana", "Ben")]
    everyday = [p for p in DEMO_PRODUCTS if p[2] == "pcs" and p[11] >= 14_000]
    for _ in range(sales_count):
        picks = rng.sample(everyday, rng.randint(1, 3))
        lines = [sales.LineInput(p[0], 1000) for p in picks]
        sales.sell(rng.choice(tills), lines, payment=rng.choice(["cash", "card", "card"]))
    sales.sell(tills[0], [sales.LineInput("OLIVES-KG", 250), sales.LineInput("CHEESE-KG", 380)], payment="card")
    stock.adjust(tills[1], "EGGS-6", -1000, "damaged", note="dropped box")
