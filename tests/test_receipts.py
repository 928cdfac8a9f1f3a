"""Receipts: every figure of the committed sale, within the configured width; a failing printer is a clear error."""

from __future__ import annotations

import sys

import pytest

from shopkeeper.config import Config, TillSection
from shopkeeper.receipts import PrinterError, format_receipt, print_receipt, receipt_for
from shopkeeper.services import till


@pytest.fixture
def sold(demo_db, ctx):
    till.add_scan(ctx, "3*4006381333931")  # milk 3 x 1.29, 7 %
    draft = till.add_scan(ctx, "WINE-RED")  # 8.99, 20 %
    till.set_line_discount(ctx, draft.lines[1].id, 100)
    till.set_sale_discount(ctx, 50)
    return till.complete(ctx, "cash", 5000)


def test_receipt_shows_lines_discounts_tax_total_payment_and_who(sold, ctx):
    text = format_receipt(sold, shop_name="Corner Grocery", currency="EUR", staff="Ana", terminal="till-1")
    lines = text.splitlines()
    assert lines[0].strip() == "Corner Grocery"
    assert f"Sale #{sold.sale_id}" in text
    assert any(line.startswith("  3 x 1.29") and line.endswith("3.87") for line in lines)
    assert any(line.startswith("House red wine 75 cl") and line.endswith("8.99") for line in lines)
    assert any(line.startswith("Line discounts") and line.endswith("-1.00") for line in lines)
    assert any(line.startswith("Sale discount") and line.endswith("-0.50") for line in lines)
    assert any(line.startswith("TOTAL EUR") and line.endswith("11.36") for line in lines)
    taxes = [line for line in lines if line.startswith("Tax ")]
    assert len(taxes) == 2 and taxes[0].startswith("Tax 7%") and taxes[1].startswith("Tax 20%")
    assert sum(int(t.rsplit(" ", 1)[1].replace(".", "")) for t in taxes) == sold.tax
    assert any(line.startswith("Cash tendered") and line.endswith("50.00") for line in lines)
    assert any(line.startswith("Change") and line.endswith("38.64") for line in lines)
    assert "Served by Ana, terminal till-1" in text


@pytest.mark.parametrize("width", [24, 32, 40, 48])
def test_no_line_is_wider_than_configured(sold, ctx, width):
    text = format_receipt(sold, shop_name="The Very Long Name Of A Corner Grocery Shop", currency="EUR",
                          width=width, staff="Ana", terminal="till-1")
    assert max(len(line) for line in text.splitlines()) <= width


def test_receipt_for_takes_width_and_name_from_config(sold, ctx):
    config = Config(till=TillSection(receipt_width=32))
    text = receipt_for(sold, config, ctx)
    assert max(len(line) for line in text.splitlines()) <= 32
    assert text.splitlines()[0].strip() == config.shop.name


def test_refund_receipt(sold, ctx):
    till.start_refund(ctx, sold.sale_id)
    refund = till.complete(ctx, "card")
    text = format_receipt(refund, currency="EUR", original_sale=sold.sale_id)
    assert f"REFUND #{refund.sale_id}" in text and f"for sale #{sold.sale_id}" in text
    assert any(line.startswith("REFUND TOTAL EUR") and line.endswith("11.36") for line in text.splitlines())
    assert "Paid back (card)" in text


def test_card_payment_has_no_change_line(demo_db, ctx):
    till.add_scan(ctx, "4006381333931")
    text = format_receipt(till.complete(ctx, "card"))
    assert "Change" not in text and any(line.startswith("Card") for line in text.splitlines())


def test_print_receipt_pipes_the_text_to_the_command(tmp_path):
    out = tmp_path / "printed.txt"
    script = f"import sys; open({str(out)!r}, 'w').write(sys.stdin.read())"
    print_receipt("hello\nreceipt\n", f"{sys.executable} -c \"{script}\"")
    assert out.read_text() == "hello\nreceipt\n"


def test_printer_command_missing_is_a_clear_error():
    with pytest.raises(PrinterError, match="not found: no-such-printer-cmd.*sale is saved"):
        print_receipt("x", "no-such-printer-cmd -d thermal")


def test_printer_command_failing_reports_its_message():
    cmd = f"{sys.executable} -c \"import sys; sys.stderr.write('lp: printer offline'); sys.exit(1)\""
    with pytest.raises(PrinterError, match="printer offline"):
        print_receipt("x", cmd)


def test_printer_that_hangs_times_out():
    with pytest.raises(PrinterError, match="did not finish within 0.5 s"):
        print_receipt("x", f"{sys.executable} -c \"import time; time.sleep(30)\"", timeout=0.5)


def test_receipt_text_carries_no_control_character_to_the_printer(db, ctx, tmp_path):
    """A name stored before the text rule with ESC p (an ESC/POS cash drawer kick) prints as text without it."""
    from shopkeeper.models import Product
    from shopkeeper.services import sales

    Product.create(sku="JAM", name="Jam\x1bp\x00\x19\xfa 340 g\x1b[2J", price=250, updated_at="")
    result = sales.sell(ctx, [sales.LineInput("JAM", 2000)], payment="cash")
    text = format_receipt(result, shop_name="Shop\x1b@", staff="Ana\x07", terminal="till\x9b1")
    assert not [ch for ch in text if ch != "\n" and (ord(ch) < 0x20 or 0x7f <= ord(ch) < 0xa0)]
    assert "Jamp\xfa 340 g[2J" in text and "Served by Ana, terminal till1" in text
    out = tmp_path / "printed"
    print_receipt(text, f"{sys.executable} -c 'import sys; open(sys.argv[1], \"wb\").write(sys.stdin.buffer.read())' "
                        f"{out}")
    assert b"\x1b" not in out.read_bytes()


def test_a_split_tender_lists_each_payment_and_cash_change(sold):
    part_card = sold.total - 500
    text = format_receipt(sold, payments=[("card", part_card, None, None), ("cash", 500, 1000, 500)], width=32)
    lines = text.splitlines()
    assert any(line.startswith("Card") and line.endswith(f"{part_card / 100:.2f}") for line in lines)
    assert any(line.startswith("Cash") and line.endswith("5.00") for line in lines)
    assert any(line.startswith("Cash tendered") and line.endswith("10.00") for line in lines)
    assert any(line.startswith("Change") and line.endswith("5.00") for line in lines)


def test_a_reprint_is_the_stored_sale_marked_copy_with_the_same_figures(sold, ctx):
    from shopkeeper.receipts import reprint

    config = Config()
    first = receipt_for(sold, config, ctx)
    again = reprint(sold.sale_id, config)
    assert again.splitlines()[0].strip() == again.splitlines()[-1].strip() == "*** COPY ***"
    assert again.splitlines()[1:-1] == first.splitlines()  # line discounts and the sale discount worked back out


def test_the_default_width_is_58_mm_paper_not_40(sold, ctx):
    text = receipt_for(sold, Config(), ctx)
    assert max(len(line) for line in text.splitlines()) == 32
