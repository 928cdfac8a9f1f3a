"""`report sales --plot` is plain text: no terminal escape sequence, so it reads the same in a file or a pipe."""

from __future__ import annotations


def test_sales_plot_has_no_escape_sequences(run, tmp_path):
    products = tmp_path / "p.csv"
    products.write_text("sku,name,price,on_hand\nMILK,Milk,1.29,5\n")
    assert run("init")[0] == 0
    assert run("products", "import", str(products))[0] == 0
    assert run("sell", "MILK")[0] == 0
    code, out, _ = run("report", "sales", "--plot")
    assert code == 0 and "Net sales by day" in out and "█" in out
    assert "\x1b" not in out
