"""Other systems' exports (tests/data/imports/, each in its system's real layout), column maps and the values
spreadsheets write."""

from dataclasses import replace
from pathlib import Path

import pytest

from shopkeeper.errors import InvalidInput, ShopError
from shopkeeper.models import Product, Supplier
from shopkeeper.services.catalog import product_barcodes
from shopkeeper.services.import_profiles import PROFILES, HeaderRejected, load_map, profile_named
from shopkeeper.services.import_values import check_barcode_cell, read_amount
from shopkeeper.services.products_csv import CsvRejected, import_products, parse_products_csv

DATA = Path(__file__).parent.parent / "data" / "imports"


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def products() -> dict[str, Product]:
    return {p.sku: p for p in Product.select()}


def test_every_system_named_in_the_issue_has_a_profile_with_its_source():
    assert set(PROFILES) == {"square", "shopify", "woocommerce", "loyverse", "lightspeed", "odoo", "erpnext"}
    assert all(p.source.startswith("https://") for p in PROFILES.values())


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_each_sample_export_is_recognised_by_its_header(name):
    parsed = parse_products_csv(sample(f"{name}.csv"), currency="USD" if name == "square" else "EUR",
                                location="Main Street" if name == "square" else None)
    assert parsed.profile is PROFILES[name]
    assert not parsed.errors
    assert parsed.rows


def test_shopify_variants_become_one_product_each_and_image_rows_are_not_products(db, ctx):
    report = import_products(replace(ctx, currency="EUR"), sample("shopify.csv"))
    assert report.profile.name == "Shopify" and report.created == 3
    p = products()
    assert p["LT-NAT-S"].name == "Linen Tee – Natural / S"
    assert p["LT-NAT-M"].name == "Linen Tee – Natural / M"  # the name comes from the item's first row
    assert p["GB-01"].name == "Gift Box"  # "Default Title" means no variants
    assert (p["LT-NAT-M"].price, p["LT-NAT-M"].avg_cost, p["LT-NAT-M"].on_hand) == (3800, 1550, 6000)
    assert product_barcodes(p["LT-NAT-M"]) == ["5000112548167"]
    assert p["LT-NAT-M"].category == "Shirts"  # the shop's own Type before Shopify's standard category
    assert Supplier.get_by_id(p["LT-NAT-M"].supplier_id).name == "Hill Mills"


def test_square_reads_dollar_prices_per_the_shops_currency_and_the_chosen_locations_stock(db, ctx):
    report = import_products(replace(ctx, currency="USD"), sample("square.csv"), location="Harbour")
    assert report.created == 3
    p = products()
    assert (p["CB-01"].name, p["CB-01"].price, p["CB-01"].avg_cost, p["CB-01"].on_hand) == ("Cold Brew", 450, 120,
                                                                                            5000)
    assert (p["MUG-S"].name, p["MUG-S"].price) == ("Mug – Small", 129900)
    assert product_barcodes(p["CB-01"]) == ["0012345678905"]


def test_square_with_several_locations_and_none_chosen_is_one_header_message(db, ctx):
    with pytest.raises(HeaderRejected, match=r"Main Street, Harbour; choose one with --location"):
        import_products(replace(ctx, currency="USD"), sample("square.csv"))


def test_dollar_prices_in_a_euro_shop_are_refused(db, ctx):
    with pytest.raises(CsvRejected, match=r"line 2, column price: '\$4.50' is written in \$, but the shop's "
                                          r"currency is EUR"):
        import_products(replace(ctx, currency="EUR"), sample("square.csv"), location="Harbour")


def test_loyverse_sold_by_weight_keeps_its_unit_and_variants_are_named(db, ctx):
    import_products(ctx, sample("loyverse.csv"))
    p = products()
    assert (p["10001"].unit, p["10001"].on_hand, p["10001"].price, p["10001"].tax_rate) == ("kg", 4250, 1490, 9_000)
    assert p["10002"].name == "Wool Socks – 23-25"
    assert p["10003"].name == "Wool Socks – 25-27"


def test_a_tax_column_per_tax_gives_the_rate_of_the_one_that_applies_and_two_are_refused(db, ctx):
    head = "Handle,SKU,Name,Sold by weight,Price [Shop],Tax - VAT (9%),Tax - VAT (21%)\n"
    parsed = parse_products_csv((head + "a,A1,Apple,N,1.00,N,Y\nb,B1,Beer,N,2.00,Y,Y\nc,C1,Cake,N,3,maybe,N\n").encode())
    assert [(r.data.sku, r.data.tax_rate) for r in parsed.rows] == [("A1", 21_000)]
    assert [(e.line, e.reason) for e in parsed.errors] == [
        (3, "2 taxes apply (9%, 21%): one rate per product"),
        (4, "column Tax - VAT (9%): 'maybe' is neither Y nor N")]


def test_woocommerce_skips_the_variable_parent_and_keeps_its_variations(db, ctx):
    report = import_products(ctx, sample("woocommerce.csv"))
    assert report.created == 2
    assert set(products()) == {"WC-CAP", "WC-HOOD-R"}
    assert products()["WC-HOOD-R"].price == 4500


def test_lightspeed_uses_the_system_id_when_there_is_no_custom_sku(db, ctx):
    import_products(ctx, sample("lightspeed.csv"))
    p = products()
    assert p["210000000017"].name == "Hammer" and product_barcodes(p["210000000017"]) == ["0036000291452"]
    assert p["NAILS-100"].on_hand == 40_000


def test_odoo_tax_written_as_a_percentage_and_erpnext_opening_stock(db, ctx):
    import_products(ctx, sample("odoo.csv"))
    import_products(ctx, sample("erpnext.csv"))
    p = products()
    assert (p["OD-1"].tax_rate, p["OD-2"].tax_rate, p["OD-2"].unit, p["OD-2"].on_hand) == (21_000, 9_000, "kg", 25_500)
    assert (p["ER-1"].price, p["ER-1"].avg_cost, p["ER-1"].on_hand, p["ER-1"].category) == (395, 150, 20_000,
                                                                                         "Products")


def test_from_overrides_recognition():
    parsed = parse_products_csv(sample("odoo.csv"), profile=profile_named("odoo"))
    assert parsed.profile.name == "Odoo"
    with pytest.raises(ShopError, match="not a system this import knows"):
        profile_named("sage")


def test_a_map_file_reads_a_dutch_spreadsheet(db, ctx):
    profile = load_map(DATA / "dutch-map.toml")
    report = import_products(replace(ctx, currency="EUR"), sample("dutch.csv"), profile=profile)
    assert report.created == 2
    kaas = products()["A-100"]
    assert (kaas.name, kaas.price, kaas.avg_cost, kaas.on_hand, kaas.tax_rate, kaas.category) == (
        "Kaas jong", 1295, 710, 3500, 9_000, "Winkel")
    assert Supplier.get_by_id(kaas.supplier_id).name == "Kaasboer"


def test_a_map_naming_a_field_we_do_not_have_is_refused(tmp_path):
    path = tmp_path / "map.toml"
    path.write_text('[columns]\n"Prijs" = "prijs"\n')
    with pytest.raises(ShopError, match="'prijs' is not one of our fields"):
        load_map(path)


@pytest.mark.parametrize("text, currency, decimal_comma, expected", [
    ("€19.90", "EUR", False, "19.90"),
    ("$1,299.00", "USD", False, "1299.00"),
    ("19,90 €", "EUR", False, "19.90"),
    ("€ 1.299,50", "EUR", True, "1299.50"),
    ("EUR 5", "EUR", False, "5"),
    ("1,299.00", None, False, "1299.00"),
    ("1,50", None, True, "1.50"),
    ("1.234", None, False, "1.234"),  # a bare number keeps its meaning: the parser says it has 3 decimals
])
def test_prices_as_other_systems_write_them(text, currency, decimal_comma, expected):
    assert read_amount(text, currency=currency, decimals=2, decimal_comma=decimal_comma) == expected


def test_a_price_in_another_currency_is_refused():
    with pytest.raises(InvalidInput, match="written in GBP, but the shop's currency is EUR"):
        read_amount("GBP 3.00", currency="EUR", decimals=2, decimal_comma=False)


@pytest.mark.parametrize("code, what", [
    ("3.65275E+11", "scientific notation: its digits are lost"),
    ("4006381333931.0", "turned into a decimal number"),
    ("36000291452", "UPC-A barcode 036000291452 with its leading zero lost"),
])
def test_a_barcode_a_spreadsheet_changed_is_refused_saying_how_to_export_it(code, what):
    with pytest.raises(InvalidInput, match=what) as err:
        check_barcode_cell(code)
    assert "format the barcode column as Text" in err.value.reason


def test_a_floated_barcode_in_a_file_names_line_and_column(db, ctx):
    with pytest.raises(CsvRejected, match=r"line 2, column barcode: 3.65275E\+11 is a barcode a spreadsheet"):
        import_products(ctx, b"sku,name,barcode\nA,Apple,3.65275E+11\n")


def test_a_header_problem_is_one_message_with_the_known_columns_once(db, ctx):
    data = b"sku,name,colour,size\n" + b"".join(b"A%d,B,red,L\n" % i for i in range(50))
    with pytest.raises(HeaderRejected) as err:
        import_products(ctx, data, skip_bad=True)
    text = str(err.value)
    assert text.startswith("line 1: header: unknown column(s) colour, size")
    assert text.count("Known columns:") == 1 and "--map FILE" in text
    assert "bad row" not in text


def test_skip_bad_that_imports_nothing_is_refused(db, ctx):
    with pytest.raises(CsvRejected, match="nothing imported \\(every row is bad\\)"):
        import_products(ctx, b"sku,name,price\nA,Apple,x\nB,,1\n", skip_bad=True)
    assert not Product.select().exists()


def test_numeric_skus_stay_as_written_but_a_floated_one_is_refused(db, ctx):
    import_products(ctx, b"sku,name\n4006381333931,Looks like an EAN\n00042,Leading zeros\n1E5,Letters\n")
    assert set(products()) == {"4006381333931", "00042", "1E5"}
    with pytest.raises(CsvRejected, match=r"line 2, column sku: 4.00638E\+12 is a number a spreadsheet wrote"):
        import_products(ctx, b"sku,name\n4.00638E+12,Floated\n")
