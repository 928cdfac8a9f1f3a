"""`products import` of other systems' exports, as a user runs it: which layout was taken, --map, --preview, the
messages and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shopkeeper.cli import main

DATA = Path(__file__).parent.parent / "data" / "imports"


@pytest.fixture
def run(run):
    """The command line on a shop made by ``init`` (the conftest's ``run``)."""
    assert run("init", "--tax", "20")[0] == 0
    return run


def test_a_recognised_export_says_which_layout_it_took(run):
    code, out, err = run("products", "import", str(DATA / "shopify.csv"))
    assert code == 0 and "read as Shopify (https://help.shopify.com" in err
    assert "5 created" in out
    code, out, _ = run("--json", "products", "import", str(DATA / "erpnext.csv"))
    assert code == 0 and json.loads(out)["layout"] == "ERPNext"


def test_from_names_the_system_and_an_unknown_one_lists_the_known(run):
    assert run("products", "import", str(DATA / "odoo.csv"), "--from", "odoo")[0] == 0
    code, _, err = run("products", "import", str(DATA / "odoo.csv"), "--from", "sage")
    assert code == 2 and "not a system this import knows (known: erpnext, lightspeed" in err


def test_preview_shows_rows_as_stored_and_changes_nothing(run):
    code, out, err = run("products", "import", str(DATA / "dutch.csv"), "--map", str(DATA / "dutch-map.toml"),
                         "--preview")
    assert code == 0
    assert "read as the map dutch-map.toml; preview, nothing changed" in out
    assert "Kaas jong" in out and "12.95" in out and "Winkel / Kaasboer" in out
    code, out, _ = run("--json", "products", "export")
    assert code == 0 and "A-100" not in out


def test_preview_never_cuts_a_code_or_a_number(run, tmp_path):
    # Lightspeed R-Series' System ID, a 12-digit SKU, was shown as "2100000000"; a stock of 1234567 as "123456"
    csv = tmp_path / "long.csv"
    csv.write_text("sku,name,barcode,price,on_hand\n"
                   "210000000017,A name longer than the column has room for,4006381333931|5000112548167,1.00,1234567\n")
    code, out, _ = run("products", "import", str(csv), "--preview")
    assert code == 0
    assert "210000000017" in out and "1234567" in out and "4006381333931|5000112548167" in out
    assert "A name longer than the co…" in out


def test_square_with_two_locations_needs_location(tmp_path, capsys):
    config, db = tmp_path / "usd.toml", str(tmp_path / "usd.db")
    config.write_text('[shop]\ncurrency = "USD"\n')

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--config", str(config), "--db", db, *args])
        return (code, *capsys.readouterr())

    assert run("init", "--currency", "USD", "--force")[0] == 0
    code, _, err = run("products", "import", str(DATA / "square.csv"))
    assert code == 2 and "line 1: header:" in err and "--location" in err
    code, out, err = run("products", "import", str(DATA / "square.csv"), "--location", "Main Street")
    assert code == 0 and "6 created" in out, err


def test_a_header_problem_is_one_message(run, tmp_path):
    csv = tmp_path / "odd.csv"
    csv.write_text("sku,name,colour\n" + "".join(f"A{i},B,red\n" for i in range(30)))
    code, _, err = run("products", "import", str(csv), "--skip-bad")
    assert code == 2
    assert err.count("Known columns:") == 1 and "bad row" not in err and f"{csv}: line 1: header:" in err


def test_skip_bad_that_imports_nothing_exits_non_zero(run, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("sku,name,barcode\nA,Apple,3.65275E+11\n")
    code, _, err = run("products", "import", str(csv), "--skip-bad")
    assert code == 2 and "nothing imported (every row is bad)" in err
    assert "format the barcode column as Text" in err


def test_skip_bad_that_imports_nothing_exits_non_zero_when_a_row_has_two_bad_cells(run, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("sku,name,price\nA,,x\nB,,1\n")  # line 2 has two problems: still two rows, both bad
    code, out, err = run("products", "import", str(csv), "--skip-bad")
    assert code == 2 and "nothing imported (every row is bad)" in err and "created" not in out


def test_from_a_system_whose_columns_the_file_lacks_is_one_header_message(run):
    code, _, err = run("products", "import", str(DATA / "shopify.csv"), "--from", "odoo")
    assert code == 2 and err.count("\n") == 1
    assert "line 1: header: no column for sku and name (looked for 'Internal Reference', 'default_code', 'Name') " \
           "for the layout Odoo" in err


def test_from_lightspeed_reads_an_x_series_export_and_says_which_layout(run):
    code, out, err = run("products", "import", str(DATA / "lightspeed-x.csv"), "--from", "lightspeed",
                         "--location", "Main Outlet")
    assert code == 0, err
    assert "read as Lightspeed Retail (X-Series) (https://support.vendhq.com" in err
    assert "5 created" in out
    code, out, err = run("products", "import", str(DATA / "lightspeed-r.csv"), "--from", "lightspeed")
    assert code == 0 and "read as Lightspeed Retail (R-Series)" in err


def test_a_tax_named_without_a_rate_is_said_once_in_the_preview_and_the_import(run, tmp_path):
    csv = tmp_path / "x.csv"  # an X-Series export without tax_value: GST's rate is nowhere in it
    csv.write_text("handle,sku,name,supply_price,retail_price,tax_name,inventory_Shop\n"
                   "a,A1,Apple,1,2,Default Tax,1\nb,B1,Bread,1,2,GST,1\nc,C1,Cake,1,2,GST,1\n")
    code, out, _ = run("products", "import", str(csv), "--preview")
    assert code == 0 and out.count("the tax 'GST' names no rate") == 1
    assert "line 3, column tax_name" in out
    code, _, err = run("products", "import", str(csv))
    assert code == 0 and err.count("names no rate") == 1


def test_a_map_says_which_columns_of_the_file_it_does_not_import(run, tmp_path):
    csv = tmp_path / "winkel.csv"
    csv.write_text((DATA / "dutch.csv").read_text("utf-8").replace("Leverancier", "Leverancier;Opmerking;Kleur", 1)
                   .replace("Kaasboer", "Kaasboer;vers;geel", 1), "utf-8")
    code, out, err = run("products", "import", str(csv), "--map", str(DATA / "dutch-map.toml"), "--preview")
    assert code == 0
    assert "not in the map, so not imported: Opmerking, Kleur" in out + err
    code, out, err = run("products", "import", str(DATA / "dutch.csv"), "--map", str(DATA / "dutch-map.toml"),
                         "--preview")
    assert code == 0 and "not in the map" not in out + err  # every column mapped: nothing to say


def test_from_the_wrong_system_says_which_system_the_header_is(run):
    code, _, err = run("products", "import", str(DATA / "square.csv"), "--from", "shopify")
    assert code == 2 and "for the layout Shopify; the header is that of a Square export: try --from square" in err
    code, _, err = run("products", "import", str(DATA / "odoo.csv"), "--from", "odoo", "--preview")
    assert code == 0 and "try --from" not in err
