"""Receipt with prices excluding tax: the tax line's base includes the tax itself."""
from dataclasses import replace

from shopkeeper.receipts import format_receipt
from shopkeeper.services import sales


def test_tax_base_on_a_receipt_with_prices_excluding_tax(demo_db, ctx):
    net = replace(ctx, prices_include_tax=False)
    result = sales.sell(net, [sales.LineInput(None, 1000, 1000, description="Service", tax_rate=20_000)],
                        payment="card")
    assert result.total == 1200 and result.lines[0].tax == 200
    text = format_receipt(result, prices_include_tax=False)
    tax_lines = [line for line in text.splitlines() if line.startswith("Tax 20")]
    assert tax_lines and "on 10.00" in tax_lines[0], tax_lines   # 20% of 10.00 is 2.00, not 20% of 12.00
