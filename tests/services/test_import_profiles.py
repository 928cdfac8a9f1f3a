"""Other systems' exports (tests/data/imports/, each in its system's real layout), column maps and the values
spreadsheets write."""

from dataclasses import replace
from pathlib import Path

import pytest

from shopkeeper.errors import InvalidInput, ShopError
from shopkeeper.models import Product, Supplier
from shopkeeper.services.catalog import product_barcodes
from shopkeeper.services.import_profiles import PROFILES, HeaderRejected, load_map, profile_named, unit_named
from shopkeeper.services.import_values import check_barcode_cell, read_amount
from shopkeeper.services.products_csv import CsvRejected, import_products, parse_products_csv

DATA = Path(__file__).parent.parent / "data" / "imports"


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def products() -> dict[str, Product]:
    return {p.sku: p for p in Product.select()}


SYSTEMS = {"square": "square", "shopify": "shopify", "woocommerce": "woocommerce", "loyverse": "loyverse",
           "lightspeed-r": "lightspeed", "lightspeed-x": "lightspeed", "odoo": "odoo", "erpnext": "erpnext"}
"""Each sample (tests/data/imports/<sample>.csv) and the --from name a user gives for it."""

SETTINGS = {"square": dict(currency="USD", location="Harbour"), "lightspeed-x": dict(location="Harbour Store"),
            "woocommerce": dict(currency="EUR")}
"""The shop each sample is imported into: its currency and the location chosen (--location)."""

# sku: (name, barcodes, price, cost, unit, stock at the chosen location, category, supplier, tax rate)
# (tax 20_000 is the test shop's default rate: the file gives none, or names a tax without a rate)
EXPECTED = {
    "square": {  # Harbour's own price for the large mug; the archived mug is left out; coffee sold by the pound
        # and olives by the kilogram ("Unit and Precision"), a variation without SKU or GTIN known by its Token;
        # "N" in the only tax column: Square does not tax it (0 %)
        "CB-01": ("Cold Brew", ["0012345678905"], 450, 120, "pcs", 5_000, "Drinks", "Bean Co", 8_875),
        "MUG-S": ("Mug – Small", [], 129900, 40000, "pcs", 1_000, "Goods", "Clay Works", 0),
        "MUG-L": ("Mug – Large", [], 1500, 500, "pcs", 0, "Goods", "Clay Works", 0),
        "COF-HB": ("Loose Coffee – House Blend", [], 1299, 610, "lb", 8_250, "Coffee", "Bean Co", 0),
        "EF56GH78IJ": ("Loose Coffee – Decaf", [], 1449, 700, "lb", 2_500, "Coffee", "Bean Co", 0),
        "OLV-1": ("Olives", [], 1980, 900, "kg", 1_750, "Deli", None, 8_875),
    },
    "shopify": {
        "LT-NAT-S": ("Linen Tee – Natural / S", ["4006381333931"], 3800, 1550, "pcs", 4_000, "Shirts", "Hill Mills",
                     20_000),
        "LT-NAT-M": ("Linen Tee – Natural / M", ["5000112548167"], 3800, 1550, "pcs", 6_000, "Shirts", "Hill Mills",
                     20_000),
        "GB-01": ("Gift Box", [], 500, 200, "pcs", 10_000, "Gifts", "Hill Mills", 20_000),
        # Variant SKU is optional in Shopify: the barcode, else the handle and the option values
        "5901234123471": ("Canvas Tote – Sand", ["5901234123471"], 2400, 900, "pcs", 3_000, "Bags", "Hill Mills",
                          20_000),
        "canvas-tote-dark-olive": ("Canvas Tote – Dark Olive", [], 2400, 900, "pcs", 2_000, "Bags", "Hill Mills",
                                   20_000),
    },
    "woocommerce": {  # variations named from their parent; no SKU: the parent's and the ID; no price: left out;
        # the first of several categories
        "WC-CAP": ("Cap", ["4006381333931"], 1990, 0, "pcs", 5_000, "Clothing > Accessories", None, 20_000),
        "WC-HOOD-R": ("Hoodie – Red / S", [], 4500, 0, "pcs", 3_000, "Clothing > Hoodies", None, 20_000),
        "WC-HOOD-13": ("Hoodie – Blue / S", [], 4250, 0, "pcs", 0, "Clothing > Hoodies", None, 20_000),
        "15": ("Sticker", [], 200, 0, "pcs", 40_000, "Goodies", None, 0),
        "SC-GRN": ("Scarf – Green", [], 1200, 0, "pcs", 4_000, "Clothing > Accessories", None, 20_000),
    },
    "loyverse": {
        "10001": ("Olives", [], 1490, 820, "kg", 4_250, "Deli", None, 9_000),
        "10002": ("Wool Socks – 23-25", ["4006381333931"], 1200, 300, "pcs", 10_000, "Clothing", None, 9_000),
        "10003": ("Wool Socks – 25-27", [], 1200, 300, "pcs", 7_000, "Clothing", None, 9_000),
        "10004": ("Gift Box", [], 1990, 500, "pcs", 0, "Deli", None, 9_000),  # a composite; its next component's
    },                                                                         # line is not a product
    "lightspeed-r": {  # the System ID where there is no Custom SKU
        "210000000017": ("Hammer", ["0036000291452"], 2499, 1200, "pcs", 3_000, "Tools", "Tool Co", 20_000),
        "NAILS-100": ("Nails 100", [], 350, 110, "pcs", 40_000, "Tools", "Tool Co", 20_000),
    },
    "lightspeed-x": {  # variants grouped by handle; "inventory_Harbour_Store" is the outlet "Harbour Store"; the
        # price with its tax_value (the shop's prices include tax), GST's rate from it; a composite once
        "TS-BLK-S": ("Organic Tee – Black / S", [], 3900, 1250, "pcs", 1_000, "Apparel", "Hill Mills", 20_000),
        "TS-BLK-M": ("Organic Tee – Black / M", [], 3900, 1250, "pcs", 2_000, "Apparel", "Hill Mills", 20_000),
        "9300601000017": ("Coffee Beans 1kg", [], 3200, 1800, "pcs", 0, "Coffee", "Bean Co", 15_000),
        "WRAP-1": ("Gift Wrap", [], 250, 0, "pcs", 0, "Services", None, 0),
        "GIFT-1": ("Coffee Gift Pack", [], 6000, 3050, "pcs", 0, "Gifts", None, 15_000),
    },
    "odoo": {
        "OD-1": ("Desk Lamp", ["4006381333931"], 2990, 1100, "pcs", 7_000, "All / Saleable", "Lumen BV", 21_000),
        "OD-2": ("Rice", [], 320, 100, "kg", 25_500, "All / Food", None, 9_000),
        "OD-3": ("Gift Card", [], 2500, 0, "pcs", 0, "All / Saleable", None, 0),
        # a variant per row, its further variant value on a row of its own
        "TS-R-S": ("T-Shirt – Red / S", ["5000112548167"], 1500, 600, "pcs", 3_000, "All / Saleable", None, 21_000),
        "TS-R-M": ("T-Shirt – Red / M", [], 1500, 600, "pcs", 2_000, "All / Saleable", None, 21_000),
        # no Internal Reference: the barcode, else the External ID (without Odoo's "__export__.")
        "8710398527073": ("Beeswax Candle", ["8710398527073"], 1250, 400, "pcs", 6_000, "All / Saleable", None,
                          21_000),
        "product_product_31_6b7c8d9e": ("Napkins", [], 350, 120, "pcs", 40_000, "All / Saleable", None, 21_000),
    },
    "erpnext": {  # "Nos" is by the piece, "Kg" by weight; a second barcode on a row of its own; the template left
        # out, its variants named from its name and their attribute values (a row each); the disabled item left out
        "ER-1": ("Notebook A5", ["8710398527059", "8710398527066"], 395, 150, "pcs", 20_000, "Products", None,
                 20_000),
        "ER-2": ("Pen", [], 99, 20, "pcs", 100_000, "Products", None, 20_000),
        "ER-3": ("Rice (loose)", [], 240, 110, "kg", 12_500, "Food", None, 20_000),
        "TS-RED-S": ("T-Shirt – Red / S", ["5901234123457"], 1200, 400, "pcs", 5_000, "Products", None, 20_000),
        "TS-BLU-M": ("T-Shirt – Blue / M", ["5901234123464"], 1200, 400, "pcs", 2_000, "Products", None, 20_000),
    },
}


def stored() -> dict[str, tuple]:
    return {p.sku: (p.name, product_barcodes(p), p.price, p.avg_cost, p.unit, p.on_hand, p.category,
                    Supplier.get_by_id(p.supplier_id).name if p.supplier_id else None, p.tax_rate)
            for p in Product.select()}


def test_every_system_named_in_the_issue_has_a_profile_with_its_source():
    assert set(PROFILES) == {"square", "shopify", "woocommerce", "loyverse", "lightspeed-r", "lightspeed-x", "odoo",
                             "erpnext"}
    assert all(p.source.startswith("https://") for p in PROFILES.values())
    assert set(SYSTEMS) == set(PROFILES) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_each_sample_export_is_recognised_by_its_header(name):
    settings = SETTINGS.get(name, {})
    parsed = parse_products_csv(sample(f"{name}.csv"), **settings)
    assert parsed.profile is PROFILES[name]
    assert not parsed.errors
    assert parsed.rows


@pytest.mark.parametrize("how", ["recognised", "--from"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_sample_export_stores_the_products_the_system_holds(db, ctx, name, how):
    settings = SETTINGS.get(name, {})
    profile = profile_named(SYSTEMS[name]) if how == "--from" else None
    report = import_products(replace(ctx, currency=settings.get("currency")), sample(f"{name}.csv"),
                             profile=profile, location=settings.get("location"))
    assert report.profile is PROFILES[name]
    assert stored() == EXPECTED[name]


def test_from_lightspeed_takes_the_layout_the_header_shows_and_says_which():
    parsed = parse_products_csv(sample("lightspeed-x.csv"), profile=profile_named("lightspeed"),
                                location="Main Outlet")
    assert parsed.profile is PROFILES["lightspeed-x"] and parsed.profile.name == "Lightspeed Retail (X-Series)"
    assert [(r.data.sku, r.on_hand) for r in parsed.rows][:2] == [("TS-BLK-S", 4_000), ("TS-BLK-M", 6_000)]
    parsed = parse_products_csv(sample("lightspeed-r.csv"), profile=profile_named("lightspeed"))
    assert parsed.profile is PROFILES["lightspeed-r"]
    with pytest.raises(HeaderRejected, match="neither layout of Lightspeed Retail fits"):
        parse_products_csv(b"Item,Price\nA,1\n", profile=profile_named("lightspeed"))


def test_x_series_outlets_are_chosen_by_their_name_with_spaces(db, ctx):
    with pytest.raises(HeaderRejected, match=r"inventory_Main_Outlet, inventory_Harbour_Store\): the shop's location "
                                             r"is one of Main Outlet, Harbour Store; choose one with --location"):
        import_products(ctx, sample("lightspeed-x.csv"))


def test_square_with_several_locations_and_none_chosen_is_one_header_message(db, ctx):
    with pytest.raises(HeaderRejected, match=r"Main Street, Harbour; choose one with --location"):
        import_products(replace(ctx, currency="USD"), sample("square.csv"))


def test_dollar_prices_in_a_euro_shop_are_refused(db, ctx):
    with pytest.raises(CsvRejected, match=r"line 2, column price: '\$4.50' is written in \$, but the shop's "
                                          r"currency is EUR"):
        import_products(replace(ctx, currency="EUR"), sample("square.csv"), location="Harbour")


def test_rows_left_out_are_said_once_for_the_file(db, ctx):
    report = import_products(replace(ctx, currency="USD"), sample("square.csv"), location="Main Street")
    assert [(n.line, n.column, n.reason) for n in report.notes] == [
        (5, "Archived", "archived in Square: not imported"), (7, "Token", "no SKU: the product's Token is its SKU")]
    parsed = parse_products_csv(sample("erpnext.csv"))
    assert [(n.line, n.column, n.reason) for n in parsed.notes] == [
        (10, "Disabled", "disabled in ERPNext: not imported")]


def test_a_tax_named_without_a_rate_is_imported_without_one_and_said_once(db, ctx):
    head = "handle,sku,name,supply_price,retail_price,tax_name,inventory_Shop\n"
    rows = "".join(f"h{i},S{i},Item {i},1,2,GST,1\n" for i in range(5)) + "z,Z1,Zero,1,2,No Tax,1\n"
    report = import_products(ctx, (head + rows).encode())
    assert [(n.line, n.column) for n in report.notes] == [(2, "tax_name")]
    assert report.notes[0].reason.startswith("the tax 'GST' names no rate: imported without a tax rate of its own")
    assert report.notes[0].reason.endswith('extends = "lightspeed-x" and [taxes] "GST" = "<rate>" (this row and 4 more)')
    assert {p.sku: p.tax_rate for p in Product.select()} == {**{f"S{i}": 20_000 for i in range(5)}, "Z1": 0}


def test_a_map_extending_a_system_gives_its_tax_names_their_rates(db, ctx, tmp_path):
    path = tmp_path / "woo.toml"
    path.write_text('extends = "woocommerce"\n[taxes]\n"reduced-rate" = "9"\n')
    report = import_products(replace(ctx, currency="EUR"), sample("woocommerce.csv"), profile=load_map(path))
    assert report.profile.name == "WooCommerce with the map woo.toml"
    assert not [n for n in report.notes if n.column == "Tax class"]
    rates = {p.sku: p.tax_rate for p in Product.select()}
    assert (rates["WC-HOOD-R"], rates["WC-HOOD-13"], rates["WC-CAP"], rates["15"]) == (9_000, 9_000, 20_000, 0)


def test_woocommerce_variations_take_their_parents_name_and_prices_in_the_stores_decimal_comma(db, ctx):
    report = import_products(replace(ctx, currency="EUR"), sample("woocommerce.csv"))
    assert [(n.line, n.column) for n in report.notes] == [(3, "Tax class"), (6, "Regular price")]
    assert "WooCommerce does not sell a product without a price" in report.notes[1].reason
    assert "WC-HOOD" not in stored() and "WC-HOOD-BM" not in stored()  # the variable parent; the unpriced variation


def test_a_woocommerce_variation_before_its_parent_names_the_line(db, ctx):
    data = (b"ID,Type,SKU,Name,Regular price,Parent,Attribute 1 value(s)\n"
            b"12,variation,V-1,Tee - Red,5,T-1,Red\n11,variable,T-1,Tee,,,\"Red, Blue\"\n")
    parsed = parse_products_csv(data)
    assert [(e.line, e.reason) for e in parsed.errors] == [
        (2, "column Parent: 'T-1' is not a variable product on an earlier line")]


def test_a_tax_column_per_tax_gives_the_rate_of_the_one_that_applies_and_two_are_refused(db, ctx):
    head = "Handle,SKU,Name,Sold by weight,Price [Shop],Tax - VAT (9%),Tax - VAT (21%)\n"
    parsed = parse_products_csv((head + "a,A1,Apple,N,1.00,N,Y\nb,B1,Beer,N,2.00,Y,Y\nc,C1,Cake,N,3,maybe,N\n").encode())
    assert [(r.data.sku, r.data.tax_rate) for r in parsed.rows] == [("A1", 21_000)]
    assert [(e.line, e.reason) for e in parsed.errors] == [
        (3, "2 taxes apply (9%, 21%): one rate per product"),
        (4, "column Tax - VAT (9%): 'maybe' is neither Y nor N")]


def test_a_product_every_tax_column_answers_n_for_is_untaxed_and_blank_ones_say_nothing():
    head = "Handle,SKU,Name,Sold by weight,Price [Shop],Tax - VAT (9%),Tax - VAT (21%)\n"
    parsed = parse_products_csv((head + "g,G1,Gift card,N,10.00,N,N\nh,H1,Hat,N,5.00,,\n").encode())
    assert [(r.data.sku, r.data.tax_rate) for r in parsed.rows] == [("G1", 0), ("H1", None)]


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
    assert (kaas.name, kaas.price, kaas.avg_cost, kaas.on_hand, kaas.tax_rate, kaas.category, kaas.unit) == (
        "Kaas jong", 1295, 710, 3500, 9_000, "Winkel", "kg")  # weighed: "kilo" is kg, "stuk" by the piece
    assert products()["A-200"].unit == "pcs"
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
    ("12.50000", None, False, "12.50"),  # zeros past the shop's decimals (Lightspeed X-Series) change nothing
    ("1.23450", None, False, "1.23450"),  # other digits there stay, for the parser to refuse
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


def test_a_woocommerce_list_cell_gives_its_first_item_and_keeps_an_escaped_comma():
    data = (b"ID,Type,SKU,Name,Regular price,Categories,Parent,Attribute 1 value(s)\n"
            b"11,variable,T-1,Tee,,\"Tops, Sale\",,\"Red\\, dark, Blue\"\n"
            b"12,variation,V-1,\"Tee - Red, dark\",5,,T-1,\"Red\\, dark\"\n")
    parsed = parse_products_csv(data)
    assert [(r.data.name, r.data.category) for r in parsed.rows] == [("Tee – Red, dark", "Tops")]


ERPNEXT_HEAD = ('"ID","Item Code","Item Name","Item Group","Disabled","Standard Selling Rate","ID (Barcodes)",'
                '"Barcode (Barcodes)"\n')


def test_an_erpnext_barcode_row_adds_its_barcode_to_the_item_above_even_across_chunks(db, ctx, monkeypatch):
    from shopkeeper.services import products_csv

    monkeypatch.setattr(products_csv, "CHECK_CHUNK_ROWS", 1)  # the item and its barcode row in different chunks
    data = (ERPNEXT_HEAD + '"A","A","Apple","Food",0,1.0,"b1","8710398527059"\n"","","","","","","b2","8710398527066"\n'
            '"","","","","","","b3","5901234123457"\n"B","B","Bread","Food",0,2.0,"","4006381333931"\n')
    report = import_products(ctx, data.encode())
    assert (report.created, report.notes) == (2, [])
    assert {sku: codes for sku, (_, codes, *_) in stored().items()} == {
        "A": ["8710398527059", "8710398527066", "5901234123457"], "B": ["4006381333931"]}


def test_an_erpnext_barcode_row_below_an_item_left_out_is_not_given_to_another(db, ctx):
    data = (ERPNEXT_HEAD + '"A","A","Apple","Food",0,1.0,"","8710398527059"\n'
            '"OLD","OLD","Old","Food",1,1.0,"","4006381333931"\n"","","","","","","b2","8710398527066"\n')
    parsed = parse_products_csv(data.encode())
    assert [(r.data.sku, r.data.barcodes) for r in parsed.rows] == [("A", ["8710398527059"])]
    assert [(n.line, n.reason) for n in parsed.notes] == [(3, "disabled in ERPNext: not imported")]


def test_a_barcode_row_with_no_item_above_names_its_line():
    parsed = parse_products_csv((ERPNEXT_HEAD + '"","","","","","","b1","8710398527059"\n'
                                 '"A","A","Apple","Food",0,1.0,"","4006381333931"\n').encode())
    assert [r.data.sku for r in parsed.rows] == ["A"]
    assert [(e.line, e.reason.split(":")[0]) for e in parsed.errors] == [
        (2, "this row continues the product above (its item columns are empty), but there is none")]


def test_odoo_variants_are_named_by_their_values_and_a_further_vendor_is_said_once():
    parsed = parse_products_csv(sample("odoo.csv"))
    assert [r.data.name for r in parsed.rows][3:5] == ["T-Shirt – Red / S", "T-Shirt – Red / M"]
    assert [(n.line, n.column) for n in parsed.notes][0] == (3, "Vendors/Vendor")
    assert parsed.notes[0].reason.startswith("a further 'Vendors/Vendor' on a row of its own")
    assert [(r.data.sku, r.data.supplier) for r in parsed.rows][0] == ("OD-1", "Lumen BV")


def test_odoo_import_compatible_variant_values_in_one_cell():
    data = (b'"default_code","name","product_template_variant_value_ids","lst_price"\n'
            b'"TS-R-S","T-Shirt","Color: Red,Size: S","15.0"\n"MUG","Mug","","4.5"\n'
            b'"OIL-15","Olive Oil","Size: 1,5 L","9.0"\n')
    parsed = parse_products_csv(data)
    assert parsed.profile is PROFILES["odoo"]
    assert [(r.data.name, r.data.price) for r in parsed.rows] == [
        ("T-Shirt – Red / S", 1500), ("Mug", 450), ("Olive Oil – 1,5 L", 900)]


X_HEAD = ("handle,sku,composite_name,composite_sku,composite_quantity,name,supply_price,retail_price,tax_name,"
          "tax_value\n")


@pytest.mark.parametrize("included, price", [(True, 2721), (False, 2499)])
def test_x_series_tax_value_gives_the_rate_and_the_shelf_price_as_the_shop_writes_prices(included, price):
    data = X_HEAD + "hat,HAT-1,,,,Hat,10.00000,24.99000,Sales Tax,2.21786\n"  # 8.875 % of 24.99
    parsed = parse_products_csv(data.encode(), prices_include_tax=included)
    assert [(r.data.price, r.data.tax_rate) for r in parsed.rows] == [(price, 8_875)]
    assert parsed.notes == []


def test_an_x_series_composite_is_one_product_and_said_once(db, ctx):
    data = X_HEAD + ("gift,GIFT-1,Beans,BEANS-1,1,Gift Pack,30.50000,52.17391,GST,7.82609\n"
                     "gift,GIFT-1,Tee,TEE-1,2,Gift Pack,30.50000,52.17391,GST,7.82609\n"
                     "box,BOX-1,Beans,BEANS-1,6,Box of Beans,60.00000,86.95652,GST,13.04348\n"
                     "box,BOX-1,,,,Box of Beans,60.00000,86.95652,GST,13.04348\n")
    report = import_products(ctx, data.encode())
    assert {sku: (name, price, rate) for sku, (name, _, price, _, _, _, _, _, rate) in stored().items()} == {
        "GIFT-1": ("Gift Pack", 6000, 15_000), "BOX-1": ("Box of Beans", 10000, 15_000)}
    assert [(n.line, n.column) for n in report.notes] == [(2, "composite_sku")]
    assert report.notes[0].reason.startswith("a composite (a product made of others): imported as a product of its "
                                             "own") and report.notes[0].reason.endswith("(this row and 1 more)")


def test_a_loyverse_composite_is_one_product_its_component_lines_are_not_bad_rows():
    parsed = parse_products_csv(sample("loyverse.csv"))
    assert not parsed.errors and [r.data.sku for r in parsed.rows] == ["10001", "10002", "10003", "10004"]
    assert [(n.line, n.column) for n in parsed.notes] == [(5, "SKU of included item")]


def test_a_barcode_row_below_a_bad_row_is_given_to_no_product(tmp_path):
    path = tmp_path / "erp.toml"  # an ID outside its [values] table: the row is bad at the first cell read
    path.write_text('extends = "erpnext"\n[values."ID"]\n"A" = "A"\n')
    data = (ERPNEXT_HEAD + '"A","A","Apple","Food",0,1.0,"","8710398527059"\n'
            '"B","B","Bread","Food",0,1.0,"","4006381333931"\n"","","","","","","b2","8710398527066"\n')
    parsed = parse_products_csv(data.encode(), profile=load_map(path))
    assert [(r.data.sku, r.data.barcodes) for r in parsed.rows] == [("A", ["8710398527059"])]
    assert [e.line for e in parsed.errors] == [3]


# Square's item import spreadsheet glossary (https://squareup.com/help/us/en/article/8211-item-import-spreadsheet-
# glossary; its Catalan edition, .../es/ca/article/8211, "Unitat i precisió: Tipus d'unitat i precisió (decimals)")
# puts "Unit and Precision" between "Variation Name" and "SKU": the variation's unit and its decimals. Square's
# standard weight units are the MeasurementUnitWeight values (developer.squareup.com/reference/square/enums/
# MeasurementUnitWeight: ounce, pound, stone, milligram, gram, kilogram), shown by name and abbreviation.
@pytest.mark.parametrize("cell, unit", [
    ("", ""), ("Kilogram (kg)", "kg"), ("Per Pound (lb)", "lb"), ("Per Pound (lb) (.00)", "lb"),
    ("Pound (lb) [2]", "lb"), ("kg (0.001)", "kg"), ("Gram (g) Precision: 1", "g"), ("Ounce (oz)", "oz"),
    ("Per Yard (yd) (.0)", "yd"), ("Nos", "pcs"), ("Units", "pcs"), ("Litre", "Litre")])
def test_a_unit_as_other_systems_write_it_is_ours(cell, unit):
    assert unit_named(cell) == unit


def test_square_items_sold_by_weight_keep_their_unit_and_their_variations():
    parsed = parse_products_csv(sample("square.csv"), currency="USD", location="Main Street")
    assert [(r.data.sku, r.data.name, r.data.unit, r.on_hand) for r in parsed.rows if r.data.unit] == [
        ("COF-HB", "Loose Coffee – House Blend", "lb", 20_500), ("EF56GH78IJ", "Loose Coffee – Decaf", "lb", 4_000),
        ("OLV-1", "Olives", "kg", 3_000)]


ODOO_HEAD = '"Internal Reference","Name","Barcode","Sales Price"\n'


def test_an_odoo_product_without_internal_reference_is_known_by_its_barcode_and_said_once():
    parsed = parse_products_csv((ODOO_HEAD + '"","Candle","8710398527073","12.5"\n'
                                 '"","Soap","5901234123457","3.0"\n"OD-9","Mug","","4.0"\n').encode())
    assert [(r.data.sku, r.data.name) for r in parsed.rows] == [
        ("8710398527073", "Candle"), ("5901234123457", "Soap"), ("OD-9", "Mug")]
    assert [(n.line, n.column, n.reason) for n in parsed.notes] == [
        (2, "Barcode", "no Internal Reference: the product's Barcode is its SKU (this row and 1 more)")]


def test_an_odoo_product_with_neither_reference_nor_barcode_nor_external_id_says_how_to_export_it():
    parsed = parse_products_csv((ODOO_HEAD + '"","Napkins","","3.5"\n').encode())
    assert parsed.rows == []
    assert [e.line for e in parsed.errors] == [2]
    assert "no Internal Reference and no Barcode in Odoo: export it again with the field External ID" in \
        parsed.errors[0].reason


def test_an_odoo_import_compatible_export_without_default_code_takes_the_external_id():
    data = (b'"id","default_code","name","list_price"\n'
            b'"__export__.product_template_12_5e8b6a1c","","Napkins","3.5"\n'
            b'"product.product_delivery_01","","Delivery","5.0"\n')
    parsed = parse_products_csv(data)
    assert parsed.profile is PROFILES["odoo"]
    assert [r.data.sku for r in parsed.rows] == ["product_template_12_5e8b6a1c", "product.product_delivery_01"]


def test_shopify_variants_without_sku_take_the_barcode_else_the_handle_and_options():
    parsed = parse_products_csv(sample("shopify.csv"))
    assert [(r.data.sku, r.data.name) for r in parsed.rows][-2:] == [
        ("5901234123471", "Canvas Tote – Sand"), ("canvas-tote-dark-olive", "Canvas Tote – Dark Olive")]
    assert [n.column for n in parsed.notes] == ["Variant Barcode", "Handle"]


ERPNEXT_VARIANTS_HEAD = ('"ID","Item Code","Item Name","Item Group","Has Variants","Variant Of","Standard Selling Rate",'
                         '"ID (Variant Attributes)","Attribute (Variant Attributes)",'
                         '"Attribute Value (Variant Attributes)"\n')


def test_erpnext_variants_are_named_from_the_template_name_and_their_attribute_values():
    # ERPNext names a variant "<template's item name>-<abbr>-<abbr>" (erpnext/controllers/item_variant.py,
    # make_variant_item_code); a name the shop changed keeps its own words
    data = (ERPNEXT_VARIANTS_HEAD
            + '"SOCK-GRN-42","SOCK-GRN-42","Wool Sock-GRN-42","Clothing",0,"SOCK",9.5,"v1","Colour","Green"\n'
              '"","","","","","","","v2","Size","42"\n'
              '"SOCK","SOCK","Wool Sock","Clothing",1,"",9.5,"t1","Colour",""\n"","","","","","","","t2","Size",""\n'
              '"SOCK-RED-43","SOCK-RED-43","Red wool sock, large","Clothing",0,"SOCK",9.5,"v3","Colour","Red"\n'
              '"","","","","","","","v4","Size","43"\n'
              '"PEN","PEN","Ball-Pen","Office",0,"",1.0,"","",""\n'
              '"MUG-XL","MUG-XL","Mug-Extra Large","Kitchen",0,"MUG",6.0,"m1","Size","XL"\n')
    parsed = parse_products_csv(data.encode())
    assert [(r.data.sku, r.data.name) for r in parsed.rows] == [
        ("SOCK-GRN-42", "Wool Sock – Green / 42"), ("SOCK-RED-43", "Red wool sock, large – Red / 43"),
        ("PEN", "Ball-Pen"), ("MUG-XL", "Mug-Extra Large – XL")]
    assert parsed.errors == [] and parsed.notes == []


def test_odoo_text_starting_like_a_formula_loses_the_apostrophe_odoo_put_before_it():
    # odoo/addons/web/controllers/export.py, CSVExport.from_data: "Spreadsheet apps tend to detect formulas on
    # leading =, + and -", so a text cell starting with one is written after "'"
    parsed = parse_products_csv((ODOO_HEAD + '"\'+44-CABLE","\'- Clearance cable -","","2.5"\n').encode())
    assert [(r.data.sku, r.data.name) for r in parsed.rows] == [("+44-CABLE", "- Clearance cable -")]


def test_an_x_series_export_in_its_current_layout_and_an_outlet_named_with_dash_and_brackets():
    # the header of a 2025 X-Series product export (a public migration script's REAL_HEADERS): shipping weight
    # and dimensions after "tags", no loyalty columns; an outlet "Warehouse - Pearson WAGGA WAGGA (MAIN)"
    head = ("id,handle,sku,composite_name,composite_sku,composite_quantity,name,description,product_category,"
            "variant_option_one_name,variant_option_one_value,variant_option_two_name,variant_option_two_value,"
            "variant_option_three_name,variant_option_three_value,tags,active_online,weight,weight_unit,length,"
            "width,height,dimensions_unit,supply_price,retail_price,tax_name,tax_value,account_code,"
            "account_code_purchase,brand_name,supplier_name,supplier_code,active,track_inventory,"
            "inventory_WGA_Pearson,reorder_point_WGA_Pearson,restock_level_WGA_Pearson,"
            "inventory_Warehouse_-_Pearson_WAGGA_WAGGA_(MAIN),reorder_point_Warehouse_-_Pearson_WAGGA_WAGGA_(MAIN),"
            "restock_level_Warehouse_-_Pearson_WAGGA_WAGGA_(MAIN)\n")
    row = ("0aa1,walker,WLK-1,,,,Walker,,Mobility,,,,,,,,1,4.2,kg,60,50,90,cm,120.00000,181.81818,GST,18.18182,"
           ",,Acme,Acme,AC-1,1,1,2,1,3,7,2,10\n")
    parsed = parse_products_csv((head + row).encode(), location="Warehouse - Pearson WAGGA WAGGA (MAIN)")
    assert parsed.profile is PROFILES["lightspeed-x"] and not parsed.errors
    assert [(r.data.sku, r.data.name, r.data.price, r.data.tax_rate, r.on_hand, r.data.reorder_point)
            for r in parsed.rows] == [("WLK-1", "Walker", 20000, 10_000, 7_000, 2_000)]


def test_a_map_file_says_which_column_gives_a_row_without_sku_its_sku(tmp_path):
    path = tmp_path / "map.toml"
    path.write_text((DATA / "dutch-map.toml").read_text("utf-8") + '[sku]\nfrom = ["EAN-code"]\n', "utf-8")
    data = ("Artikelnummer;Omschrijving;EAN-code;Verkoopprijs\n;Kaas oud;8710398527073;16,95\n"
            "A-1;Kaas jong;4006381333931;12,95\n;Zakje;;0,10\n")
    parsed = parse_products_csv(data.encode(), profile=load_map(path))
    assert [(r.data.sku, r.data.name) for r in parsed.rows] == [("8710398527073", "Kaas oud"), ("A-1", "Kaas jong")]
    assert [(e.line, e.reason) for e in parsed.errors] == [(4, "empty")]


def test_a_loyverse_shop_pricing_by_the_pound_says_so_in_a_map(tmp_path):
    # Loyverse's export says only "Sold by weight" Y: the price is per the shop's unit of weight ("kilogram,
    # pound, etc.", help.loyverse.com/help/how-sell-items-weight); kg unless a map says otherwise
    path = tmp_path / "lb.toml"
    path.write_text('extends = "loyverse"\n[values."Sold by weight"]\nY = "lb"\n', "utf-8")
    parsed = parse_products_csv(sample("loyverse.csv"), profile=load_map(path))
    assert [(r.data.sku, r.data.unit) for r in parsed.rows][:2] == [("10001", "lb"), ("10002", None)]
