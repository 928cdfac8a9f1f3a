"""The command line's text output never carries a control character from the data to the terminal; --json keeps it
exactly (JSON escapes it itself)."""

from __future__ import annotations

import json
import sqlite3

from tests.cli.test_cli import shop  # noqa: F401  (a fixture; run comes from conftest.py)

ESC = "\x1b]2;pwned\x07\x1b[2J"


def _store_bad_text(db: str) -> None:
    """Rows as a version before the text rule, or another program, could have left them."""
    con = sqlite3.connect(db)
    with con:
        con.execute("UPDATE product SET name = ?, category = ? WHERE sku = 'MILK'", ("Milk" + ESC, "Dairy" + ESC))
        con.execute("INSERT INTO staff (name, active) VALUES (?, 1)", ("Eve" + ESC,))
        staff = con.execute("SELECT id FROM staff WHERE name = ?", ("Eve" + ESC,)).fetchone()[0]
        product = con.execute("SELECT id FROM product WHERE sku = 'MILK'").fetchone()[0]
        con.execute("INSERT INTO movement (product_id, kind, quantity, reason, staff_id, created_at, reference) "
                    "VALUES (?, 'adjust', 1000, ?, ?, '2026-01-05T09:00:00.000000Z', ?)",
                    (product, "found" + ESC, staff, "ref" + ESC))
    con.close()


def test_stock_journal_and_export_show_control_characters_escaped(shop):
    _store_bad_text(shop.db)
    for args in (("stock",), ("stock", "--low"), ("journal",), ("products", "export")):
        code, out, err = shop(*args)
        assert code == 0
        assert "\x1b" not in out + err and "\x07" not in out + err, args
    assert "Milk\\x1b]2;pwned\\x07\\x1b[2J" in shop("stock")[1]
    journal = shop("journal")[1]
    assert "found\\x1b]2;" in journal and "by Eve\\x1b]2;" in journal and "ref\\x1b]2;" in journal
    assert "Dairy\\x1b]2;" in shop("products", "export")[1]
    code, out, _ = shop("--json", "stock")
    assert code == 0 and "\x1b" not in out
    assert {row["sku"]: row["name"] for row in json.loads(out)}["MILK"] == "Milk" + ESC  # nothing lost


def test_control_characters_in_arguments_are_refused_and_quoted_safely(shop):
    code, out, err = shop("adjust", "MILK", "-1", "--reason", "damaged", "--note", "box" + ESC)
    assert code == 2 and "note" in err and "box\\x1b]2;" in err and "\x1b" not in out + err
    code, _, err = shop("receive", "MILK" + ESC, "1")
    assert code == 2 and "\x1b" not in err
    code, _, err = shop("--staff", "Eve\x1b[2J", "receive", "MILK", "1")
    assert code == 2 and "staff" in err and "\x1b" not in err


def test_import_refuses_a_nul_or_escape_in_any_cell_with_its_line_and_column(shop, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_bytes(b"sku,name,unit\nTEA,Tea\x00,pcs\nJAM,Jam,jar\x1b[2J\n")
    code, out, err = shop("products", "import", str(csv))
    assert code == 2 and "nothing imported" in err
    assert "line 2, column name" in err and "\\x00" in err
    assert "line 3, column unit" in err and "\\x1b" in err and "\x1b" not in err
    code, out, err = shop("products", "import", "--skip-bad", str(csv))  # every row bad: nothing imported, exit 2
    assert code == 2 and "every row is bad" in err and "\x00" not in err and "\x1b" not in err


def test_counter_log_lines_are_written_escaped():
    import logging

    from shopkeeper.cli import SafeLogFormatter

    record = logging.LogRecord("shopkeeper.counter", logging.INFO, __file__, 1, "sold %s", ("Milk" + ESC,), None)
    line = SafeLogFormatter("%(levelname)s %(message)s").format(record)
    assert line == "INFO sold Milk\\x1b]2;pwned\\x07\\x1b[2J"
