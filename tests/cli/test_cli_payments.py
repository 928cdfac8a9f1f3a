"""``shopkeeper sell --pay METHOD[:AMOUNT]`` (split tender), cash rounding from the config, a refund that shows
and repeats how the sale was paid, and a tax rate of 8.875 % through import, sale and export."""

from __future__ import annotations

import json

import pytest

from shopkeeper.models import Payment, Sale


@pytest.fixture
def shop(run, tmp_path):
    products = tmp_path / "p.csv"
    products.write_text("sku,name,price,cost,unit,tax\nMILK,Milk,1.29,0.80,pcs,7\nBOOK,Book,10.00,6.00,pcs,8.875\n")
    assert run("init", "--tax", "20")[0] == 0
    assert run("products", "import", str(products))[0] == 0
    assert run("receive", "MILK", "24", "--cost", "0.75")[0] == 0
    assert run("receive", "BOOK", "5", "--cost", "6.00")[0] == 0
    return run


def rows(sale_id):
    return [(p.method, p.amount, p.tendered, p.change)
            for p in Payment.select().where(Payment.sale == sale_id).order_by(Payment.id)]


def test_sell_split_over_card_and_cash(shop):
    code, out, _ = shop("--json", "sell", "MILKx3", "--pay", "card:2.00", "--pay", "cash:5")
    data = json.loads(out)
    assert code == 0 and data["payment"] == "split" and data["change"] == "3.13"
    assert data["payments"] == [{"method": "card", "amount": "2.00", "tendered": None, "change": None},
                                {"method": "cash", "amount": "1.87", "tendered": "5.00", "change": "3.13"}]
    assert rows(data["sale"]) == [("card", 200, None, None), ("cash", 187, 500, 313)]


def test_sell_keeps_its_one_payment_options(shop):
    assert shop("sell", "MILK", "--pay", "card")[0] == 0
    assert Sale.select().order_by(Sale.id.desc()).first().payment == "card"
    assert shop("sell", "MILK", "--payment", "other")[0] == 0
    assert Sale.select().order_by(Sale.id.desc()).first().payment == "other"
    code, out, _ = shop("sell", "MILK", "--tendered", "2")
    assert code == 0 and "change 0.71" in out


@pytest.mark.parametrize(("args", "message"), [
    (("--pay", "card:5.00"), "card 5.00 is more than the 1.29 still due: change is given only from cash"),
    (("--pay", "card:1.00"), "0.29 is still due"),
    (("--pay", "cheque"), "--pay cheque: the method must be one of cash, card, other"),
    (("--pay", "card:abc"), "--pay card:abc: amount: 'abc' is not a number"),
    (("--pay", "card:1", "--pay", "cash", "--tendered", "5"), "--tendered goes with a single cash payment"),
    (("--pay", "card", "--payment", "cash"), "give --pay or --payment, not both"),
])
def test_bad_payments_exit_2_with_a_message(shop, args, message):
    code, _, err = shop("sell", "MILK", *args)
    assert code == 2 and message in err
    assert Sale.select().count() == 0


def test_cash_rounding_from_the_config(shop, tmp_path):
    config = tmp_path / "chf.toml"
    config.write_text('[till]\ncash_rounding = "0.05"\n')
    code, out, _ = shop("--config", str(config), "--json", "sell", "MILKx3")  # 3.87 → 3.85
    data = json.loads(out)
    assert code == 0 and (data["total"], data["rounding"], data["paid"]) == ("3.87", "-0.02", "3.85")
    sale = Sale.get_by_id(data["sale"])
    assert sum(p.amount for p in Payment.select().where(Payment.sale == sale.id)) == sale.total + sale.rounding


def test_return_shows_how_the_sale_was_paid_and_pays_back_the_same_way(shop):
    code, out, _ = shop("--json", "sell", "MILKx2", "--pay", "card:1.00", "--pay", "cash")
    sale = json.loads(out)["sale"]
    code, out, _ = shop("return", str(sale))
    assert code == 0 and out.startswith(f"sale {sale} was paid: card 1.00, cash 1.58\n")
    back = Sale.select().order_by(Sale.id.desc()).first()
    assert rows(back.id) == [("card", -100, None, None), ("cash", -158, None, None)]


def test_return_method_given_overrides(shop):
    code, out, _ = shop("--json", "sell", "MILK", "--pay", "card")
    code, out, _ = shop("--json", "return", str(json.loads(out)["sale"]), "--pay", "cash")
    data = json.loads(out)
    assert code == 0 and data["payment"] == "cash" and data["original_payments"] == [
        {"method": "card", "amount": "1.29"}]


def test_a_tax_rate_of_8_875_percent_end_to_end(shop, tmp_path):
    code, out, _ = shop("--json", "sell", "BOOK", "--pay", "card")
    data = json.loads(out)
    assert code == 0 and data["tax"] == "0.82"  # 10.00 × 8.875 / 108.875 = 0.8152 → 0.82
    export = tmp_path / "out.csv"
    assert shop("products", "export", str(export))[0] == 0
    assert ",8.875," in export.read_text()
    code, out, _ = shop("--json", "report", "sales")
    rates = [row["rate"] for row in json.loads(out)["tables"]["tax"]["rows"]]
    assert rates == ["8.875"]


def test_percentages_in_reports_keep_their_scale_beside_tax_rates(shop):
    """Margin % and shares stay basis points (34.64), tax rates are RATE_SCALE (8.875): neither shown 10× off."""
    assert shop("sell", "BOOK", "--pay", "card")[0] == 0  # 10.00 incl. 0.82 tax at 8.875 %: net 9.18, cost 6.00
    code, out, _ = shop("--json", "report", "sales")
    data = json.loads(out)
    assert data["tables"]["tax"]["rows"][0]["rate"] == "8.875"
    assert json.dumps(data).count('"margin_pct": "34.64"') >= 1  # 3.18 / 9.18
