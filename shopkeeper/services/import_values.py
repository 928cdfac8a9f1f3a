"""Cells as other systems and spreadsheets write them: prices with a currency symbol or code, and barcodes a
spreadsheet turned into numbers. Each reader returns the plain text the product list parser reads, or refuses the
cell saying what happened."""

from __future__ import annotations

import re

from shopkeeper.barcodes import check_digit
from shopkeeper.errors import InvalidInput

SYMBOLS = {
    "EUR": ("€",), "USD": ("$", "US$"), "GBP": ("£",), "CHF": ("Fr.", "SFr."), "JPY": ("¥", "円"),
    "CAD": ("$", "CA$", "C$"), "AUD": ("$", "A$", "AU$"), "NZD": ("$", "NZ$"), "SEK": ("kr",), "NOK": ("kr",),
    "DKK": ("kr.", "kr"), "PLN": ("zł",), "CZK": ("Kč",), "HUF": ("Ft",), "INR": ("₹",), "BRL": ("R$",),
    "ZAR": ("R",), "TRY": ("₺",), "KRW": ("₩",), "CNY": ("¥", "元"), "MXN": ("$", "MX$"),
}
"""Symbols a price in each currency may be written with; a code (``EUR``) is always understood."""
_FOREIGN = {s for symbols in SYMBOLS.values() for s in symbols}
_AMOUNT = re.compile(r"^(?P<pre>[^\d\s.,+-]*)\s*(?P<sign>[+-]?)\s*(?P<pre2>[^\d\s.,+-]*)\s*"
                     r"(?P<num>[\d.,' ]*\d[\d.,' ]*|[.,]\d+)\s*(?P<post>[^\d\s.,]*)$")


def _currency_of(token: str, currency: str | None) -> str | None:
    """The refusal reason for a currency token, or None when it is the shop's currency."""
    if not token:
        return None
    if currency and (token.upper() == currency.upper() or token in SYMBOLS.get(currency.upper(), ())):
        return None
    if token in _FOREIGN or re.fullmatch(r"[A-Za-z]{3}", token):
        return f"written in {token}, but the shop's currency is {currency or 'not set'}"
    return "not a number"


def read_amount(text: str, *, currency: str | None, decimals: int, decimal_comma: bool) -> str:
    """A price or cost cell as a plain decimal (``.`` before the decimals): ``€19.90``, ``$1,299.00``,
    ``19,90 €``, ``EUR 5``. A symbol or code of another currency is refused. With a currency mark or both separators,
    ``,`` and ``.`` are told apart by position (the last one before 1..decimals digits is the decimal point);
    a bare number keeps the file's own rule (a decimal comma in a ``;`` file)."""
    s = text.strip().replace("\u00a0", " ").replace("\u202f", " ")
    match = _AMOUNT.match(s)
    if not match:
        return text.strip()  # the number parser names what is wrong with it
    tokens = [t for t in (match["pre"], match["pre2"], match["post"]) if t]
    for token in tokens:
        reason = _currency_of(token, currency)
        if reason:
            raise InvalidInput(f"{s!r} is {reason}", reason=f"{s!r} is {reason}", value=text)
    num = match["num"].replace(" ", "").replace("'", "")
    marked = bool(tokens)
    if "," in num and "." in num:
        point = max(num.rfind(","), num.rfind("."))
        num = num[:point].replace(",", "").replace(".", "") + "." + num[point + 1:]
    elif marked:
        sep = "," if "," in num else "." if "." in num else ""
        if sep:
            head, _, tail = num.rpartition(sep)
            if num.count(sep) > 1 or (len(tail) == 3 and decimals < 3):
                num = num.replace(sep, "")  # grouping: 1,299 or 1.299.000
            else:
                num = head.replace(sep, "") + "." + tail
    elif decimal_comma and "," in num:
        num = num.replace(",", ".")
    return match["sign"] + _trimmed(num, decimals)


def _trimmed(num: str, decimals: int) -> str:
    """``12.50000`` as ``12.50``: zeros past the shop's decimals, as some systems write every amount (Lightspeed
    X-Series, Odoo), change nothing; other digits there stay, for the parser to refuse."""
    head, point, tail = num.partition(".")
    if point and len(tail) > decimals and not tail[decimals:].strip("0"):
        return head + (point + tail[:decimals] if decimals else "")
    return num


_FLOATED = re.compile(r"^\d+(\.\d+)?[eE][+]?\d+$")
_FLOATED_SKU = re.compile(r"^\d\.\d+E\+\d+$")  # how a spreadsheet shows a long number: a SKU like 1E5 stays
_AS_TEXT = ("format the column as Text in the spreadsheet (or export it from the other system as text) "
            "and export the file again")


def check_sku_cell(text: str) -> None:
    """Refuse a numeric SKU a spreadsheet wrote in scientific notation (``4.00638E+12``): its digits are lost. Any
    other SKU, digits included, stays as written."""
    sku = text.strip()
    if _FLOATED_SKU.match(sku):
        reason = f"{sku} is a number a spreadsheet wrote in scientific notation: its digits are lost; {_AS_TEXT}"
        raise InvalidInput(f"sku {sku!r}: {reason}", field="sku", reason=reason, value=sku)


def check_barcode_cell(text: str) -> None:
    """Refuse a barcode a spreadsheet changed: scientific notation (``3.65275E+11``, digits lost), a number with
    ``.0`` appended, or a UPC-A/EAN-8 whose leading zero was dropped (11 or 7 digits that are a valid code with it)."""
    code = text.strip()
    how = _AS_TEXT.replace("the column", "the barcode column")

    def refuse(reason: str) -> InvalidInput:
        return InvalidInput(f"barcode {code!r}: {reason}", field="barcodes", reason=reason, value=code)

    if _FLOATED.match(code):
        raise refuse(f"{code} is a barcode a spreadsheet turned into a number in scientific notation: its digits "
                     f"are lost; {how}")
    if re.fullmatch(r"\d{6,14}\.0+", code):
        raise refuse(f"{code} is a barcode a spreadsheet turned into a decimal number; {how}")
    if code.isdigit() and len(code) in (7, 11):
        padded = "0" + code
        if check_digit(padded[:-1]) == padded[-1]:
            kind = "UPC-A" if len(code) == 11 else "EAN-8"
            raise refuse(f"{code} looks like the {kind} barcode {padded} with its leading zero lost (a spreadsheet "
                         f"read it as a number); {how}")
