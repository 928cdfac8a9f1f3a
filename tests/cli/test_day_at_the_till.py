"""Issue "Closing the day and the books", done when: a day is opened, sold through (cash, card, split, a refund,
a paid-out), closed with a drawer 0.50 short; the Z report says so; that day's books pass bean-check, hledger and
ledger, and the inventory balance equals the valuation. All through the command line, as the owner would."""

from __future__ import annotations

import re
import subprocess

import pytest

from shopkeeper.db import close_database, open_database
from shopkeeper.services import stock
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.context import Context
from shopkeeper.services.reports import Options, valuation
from shopkeeper.times import local_time
from tests.conftest import bean_check


@pytest.mark.requires("hledger", "ledger", "bean-check")
def test_a_day_sold_through_and_closed_half_a_unit_short_passes_every_tool(run, tmp_path):
    assert run("init")[0] == 0
    open_database(run.db)
    try:
        ctx = Context(staff="cli", terminal="till-1", default_tax_rate=20_000)
        for sku, price, cost in (("BREAD", 395, 150), ("CANDLE", 650, 300), ("BUTTER", 249, 120)):
            save_product(ProductData(sku=sku, name=sku.title(), price=price, tax_rate=20_000))
            stock.receive(ctx, sku, 20_000, cost)
    finally:
        close_database()
    till = ("--terminal", "till-1")
    assert run(*till, "till", "open", "--float", "150.00")[0] == 0
    assert run(*till, "sell", "BREAD", "--pay", "cash:10")[0] == 0
    assert run(*till, "sell", "CANDLE", "--pay", "card")[0] == 0
    assert run(*till, "sell", "BUTTER", "CANDLE", "--pay", "card:5.00", "--pay", "cash:20")[0] == 0
    assert run(*till, "return", "1", "BREAD")[0] == 0
    assert run(*till, "till", "cash-out", "5.00", "--reason", "window cleaner")[0] == 0
    # cash: 150 + 3.95 + (2.49 + 6.50 - 5.00) - 3.95 - 5.00 = 148.99 expected; counted 0.50 short
    code, z, _ = run(*till, "till", "close", "--counted", "148.49")
    assert code == 0
    assert re.search(r"Expected cash\s+148\.99", z) and re.search(r"SHORT\s+-0\.50", z)
    day = local_time(_now())[:10]
    files = {}
    for fmt in ("beancount", "hledger", "ledger"):
        files[fmt] = tmp_path / f"books.{fmt}"
        assert run("export", "books", "--from", day, "--to", day, "--format", fmt, "--out", str(files[fmt]))[0] == 0
    subprocess.run([bean_check(), str(files["beancount"])], check=True, capture_output=True)
    subprocess.run(["hledger", "-f", str(files["hledger"]), "check"], check=True, capture_output=True)
    hledger = subprocess.run(["hledger", "-f", str(files["hledger"]), "balance", "--flat", "-O", "csv",
                              "Assets:Inventory", "Expenses:Cash-Over-Short"],
                             check=True, capture_output=True, text=True).stdout
    ledger = subprocess.run(["ledger", "-f", str(files["ledger"]), "balance", "--flat", "Assets:Inventory"],
                            check=True, capture_output=True, text=True).stdout
    open_database(run.db)
    try:
        value = valuation(Options()).tables[0].total["cost"]
    finally:
        close_database()
    money = f"{value // 100}.{value % 100:02d}"
    assert f'"Assets:Inventory","{money} EUR"' in hledger or f'"Assets:Inventory","{money}' in hledger, hledger
    assert '"Expenses:Cash-Over-Short","0.50' in hledger, hledger
    assert money in ledger, ledger


def _now() -> str:
    from shopkeeper.db import utcnow

    return utcnow()
