"""The plain-digits fast path of ``parse_scan`` reads every code exactly as the general parser does.

``parse_scan`` decides a code of at most 14 ASCII digits without the general reading (identifiers, URIs, element
strings, add-ons, typed ISBNs); these tests give both the same codes (random digits of every length, right and
wrong check digits, add-ons, leading zeros, ISBNs, scale labels) and require the same ``Scan`` or the same error.
The string-only helpers behind it are checked against biip's own."""

from __future__ import annotations

import pytest
from biip.checksums import gs1_standard_check_digit
from biip.upc import Upc
from hypothesis import example, given, settings
from hypothesis import strategies as st

from shopkeeper import barcodes
from shopkeeper.barcode_settings import BarcodeSettings, VariableMeasureLayout

DE_WEIGHT = VariableMeasureLayout(prefix="28", measure="weight", pattern="PPIIIICVVVVV", decimals=3)
UK_PRICE = VariableMeasureLayout(prefix="20", measure="price", pattern="PPIIIIICVVVV", decimals=2)
LAYOUTS = [None, (DE_WEIGHT, UK_PRICE), BarcodeSettings(in_store_prefix="21", variable_measure=(DE_WEIGHT,),
                                                       strict_check_digits=False)]


def _reading(call):
    """What a parse gives: the Scan, or the error's type and message (and a BadCheckDigit's digits)."""
    try:
        return call()
    except barcodes.BarcodeError as exc:
        return type(exc), str(exc), getattr(exc, "expected", None), getattr(exc, "got", None)


def _same(code: str) -> None:
    for layouts in LAYOUTS:
        for strict in (None, True, False):
            fast = _reading(lambda: barcodes.parse_scan(code, layouts, strict=strict))
            if strict is None:
                strict = layouts.strict_check_digits if isinstance(layouts, BarcodeSettings) else True
            slow = _reading(lambda: barcodes._parse_general(code.strip(), layouts, None, 2, strict, None))
            assert fast == slow, (code, layouts, strict)


def _with_check(payload: str) -> str:
    return payload + str(gs1_standard_check_digit(payload))


digits = st.text(alphabet="0123456789", min_size=1, max_size=20)


@settings(max_examples=400, deadline=None)
@given(digits)
@example("4006381333931")   # EAN-13
@example("036000291452")    # UPC-A, with a UPC-E form
@example("96385074")        # EAN-8
@example("01234565")        # UPC-E
@example("00036000291452")  # GTIN-14 of packaging level 0
@example("9783161484100")   # ISBN-13
@example("316148410X")      # ISBN-10 with an X: the general parser's own
@example("3161484100")      # ISBN-10
@example("2812345015005")   # a scale label of a configured layout
@example("0000000000000")
def test_fast_path_reads_random_digits_as_the_general_parser(code):
    _same(code)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([7, 11, 12, 13]), st.data())
def test_fast_path_agrees_on_gtins_with_right_and_wrong_check_digits(length, data):
    payload = data.draw(st.text(alphabet="0123456789", min_size=length, max_size=length))
    zeros = data.draw(st.integers(0, 14 - length - 1)) if length < 13 else 0
    good = "0" * zeros + _with_check(payload)
    wrong = good[:-1] + str((int(good[-1]) + data.draw(st.integers(1, 9))) % 10)
    addon = data.draw(st.sampled_from(["", "12", "54321"]))
    for code in (good, wrong, good + addon, f" {good} "):
        _same(code)


@pytest.mark.parametrize("code", ["", " ", "١٢٣٤٥٦٧٨", "]E04006381333931", "40063813339311", "4006381333931 12"])
def test_codes_that_are_not_plain_ascii_digits_take_the_general_path(code):
    _same(code)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_check_digit_is_gs1s_on_every_length(payload):
    assert barcodes.check_digit(payload) == str(gs1_standard_check_digit(payload))


@settings(max_examples=500, deadline=None)
@given(st.sampled_from("01"), st.text(alphabet="0123456789", min_size=10, max_size=10),
       st.lists(st.integers(1, 10), max_size=6))
def test_upc_e_suppression_is_biips(system, rest, zeros):
    body = list(system + rest)
    for at in zeros:  # zeros where the suppression conditions look
        body[at] = "0"
    upc_a = _with_check("".join(body))
    try:
        expected = Upc.parse(upc_a).as_upc_e()
    except Exception:  # biip's EncodeError: no UPC-E form
        expected = None
    assert barcodes.compress_upc_a(upc_a) == expected


def test_biip_is_imported_only_by_a_code_that_needs_it():
    """Importing biip takes about a quarter of a second: a process that opens the shop and imports a product list
    of plain GTINs (an import, its check pool's processes) never pays it; an element string still reads."""
    import os
    import subprocess
    import sys

    script = ("import sys\n"
              "from shopkeeper.services.products_csv import parse_products_csv\n"
              "from shopkeeper.barcodes import parse_scan\n"
              "parsed = parse_products_csv(b'sku,name,barcode\\nA,Apple,4006381333931\\nB,Pear,036000291452\\n')\n"
              "assert not parsed.errors and 'biip' not in sys.modules, (parsed.errors, sys.modules.get('biip'))\n"
              "assert parse_scan(']C101095011010209171719050810ABCD1234').lot == 'ABCD1234'\n"
              "assert 'biip' in sys.modules\n")
    subprocess.run([sys.executable, "-c", script], env=os.environ, check=True)
