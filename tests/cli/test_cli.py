"""The CLI as scripts and cron use it: exit codes, --json shapes, clear messages, no tracebacks."""

from __future__ import annotations

import json
import sqlite3

import pytest

from shopkeeper.cli import main


@pytest.fixture
def shop(run, tmp_path):
    csv = tmp_path / "p.csv"
    csv.write_text("sku,name,barcode,price,cost,unit,reorder_point,reorder_qty\n"
                   "MILK,Milk,5012345678900,1.29,0.80,pcs,5,12\n"
                   "OLIVES-KG,Olives,,14.90,8.20,kg,1,2\n")
    assert run("init", "--tax", "20")[0] == 0
    assert run("products", "import", str(csv))[0] == 0
    return run


def test_init_refuses_to_overwrite_without_force(shop, tmp_path):
    code, _, err = shop("init")
    assert code == 2 and "already exists" in err and "--force" in err
    code, out, _ = shop("init", "--force")
    assert code == 0 and "old database kept as" in out


def test_receive_sell_stock_json(shop):
    assert shop("receive", "MILK", "24", "--cost", "0.75")[0] == 0
    assert shop("receive", "OLIVES-KG", "2.5", "--cost", "8.20")[0] == 0
    code, out, _ = shop("--json", "sell", "5012345678900x3", "OLIVES-KGx0.250", "--tendered", "20")
    assert code == 0
    sale = json.loads(out)
    assert sale["total"] == "7.59" and sale["change"] == "12.41"  # 3.725 rounds half-even
    assert sale["lines"][1]["quantity"] == 0.25
    code, out, _ = shop("stock", "--json")
    rows = {row["sku"]: row for row in json.loads(out)}
    assert rows["MILK"]["on_hand"] == 21 and rows["MILK"]["price"] == "1.29"
    assert rows["MILK"]["barcodes"] == ["5012345678900"]
    assert rows["OLIVES-KG"]["on_hand"] == 2.25 and rows["OLIVES-KG"]["unit"] == "kg"
    assert set(rows["MILK"]) >= {"sku", "name", "barcodes", "unit", "on_hand", "price", "reorder_point"}


def test_low_stock_lists_what_to_order(shop):
    shop("receive", "MILK", "3")
    code, out, _ = shop("stock", "--low", "--json")
    rows = json.loads(out)
    assert [r["sku"] for r in rows] == ["MILK", "OLIVES-KG"]  # furthest below its reorder point first
    assert rows[0]["suggested_order"] == 12


def test_adjust_count_journal_and_return(shop):
    shop("receive", "MILK", "10")
    assert shop("adjust", "MILK", "-1", "--reason", "damaged")[0] == 0
    code, out, _ = shop("--json", "count", "MILK", "7")
    assert json.loads(out)["variance"] == -2
    code, out, _ = shop("--json", "sell", "MILK")
    sale_id = json.loads(out)["sale"]
    code, out, _ = shop("return", str(sale_id), "MILK")
    assert code == 0 and "refund" in out
    code, out, _ = shop("journal", "--product", "MILK", "--json")
    assert [m["kind"] for m in json.loads(out)] == ["receive", "adjust", "count", "sale", "return"]
    assert json.loads(out)[1]["staff"] == "cli"
    code, out, _ = shop("journal", "--since", "2000-01-01", "--limit", "2")
    assert code == 0 and len(out.strip().splitlines()) == 3  # the zone's line, then two movements


@pytest.mark.parametrize("args, message", [
    (("sell", "NOPE"), "unknown code 'NOPE': no product has this SKU or barcode"),
    (("sell", "MILKx0"), "quantity must be more than zero"),
    (("sell", "MILK", "--tendered", "abc"), "--tendered: 'abc' is not a number"),
    (("sell", "5012345678901"), "wrong check digit"),
    (("adjust", "MILK", "-1", "--reason", "whim"), "needs a reason"),
    (("receive", "MILK", "two"), "quantity: 'two' is not a number"),
    (("return", "99"), "no sale 99"),
    (("return", "MILK"), "give the sale number from the receipt, or --reason"),
    (("receive", "MILK", "99999999999999999"), "quantity: 99999999999999999 is too large"),
    (("journal", "--since", "yesterday"), "--since"),
    (("products", "import", "/no/such.csv"), "cannot read"),
])
def test_bad_input_exits_2_with_a_clear_message(shop, args, message):
    code, _, err = shop(*args)
    assert code == 2
    assert message in err


@pytest.mark.parametrize("args, message", [(["stok"], "invalid choice"),
                                           (["return", "--sale", "x"], "argument --sale: invalid int value")])
def test_usage_errors_exit_2(shop, capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_check_finds_a_tampered_cache(shop):
    shop("receive", "MILK", "10")
    code, out, _ = shop("check")
    assert code == 0 and out.startswith("ok: stock of all 2 products agrees")
    con = sqlite3.connect(shop.db)
    con.execute("UPDATE product SET on_hand = 1 WHERE sku = 'MILK'")
    con.commit()
    con.close()
    code, out, _ = shop("check")
    assert code == 1 and "MILK: cached on hand 0.001, journal says 10" in out
    code, out, _ = shop("check", "--json")
    assert json.loads(out)["mismatches"] == [{"sku": "MILK", "on_hand": 0.001, "journal": 10}]


def test_backup_is_a_working_copy(shop, tmp_path):
    shop("receive", "MILK", "10")
    dest = tmp_path / "copy.db"
    assert shop("backup", str(dest))[0] == 0
    con = sqlite3.connect(dest)
    assert con.execute("SELECT on_hand FROM product WHERE sku='MILK'").fetchone() == (10_000,)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_export_to_file_refuses_overwrite(shop, tmp_path):
    out = tmp_path / "out.csv"
    assert shop("products", "export", str(out))[0] == 0
    assert out.read_text().startswith("sku,name,barcode,price")
    assert shop("products", "export", str(out))[0] == 2


def test_demo_builds_a_shop_without_a_terminal(run, tmp_path):
    code, out, _ = run("demo", "--no-tui")
    assert code == 0 and "demo shop ready" in out
    code, out, _ = run("stock", "--low")
    assert "CROISSANT" in out


def test_python_m_shopkeeper_works(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "shopkeeper", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("shopkeeper ")


def test_labels_give_unlabelled_goods_a_code_that_scans(shop, tmp_path):
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    out = tmp_path / "labels"
    code, stdout, _ = shop("labels", "OLIVES-KG", "MILK", "--out", str(out))
    assert code == 0
    code, stdout, _ = shop("stock", "--json")
    olives = {r["sku"]: r for r in json.loads(stdout)}["OLIVES-KG"]
    (new_code,) = olives["barcodes"]
    decoded = {r.text for png in out.glob("*.png") for r in zxingcpp.read_barcodes(Image.open(png))}
    assert decoded == {new_code, "5012345678900"}


def test_return_without_a_receipt_and_skus_that_look_like_quantities(shop):
    from shopkeeper.services.catalog import ProductData, save_product

    shop("receive", "MILK", "10")
    assert shop("return", "MILK", "--reason", "faulty")[0] == 0
    assert shop("return", "5012345678900x2", "--reason", "faulty")[0] == 0
    save_product(ProductData(sku="box12", name="Box of twelve"))
    code, out, _ = shop("--json", "sell", "box12", "box12x2")
    assert [(line["sku"], line["quantity"]) for line in json.loads(out)["lines"]] == [("box12", 1), ("box12", 2)]
    code, out, _ = shop("--json", "stock")
    assert {r["sku"]: r["on_hand"] for r in json.loads(out)}["MILK"] == 13


def test_a_database_kept_locked_too_long_is_a_clear_message(shop, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[database]\nbusy_timeout_ms = 200\n")
    other = sqlite3.connect(shop.db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        code, _, err = shop("--config", str(config), "adjust", "MILK", "-1", "--reason", "damaged")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert code == 2 and "database is busy" in err and "nothing was saved" in err


def test_a_file_that_is_not_a_database_is_a_clear_message(run, tmp_path):
    bad = tmp_path / "notes.db"
    bad.write_text("this is not a database\n" * 100)
    code = main(["--db", str(bad), "stock"])
    assert code == 2


def test_sell_reads_a_scale_label_as_the_till_does(run, tmp_path):
    from shopkeeper.barcodes import check_digit

    config = tmp_path / "scale.toml"
    config.write_text('[[barcodes.variable_measure]]\nprefix = "28"\nmeasure = "weight"\npattern = "PPIIIIICVVVV"\n'
                      'decimals = 3\n')
    item = "2812345" + "0"
    lookup = item + "0000"
    lookup += check_digit(lookup)
    assert run("--config", str(tmp_path / "init.toml"), "init")[0] == 0  # creates the database
    csv = tmp_path / "p.csv"
    csv.write_text(f"sku,name,barcode,price,unit\nHAM,Ham,{lookup},20.00,kg\n")
    assert run("--config", str(config), "products", "import", str(csv))[0] == 0
    weight = "0750"  # 0.750 kg; the C digit is the GS1 price/weight check digit over the value
    from biip.checksums import gs1_price_weight_check_digit

    label = "2812345" + str(gs1_price_weight_check_digit(weight)) + weight
    label += check_digit(label)
    code, out, err = run("--config", str(config), "--json", "sell", label, "--pay", "card")
    assert code == 0, err
    sale = json.loads(out)
    assert sale["lines"][0]["sku"] == "HAM" and sale["lines"][0]["quantity"] == 0.75
    assert sale["total"] == "15.00"


def test_sell_refuses_an_expired_label_and_keeps_the_lot_of_one_in_date(shop):
    assert shop("receive", "MILK", "5", "--cost", "0.75")[0] == 0
    # GS1 DataMatrix: GTIN 05012345678900, expiry (17), lot (10), with the scanner's ]d2 prefix
    code, _, err = shop("sell", "]d201050123456789001725013110OLD")
    assert code == 2 and "EXPIRED on 2025-01-31, lot OLD" in err
    code, _, err = shop("sell", "]d201050123456789001770123110NEW", "--pay", "card")
    assert code == 0, err
    with sqlite3.connect(shop.db) as conn:
        assert conn.execute("SELECT lot, expiry FROM sale_line").fetchall() == [("NEW", "2070-12-31")]
        assert conn.execute("SELECT lot FROM movement WHERE kind = 'sale'").fetchall() == [("NEW",)]


def test_products_history_shows_who_changed_price_and_cost_where(shop, tmp_path):
    csv = tmp_path / "prices.csv"
    csv.write_text("sku,name,price,cost\nMILK,Milk,1.35,0.90\n")
    assert shop("--terminal", "office", "products", "import", str(csv))[0] == 0
    code, out, _ = shop("--json", "products", "history", "MILK")
    assert code == 0
    changes = [(c["field"], c["old"], c["new"], c["kind"], c["staff"], c["terminal"]) for c in json.loads(out)
               if c["old"] is not None]
    assert changes == [("price", "1.29", "1.35", "import", "cli", "office"),
                       ("avg_cost", "0.80", "0.90", "revaluation", "cli", "office")]
    code, out, _ = shop("products", "history", "MILK")
    assert code == 0 and "revaluation" in out and "0.80 → 0.90" in out.replace("  ", " ").replace("  ", " ")


def test_labels_say_which_item_to_program_into_the_scale(shop, tmp_path):
    config = tmp_path / "shop.toml"
    config.write_text('[[barcodes.variable_measure]]\nprefix = "28"\nmeasure = "weight"\n'
                      'pattern = "PPIIIIIVVVVV"\ndecimals = 3\n')
    csv = tmp_path / "scale.csv"
    csv.write_text("sku,name,barcode\nOLIVES-KG,Olives,2812345015001\n")
    code, _, err = shop("--config", str(config), "products", "import", str(csv))
    assert code == 0 and "stored as item code 2812345000007" in err
    code, out, err = shop("--config", str(config), "--json", "labels", "OLIVES-KG", "--out", str(tmp_path / "l"))
    assert code == 0 and "program item 12345 into the scale" in err
    assert json.loads(out)["scale"] == [{"sku": "OLIVES-KG", "code": "2812345000007", "scale_item": "12345"}]
