import io

import pytest

from shopkeeper.errors import ShopError
from shopkeeper.models import CountSession, Movement, Product
from shopkeeper.services import stock
from shopkeeper.services.catalog import product_barcodes
from shopkeeper.services.products_csv import CsvRejected, export_products, import_products, parse_products_csv

GOOD = "sku,name,barcode,price,cost,unit,tax,reorder_point,reorder_qty,supplier,category,on_hand\n" \
       "MILK,Milk 1 l,4006381333931|5000112548167,1.29,0.80,pcs,7,12,24,Hill Farm,Dairy,30\n" \
       "OLIVES,Olives,,14.90,8.20,kg,7,2,5,Deli Imports,Deli,4.250\n"


def test_import_creates_products_and_posts_the_opening_count(db, ctx):
    report = import_products(ctx, GOOD.encode())
    assert (report.created, report.updated, report.counted) == (2, 0, 2)
    milk = Product.get(Product.sku == "MILK")
    assert (milk.price, milk.avg_cost, milk.tax_rate, milk.reorder_point, milk.on_hand) == (129, 80, 7_000, 12_000,
                                                                                          30_000)
    assert product_barcodes(milk) == ["4006381333931", "5000112548167"]
    assert Product.get(Product.sku == "OLIVES").on_hand == 4_250
    assert {m.kind for m in Movement.select()} == {"count"}
    assert CountSession.get().status == "posted"


def test_reimport_updates_and_counts_only_the_difference(db, ctx):
    import_products(ctx, GOOD.encode())
    stock.receive(ctx, "MILK", 5_000, 80)
    report = import_products(ctx, GOOD.replace("1.29", "1.35").encode())
    assert (report.created, report.updated) == (0, 2)
    assert Product.get(Product.sku == "MILK").price == 135
    assert Product.get(Product.sku == "MILK").on_hand == 30_000


def test_bom_semicolons_and_decimal_comma(db, ctx):
    data = "\ufeffsku;name;price;on_hand\r\nA;Apple;1,50;3,5\r\n\r\nB;\"Pear; ripe\nsoft\";2;1\r\n"
    report = import_products(ctx, data.encode("utf-8"))
    assert report.created == 2
    assert Product.get(Product.sku == "A").price == 150
    assert Product.get(Product.sku == "A").on_hand == 3_500
    # the quoted newline is read as part of the cell (the row is not broken); a name is one line, so it is a space
    assert Product.get(Product.sku == "B").name == "Pear; ripe soft"


def test_a_bad_file_lists_every_bad_row_and_changes_nothing(db, ctx):
    import_products(ctx, GOOD.encode())
    before = [(p.sku, p.price, p.on_hand) for p in Product.select()]
    bad = ("sku,name,price,barcode,on_hand\n"
           "MILK,Milk,9.99,,1\n"
           ",No SKU,1,,\n"
           "X1,Thing,1.234,,\n"
           "X2,Thing 2,1,4006381333932,\n"
           "X3,Thing 3,1,,-2\n"
           "MILK,Again,1,,\n")
    with pytest.raises(CsvRejected) as err:
        import_products(ctx, bad.encode(), source="bad.csv")
    text = str(err.value)
    for expected in ["bad.csv: line 3, column sku: empty", "line 4, column price: 1.234 has more than 2 decimal",
                     "line 5, column barcode: wrong check digit", "line 6, column on_hand: -2 is negative",
                     "line 7, column sku: duplicate SKU MILK (first on line 2)", "nothing imported"]:
        assert expected in text
    assert [(p.sku, p.price, p.on_hand) for p in Product.select()] == before


def test_skip_bad_imports_the_good_rows(db, ctx):
    data = "sku,name,price\nA,Apple,1\nB,,2\nC,Cherry,x\nD,Date,3\n"
    report = import_products(ctx, data.encode(), skip_bad=True)
    assert report.created == 2
    assert [e.line for e in report.skipped] == [3, 4]
    assert sorted(p.sku for p in Product.select()) == ["A", "D"]


def test_barcode_taken_by_another_product_in_the_database(db, ctx):
    import_products(ctx, GOOD.encode())
    data = "sku,name,barcode\nNEW,New,4006381333931\n"
    with pytest.raises(CsvRejected, match="already belongs to MILK"):
        import_products(ctx, data.encode())
    assert not Product.select().where(Product.sku == "NEW").exists()


@pytest.mark.parametrize("data, message", [
    (b"", "line 1: header: empty file"),
    (b"name,price\nA,1\n", "line 1: header: required column.s. missing: sku"),
    (b"sku,name,colour\nA,B,red\n", "line 1: header: unknown column.s. colour"),
    (b"sku,name\nA,B,C\n", "3 cells but the header has 2"),
])
def test_malformed_files(db, ctx, data, message):
    with pytest.raises(ShopError, match=message):
        import_products(ctx, data)


def test_not_utf8_names_the_line(db, ctx):
    with pytest.raises(ShopError, match="line 2: not UTF-8"):
        import_products(ctx, "sku,name\nA,Caf\xe9\n".encode("latin-1"))


def test_export_round_trips_and_neutralises_formulas(db, ctx):
    data = GOOD + '=HYPERLINK("http://x"),"+cmd|calc",,1,,pcs,20,,,@evil,-2+3,\n'
    import_products(ctx, data.encode())
    out = io.StringIO()
    export_products(out)
    text = out.getvalue()
    assert "'=HYPERLINK" in text and "'+cmd|calc" in text and "'@evil" in text and "'-2+3" in text
    parsed = parse_products_csv(text.encode())
    assert not parsed.errors
    assert {row.data.sku for row in parsed.rows} == {"MILK", "OLIVES", '=HYPERLINK("http://x")'}
    assert {row.data.name for row in parsed.rows} >= {"+cmd|calc"}


def test_reimporting_an_edited_export_can_leave_stock_alone(db, ctx):
    from shopkeeper.services import sales

    import_products(ctx, GOOD.encode())
    out = io.StringIO()
    export_products(out)
    sales.sell(ctx, [sales.LineInput("MILK", 3000)])
    import_products(ctx, out.getvalue().replace("1.29", "1.39").encode(), ignore_stock=True)
    milk = Product.get(Product.sku == "MILK")
    assert (milk.price, milk.on_hand) == (139, 27_000)


def test_control_characters_in_any_cell_are_refused_with_line_and_column(db, ctx):
    data = "sku,name,unit,price\nA\x1b[2J,Apple,pcs,1\nB,Bean\x00s,pcs,1\nC,Corn,p\x9bcs,1\nD,\"Date\n\",pcs,1\n"
    parsed = parse_products_csv(data.encode())
    assert [(e.line, e.column) for e in parsed.errors] == [(2, "sku"), (3, "name"), (4, "unit")]
    assert all("control character" in e.reason for e in parsed.errors)
    assert [row.data.name for row in parsed.rows] == ["Date"]  # a quoted line break is a space, then trimmed


def test_codes_keep_their_spaces_and_a_refused_code_names_its_line_and_column(db, ctx):
    import_products(ctx, b"sku,name,barcode\nA,Apple,AB 12|SHELF_7\n")
    assert product_barcodes(Product.get(Product.sku == "A")) == ["AB 12", "SHELF_7"]
    import_products(ctx, b"sku,name,barcode\nB,Pear,5000112548167\n")
    with pytest.raises(CsvRejected) as err:  # --skip-bad that imports nothing is refused, listing every bad row
        import_products(ctx, b"sku,name,barcode\nC,Plum,5000112548167\nD,Fig,CAF\xc3\x89\n", skip_bad=True)
    skipped = err.value.errors
    assert [(e.line, e.column) for e in skipped] == [(2, "barcode"), (3, "barcode")]
    assert "already belongs to B" in skipped[0].reason and "ASCII" in skipped[1].reason


def test_an_import_logs_price_and_cost_changes_with_the_file_name(db, ctx):
    from shopkeeper.models import ProductChange

    import_products(ctx, GOOD.encode())
    import_products(ctx, GOOD.replace("1.29", "1.35").replace("0.80", "0.85").encode(), source="prices.csv",
                    ignore_stock=True)
    changes = [(c.field, c.old, c.new, c.kind, c.note, c.staff.name) for c in
               ProductChange.select().where(ProductChange.old.is_null(False)).order_by(ProductChange.id)]
    assert changes == [("price", "129", "135", "import", "import of prices.csv", "tester"),
                       ("avg_cost", "80", "85", "revaluation", "import of prices.csv", "tester")]


def test_a_file_wrong_on_every_row_the_same_way_is_a_screenful_not_a_line_per_cell():
    from shopkeeper.services.products_csv import RowError

    errors = [RowError(line, column, f"'${line}.00' is written in $, but the shop's currency is EUR")
              for line in range(2, 100_002) for column in ("price", "cost")]
    errors.insert(3, RowError(3, "sku", "duplicate SKU A (first on line 2)"))
    text = str(CsvRejected("usd.csv", errors))
    assert text.splitlines()[0].startswith("usd.csv: 100000 bad row(s), nothing imported")  # rows, not cells
    assert len(text.splitlines()) == 1 + 3 + 3 + 1 + 2
    assert "usd.csv: line 2, column price: '$2.00' is written in $" in text
    assert "usd.csv: line 3, column sku: duplicate SKU A" in text
    assert "usd.csv: the same in column price on 99997 more line(s): 5, 6, 7, 8, 9, … 100001" in text
    assert text.endswith("the same in column cost on 99997 more line(s): 5, 6, 7, 8, 9, … 100001")
    assert len(CsvRejected("usd.csv", errors).errors) == 200_001  # every one still there for --json and screens
