"""What a scanned or typed code means: GTIN check digits, UPC-E, ISBN, in-store and variable-measure codes.

The rest of the app asks two questions, and never imports ``biip`` itself:

* ``lookup_keys(code)`` — under which strings may this product be stored? A UPC-A ``036000291452`` is the same item
  as EAN-13 ``0036000291452``, GTIN-14 ``00036000291452`` and UPC-E ``03600029145`` compressed; the canonical key
  comes first.
* ``parse_scan(code, layouts)`` — the full reading of one scan: the product lookup code plus, for a scale label or a
  GS1-128 element string, the embedded price (integer minor units) or weight/count (integer thousandths).

Canonical forms: GTIN-12 and GTIN-13 → 13 digits; GTIN-8 → 8 digits; GTIN-14 with packaging level 0 → its 13
digits, otherwise 14; UPC-E → the 13-digit form of its UPC-A expansion; ISBN-10 → its 978 EAN-13. Free-form codes
(Code 128/39 text, internal SKUs) are returned unchanged except for surrounding whitespace.

2D codes: a GS1 Digital Link URI (``https://id.gs1.org/01/09506000134352/10/ABC1?17=270131``, the QR codes of GS1's
"Sunrise 2027") and a GS1 element string (GS1 DataMatrix, GS1-128) are read by biip into the same ``Scan``: GTIN,
weight, price, lot, expiry (and best before), serial. An EAN-13 with a 2- or 5-digit add-on (``]E3`` + 15 or 18 digits, or the bare
digits) is the main item with ``addon`` kept.

A numeric code of GTIN length (8, 12, 13, 14) whose check digit is wrong raises ``BadCheckDigit`` — a mis-read or a
mistyped digit must never sell the wrong item. ``strict=False`` treats such a code as free-form instead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal

from shopkeeper.barcode_settings import RCN_PREFIXES, BarcodeSettings, VariableMeasureLayout
from shopkeeper.errors import InvalidInput


class _Biip:
    """biip's names, imported on first use: importing biip takes about a quarter of a second (its table of GS1
    prefixes), which a plain GTIN (every import row, most scans: the string work below) never needs; every
    process that only opens the shop or imports a product list starts that much sooner."""

    def __getattr__(self, name: str):
        from biip import ParseError
        from biip.checksums import gs1_price_weight_check_digit
        from biip.gs1_digital_link_uris import GS1DigitalLinkURI
        from biip.gs1_messages import GS1Message
        from biip.symbology import SymbologyIdentifier
        from biip.upc import Upc

        self.__dict__.update(ParseError=ParseError, price_check_digit=gs1_price_weight_check_digit,
                             GS1DigitalLinkURI=GS1DigitalLinkURI, GS1Message=GS1Message,
                             SymbologyIdentifier=SymbologyIdentifier, Upc=Upc)
        return self.__dict__[name]


_biip = _Biip()

__all__ = [
    "GS",
    "BadCheckDigit",
    "BarcodeError",
    "Scan",
    "addon_price",
    "check_digit",
    "compress_upc_a",
    "expand_upc_e",
    "in_store_ean13",
    "is_restricted",
    "lookup_keys",
    "next_in_store_ean13",
    "normalize",
    "parse_scan",
    "split_aim",
    "symbology_name",
    "validate_gtin",
]

GS = "\x1d"
"""ASCII group separator: a scanner sends it for GS1 FNC1 between variable-length fields."""

ScanKind = Literal["gtin", "isbn", "in_store", "variable_measure", "gs1", "free"]


class BarcodeError(InvalidInput):
    """A code that cannot be read as what it claims to be."""


class BadCheckDigit(BarcodeError):
    """The check digit of a GTIN (or of the price/weight in a scale label) does not match the digits before it."""

    def __init__(self, message: str, *, code: str, expected: str, got: str) -> None:
        super().__init__(message)
        self.code = code
        self.expected = expected
        self.got = got


# --- AIM symbology identifiers ------------------------------------------------------------------------------

_AIM_NAMES = {
    "A": "Code 39", "C": "Code 128", "d": "Data Matrix", "E": "EAN/UPC", "e": "GS1 DataBar", "F": "Codabar",
    "G": "Code 93", "I": "ITF", "L": "PDF417", "Q": "QR Code", "z": "Aztec", "J": "DotCode",
}
_AIM_EXACT = {
    "]E0": "EAN-13", "]E3": "EAN-13", "]E4": "EAN-8", "]C1": "GS1-128", "]I1": "ITF-14", "]d2": "GS1 DataMatrix",
    "]Q3": "GS1 QR Code", "]e0": "GS1 DataBar", "]J1": "GS1 DotCode",
}
_GS1_AIMS = frozenset({"]C1", "]d2", "]Q3", "]e0", "]e1", "]e2", "]J1"})
_GTIN_AIMS = frozenset({"]E0", "]E3", "]E4", "]I1"})
_GS1_NAMES = frozenset(_AIM_EXACT[a] for a in _GS1_AIMS if a in _AIM_EXACT)
_AIM_RE = re.compile(r"^\][A-Za-z][0-9A-Za-z]")


def split_aim(code: str) -> tuple[str | None, str]:
    """``"]E04006381333931"`` → ``("]E0", "4006381333931")``; no identifier → ``(None, code)``.

    Only a ``]`` followed by a known ISO/IEC 15424 code character counts, so a free-form code that happens to start
    with ``]`` is left alone.
    """
    if not _AIM_RE.match(code):
        return None, code
    try:
        ident = _biip.SymbologyIdentifier.extract(code)
    except (_biip.ParseError, ValueError, IndexError):
        return None, code
    return ident.value, code[len(ident.value):]


def symbology_name(aim: str | None) -> str | None:
    """A readable name for an AIM identifier: ``"]E0"`` → ``"EAN-13"``, ``"]C0"`` → ``"Code 128"``."""
    if not aim:
        return None
    return _AIM_EXACT.get(aim) or _AIM_NAMES.get(aim[1:2], aim)


# --- check digits, GTIN, UPC-E --------------------------------------------------------------------------------

def check_digit(payload: str) -> str:
    """The GS1 mod-10 check digit for ``payload`` (all digits but the last of a GTIN)."""
    if not payload.isdigit() or not payload.isascii():
        raise BarcodeError(f"{payload!r}: a check digit needs digits only")
    return _check_digit(payload)


def _check_digit(payload: str) -> str:
    """``check_digit`` of ASCII digits, without the check: weights 3, 1, 3, … from the right, summed over the
    bytes (ASCII ``0`` is 48). ``tests/test_barcodes_fast.py`` checks it against biip's on every length."""
    raw = payload.encode()
    odd, even = raw[-1::-2], raw[-2::-2]
    total = 3 * (sum(odd) - 48 * len(odd)) + sum(even) - 48 * len(even)
    return _DIGIT[-total % 10]


_DIGIT = "0123456789"


_GTIN_NAMES = {8: "EAN-8", 12: "UPC-A", 13: "EAN-13", 14: "GTIN-14"}


def _digits(code: str) -> bool:
    return code.isascii() and code.isdigit()


def validate_gtin(code: str) -> str:
    """Return ``code`` (stripped) if it is a GTIN-8/12/13/14 with a correct check digit.

    Raises ``BadCheckDigit`` naming the digit it should have been, or ``BarcodeError`` for a wrong length or a
    non-digit.
    """
    code = code.strip()
    if not _digits(code):
        raise BarcodeError(f"{code!r} is not a GTIN: only digits are allowed")
    if len(code) not in _GTIN_NAMES:
        raise BarcodeError(f"{code!r} is not a GTIN: it has {len(code)} digits, a GTIN has 8, 12, 13 or 14")
    expected = _check_digit(code[:-1])
    if code[-1] != expected:
        raise BadCheckDigit(
            f"wrong check digit in {_GTIN_NAMES[len(code)]} {code}: the last digit should be {expected}, "
            f"not {code[-1]} (a mis-scan or a typing error)",
            code=code, expected=expected, got=code[-1])
    return code


def expand_upc_e(code: str) -> str:
    """Expand a UPC-E code to its 12-digit UPC-A.

    Accepts 8 digits (number system 0/1, six digits, check digit — the check digit is verified), 7 digits (number
    system + six digits) or 6 digits (number system 0 implied); the check digit is computed for the shorter forms.
    """
    code = code.strip()
    try:
        return _biip.Upc.parse(code).as_upc_a()
    except _biip.ParseError as exc:
        msg = str(exc)
        if "check digit" in msg and len(code) == 8:
            expected = str(_biip.Upc.parse(code[:7]).check_digit)
            raise BadCheckDigit(
                f"wrong check digit in UPC-E {code}: the last digit should be {expected}, not {code[-1]}",
                code=code, expected=expected, got=code[-1]) from None
        raise BarcodeError(f"{code!r} is not a UPC-E code: {_plain(msg)}") from None


def compress_upc_a(code: str) -> str | None:
    """The 8-digit UPC-E form of a UPC-A code, or None when the UPC-A has no UPC-E form."""
    code = validate_gtin(code)
    if len(code) != 12 or code[0] not in "01":
        return None
    return _suppressed(code)


def _suppressed(upc_a: str) -> str | None:
    """The UPC-E of a valid UPC-A of number system 0 or 1 by GS1's zero-suppression conditions A to D (General
    Specifications 5.2.2.4.1, in biip's order), or None. String slices only: every 12-digit scan and import row
    asks; ``tests/test_barcodes_fast.py`` checks it against biip's ``Upc.as_upc_e``."""
    v = upc_a
    if v[10] >= "5" and v[6:10] == "0000" and v[5] != "0":
        return f"{v[:6]}{v[10]}{v[11]}"
    if v[5:10] == "00000" and v[4] != "0":
        return f"{v[:5]}{v[10]}4{v[11]}"
    if v[4:8] == "0000" and v[3] <= "2":
        return f"{v[:3]}{v[8:11]}{v[3]}{v[11]}"
    if v[4:9] == "00000":  # v[3] is 3-9 here
        return f"{v[:4]}{v[9:11]}3{v[11]}"
    return None


def _plain(biip_message: str) -> str:
    return biip_message.split(": ", 1)[-1]


def _significant(code: str) -> str:
    """A valid GTIN without the leading zeros that are not part of it, as GS1 (and biip) count them: up to three
    zeros are kept before a GTIN-12, all zeros up to eight digits before a GTIN-8."""
    if len(code) in (12, 13, 14) and len(code.lstrip("0")) in (9, 10, 11, 12):
        return code[len(code) - 12:]
    if len(code) >= 8 and len(code.lstrip("0")) <= 8:
        return code[len(code) - 8:]
    return code.lstrip("0")


def _gtin_forms(code: str) -> list[str]:
    """Every GTIN width this valid GTIN can be written in, canonical first (see module docstring).

    String work only, the hot path of every scan and import row; ``tests/test_barcodes.py`` checks it against biip's
    ``Gtin`` on every width."""
    value = _significant(code)
    width = len(value)
    forms: list[str] = []
    if width == 8:
        forms.append(value)
    if width in (8, 12, 13):
        forms.append(value.zfill(13))
    if width in (8, 12):
        forms.append(value.zfill(12))
    forms.append(value.zfill(14))
    if width == 12 and value[0] in "01":
        upc_e = _suppressed(value)
        if upc_e:
            forms.append(upc_e)
    if code not in forms:
        forms.append(code)
    return _unique(forms)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --- ISBN ---------------------------------------------------------------------------------------------------

def _isbn10_check(nine: str) -> str:
    total = sum((10 - i) * int(d) for i, d in enumerate(nine))
    c = (11 - total % 11) % 11
    return "X" if c == 10 else str(c)


def _isbn10_to_13(isbn10: str) -> str:
    payload = "978" + isbn10[:9]
    return payload + check_digit(payload)


def _isbn13_to_10(ean: str) -> str | None:
    if not ean.startswith("978"):
        return None  # 979 ISBNs have no ISBN-10 form
    nine = ean[3:12]
    return nine + _isbn10_check(nine)


_ISBN_TYPED = re.compile(r"^\d[\d -]*[\dXx]$")


def _clean_typed(code: str) -> str:
    """Drop the hyphens and spaces of a typed ISBN/GTIN (``978-3-16-148410-0``); anything else stays as it is."""
    if ("-" in code or " " in code) and _ISBN_TYPED.match(code):
        squeezed = code.replace("-", "").replace(" ", "").upper()
        if len(squeezed) in (8, 10, 12, 13, 14):
            return squeezed
    return code


def _as_isbn10(code: str) -> str | None:
    """``code`` as a valid ISBN-10 (digits, last may be X), or None."""
    if len(code) == 10 and _digits(code[:9]) and (code[9].isdigit() or code[9] in "Xx"):
        if _isbn10_check(code[:9]) == code[9].upper():
            return code[:9] + code[9].upper()
    return None


# --- in-store codes -----------------------------------------------------------------------------------------

def is_restricted(gtin13: str) -> bool:
    """True for a 13-digit code whose prefix (02, 20–29) marks a GS1 restricted-circulation (in-store) number."""
    return len(gtin13) == 13 and gtin13[:2] in RCN_PREFIXES


def in_store_ean13(prefix: str, n: int) -> str:
    """The ``n``-th in-store EAN-13 under ``prefix`` (e.g. ``"20"``, or a longer one like ``"2099"``).

    The digits after the prefix hold ``n`` zero-padded, then the check digit: distinct ``n`` give distinct codes.
    """
    if not _digits(prefix) or not 2 <= len(prefix) <= 11 or prefix[:2] not in RCN_PREFIXES:
        raise BarcodeError(f"in-store prefix {prefix!r} must be digits starting with 02 or 20-29 (2 to 11 digits)")
    room = 12 - len(prefix)
    if not 0 <= n < 10**room:
        raise BarcodeError(f"in-store number {n} does not fit in {room} digits after prefix {prefix}")
    payload = f"{prefix}{n:0{room}d}"
    return payload + check_digit(payload)


def next_in_store_ean13(prefix: str, existing: Iterable[str]) -> str:
    """The in-store EAN-13 after the highest one under ``prefix`` among ``existing`` codes (others are ignored).

    The caller must hold the write lock while choosing and storing it, so two processes cannot pick the same one.
    """
    room = 12 - len(prefix)
    highest = -1
    for code in existing:
        if code and len(code) == 13 and code.startswith(prefix) and _digits(code):
            highest = max(highest, int(code[len(prefix):12]))
    return in_store_ean13(prefix, highest + 1 if highest + 1 < 10**room else _first_gap(prefix, existing))


def _first_gap(prefix: str, existing: Iterable[str]) -> int:
    used = {int(c[len(prefix):12]) for c in existing if c and len(c) == 13 and c.startswith(prefix) and _digits(c)}
    n = 0
    while n in used:
        n += 1
    return n


# --- the scan -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scan:
    """One code read by a scanner or typed, interpreted.

    ``code`` is what to look the product up by: the canonical GTIN, the free-form text, or — for a variable-measure
    scale label — the same EAN-13 with the value digits (and value check digit) zeroed and the EAN check digit
    recomputed, e.g. ``2812345015005`` (1.500 kg of item 12345) → ``2812345000000``-style code. Store the product's
    barcode in that zeroed form. ``item_number`` holds the item digits alone for shops that prefer PLU lookups.
    """

    raw: str
    # The code as received, AIM identifier removed.
    kind: ScanKind
    code: str
    keys: tuple[str, ...] = ()
    # Every string the product may be stored under, ``code`` first.
    symbology: str | None = None
    # "EAN-13", "UPC-A", "UPC-E", "EAN-8", "GTIN-14", "GS1-128", "Code 128"… when known.
    item_number: str | None = None
    measure: Literal["price", "weight", "count"] | None = None
    price_minor: int | None = None
    # Embedded price in integer minor units of the shop currency.
    quantity_milli: int | None = None
    # Embedded weight in thousandths of a kg (grams), or count in thousandths of a piece.
    lot: str | None = None
    # Batch or lot number, AI (10).
    expiry: dt.date | None = None
    # Expiration date, AI (17): after it the item must not be sold without a second look.
    best_before: dt.date | None = None
    # Best before date, AI (15): quality, not safety; shown, never a warning.
    serial: str | None = None
    # Serial number, AI (21).
    addon: str | None = None
    # The 2- or 5-digit add-on of an EAN-13/UPC-A (a magazine's issue, a book's price), kept beside the main item.
    extra: dict[str, str] = field(default_factory=dict, compare=False)
    # Other GS1 application identifiers, AI → raw value.


Layouts = Sequence[VariableMeasureLayout] | BarcodeSettings | None


def _layouts(layouts: Layouts) -> dict[str, VariableMeasureLayout]:
    if layouts is None:
        return {}
    if isinstance(layouts, BarcodeSettings):
        layouts = layouts.variable_measure
    return {layout.prefix: layout for layout in layouts}


def normalize(code: str, layouts: Layouts = None, *, strict: bool | None = None) -> str:
    """The canonical key of ``code`` (the first of ``lookup_keys``): how to store a product's barcode."""
    return lookup_keys(code, layouts, strict=strict)[0]


def lookup_keys(code: str, layouts: Layouts = None, *, strict: bool | None = None) -> list[str]:
    """The strings under which a scanned or typed ``code`` may be stored, canonical first.

    Raises ``BadCheckDigit`` for a GTIN-length numeric code with a wrong check digit (unless ``strict=False``, or
    ``strict`` is None and ``layouts`` is a ``BarcodeSettings`` with ``strict_check_digits = false``).
    """
    return list(parse_scan(code, layouts, strict=strict).keys)


def parse_scan(code: str, layouts: Layouts = None, *, symbology: str | None = None, currency_decimals: int = 2,
               strict: bool | None = None, currency: str | None = None) -> Scan:
    """Interpret one scanned/typed code.

    ``layouts``: the configured variable-measure layouts (or the whole ``BarcodeSettings``). ``symbology``: a name
    from the scanner (``ScanEvent.symbology``) or None; a leading AIM identifier in ``code`` is also honoured.
    ``currency_decimals``: decimals of the shop currency, to turn an embedded price into minor units.
    ``currency``: the shop's currency (ISO 4217, ``"EUR"``); a price with its own currency, AI (393n), is used only
    when it is this one, and refused otherwise (or when the shop's currency is not known).
    """
    if strict is None:
        strict = layouts.strict_check_digits if isinstance(layouts, BarcodeSettings) else True
    text = code.strip()
    if symbology is None and len(text) <= 14 and text.isdigit() and text.isascii():
        # The common case (a product code typed, scanned without an identifier, or in an import): plain digits too
        # short for an add-on or an element string, so none of the general reading below applies to them.
        return _numeric(text, None, None, layouts, strict, currency_decimals)
    return _parse_general(text, layouts, symbology, currency_decimals, strict, currency)


def _parse_general(text: str, layouts: Layouts, symbology: str | None, currency_decimals: int, strict: bool,
                   currency: str | None) -> Scan:
    """``parse_scan`` of any code (``text`` stripped): identifiers, URIs, element strings, add-ons, typed ISBNs."""
    if not text:
        raise BarcodeError("empty code")
    aim, text = split_aim(text)
    if aim is not None:
        symbology = symbology_name(aim)
    if _URI.match(text):
        return _parse_digital_link(text, symbology, currency_decimals, currency)
    gs1_aim = aim in _GS1_AIMS or symbology in _GS1_NAMES
    free_aim = (aim is not None and aim not in _GS1_AIMS and aim not in _GTIN_AIMS)

    if gs1_aim or GS in text or _looks_like_element_string(text):
        scan = _parse_gs1(text, symbology, currency_decimals, strict=strict or gs1_aim, currency=currency)
        if scan is not None:
            return scan
    split = _split_addon(text, aim)
    if split is not None:
        main, addon = split
        scan = parse_scan(main, layouts, symbology=_GTIN_NAMES[len(main)], currency_decimals=currency_decimals,
                          strict=strict, currency=currency)
        return replace(scan, raw=text, addon=addon)
    if free_aim:
        return _free(text, symbology)

    text = _clean_typed(text)
    if _digits(text):
        return _numeric(text, aim, symbology, layouts, strict, currency_decimals)
    if _as_isbn10(text):  # its check digit an X
        return _isbn10(text, symbology)
    return _free(text, symbology)


def _isbn10(text: str, symbology: str | None) -> Scan:
    isbn10 = text[:9] + text[9].upper()
    ean = _isbn10_to_13(isbn10)
    return Scan(raw=text, kind="isbn", code=ean, keys=tuple(_unique([ean, isbn10, *_gtin_forms(ean)])),
                symbology=symbology)


def _numeric(text: str, aim: str | None, symbology: str | None, layouts: Layouts, strict: bool,
             currency_decimals: int) -> Scan:
    """A code of ASCII digits only (after any AIM identifier, add-on, element string was dealt with)."""
    n = len(text)
    if n == 10 and _as_isbn10(text):
        return _isbn10(text, symbology)
    if n in (6, 7) and aim == "]E0":
        return _upc_e(text, symbology)
    if n == 8:
        return _eight_digits(text, symbology, strict)
    if n not in (12, 13, 14):
        return _free(text, symbology)
    try:
        validate_gtin(text)
    except BadCheckDigit:
        if strict:
            raise
        return _free(text, symbology)
    forms = _gtin_forms(text)
    canonical = forms[0]
    symbology = symbology or _GTIN_NAMES[n]
    if len(canonical) == 13 and canonical.startswith(("978", "979")):
        isbn = _isbn13_to_10(canonical)
        keys = forms + ([isbn] if isbn else [])
        return Scan(raw=text, kind="isbn", code=canonical, keys=tuple(keys), symbology=symbology)
    if len(canonical) == 13 and is_restricted(canonical):
        layout = _layouts(layouts).get(canonical[:2])
        if layout is not None:
            return _variable_measure(text, canonical, layout, symbology, currency_decimals)
        return Scan(raw=text, kind="in_store", code=canonical, keys=tuple(forms), symbology=symbology,
                    item_number=canonical[2:12])
    return Scan(raw=text, kind="gtin", code=canonical, keys=tuple(forms), symbology=symbology)


def _split_addon(text: str, aim: str | None) -> tuple[str, str] | None:
    """``(main, add-on)`` of an EAN-13 or UPC-A read with its 2- or 5-digit add-on, else None.

    With ``]E3`` (ISO/IEC 15424: EAN/UPC with add-on) the main code is 13 digits (12 when the scanner sends UPC-A
    as 12). Without an identifier, 15 or 18 digits whose first 13 hold an EAN-13 check digit, or 17 whose first 12
    hold a UPC-A one (14 digits stay a GTIN-14)."""
    if not _digits(text) or aim not in ("]E3", None):
        return None
    for main_len in (13, 12):
        main, addon = text[:main_len], text[main_len:]
        if len(addon) not in (2, 5) or (aim is None and (main_len, len(addon)) == (12, 2)):
            continue
        if check_digit(main[:-1]) == main[-1] or aim == "]E3":
            return main, addon
    return None


def _free(text: str, symbology: str | None) -> Scan:
    return Scan(raw=text, kind="free", code=text, keys=(text,), symbology=symbology)


def _upc_e(text: str, symbology: str | None) -> Scan:
    upc_a = expand_upc_e(text)
    forms = _gtin_forms(upc_a)
    upc_e8 = _biip.Upc.parse(text).as_upc_e()
    return Scan(raw=text, kind="gtin", code=forms[0], keys=tuple(_unique([*forms, upc_e8])), symbology="UPC-E")


def _eight_digits(text: str, symbology: str | None, strict: bool) -> Scan:
    """8 digits are an EAN-8 or a UPC-E (number system 0/1): keep every reading whose check digit holds."""
    ean8_ok = check_digit(text[:7]) == text[7]
    upc_e_ok = False
    upc_e_keys: list[str] = []
    if text[0] in "01":
        try:
            upc_e_keys = _gtin_forms(expand_upc_e(text))
            upc_e_ok = True
        except BarcodeError:
            pass
    prefer_upc_e = symbology == "EAN-13" or symbology == "UPC-E"  # ]E0 carries UPC-E; ]E4 is EAN-8
    if ean8_ok and not (prefer_upc_e and upc_e_ok):
        return Scan(raw=text, kind="gtin", code=text, keys=tuple(_unique([*_gtin_forms(text), *upc_e_keys])),
                    symbology=symbology or "EAN-8")
    if upc_e_ok:
        return Scan(raw=text, kind="gtin", code=upc_e_keys[0], keys=tuple(_unique([*upc_e_keys, text])),
                    symbology="UPC-E")
    if not strict:
        return _free(text, symbology)
    expected = check_digit(text[:7])
    raise BadCheckDigit(
        f"wrong check digit in EAN-8 {text}: the last digit should be {expected}, not {text[7]}"
        + (" (nor is it a valid UPC-E)" if text[0] in "01" else ""),
        code=text, expected=expected, got=text[7])


def _scale(value: int, decimals: int, target: int, what: str, code: str) -> int:
    """``value`` with ``decimals`` decimal places → integer with ``target`` places; refuses to round."""
    if target >= decimals:
        return value * 10 ** (target - decimals)
    factor = 10 ** (decimals - target)
    if value % factor:
        raise BarcodeError(f"{code}: the {what} {value} (with {decimals} decimals) cannot be represented with "
                           f"{target} decimals without rounding")
    return value // factor


def _variable_measure(raw: str, ean: str, layout: VariableMeasureLayout, symbology: str | None,
                      currency_decimals: int) -> Scan:
    vs = layout.slice_of("V")
    cs = layout.slice_of("C")
    its = layout.slice_of("I")
    assert vs is not None and its is not None  # VariableMeasureLayout.__post_init__ guarantees both
    value_digits = ean[vs]
    label = f" ({layout.name})" if layout.name else ""
    if cs is not None:
        expected = str(_biip.price_check_digit(value_digits))
        if ean[cs] != expected:
            raise BadCheckDigit(
                f"wrong {layout.measure} check digit in {ean}{label}: the digit at position {cs.start + 1} should "
                f"be {expected}, not {ean[cs]}", code=ean, expected=expected, got=ean[cs])
    for i, ch in enumerate(layout.pattern):
        if ch == "0" and ean[i] != "0":
            raise BarcodeError(f"{ean}{label}: digit {i + 1} should be 0 in this layout ({layout.pattern})")
    value = int(value_digits)
    zero = list(ean[:12])
    zero[vs] = "0" * (vs.stop - vs.start)
    if cs is not None:
        zero[cs] = str(_biip.price_check_digit("0" * (vs.stop - vs.start)))
    payload = "".join(zero)
    lookup = payload + check_digit(payload)
    price = qty = None
    if layout.measure == "price":
        price = _scale(value, layout.decimals, currency_decimals, "price", ean)
    else:
        qty = _scale(value, layout.decimals, 3, layout.measure, ean)
    return Scan(raw=raw, kind="variable_measure", code=lookup, keys=(lookup, ean[:2] + ean[its]),
                symbology=symbology, item_number=ean[its], measure=layout.measure, price_minor=price,
                quantity_milli=qty)


# --- GS1 element strings (GS1-128, GS1 DataMatrix …) --------------------------------------------------------

_ELEMENT_START = re.compile(r"^(01|02)\d{14}(?:\d|$)")


def _looks_like_element_string(text: str) -> bool:
    return len(text) > 16 and bool(_ELEMENT_START.match(text))


def _decimal_to_int(value: Decimal, places: int, what: str, code: str) -> int:
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise BarcodeError(f"{code!r}: the {what} {value} has more than {places} decimal places")
    return int(scaled)


def _parse_gs1(text: str, symbology: str | None, currency_decimals: int, *, strict: bool,
               currency: str | None = None) -> Scan | None:
    """Read a GS1 element string; None when it is not one (and ``strict`` is off).

    An empty AI (10) — ``…10`` at the very end, or ``…10<GS>`` before the next field (GS1 asks for at least one
    character, yet such codes are printed) — is read as no lot, with the rest of the string used: a malformed lot
    never blocks a sale.
    """
    try:
        message = _biip.GS1Message.parse(text)
    except _biip.ParseError as exc:
        message = _without_empty_lot(text)
        if message is None:
            if strict:
                raise BarcodeError(f"{text!r} is not a valid GS1 element string: {_plain(str(exc))}") from None
            return None
    return _from_element_strings(message.element_strings, text, symbology or "GS1-128", currency_decimals, currency)


def _without_empty_lot(text: str):
    """The message read without its empty AI (10) fields, when they are what made it unreadable; else None.

    A field between separators that cannot be read, but can once a trailing ``10`` is dropped, ends with an empty
    lot: nothing else can be read that way."""
    segments = text.split(GS)
    changed = False
    for i, segment in enumerate(segments):
        if segment == "10" and i > 0:  # "…<GS>10": the lot alone after a separator, and empty
            segments[i], changed = "", True
        elif segment.endswith("10") and len(segment) > 2 and not _readable(segment) and _readable(segment[:-2]):
            segments[i], changed = segment[:-2], True
    if not changed:
        return None
    try:
        return _biip.GS1Message.parse(GS.join(s for s in segments if s))
    except _biip.ParseError:
        return None


def _readable(element_string: str) -> bool:
    try:
        _biip.GS1Message.parse(element_string)
    except _biip.ParseError:
        return False
    return True


_URI = re.compile(r"^https?://", re.IGNORECASE)


def _parse_digital_link(text: str, symbology: str | None, currency_decimals: int, currency: str | None) -> Scan:
    """A GS1 Digital Link URI (a QR code or DataMatrix with a web address holding GS1 keys)."""
    try:
        uri = _biip.GS1DigitalLinkURI.parse(text)
    except _biip.ParseError as exc:
        uri = _without_bad_lot(text)
        if uri is None:
            raise BarcodeError(f"{text!r} is a web address but not a GS1 Digital Link the till can sell from: "
                               f"{_plain(str(exc))}", field="code", reason="not a GS1 Digital Link") from None
    return _from_element_strings(uri.element_strings, text, symbology or "GS1 Digital Link", currency_decimals,
                                 currency)


_DL_LOT = re.compile(r"/10(?:/[^/?#]*)?(?=[/?#]|$)")


def _without_bad_lot(text: str):
    """The Digital Link read without its lot (``/10/…`` in the path), when an empty or malformed lot is what made
    it unreadable; else None. As in an element string (``_without_empty_lot``), a bad lot never blocks a sale."""
    key = text.find("/01/")  # the lot qualifies the GTIN: it follows it
    match = _DL_LOT.search(text, key + 4) if key >= 0 else None
    if match is None:
        return None
    try:
        return _biip.GS1DigitalLinkURI.parse(text[:match.start()] + text[match.end():])
    except _biip.ParseError:
        return None


# ISO 4217 numeric codes of the currencies a shop is likely to keep (AI 393n carries the numeric one).
ISO_4217_NUMERIC = {
    "036": "AUD", "124": "CAD", "152": "CLP", "156": "CNY", "170": "COP", "203": "CZK", "208": "DKK", "344": "HKD",
    "348": "HUF", "352": "ISK", "356": "INR", "360": "IDR", "376": "ILS", "392": "JPY", "404": "KES", "410": "KRW",
    "458": "MYR", "484": "MXN", "504": "MAD", "554": "NZD", "566": "NGN", "578": "NOK", "604": "PEN", "608": "PHP",
    "643": "RUB", "682": "SAR", "702": "SGD", "704": "VND", "710": "ZAR", "752": "SEK", "756": "CHF", "764": "THB",
    "784": "AED", "818": "EGP", "826": "GBP", "840": "USD", "901": "TWD", "941": "RSD", "946": "RON", "949": "TRY",
    "971": "AFN", "975": "BGN", "978": "EUR", "980": "UAH", "985": "PLN", "986": "BRL", "032": "ARS",
}


def _priced_in(es, text: str, currency: str | None) -> None:
    """Refuse an AI (393n) price whose currency is not the shop's."""
    numeric = es.pattern_groups[0]
    theirs = ISO_4217_NUMERIC.get(numeric)
    named = f"{numeric} ({theirs})" if theirs else numeric
    if currency is None:
        raise BarcodeError(f"{text!r}: the price on this label is in currency {named}, and the shop's currency is "
                           f"not known here; the label's price is not used", field="price", reason="currency",
                           value=numeric)
    if currency.strip().upper() not in ISO_4217_NUMERIC.values():
        raise BarcodeError(f"{text!r}: the price on this label is in currency {named}, and the shop's currency "
                           f"{currency} has no ISO 4217 number known here to compare; the label's price is not used",
                           field="price", reason="currency", value=numeric)
    if theirs != currency.strip().upper():
        raise BarcodeError(f"{text!r}: the price on this label is in currency {named}, not the shop's "
                           f"{currency}; it cannot be sold at that price", field="price", reason="currency",
                           value=numeric)


def _from_element_strings(element_strings, text: str, symbology: str, currency_decimals: int,
                          currency: str | None) -> Scan:
    gtin = price = qty = None
    measure: Literal["price", "weight", "count"] | None = None
    lot = expiry = best_before = serial = None
    extra: dict[str, str] = {}
    for es in element_strings:
        ai = es.ai.ai
        if ai in ("01", "02") and es.gtin is None:
            raise BarcodeError(f"{text!r}: AI ({ai}) does not hold a valid GTIN: {_plain(es.gtin_error or '')}")
        if ai in ("01", "02") and gtin is None:
            gtin = es.gtin.value
        elif ai.startswith("310") and es.decimal is not None:
            measure, qty = "weight", _decimal_to_int(es.decimal, 3, "net weight", text)
        elif ai == "30" or ai == "37":
            if qty is None:
                measure, qty = "count", int(es.value) * 1000
        elif ai[:3] in ("392", "393") and es.decimal is not None:
            if ai.startswith("393"):
                _priced_in(es, text, currency)
            price = _decimal_to_int(es.decimal, currency_decimals, "amount", text)
            measure = measure or "price"
        elif ai == "10":
            lot = es.value or None
        elif ai == "21":
            serial = es.value
        elif ai == "17" and es.date is not None:
            expiry = es.date
        elif ai == "15" and es.date is not None:
            best_before = es.date
        else:
            extra[ai] = es.value
    if gtin is None:
        return Scan(raw=text, kind="gs1", code=text, keys=(text,), symbology=symbology, measure=measure,
                    price_minor=price, quantity_milli=qty, lot=lot, expiry=expiry, best_before=best_before,
                serial=serial, extra=extra)
    forms = _gtin_forms(gtin)
    return Scan(raw=text, kind="gs1", code=forms[0], keys=tuple(forms), symbology=symbology, measure=measure,
                price_minor=price, quantity_milli=qty, lot=lot, expiry=expiry, best_before=best_before,
                serial=serial, extra=extra)


# --- add-ons ------------------------------------------------------------------------------------------------

# A book's 5-digit add-on (the "Bookland" convention of the ISBN agencies): the first digit names the currency of the
# suggested retail price, the other four are the price in cents/pence; 9xxxx carry no price.
_ADDON_CURRENCY = {"0": "GBP", "1": "GBP", "3": "AUD", "4": "NZD", "5": "USD", "6": "CAD"}


def addon_price(scan: Scan) -> tuple[str, int] | None:
    """The suggested retail price a book's 5-digit add-on carries: ``("USD", 2495)`` for ``52495``; else None."""
    if scan.kind != "isbn" or not scan.addon or len(scan.addon) != 5:
        return None
    cur = _ADDON_CURRENCY.get(scan.addon[0])
    if cur is None:
        return None
    return cur, int(scan.addon[1:])
