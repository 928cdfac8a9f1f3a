"""Labels the till meets beyond EAN-13: GS1 Digital Link URIs, GS1 element strings in 2D codes, add-ons.

Every expected value comes from a published example, cited at the test.
"""

from __future__ import annotations

import datetime as dt

import pytest

from shopkeeper.barcodes import BarcodeError, addon_price, parse_scan

# GS1 Digital Link examples (GTIN 09521234543213 is GS1's example GTIN), as listed on BWIPP's wiki page
# "GS1 Digital Link URIs" (github.com/bwipp/postscriptbarcode/wiki/GS1-Digital-Link-URIs), after the GS1 Digital
# Link Standard: URI Syntax.
DL_LOT_EXPIRY = "https://id.gs1.org/01/09521234543213/10/ABC123?17=261231"
DL_LOT_SERIAL = "https://id.gs1.org/01/09521234543213/10/ABC123/21/12345"
DL_OWN_DOMAIN = "https://example.com/products/01/09521234543213"
# biip's documentation of GS1 Digital Link URIs (after the GS1 Digital Link standard): a net weight, AI (3103).
DL_WEIGHT = "https://id.gs1.org/01/614141123452?3103=000195"


@pytest.mark.parametrize("prefix", ["", "]Q1", "]d2"])
def test_digital_link_with_lot_and_expiry_with_or_without_symbology_prefix(prefix):
    scan = parse_scan(prefix + DL_LOT_EXPIRY)
    assert (scan.kind, scan.code, scan.lot, scan.expiry) == ("gs1", "9521234543213", "ABC123", dt.date(2026, 12, 31))
    assert "09521234543213" in scan.keys


def test_digital_link_with_serial_and_on_a_brands_own_domain():
    scan = parse_scan(DL_LOT_SERIAL)
    assert (scan.code, scan.lot, scan.serial) == ("9521234543213", "ABC123", "12345")
    assert parse_scan(DL_OWN_DOMAIN).code == "9521234543213"


def test_digital_link_in_upper_case_as_a_qr_code_alphanumeric_mode_carries_it():
    # The BWIPP page: "A scheme of http:// or https://, in lower or upper case".
    scan = parse_scan("]Q1" + DL_LOT_EXPIRY.upper())
    assert (scan.code, scan.lot, scan.expiry) == ("9521234543213", "ABC123", dt.date(2026, 12, 31))


def test_digital_link_weight():
    scan = parse_scan(DL_WEIGHT)
    assert (scan.code, scan.measure, scan.quantity_milli) == ("0614141123452", "weight", 195)


def test_web_address_that_is_no_digital_link_is_refused_with_a_message():
    with pytest.raises(BarcodeError, match="a web address but not a GS1 Digital Link") as err:
        parse_scan("]Q1https://shop.example.com/")
    assert err.value.reason == "not a GS1 Digital Link"


def test_gs1_element_string_with_best_before_and_lot_from_biips_readme():
    # biip's README: "]C1010703206980498815210526100329" is GTIN 07032069804988, best before 2021-05-26, lot 0329.
    scan = parse_scan("]C1010703206980498815210526100329")
    assert (scan.code, scan.best_before, scan.lot) == ("7032069804988", dt.date(2021, 5, 26), "0329")
    assert scan.expiry is None  # best before (15) is quality, not an expiry (17)


# The test vector of the Dart package gs1_barcode_parser (its test "Parse host barcode"):
# ]C1 01 04012345678901 17 150129 10 ABC123 3932 971 4711 3103 000525 ... with FNC1 (GS) after each
# variable-length field, as a scanner sends it. 971 is the ISO 4217 number of the afghani (AFN).
DART_VECTOR = "]C10104012345678901\x1d1715012910ABC123\x1d39329714711\x1d3103000525"


def test_price_with_currency_of_another_country_is_refused_with_a_message():
    with pytest.raises(BarcodeError, match=r"currency 971 \(AFN\), not the shop's EUR") as err:
        parse_scan(DART_VECTOR, currency="EUR")
    assert (err.value.field, err.value.reason, err.value.value) == ("price", "currency", "971")


def test_price_with_currency_is_refused_when_the_shops_currency_is_not_known():
    with pytest.raises(BarcodeError, match="the shop's currency is not known"):
        parse_scan(DART_VECTOR)
    with pytest.raises(BarcodeError, match="the shop's currency XTS has no ISO 4217 number known here"):
        parse_scan(DART_VECTOR, currency="XTS")


def test_price_with_the_shops_currency_is_used():
    scan = parse_scan(DART_VECTOR, currency="AFN")
    assert (scan.code, scan.price_minor, scan.quantity_milli) == ("4012345678901", 4711, 525)
    assert (scan.expiry, scan.lot) == (dt.date(2015, 1, 29), "ABC123")
    # The same amount in euros (978): AI (3932) 978 4711 is EUR 47.11.
    eur = parse_scan("]C10104012345678901\x1d39329784711", currency="EUR")
    assert eur.price_minor == 4711


# "AI with no data at the end": 010950110153000310, from the test suite of the C# Gs1BarcodeParser
# (Gs1BarcodeParser.Tests, BarcodeStringTests). GS1 asks for at least one character of lot.
@pytest.mark.parametrize("code", ["010950110153000310", "]C1010950110153000310", "]d20109501101530003\x1d10"])
def test_empty_lot_at_the_end_is_no_lot_and_the_rest_is_read(code):
    scan = parse_scan(code)
    assert (scan.code, scan.lot) == ("9501101530003", None)


def test_empty_lot_before_the_next_field_is_no_lot_and_the_rest_is_read():
    # Same suite: "AI with no data before next AI" 010950110153000310<FNC1>17251231
    scan = parse_scan("010950110153000310\x1d17251231")
    assert (scan.code, scan.lot, scan.expiry) == ("9501101530003", None, dt.date(2025, 12, 31))


@pytest.mark.parametrize("uri", [
    "https://id.gs1.org/01/09521234543213/10/?17=261231",  # the same empty lot, as a Digital Link path: "/10/"
    "https://id.gs1.org/01/09521234543213/10?17=261231",
    "https://id.gs1.org/01/09521234543213/10/AB%20C/21/12345?17=261231",  # a space: not an AI (10) character
])
def test_digital_link_with_an_empty_or_malformed_lot_sells_its_gtin_without_a_lot(uri):
    # DL_LOT_EXPIRY above (BWIPP's GS1 Digital Link example) with its lot emptied or spoiled: a malformed lot
    # never blocks a sale, in a Digital Link as in an element string; the rest of the URI is still read
    scan = parse_scan("]Q1" + uri)
    assert (scan.code, scan.lot, scan.expiry) == ("9521234543213", None, dt.date(2026, 12, 31))
    assert scan.serial == ("12345" if "/21/" in uri else None)


def test_a_lot_that_is_there_is_still_read_from_the_same_suite():
    # Same suite: "Valid [GTIN, EXPIRY, BATCH]" 01095011015300031725123110ABC-123<FNC1>
    scan = parse_scan("01095011015300031725123110ABC-123\x1d")
    assert (scan.code, scan.expiry, scan.lot) == ("9501101530003", dt.date(2025, 12, 31), "ABC-123")


# ISBN 978-0-306-40615-7 is the example ISBN of Wikipedia's "ISBN" article; its "EAN-5" article reads the add-on
# 52495 as a suggested retail price of US$24.95. ]E3 is ISO/IEC 15424's identifier for EAN-13 with an add-on.
@pytest.mark.parametrize("code", ["]E3978030640615752495", "978030640615752495"])
def test_book_with_a_price_add_on_sells_the_book_and_keeps_the_add_on(code):
    scan = parse_scan(code)
    assert (scan.kind, scan.code, scan.addon) == ("isbn", "9780306406157", "52495")
    assert addon_price(scan) == ("USD", 2495)


def test_magazine_with_a_two_digit_issue_add_on():
    # Wikipedia's "ISSN" article: ISSN 0317-8471 is EAN-13 977-0317-847-00-1; the 2-digit add-on is the issue.
    for code in ("]E3977031784700115", "977031784700115"):
        scan = parse_scan(code)
        assert (scan.code, scan.addon) == ("9770317847001", "15")
        assert addon_price(scan) is None


def test_upc_a_with_a_five_digit_add_on_sent_as_twelve_digits():
    # UPC-A 036000291452 (the UPC-A example of Wikipedia's "Universal Product Code" article) with add-on 51995.
    for code in ("]E303600029145251995", "03600029145251995"):
        scan = parse_scan(code)
        assert (scan.kind, scan.code, scan.addon) == ("gtin", "0036000291452", "51995")


def test_fourteen_digits_stay_a_gtin_14_not_a_upc_a_with_add_on():
    assert parse_scan("10036000291459").code == "10036000291459"


def test_fifteen_digits_that_are_no_ean_13_with_add_on_stay_a_free_code():
    scan = parse_scan("123456789012345")  # the first 13 digits have no valid check digit
    assert (scan.kind, scan.code, scan.addon) == ("free", "123456789012345", None)


def test_no_price_add_on_90000():
    assert addon_price(parse_scan("978030640615790000")) is None
