"""The books export: every transaction balances, the inventory equals the valuation to the cent, the output is
deterministic and a closed period never changes, and the real tools (bean-check, hledger, ledger) accept it and
agree with the shop's own totals."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import subprocess
from decimal import Decimal

import pytest

from shopkeeper.accounts_settings import AccountsSection
from shopkeeper.config import parse_config
from shopkeeper.errors import ConfigError, InvalidInput
from shopkeeper.models import Payment, Sale, SaleLine, database
from shopkeeper.money import extend, parse_money, parse_rate
from shopkeeper.services import books, books_format, reports
from shopkeeper.services.books import Posting, Transaction, Unbalanced
from tests.books_shop import DAY1, DAY2, at, seed, sell
from tests.conftest import bean_check

CURRENCY = "EUR"


@pytest.fixture
def shop(db, ctx):
    return seed(ctx)


def export(fmt: str, start=DAY1, end=DAY2, **kw) -> str:
    return books_format.write(books.build(start, end, **kw), fmt, currency=CURRENCY, decimals=2)


def valuation_at(day: dt.date) -> int:
    return reports.valuation(reports.Options(at=day)).table("category").total["cost"]


def shop_totals(start: dt.date, end: dt.date) -> dict[str, int]:
    """The shop's own figures, straight from its rows (not through the books model)."""
    lo, hi = reports.local_start(start), reports.local_start(end + dt.timedelta(days=1))
    sales = Sale.select().where((Sale.created_at >= lo) & (Sale.created_at < hi))
    payments = Payment.select(Payment.method, Payment.amount).join(Sale).where(
        (Sale.created_at >= lo) & (Sale.created_at < hi))
    by_method = {m: sum(p.amount for p in payments if p.method == m) for m in ("card", "other")}
    lines = SaleLine.select(SaleLine, Sale.kind).join(Sale).where((Sale.created_at >= lo) & (Sale.created_at < hi))
    cogs = sum((1 if line.sale.kind == "sale" else -1) * extend(line.quantity, line.unit_cost) for line in lines)
    return {"Liabilities:VAT-Payable": -sum(s.tax for s in sales), "Assets:Card-Clearing": by_method["card"],
            "Assets:Other-Payments": by_method["other"], "Income:Cash-Rounding": -sum(s.rounding for s in sales),
            "Expenses:COGS": cogs, "Assets:Inventory": valuation_at(end) - valuation_at(start - dt.timedelta(days=1))}


# --- the model ----------------------------------------------------------------------------------------------------

def test_every_transaction_balances_and_one_per_day_and_z_report(shop):
    result = books.build(DAY1, DAY2)
    assert [t.reference for t in result.transactions] == ["day:2026-11-02", "z:till-1:1", "day:2026-11-03"]
    for t in result.transactions:
        assert sum(p.amount for p in t.postings) == 0, t.reference


def test_a_transaction_that_does_not_balance_is_refused():
    t = Transaction(DAY1, "day:x", "broken", [Posting("Assets:Cash:Drawer", 100), Posting("Income:Sales:VAT-20", -99)])
    with pytest.raises(Unbalanced, match="day:x.*off by 1"):
        t.check()


def test_inventory_balance_equals_the_valuation_to_the_cent(shop):
    result = books.build(DAY1, DAY2)
    assert result.complete  # the shop's first day: the file holds the inventory from nothing
    assert result.balances()["Assets:Inventory"] == valuation_at(DAY2) == result.closing_inventory
    day1 = books.build(DAY1, DAY1)
    assert day1.balances()["Assets:Inventory"] == valuation_at(DAY1)
    # the moving average left residue (10 at 1.33 and 3 at 1.00 average 1.2538 → 1.25): posted, not lost
    assert day1.balances()["Expenses:Cost-Rounding"] != 0


def test_a_later_period_with_opening_balances_ends_at_the_valuation(shop):
    result = books.build(DAY2, DAY2, opening=True)
    assert result.transactions[0].reference == "opening:2026-11-03"
    assert result.balances()["Assets:Inventory"] == valuation_at(DAY2)
    assert result.balances()["Equity:Opening-Balances"] == -valuation_at(DAY1)
    without = books.build(DAY2, DAY2)
    assert not without.complete  # a period after one already imported: changes only
    assert without.balances()["Assets:Inventory"] == valuation_at(DAY2) - valuation_at(DAY1)


def test_trial_balance_equals_the_shops_own_totals(shop):
    balances = books.build(DAY1, DAY2).balances()
    for account, amount in shop_totals(DAY1, DAY2).items():
        assert balances.get(account, 0) == amount, account


def test_z_report_books_the_drawer_float_cash_in_out_and_short(shop):
    balances = books.build(DAY1, DAY1).balances()
    assert balances["Expenses:Cash-Over-Short"] == 50  # 0.50 short is a debit
    assert balances["Expenses:Paid-Outs"] == 1200
    assert balances["Assets:Cash:Drawer"] == 0  # every sale was in the session: counted cash went to the safe
    assert balances["Assets:Cash:Safe"] == shop.expected_cash - 50 - 10_000 - 2000


def test_a_session_still_open_at_the_periods_end_is_booked_when_it_closes(db, ctx):
    from shopkeeper.models import TillSession, TillSessionClose
    from shopkeeper.services.context import terminal_id

    seed(ctx)
    late = TillSession.insert(terminal=terminal_id(ctx), number=2, opened_at=at(DAY1, 21),
                              float_amount=5000).execute()
    sell(ctx, at(DAY1, 22), [("BREAD", 1000)], [("cash", 199)], session=late)
    TillSessionClose.insert(session=late, closed_at=at(DAY2, 1), expected_cash=5199, counted_cash=5199,
                            over_short=0).execute()
    assert [t.reference for t in books.build(DAY1, DAY1).transactions] == ["day:2026-11-02", "z:till-1:1"]
    day2 = books.build(DAY2, DAY2).transactions
    assert [t.reference for t in day2] == ["day:2026-11-03", "z:till-1:2"]
    assert sum(p.amount for p in day2[1].postings if p.account == "Assets:Cash:Drawer") == -199


def test_split_tender_rounding_discounts_refunds_and_stock_accounts(shop):
    balances = books.build(DAY1, DAY1).balances()
    assert balances["Assets:Card-Clearing"] == 500  # the card part of the split sale
    assert balances["Assets:Other-Payments"] == 199
    assert balances["Income:Cash-Rounding"] == -1  # 1.99 paid 2.00 in cash
    assert balances["Income:Discounts:VAT-5-5"] == 60
    assert balances["Income:Refunds:VAT-20"] == 200  # 2.40 back, 0.40 of it tax
    assert balances["Expenses:Shrinkage:Damaged"] == 125
    assert balances["Income:Found-Stock"] == -70
    assert balances["Liabilities:Payable:Kase-Co-Lyon"] == -(1330 + 300) + 250  # two deliveries, one return
    assert balances["Liabilities:Payable:Unassigned"] == -490
    # revenue per rate (sales, discounts, refunds), tax and rounding: what the customers paid, every tender
    paid = sum(p.amount for p in Payment.select().join(Sale).where(Sale.created_at < at(DAY2, 0)))
    revenue = sum(v for a, v in balances.items() if a.startswith("Income:") and "VAT" in a)
    assert -(revenue + balances["Liabilities:VAT-Payable"] + balances["Income:Cash-Rounding"]) == paid == 1416


def test_a_sale_whose_payments_do_not_add_up_is_refused_by_name(shop, ctx):
    sale = Sale.select().order_by(Sale.id.desc()).get()
    Payment.insert(sale=sale.id, method="card", amount=1).execute()
    with pytest.raises(books.BooksError, match=f"sale {sale.id}: its payments add up to 3.61"):
        books.build(DAY2, DAY2)


def test_a_sale_whose_lines_do_not_add_up_to_its_total_is_refused_by_name(shop):
    sale = Sale.select().order_by(Sale.id.desc()).get()
    line = SaleLine.get(SaleLine.sale == sale.id)
    SaleLine.insert(sale=sale.id, line_no=2, description="extra", quantity=1000, unit_price=5, tax_rate=0, tax=0,
                    total=5, unit_cost=0).execute()
    assert line.total == sale.total
    with pytest.raises(books.BooksError, match=f"sale {sale.id}: its lines add up to 3.65 but its total is 3.60"):
        books.build(DAY2, DAY2)


def test_days_are_the_shops_local_days(db, ctx, monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    try:
        seed(ctx)
        late = sell(ctx, at(DAY2, 0, 30), [("BREAD", 1000)], [("card", 199)])  # 23:30 UTC the day before
        assert Sale.get_by_id(late).created_at.startswith("2026-11-02T23:30")
        day2 = books.build(DAY2, DAY2)
        assert "2 sales" in day2.transactions[0].narration
    finally:
        monkeypatch.undo()
        time.tzset()


# --- names -------------------------------------------------------------------------------------------------------

def test_names_are_valid_account_parts_for_every_tool():
    assert books.account_part("Käse & Co. (Lyon)", "X") == "Kase-Co-Lyon"
    assert books.account_part("  ", "Unassigned") == "Unassigned"
    assert books.account_part("épicerie fine", "X") == "Epicerie-fine"
    assert books.rate_part(parse_rate("5.5")) == "5-5" and books.rate_part(parse_rate("20")) == "20"


def test_accounts_config_refuses_a_name_the_tools_would_refuse():
    assert parse_config({"accounts": {"drawer": "Assets:Till:Front"}}).section("accounts").drawer == \
        "Assets:Till:Front"
    with pytest.raises(ConfigError, match=r"accounts.drawer: 'Assets:cash drawer'"):
        parse_config({"accounts": {"drawer": "Assets:cash drawer"}})
    with pytest.raises(ConfigError, match="accounts.cogs: 'Costs:Goods' must start with one of"):
        parse_config({"accounts": {"cogs": "Costs:Goods"}})
    with pytest.raises(ConfigError, match="placeholder here is {supplier}"):
        parse_config({"accounts": {"payable": "Liabilities:AP:{rate}"}})


def test_accounts_from_config_are_used(shop):
    names = AccountsSection(drawer="Assets:Till", shrinkage="Expenses:Loss:{reason}")
    balances = books.build(DAY1, DAY1, names).balances()
    assert "Assets:Till" in balances and "Expenses:Loss:Damaged" in balances


# --- determinism --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", books_format.FORMATS)
def test_a_closed_period_exports_byte_identical_after_more_sales(shop, ctx, fmt):
    first = export(fmt)
    assert export(fmt) == first
    sell(ctx, at(dt.date.today(), 0, 1), [("BREAD", 1000)], [("cash", 199)])  # today, after the period
    from shopkeeper.services.stock import adjust

    adjust(ctx, "CHEESE", -1000, "stolen")  # a journal row now
    assert export(fmt) == first


def test_a_currency_the_tools_cannot_read_is_refused_before_any_output(shop):
    result = books.build(DAY1, DAY2)
    for fmt in ("beancount", "hledger", "ledger"):
        with pytest.raises(InvalidInput, match="shop.currency: '€' is not a currency code"):
            books_format.write(result, fmt, currency="€", decimals=2)
    assert books_format.write(result, "csv", currency="€", decimals=2).startswith("date,reference")


def test_csv_is_a_general_journal_whose_debits_equal_credits(shop):
    rows = list(csv.DictReader(io.StringIO(export("csv"))))
    assert list(rows[0]) == ["date", "reference", "account", "debit", "credit", "description"]
    for reference in {r["reference"] for r in rows}:
        mine = [r for r in rows if r["reference"] == reference]
        assert sum(Decimal(r["debit"] or 0) for r in mine) == sum(Decimal(r["credit"] or 0) for r in mine)
    assert all((r["debit"] == "") != (r["credit"] == "") for r in rows)


# --- the real tools -----------------------------------------------------------------------------------------------

def _file(tmp_path, fmt: str, **kw) -> str:
    path = tmp_path / f"books.{fmt}"
    path.write_text(export(fmt, **kw), encoding="utf-8")
    return str(path)


def _run(*cmd: str) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{' '.join(cmd)}: {done.stderr or done.stdout}"
    return done.stdout


@pytest.mark.requires("bean-check")
def test_bean_check_accepts_the_beancount_file_and_its_inventory_assertion(shop, tmp_path):
    path = _file(tmp_path, "beancount")
    assert "balance Assets:Inventory" in open(path).read()
    assert _run(bean_check(), path).strip() == ""
    later = _file(tmp_path, "beancount", start=DAY2, end=DAY2, opening=True)
    assert _run(bean_check(), later).strip() == ""


@pytest.mark.requires("bean-check")
def test_bean_check_refuses_a_wrong_inventory_balance(shop, tmp_path):
    """The assertion in the file is live: bean-check itself checks the inventory against the valuation."""
    path = tmp_path / "wrong.beancount"
    text = export("beancount")
    wrong = re.sub(r"(balance Assets:Inventory )(\S+)", lambda m: m.group(1) + str(Decimal(m.group(2)) + 1), text)
    path.write_text(wrong, encoding="utf-8")
    done = subprocess.run([bean_check(), str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "Balance failed" in done.stdout + done.stderr


def _money_column(text: str) -> int:
    text = text.replace(CURRENCY, "").strip()
    return parse_money(text or "0")


@pytest.mark.requires("hledger")
def test_hledger_checks_strictly_and_its_trial_balance_is_the_shops(shop, tmp_path):
    path = _file(tmp_path, "hledger")
    _run("hledger", "-f", path, "check", "--strict")
    rows = list(csv.reader(io.StringIO(_run("hledger", "-f", path, "balance", "-O", "csv", "--flat", "-E"))))
    got = {account: _money_column(amount) for account, amount in rows[1:] if account != "total"}
    want = {a: v for a, v in books.build(DAY1, DAY2).balances().items() if v}
    assert {a: v for a, v in got.items() if v} == want
    assert got["Assets:Inventory"] == valuation_at(DAY2)
    for account, amount in shop_totals(DAY1, DAY2).items():
        assert got.get(account, 0) == amount, account


@pytest.mark.requires("ledger")
def test_ledger_accepts_the_journal_and_its_balance_agrees(shop, tmp_path):
    path = _file(tmp_path, "ledger")
    out = _run("ledger", "-f", path, "--pedantic", "balance", "--flat", "--no-total")
    got = {}
    for line in out.splitlines():
        match = re.match(r"^\s*(-?[\d.,]+) EUR\s+(\S+)$", line)
        assert match, line
        got[match.group(2)] = parse_money(match.group(1).replace(",", ""))
    assert got == {a: v for a, v in books.build(DAY1, DAY2).balances().items() if v}
    assert got["Assets:Inventory"] == valuation_at(DAY2)


@pytest.mark.requires("hledger", "ledger")
def test_hledger_and_ledger_accept_a_quote_and_semicolons_in_the_data(db, ctx, tmp_path):
    """Till names and cash reasons are free text: a quote, a semicolon or a parenthesis must not break a file."""
    seed(ctx)
    from shopkeeper.models import CashMovement

    CashMovement.insert(session=1, kind="cash_out", amount=100, reason='window; "cleaner" (cash)',
                        created_at=at(DAY1, 19)).execute()
    for fmt in ("hledger", "ledger"):
        path = _file(tmp_path, fmt)
        _run(fmt, "-f", path, "balance")
    text = export("beancount")
    assert 'window, \\"cleaner\\" (cash)' not in text  # memos are comments, not strings
    assert "window, \"cleaner\" (cash)" in text


def test_database_is_only_read(shop):
    before = database.obj.execute_sql("SELECT COUNT(*) FROM audit_event").fetchone()[0]
    books.build(DAY1, DAY2)
    assert database.obj.execute_sql("SELECT COUNT(*) FROM audit_event").fetchone()[0] == before


@pytest.mark.requires("bean-check", "hledger", "ledger")
@pytest.mark.parametrize(("currency", "decimals"), [("JPY", 0), ("KWD", 3)])
def test_currencies_without_or_with_three_decimals_pass_every_tool(shop, tmp_path, currency, decimals):
    result = books.build(DAY1, DAY2)
    for fmt, cmd in (("beancount", [bean_check()]), ("hledger", ["hledger", "check", "--strict", "-f"]),
                     ("ledger", ["ledger", "--pedantic", "balance", "-f"])):
        path = tmp_path / f"books.{fmt}"
        path.write_text(books_format.write(result, fmt, currency=currency, decimals=decimals), encoding="utf-8")
        _run(*cmd, str(path))


def test_the_chain_head_as_of_the_period_end_is_printed_when_the_shop_keeps_a_chain(shop, monkeypatch):
    """The seam to ``services/chain.py``: ``head(until=...)``, the head over the rows before the period's end, so
    the header stays the same when the shop sells on."""
    import sys
    import types

    import shopkeeper.services

    asked = []

    def head(*, until: str, seal_first: bool = True) -> str:
        assert not seal_first  # sealed before the export's read snapshot, where it may not write
        asked.append(until)
        return "ab12cd34"

    fake = types.ModuleType("shopkeeper.services.chain")
    fake.head = head
    fake.seal_pending = lambda: asked.append("sealed")
    monkeypatch.setitem(sys.modules, "shopkeeper.services.chain", fake)
    monkeypatch.setattr(shopkeeper.services, "chain", fake, raising=False)
    text = export("hledger")
    assert "; chain head at the end of the period: ab12cd34" in text.splitlines()[2]
    assert asked == ["sealed", reports.local_start(DAY2 + dt.timedelta(days=1))]
