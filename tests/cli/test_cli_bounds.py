"""Huge numbers on the command line end in one clear line and exit 2, never a traceback or a float in the data."""

from __future__ import annotations

import sqlite3

import pytest

from shopkeeper.cli import main


@pytest.fixture
def shop(tmp_path, capsys):
    db = str(tmp_path / "shop.db")
    csv = tmp_path / "p.csv"
    csv.write_text("sku,name,price\nMILK,Milk,1.29\nGOLD,Gold,99999999999\n")

    def run(*args: str) -> tuple[int, str]:
        try:
            code = main(["--db", db, *args])
        except SystemExit as exit_:  # argparse usage errors
            code = exit_.code
        err = capsys.readouterr().err
        assert "Traceback" not in err
        return code, err

    assert run("init")[0] == 0 and run("products", "import", str(csv))[0] == 0
    run.db = db
    return run


@pytest.mark.parametrize("args, message", [
    (("return", "--sale", "100000000000000000000"), "argument --sale: 100000000000000000000 is not between 1"),
    (("return", "--sale", "x"), "argument --sale: invalid int value"),
    (("journal", "--limit", "100000000000000000000"), "argument --limit: 100000000000000000000 is not between 0"),
    (("journal", "--limit", "-1"), "argument --limit: -1 is not between 0"),
    (("sell", "MILKx1000000001"), "quantity: 1000000001 is too large (at most 1000000000)"),
    (("sell", "GOLDx2", "--pay", "card"), "line 1: amount: 199999999998.00 is more than the shop can record"),
    (("receive", "MILK", "1", "--cost", "100000000000.01"), "cost: 100000000000.01 is too large"),
])
def test_huge_numbers_are_refused_with_a_clear_message(shop, args, message):
    code, err = shop(*args)
    assert code == 2
    assert message in err


def test_stock_stays_an_integer_after_refused_huge_movements(shop):
    assert shop("receive", "MILK", "1000000000")[0] == 0
    code, err = shop("receive", "MILK", "1")
    assert code == 2 and "MILK: stock on hand: 1000000001 is more than the shop can record" in err
    con = sqlite3.connect(shop.db)
    assert con.execute("SELECT on_hand, typeof(on_hand) FROM product WHERE sku='MILK'").fetchone() == (
        10**12, "integer")
    assert shop("check")[0] == 0
