"""A refund without a receipt: the draft shows one amount, sales.refund pays back another."""
from shopkeeper.services import catalog, till

MILK = "4006381333931"  # MILK-1L, 1.29


def test_no_receipt_refund_pays_what_the_screen_showed_after_a_price_change(demo_db, ctx):
    till.start_refund(ctx, reason="faulty")
    shown = till.add_scan(ctx, MILK)
    assert shown.total == 129
    milk = catalog.find_product("MILK-1L")
    milk.price = 999          # a price change (another terminal, a CSV import) before the cashier pays
    milk.save()
    assert till.current_sale(ctx).total == 129   # still what the screen shows
    result = till.complete(ctx, "cash")
    assert -result.total == 129                    # paid back 9.99


def test_no_receipt_refund_at_a_typed_price_pays_that_price(demo_db, ctx):
    till.start_refund(ctx, reason="price match")
    shown = till.add_product(ctx, "MILK-1L", unit_price=100)
    assert shown.total == 100
    result = till.complete(ctx, "cash")
    assert -result.total == 100


def test_no_receipt_refund_of_a_price_label_pays_the_label_price(demo_db, ctx):
    from biip.checksums import gs1_price_weight_check_digit, gs1_standard_check_digit

    from shopkeeper.barcode_settings import BarcodeSettings, VariableMeasureLayout

    layouts = BarcodeSettings(variable_measure=(
        VariableMeasureLayout(prefix="29", measure="price", pattern="PPIIIIICVVVV", decimals=2, name="price label"),))

    def label(prefix, item, value):
        payload = f"{prefix}{item}{gs1_price_weight_check_digit(value)}{value}"
        return payload + str(gs1_standard_check_digit(payload))

    olives = catalog.find_product("OLIVES-KG")  # 14.90/kg
    catalog.set_barcodes(olives, [label("29", "12345", "0000")])
    till.start_refund(ctx, reason="bad batch")
    shown = till.add_scan(ctx, label("29", "12345", "0102"), layouts=layouts)  # a 1.02 label brought back
    assert shown.total == 102
    result = till.complete(ctx, "cash")
    assert -result.total == 102
