"""A recall: `journal --lot` finds what was sold of a lot, and the journal shows lot and expiry from the label."""

from __future__ import annotations

import json


def test_journal_lot_finds_the_sales_of_a_lot_with_their_expiry(run, tmp_path):
    assert run("init")[0] == 0
    csv = tmp_path / "p.csv"
    csv.write_text("sku,name,barcode,price,on_hand\nMILK,Milk,9506000134352,1.99,10\n")
    assert run("products", "import", str(csv))[0] == 0
    # GS1 General Specifications' own GTIN 09506000134352, a lot (10) and an expiry (17) after it
    assert run("sell", "01095060001343521729123110L2601")[0] == 0
    assert run("sell", "01095060001343521729123110L2602")[0] == 0
    assert run("sell", "MILK")[0] == 0
    code, out, _ = run("--json", "journal", "--lot", "L2601")
    rows = json.loads(out)
    assert code == 0 and [(r["kind"], r["quantity"], r["lot"], r["expiry"]) for r in rows] == [
        ("sale", -1, "L2601", "2029-12-31")]
    code, out, _ = run("journal", "--product", "MILK")
    assert code == 0 and out.count("  lot L260") == 2 and out.count("  expires 2029-12-31") == 2
