"""Receipts on an ESC/POS printer, rendered to bytes by python-escpos's Dummy printer (no hardware): the code page
(``Käse`` prints as Käse), the paper cut and the drawer pulse; and a device-file printer getting exactly those bytes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shopkeeper import printer
from shopkeeper.config import Config, PrinterSection, ReceiptSection, ShopSection, TillSection
from shopkeeper.receipts import PrinterError, receipt_for, reprint
from shopkeeper.services import sales, till, till_session

escpos = pytest.mark.requires("escpos")

ESC_T_CP858 = b"\x1bt\x13"  # ESC t 19: select code page CP858
CUT = b"\x1dV\x00"  # GS V 0: full cut
KICK_PIN2 = b"\x1bp\x00"  # ESC p 0 …: pulse on drawer pin 2
INIT = b"\x1b@"


def _config(tmp_path, **printer_keys):
    keys = {"kind": "escpos", "connection": "file", "device": str(tmp_path / "lp0"), **printer_keys}
    return Config(shop=ShopSection(name="Käserei Müller"), printer=PrinterSection(**keys),
                  receipt=ReceiptSection(header=("Hauptstraße 1",), vat_number="DE123456789",
                                         footer=("Danke schön!",)))


@escpos
def test_kase_is_encoded_in_the_printers_code_page_then_cut():
    data = printer.escpos_bytes("Käse 1,50 €\n", code_page="CP858")
    assert data.startswith(INIT + ESC_T_CP858)
    assert "Käse 1,50 €\n".encode("cp858") in data  # ä is 0x84 and € is 0xD5 in CP858, not UTF-8
    assert "Käse".encode() not in data
    assert data.endswith(CUT)
    assert KICK_PIN2 not in data


@escpos
def test_a_cash_receipt_kicks_the_drawer_after_the_cut():
    data = printer.escpos_bytes("x\n", kick=True, pin=2)
    assert data.index(CUT) < data.index(KICK_PIN2)
    assert printer.escpos_bytes("x\n", kick=True, pin=5).endswith(b"\x1bp\x0122")


@escpos
def test_a_code_page_the_profile_lacks_is_a_clear_error():
    with pytest.raises(PrinterError, match="code page 'CP858' is not one of the printer's"):
        printer.escpos_bytes("x", profile="ZJ-5870", code_page="CP858")
    with pytest.raises(PrinterError, match="unknown printer profile"):
        printer.escpos_bytes("x", profile="no-such-printer")


@escpos
def test_width_follows_the_profile_and_58_mm_is_32_columns(tmp_path):
    assert printer.width(Config()) == 32
    assert printer.width(_config(tmp_path, profile="TM-T20II")) == 48
    assert printer.width(_config(tmp_path, profile="TM-T88V")) == 42
    assert printer.width(_config(tmp_path, profile="ZJ-5870")) == 32
    assert printer.width(_config(tmp_path, profile="TM-T20II", width=42)) == 42


@escpos
def test_a_cash_sale_prints_on_the_device_file_with_header_footer_cut_and_drawer(demo_db, ctx, tmp_path):
    config = _config(tmp_path)
    session = till_session.open(ctx, 0)
    till.add_one_off(ctx, "Käse", 450)
    result = till.complete(ctx, "cash", 500)
    text = receipt_for(result, config, ctx)
    printer.send(config, text, kick=True)
    data = (tmp_path / "lp0").read_bytes()
    assert data == printer.escpos_bytes(text, code_page="CP858", kick=True)
    body = data.decode("cp858")
    for expected in ("Käserei Müller", "Hauptstraße 1", "VAT DE123456789", "Käse", "Danke schön!", "Change"):
        assert expected in body
    assert data.endswith(CUT + KICK_PIN2 + b"22")
    assert session.id


@escpos
def test_the_drawer_opens_alone_for_no_sale(tmp_path):
    config = _config(tmp_path)
    printer.open_drawer(config)
    assert (tmp_path / "lp0").read_bytes() == INIT + ESC_T_CP858 + KICK_PIN2 + b"22"
    printer.open_drawer(replace(config, printer=replace(config.printer, drawer=False)))
    assert (tmp_path / "lp0").read_bytes() == INIT + ESC_T_CP858 + KICK_PIN2 + b"22"  # not opened again


def test_a_training_till_never_opens_the_drawer(demo_db, ctx, tmp_path):
    from shopkeeper.models import ShopSetting
    from shopkeeper.services import training

    config = _config(tmp_path)
    result = sales.sell(ctx, [sales.LineInput("4006381333931", 1000)], payment="cash", tendered=500)
    assert printer.sale_receipt(config, ctx, result)[1] is True  # a cash sale kicks the drawer
    ShopSetting.insert(key=training.SETTING, value="1").on_conflict_replace().execute()
    training._active.clear()
    try:
        text, kick = printer.sale_receipt(config, ctx, result)
        assert kick is False and "TRAINING" in text
        printer.open_drawer(config)  # "no sale" in training: nothing reaches the printer
        assert not (tmp_path / "lp0").exists()
    finally:
        training._active.clear()


@escpos
def test_a_printer_that_cannot_be_opened_says_so_and_the_sale_stands(tmp_path):
    config = _config(tmp_path, device=str(tmp_path / "missing" / "lp0"))
    with pytest.raises(PrinterError, match="cannot be opened|failed"):
        printer.send(config, "x\n")


def test_a_reprint_fits_58_mm_and_is_marked_copy(demo_db, ctx, tmp_path):
    config = _config(tmp_path)
    result = sales.sell(ctx, [sales.LineInput("4006381333931", 3000)], payment="card")  # 3.87
    text = reprint(result.sale_id, config)
    assert text.count("*** COPY ***") == 2
    assert f"Sale #{result.sale_id}" in text and "Card" in text
    assert all(len(line) <= 32 for line in text.splitlines())


def test_command_printer_still_gets_plain_utf8_text(tmp_path):
    import sys

    out = tmp_path / "out.txt"
    script = f"import sys; open({str(out)!r}, 'wb').write(sys.stdin.buffer.read())"
    config = Config(till=TillSection(receipt_printer=f"{sys.executable} -c \"{script}\""))
    assert printer.kind(config) == "command"
    printer.send(config, "Käse\n", kick=True)  # a command printer has no drawer to kick
    assert out.read_bytes() == "Käse\n".encode()


def test_escpos_without_python_escpos_installed_is_a_clear_printer_error(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "escpos", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "escpos.printer", None)
    with pytest.raises(PrinterError, match="python-escpos is not installed"):
        printer.send(_config(tmp_path), "x\n")
