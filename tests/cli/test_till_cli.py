"""``shopkeeper till …`` and ``shopkeeper receipt``: a day opened, sold through at the till, paid out, closed 0.50
short; the Z report says so and prints again the same; bad input is one clear line and exit code 2."""

from __future__ import annotations

import json

import pytest

from shopkeeper.db import close_database, open_database
from shopkeeper.services import till
from shopkeeper.services.context import Context

TILL = ("--terminal", "till-1")
COFFEE, WATER = "8711000530085", "5449000000996"  # 11.50, 0.89


@pytest.fixture
def shop(run):
    assert run("demo")[0] == 0
    return run


def _ring_up(db: str, code: str, payment: str) -> int:
    """A sale at the till (``till.complete`` names the open session), as the app rings it up."""
    open_database(db)
    try:
        ctx = Context(staff="ana", terminal="till-1")
        till.add_scan(ctx, code)
        return till.complete(ctx, payment).sale_id
    finally:
        close_database()


def test_a_day_at_the_till_closed_half_a_unit_short(shop):
    code, out, _ = shop(*TILL, "till", "open", "--float", "150.00")
    assert code == 0 and "session 1 open with a float of 150.00" in out
    _ring_up(shop.db, COFFEE, "cash")
    _ring_up(shop.db, WATER, "card")
    assert shop(*TILL, "till", "cash-out", "5.00", "--reason", "window cleaner")[0] == 0
    code, out, _ = shop(*TILL, "--json", "till", "x")
    assert code == 0 and json.loads(out)["expected_cash"] == "156.50"  # 150 + 11.50 − 5.00
    code, out, _ = shop(*TILL, "till", "close", "--counted", "156.00")
    assert code == 0
    assert "SHORT" in out and "-0.50" in out and "Expected cash" in out
    code, again, _ = shop(*TILL, "till", "z", "1")
    assert code == 0 and again == out  # reprinted exactly as printed at closing
    report = json.loads(shop(*TILL, "--json", "till", "z", "1")[1])
    assert (report["over_short"], report["counted_cash"], report["sales"]) == ("-0.50", "156.00", 2)
    assert report["sales_by_method"] == {"card": "0.89", "cash": "11.50"}
    sessions = json.loads(shop(*TILL, "--json", "till", "sessions")[1])
    assert [(s["number"], s["closed_at"] is not None) for s in sessions] == [(1, True)]


def test_open_with_a_float_counted_by_denomination(shop):
    code, out, _ = shop(*TILL, "--json", "till", "open", "--count", "50.00x2", "--count", "20.00x2",
                        "--count", "0.50x1")
    assert code == 0
    assert json.loads(out)["float"] == "140.50"
    assert json.loads(out)["float_detail"] == {"50.00": 2, "20.00": 2, "0.50": 1}


@pytest.mark.parametrize("args, message", [
    (("till", "open"), "give --float AMOUNT or --count"),
    (("till", "open", "--count", "3.33x1"), "3.33 is not a denomination"),
    (("till", "open", "--count", "twenty"), "write it as DENOMINATIONxCOUNT"),
    (("till", "open", "--float", "abc"), "--float"),
    (("till", "cash-out", "5.00", "--reason", "x"), "no till session is open"),
    (("till", "close", "--counted", "1.00"), "no till session is open"),
    (("till", "z", "3"), "no till session 3"),
    (("receipt", "99"), "no sale 99"),
    (("receipt", "1", "--print"), "no receipt printer is configured"),
])
def test_bad_input_is_one_clear_line_and_exit_code_2(shop, args, message):
    code, _, err = shop(*TILL, *args)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_cash_out_needs_a_reason(shop):
    shop(*TILL, "till", "open", "--float", "10")
    code, _, err = shop(*TILL, "till", "cash-out", "5.00", "--reason", " ")
    assert code == 2 and "needs a reason" in err


def test_a_second_open_is_refused(shop):
    assert shop(*TILL, "till", "open", "--float", "10")[0] == 0
    code, _, err = shop(*TILL, "till", "open", "--float", "10")
    assert code == 2 and "already has session 1 open" in err


def test_receipt_reprints_a_sale_marked_copy(shop):
    code, out, _ = shop("receipt", "1")
    assert code == 0
    assert out.count("*** COPY ***") == 2 and "Sale #1" in out
    assert all(len(line) <= 32 for line in out.splitlines())


def test_cli_sale_prints_its_receipt_when_a_printer_command_is_configured(shop, tmp_path):
    import sys

    import tomli_w

    out_file = tmp_path / "printed.txt"
    config = tmp_path / "config.toml"
    script = f"import sys; open({str(out_file)!r}, 'ab').write(sys.stdin.buffer.read())"
    config.write_text(tomli_w.dumps({"printer": {"kind": "command", "command": f'{sys.executable} -c "{script}"'},
                                     "receipt": {"footer": ["Danke!"]}}))
    code, _, err = shop("--config", str(config), "sell", WATER, "--pay", "cash")
    assert code == 0, err
    printed = out_file.read_text()
    assert "Still water" in printed and "Danke!" in printed and "COPY" not in printed


def test_closing_the_till_keeps_the_reports_closed_days_and_a_failure_there_changes_nothing(shop, monkeypatch):
    from peewee import OperationalError

    from shopkeeper.services import report_upkeep

    kept = []
    monkeypatch.setattr(report_upkeep, "keep_closed_days", lambda: kept.append(1) or {})
    assert shop(*TILL, "till", "open", "--float", "150.00")[0] == 0
    code, out, _ = shop(*TILL, "till", "close", "--counted", "150.00")
    assert code == 0 and "Z REPORT" in out and kept == [1]

    def busy() -> dict:
        raise OperationalError("database is locked")

    monkeypatch.setattr(report_upkeep, "keep_closed_days", busy)
    assert shop(*TILL, "till", "open", "--float", "150.00")[0] == 0
    code, out, err = shop(*TILL, "till", "close", "--counted", "150.00")
    assert code == 0 and "Z REPORT" in out and err == ""
