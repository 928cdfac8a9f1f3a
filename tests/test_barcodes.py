"""Barcodes: GTIN check digits, UPC-E, ISBN, in-store and variable-measure codes, GS1 element strings."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
from biip._config import ParseConfig
from biip.gtin import Gtin
from biip.rcn import Rcn
from hypothesis import given, settings
from hypothesis import strategies as st

from shopkeeper.barcode_settings import BarcodeSettings, VariableMeasureLayout
from shopkeeper.barcodes import (
    BadCheckDigit,
    BarcodeError,
    check_digit,
    compress_upc_a,
    expand_upc_e,
    in_store_ean13,
    lookup_keys,
    next_in_store_ean13,
    normalize,
    parse_scan,
    split_aim,
    validate_gtin,
)
from shopkeeper.errors import ShopError

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


def with_check(payload: str) -> str:
    return payload + check_digit(payload)


# --- check digits -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["4006381333931", "036000291452", "96385074", "00012345600012", "9780306406157"])
def test_known_gtins_validate(code):
    assert validate_gtin(code) == code


def test_wrong_check_digit_is_an_error_that_says_so():
    with pytest.raises(BadCheckDigit) as info:
        validate_gtin("4006381333932")
    assert isinstance(info.value, ShopError)
    assert "check digit" in str(info.value) and "should be 1" in str(info.value)
    assert (info.value.expected, info.value.got) == ("1", "2")


def test_wrong_length_and_letters_are_refused():
    with pytest.raises(BarcodeError, match="11 digits"):
        validate_gtin("12345678901")
    with pytest.raises(BarcodeError, match="only digits"):
        validate_gtin("12345678901A")


@settings(max_examples=200)
@given(st.sampled_from([7, 11, 12, 13]).flatmap(lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n)))
def test_any_payload_with_computed_check_digit_validates(payload):
    assert validate_gtin(with_check(payload)) == with_check(payload)


@settings(max_examples=300)
@given(st.sampled_from([7, 11, 12, 13]).flatmap(lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n)),
       st.data())
def test_any_single_digit_change_is_refused(payload, data):
    code = with_check(payload)
    pos = data.draw(st.integers(0, len(code) - 1))
    new = data.draw(st.sampled_from([d for d in "0123456789" if d != code[pos]]))
    changed = code[:pos] + new + code[pos + 1:]
    with pytest.raises(BadCheckDigit):
        validate_gtin(changed)
    if len(changed) != 8:  # 8 digits may still be a valid UPC-E, which lookup_keys accepts
        with pytest.raises(BadCheckDigit):
            lookup_keys(changed)


# --- lookup keys --------------------------------------------------------------------------------------------

def test_upc_a_is_also_stored_as_ean13_and_gtin14():
    keys = lookup_keys("036000291452")
    assert keys[0] == "0036000291452"
    assert {"036000291452", "00036000291452"} <= set(keys)


def test_ean13_canonical_is_itself():
    assert normalize("4006381333931") == "4006381333931"
    assert normalize(" 4006381333931 ") == "4006381333931"
    assert normalize("04006381333931") == "4006381333931"


def test_gtin14_with_packaging_level_stays_14():
    code = with_check("1400638133393")
    assert normalize(code) == code


def test_free_form_codes_pass_through_unchanged():
    assert lookup_keys("ABC-123") == ["ABC-123"]
    assert lookup_keys("Shelf 4/b") == ["Shelf 4/b"]
    assert lookup_keys("12345") == ["12345"]


def test_not_strict_treats_bad_check_digit_as_free_form():
    assert lookup_keys("4006381333932", strict=False) == ["4006381333932"]
    assert lookup_keys("4006381333932", BarcodeSettings(strict_check_digits=False)) == ["4006381333932"]


def test_empty_code_is_refused():
    with pytest.raises(BarcodeError):
        parse_scan("   ")


# --- UPC-E --------------------------------------------------------------------------------------------------

def test_upc_e_expands():
    assert expand_upc_e("01234565") == "012345000065"
    assert expand_upc_e("0123456") == "012345000065"  # number system + six digits: check digit computed
    assert expand_upc_e("123456") == "012345000065"


def test_upc_e_wrong_check_digit():
    with pytest.raises(BadCheckDigit, match="UPC-E"):
        expand_upc_e("01234566")


def test_eight_digits_keep_upc_e_reading():
    keys = lookup_keys("01234565")
    assert "0012345000065" in keys and "012345000065" in keys


def test_upc_e_scanned_with_aim_prefers_upc_e():
    scan = parse_scan("]E001234565")
    assert scan.code == "0012345000065" and scan.symbology == "UPC-E"


upc_e_bodies = st.tuples(st.sampled_from("01"), st.text(alphabet="0123456789", min_size=6, max_size=6))


@settings(max_examples=300)
@given(upc_e_bodies)
def test_upc_e_expand_then_compress_round_trips(body):
    ns, six = body
    seven = ns + six
    upc_a = expand_upc_e(seven)
    upc_e = seven + upc_a[-1]
    assert compress_upc_a(upc_a) == upc_e or _has_other_upc_e_form(upc_a, upc_e)
    assert expand_upc_e(compress_upc_a(upc_a)) == upc_a


def _has_other_upc_e_form(upc_a: str, upc_e: str) -> bool:
    # Some UPC-A numbers have two UPC-E spellings (e.g. ...X0000... with X in 0-2 vs 3); both expand alike.
    other = compress_upc_a(upc_a)
    return other is not None and expand_upc_e(other) == expand_upc_e(upc_e)


@settings(max_examples=200)
@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_upc_a_compresses_only_when_it_expands_back(payload):
    upc_a = with_check("0" + payload[1:])
    upc_e = compress_upc_a(upc_a)
    if upc_e is not None:
        assert expand_upc_e(upc_e) == upc_a


# --- ISBN ---------------------------------------------------------------------------------------------------

def test_isbn13_is_recognised_and_keyed_with_isbn10():
    scan = parse_scan("9780306406157")
    assert scan.kind == "isbn"
    assert "0306406152" in scan.keys


def test_isbn10_with_x_and_hyphens_becomes_ean13():
    scan = parse_scan("0-8044-2957-X")
    assert scan.kind == "isbn" and scan.code == "9780804429573"
    assert normalize("978-0-306-40615-7") == "9780306406157"


def test_979_isbn_has_no_isbn10_key():
    code = with_check("979100000000")
    scan = parse_scan(code)
    assert scan.kind == "isbn" and all(len(k) != 10 for k in scan.keys)


def test_ten_digits_with_bad_isbn_check_are_free_form():
    assert parse_scan("0306406153").kind == "free"


# --- in-store codes -----------------------------------------------------------------------------------------

def test_in_store_ean13_has_prefix_and_valid_check_digit():
    code = in_store_ean13("20", 42)
    assert code.startswith("20") and len(code) == 13
    assert validate_gtin(code) == code
    assert parse_scan(code).kind == "in_store"


@given(st.sampled_from(["02", "20", "25", "29", "2099"]), st.integers(0, 10**8 - 1), st.integers(0, 10**8 - 1))
def test_in_store_codes_are_unique_and_valid(prefix, a, b):
    ca, cb = in_store_ean13(prefix, a), in_store_ean13(prefix, b)
    validate_gtin(ca)
    assert (ca == cb) == (a == b)


def test_in_store_prefix_must_be_restricted():
    with pytest.raises(BarcodeError, match="02 or 20-29"):
        in_store_ean13("40", 1)
    with pytest.raises(BarcodeError, match="does not fit"):
        in_store_ean13("20", 10**10)


def test_next_in_store_code_follows_the_highest():
    existing = [in_store_ean13("20", 5), in_store_ean13("20", 2), "4006381333931", "ABC", in_store_ean13("21", 99)]
    assert next_in_store_ean13("20", existing) == in_store_ean13("20", 6)
    assert next_in_store_ean13("20", []) == in_store_ean13("20", 0)


# --- variable measure ---------------------------------------------------------------------------------------

DE_WEIGHT = VariableMeasureLayout(prefix="28", measure="weight", pattern="PPIIIICVVVVV", decimals=3)
UK_PRICE = VariableMeasureLayout(prefix="20", measure="price", pattern="PPIIIIICVVVV", decimals=2)
SE_WEIGHT = VariableMeasureLayout(prefix="23", measure="weight", pattern="PPIIIIIIVVVV", decimals=3)
COUNT = VariableMeasureLayout(prefix="25", measure="count", pattern="PPIIIIIIVVVV", decimals=0)
LAYOUTS = [DE_WEIGHT, UK_PRICE, SE_WEIGHT, COUNT]


def make_vm(layout: VariableMeasureLayout, item: str, value: str) -> str:
    from biip.checksums import gs1_price_weight_check_digit

    digits = list(layout.pattern)
    digits[0:2] = layout.prefix
    digits[layout.slice_of("I")] = item
    digits[layout.slice_of("V")] = value
    if layout.slice_of("C"):
        digits[layout.slice_of("C")] = str(gs1_price_weight_check_digit(value))
    return with_check("".join(digits))


def test_weight_label_gives_grams_and_zeroed_lookup_code():
    code = make_vm(DE_WEIGHT, "1234", "01500")
    scan = parse_scan(code, LAYOUTS)
    assert scan.kind == "variable_measure" and scan.measure == "weight"
    assert scan.quantity_milli == 1500 and scan.price_minor is None
    assert scan.item_number == "1234"
    assert scan.code == make_vm(DE_WEIGHT, "1234", "00000")
    assert isinstance(scan.quantity_milli, int)


def test_price_label_gives_minor_units():
    scan = parse_scan(make_vm(UK_PRICE, "12345", "0299"), BarcodeSettings(in_store_prefix="21", variable_measure=tuple(LAYOUTS)))
    assert scan.price_minor == 299 and scan.measure == "price" and isinstance(scan.price_minor, int)


def test_price_in_currency_without_decimals():
    layout = VariableMeasureLayout(prefix="22", measure="price", pattern="PPIIIIIIVVVV", decimals=0)
    assert parse_scan(make_vm(layout, "123456", "0150"), [layout], currency_decimals=0).price_minor == 150
    assert parse_scan(make_vm(layout, "123456", "0150"), [layout], currency_decimals=2).price_minor == 15000


def test_price_with_more_decimals_than_currency_must_be_exact():
    with pytest.raises(BarcodeError, match="without rounding"):
        parse_scan(make_vm(UK_PRICE, "12345", "0299"), [UK_PRICE], currency_decimals=0)


def test_count_label_gives_thousandths_of_pieces():
    assert parse_scan(make_vm(COUNT, "000777", "0006"), LAYOUTS).quantity_milli == 6000


def test_wrong_price_check_digit_is_refused():
    code = make_vm(UK_PRICE, "12345", "0299")
    bad_c = code[:7] + str((int(code[7]) + 1) % 10) + code[8:12]
    bad = with_check(bad_c)
    with pytest.raises(BadCheckDigit, match="price check digit"):
        parse_scan(bad, [UK_PRICE])


def test_restricted_code_without_layout_is_in_store_item():
    code = make_vm(DE_WEIGHT, "1234", "01500")
    assert parse_scan(code).kind == "in_store"


def test_upc_a_price_label_uses_prefix_02():
    layout = VariableMeasureLayout(prefix="02", measure="price", pattern="PPIIIIICVVVV", decimals=2)
    ean = make_vm(layout, "12345", "0499")
    upc_a = ean[1:]
    scan = parse_scan(upc_a, [layout])
    assert scan.price_minor == 499 and scan.item_number == "12345"


@settings(max_examples=200)
@given(st.sampled_from(LAYOUTS), st.data())
def test_variable_measure_round_trips_any_value(layout, data):
    n_item = layout.pattern.count("I")
    n_val = layout.pattern.count("V")
    item = data.draw(st.text(alphabet="0123456789", min_size=n_item, max_size=n_item))
    value = data.draw(st.integers(0, 10**n_val - 1))
    code = make_vm(layout, item, f"{value:0{n_val}d}")
    scan = parse_scan(code, LAYOUTS)
    expected = value * 10 ** (3 - layout.decimals) if layout.measure != "price" else value
    assert (scan.price_minor if layout.measure == "price" else scan.quantity_milli) == expected
    assert scan.item_number == item
    assert scan.code == make_vm(layout, item, "0" * n_val)  # same product whatever the weight
    validate_gtin(scan.code)


# Cross-check against biip's own per-country rules: our configurable layouts must read codes the same way.
BIIP_EQUIVALENT = [("de", DE_WEIGHT), ("gb", UK_PRICE), ("se", SE_WEIGHT)]


@settings(max_examples=150)
@given(st.sampled_from(BIIP_EQUIVALENT), st.data())
def test_layouts_agree_with_biip_regional_rules(region_layout, data):
    region, layout = region_layout
    n_item, n_val = layout.pattern.count("I"), layout.pattern.count("V")
    item = data.draw(st.text(alphabet="0123456789", min_size=n_item, max_size=n_item))
    value = data.draw(st.integers(0, 10**n_val - 1))
    code = make_vm(layout, item, f"{value:0{n_val}d}")
    ours = parse_scan(code, [layout])
    theirs = Gtin.parse(code, config=ParseConfig(rcn_region=region))
    assert isinstance(theirs, Rcn)
    if layout.measure == "price":
        assert theirs.price.scaleb(2) == ours.price_minor
    else:
        assert theirs.weight.scaleb(3) == ours.quantity_milli
    assert theirs.without_variable_measure().value == ours.code


def test_layout_validation():
    with pytest.raises(ValueError, match="restricted"):
        VariableMeasureLayout(prefix="40")
    with pytest.raises(ValueError, match="12 characters"):
        VariableMeasureLayout(pattern="PPIIII")
    with pytest.raises(ValueError, match="contiguous"):
        VariableMeasureLayout(pattern="PPIIVVIIVVVV")
    with pytest.raises(ValueError, match="4 or 5"):
        VariableMeasureLayout(pattern="PPIIIIIICVVV")
    with pytest.raises(ValueError, match="also a variable_measure"):
        BarcodeSettings(in_store_prefix="28", variable_measure=(DE_WEIGHT,))


def test_barcode_settings_load_from_config():
    from shopkeeper.config import parse_config

    cfg = parse_config({"barcodes": {"in_store_prefix": "21", "variable_measure": [
        {"prefix": "28", "measure": "weight", "pattern": "PPIIIICVVVVV", "decimals": 3}]}})
    section = cfg.section("barcodes")
    assert section.variable_measure == (DE_WEIGHT,)
    code = make_vm(DE_WEIGHT, "0042", "00250")
    assert parse_scan(code, section).quantity_milli == 250


# --- AIM identifiers and GS1 element strings ------------------------------------------------------------------

def test_split_aim():
    assert split_aim("]E04006381333931") == ("]E0", "4006381333931")
    assert split_aim("]C1010950110153000310") == ("]C1", "010950110153000310")
    assert split_aim("]xyz") == (None, "]xyz")
    assert split_aim("plain") == (None, "plain")


def test_code128_text_with_aim_is_free_form_even_if_numeric():
    scan = parse_scan("]C04006381333932")  # a Code 128 label: no GTIN check digit applies
    assert scan.kind == "free" and scan.code == "4006381333932" and scan.symbology == "Code 128"


def test_gs1_128_with_weight_lot_and_expiry():
    scan = parse_scan("]C10109501101530003\x1d3103000750" "10ABC123\x1d17250131")
    assert scan.kind == "gs1" and scan.symbology == "GS1-128"
    assert scan.code == "9501101530003"
    assert scan.quantity_milli == 750 and scan.measure == "weight"
    assert scan.lot == "ABC123" and scan.expiry == dt.date(2025, 1, 31)


def test_gs1_element_string_without_aim_is_recognised():
    scan = parse_scan("0109501101530003" "3922" "00450", currency_decimals=2)
    assert scan.kind == "gs1" and scan.price_minor == 450 and scan.code == "9501101530003"


def test_gs1_with_bad_gtin_check_digit_is_refused():
    with pytest.raises(BarcodeError):
        parse_scan("]C10109501101530004")


def test_barcodes_module_never_imports_textual():
    code = "import shopkeeper.barcodes, shopkeeper.scanner.source, shopkeeper.scanner.evdev_source, " \
           "shopkeeper.scanner.replay, shopkeeper.labels, sys; " \
           "bad = [m for m in ('textual', 'peewee', 'evdev') if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_gtin_forms_agree_with_biip_on_every_width():
    """``_gtin_forms`` works on strings alone (it runs on every scan and every imported code); biip's ``Gtin`` is the
    reference for which widths a code has and which is canonical."""
    import random

    from biip.gtin import Gtin, GtinFormat

    from shopkeeper.barcodes import _gtin_forms, _unique, check_digit, compress_upc_a

    def reference(code: str) -> list[str]:
        g = Gtin.parse(code)
        forms = []
        if g.format == GtinFormat.GTIN_8:
            forms.append(g.as_gtin_8())
        if g.format in (GtinFormat.GTIN_8, GtinFormat.GTIN_12, GtinFormat.GTIN_13):
            forms.append(g.as_gtin_13())
        if g.format in (GtinFormat.GTIN_8, GtinFormat.GTIN_12):
            forms.append(g.as_gtin_12())
        forms.append(g.as_gtin_14())
        if g.format == GtinFormat.GTIN_12 and (upc_e := compress_upc_a(g.as_gtin_12())):
            forms.append(upc_e)
        if code not in forms:
            forms.append(code)
        return _unique(forms)

    rng = random.Random(7)
    codes = []
    for width in (8, 12, 13, 14):
        for zeros in range(width - 1):
            for _ in range(6):
                stem = "0" * zeros + "".join(rng.choice("0123456789") for _ in range(width - 1 - zeros))
                codes.append(stem + check_digit(stem))
    codes += ["04006381333931", "00000000000000"[:-1] + "0", "012345678905", "0012345678905", "96385074"]
    for code in codes:
        assert _gtin_forms(code) == reference(code), code
