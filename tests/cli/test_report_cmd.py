"""``shopkeeper report NAME``: every report as text, JSON and CSV; the sales chart; bad input exits 2."""

from __future__ import annotations

import csv
import io
import json

import pytest

from shopkeeper.cli import main
from shopkeeper.services.reports import REPORTS


@pytest.fixture
def shop(run, tmp_path):
    products = tmp_path / "p.csv"
    products.write_text("sku,name,price,cost,unit,category\n"
                        "MILK,Milk,1.29,0.80,pcs,Dairy\n"
                        "OLIVES-KG,Olives,14.90,8.20,kg,Deli\n")
    assert run("init", "--tax", "20")[0] == 0
    assert run("products", "import", str(products))[0] == 0
    assert run("receive", "MILK", "24", "--cost", "0.75")[0] == 0
    assert run("receive", "OLIVES-KG", "2.5", "--cost", "8.20")[0] == 0
    assert run("sell", "MILKx3", "OLIVES-KGx0.250", "--pay", "card")[0] == 0
    assert run("sell", "MILKx2")[0] == 0
    assert run("return", "2", "MILKx1")[0] == 0
    assert run("adjust", "MILK", "-1", "--reason", "damaged")[0] == 0
    return run


@pytest.mark.parametrize("name", REPORTS)
def test_every_report_prints_text_json_and_csv(shop, name):
    code, text, _ = shop("report", name)
    assert code == 0 and text.strip()
    code, out, _ = shop("--json", "report", name)
    assert code == 0 and json.loads(out)["report"] == name
    code, out, _ = shop("report", name, "--csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert len(rows) >= 2 and len({len(r) for r in rows}) == 1


def test_sales_report_json_ties_out_to_the_sales(shop):
    code, out, _ = shop("--json", "report", "sales")
    data = json.loads(out)
    total = data["tables"]["periods"]["total"]
    # two sales: 3 milk + 250 g olives (3.87 + 3.72, half-even) and 2 milk (2.58); one milk back (-1.29)
    assert total["gross"] == "10.17" and total["refunds"] == "-1.29" and total["total"] == "8.88"
    assert total["sales"] == 2
    payments = {r["payment"]: r for r in data["tables"]["payment"]["rows"]}
    assert payments["card"]["total"] == "7.59" and payments["cash"]["total"] == "1.29"
    assert data["tables"]["tax"]["total"]["tax"] == total["tax"]


def test_csv_table_chooses_a_section_and_movement_closes_on_stock(shop):
    code, out, _ = shop("report", "movement", "--csv")
    rows = {r["sku"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["MILK"]["closing"] == "19" and rows["MILK"]["sold"] == "-5" and rows["MILK"]["returned"] == "1"
    assert rows["OLIVES-KG"]["closing"] == "2.25"
    code, out, _ = shop("report", "sales", "--csv", "--table", "payment")
    assert code == 0 and out.startswith("payment,")
    code, _, err = shop("report", "sales", "--csv", "--table", "nope")
    assert code == 2 and "has no table 'nope'" in err


def test_sales_plot_draws_a_chart(shop):
    code, out, _ = shop("report", "sales", "--plot")
    assert code == 0 and "Net sales by day" in out
    assert "\x1b" not in out  # plain characters, in a file and with NO_COLOR: no colour reset at each line's end


@pytest.mark.parametrize(("args", "message"), [
    (("report", "sales", "--from", "2026-02-30"), "--from: '2026-02-30' is not a date"),
    (("report", "sales", "--from", "2026-02-02", "--to", "2026-02-01"), "is after --to"),
    (("report", "valuation", "--supplier", "Nobody"), "no supplier called 'Nobody'"),
    (("report", "valuation", "--plot"), "--plot draws the sales report only"),
    (("report", "sales", "--from", "2026-01-01", "--to", "9999-12-31"), "--to: 9999-12-31 is past the last day"),
    (("report", "valuation", "--at", "9999-12-31"), "--at: 9999-12-31 is past the last day"),
    (("report", "sales", "--category", "Nothing"), "no product has the category 'Nothing'"),
    (("report", "best-sellers", "--category", "dairy"), "no product has the category 'dairy'; did you mean 'Dairy'?"),
    (("report", "sales", "--plot", "--csv"), "choose one of --csv and --plot"),
    (("report",), "name a report (sales, best-sellers"),
    (("report", "sales", "--keep"), "--keep runs no report: leave out 'sales'"),
])
def test_bad_report_input_is_one_line_and_exit_2(shop, args, message):
    code, _, err = shop(*args)
    assert code == 2 and message in err


def test_unknown_report_name_is_a_usage_error(shop, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["report", "nope"])
    assert exit_.value.code == 2 and "invalid choice: 'nope'" in capsys.readouterr().err


def test_a_name_a_spreadsheet_would_run_is_exported_as_text(shop, tmp_path):
    products = tmp_path / "evil.csv"
    products.write_text("sku,name,price,cost\nEVIL,\"=HYPERLINK(\"\"x\"\")\",1.00,0.50\n")
    assert shop("products", "import", str(products))[0] == 0
    assert shop("receive", "EVIL", "2", "--cost", "0.50")[0] == 0
    code, out, _ = shop("report", "movement", "--csv")
    rows = {r["sku"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["EVIL"]["name"].startswith("'=") and rows["EVIL"]["closing"] == "2"


def test_worst_sellers_label_their_total_and_write_shares_with_two_decimals(shop, tmp_path):
    more = tmp_path / "more.csv"
    more.write_text("sku,name,price\nPEN,Pen,2.00\n")
    assert shop("products", "import", str(more))[0] == 0
    code, text, _ = shop("report", "worst-sellers", "--limit", "2")
    assert code == 0 and "Worst sellers by units: 2 of 3 shown, total of all" in text
    total = text.splitlines()[-1].split()
    assert total[:4] == ["total", "all", "3", "products"] and total[-1] == "100.00"
    code, out, _ = shop("report", "worst-sellers", "--limit", "2", "--csv")
    shares = [r["share"] for r in csv.DictReader(io.StringIO(out))]
    assert shares == ["0.00", "5.88", "100.00"]  # one number of decimals down the column
    data = json.loads(shop("--json", "report", "worst-sellers", "--limit", "2")[1])["tables"]["products"]
    assert [r["share"] for r in data["rows"]] == ["0.00", "5.88"] and data["total"]["name"] == "all 3 products"
def test_report_keep_keeps_the_closed_days_for_cron(shop):
    code, out, _ = shop("--json", "report", "--keep")
    assert code == 0 and set(json.loads(out)["kept_ms"]) == {"sales", "products", "journal", "stock"}
    code, text, _ = shop("report", "--keep")
    assert code == 0 and text.startswith("kept the figures of the closed days: sales ")


def test_slow_movers_header_says_its_windows_in_words_and_json_keeps_the_keys(shop):
    code, text, _ = shop("report", "slow-movers", "--days", "30")
    header = text.splitlines()[0]
    assert code == 0 and "unsold for days 30" in header and "rate of sale over days 90" in header
    assert "rate_days" not in header
    data = json.loads(shop("--json", "report", "slow-movers", "--days", "30")[1])
    assert (data["days"], data["rate_days"]) == (30, 90)
