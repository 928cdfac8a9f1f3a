"""Files that are not CSV text, told by their first bytes, so an import says what the file is and how to save it
as CSV instead of naming a byte that is not UTF-8 (an ``.xlsx`` renamed ``.csv``, Excel's "Unicode Text")."""

from __future__ import annotations

SAVE_AS_CSV = "open it in the spreadsheet and save it as CSV UTF-8 (File › Save As › CSV UTF-8)"

_SIGNATURES = (
    (b"PK\x03\x04", "a spreadsheet workbook (.xlsx or .ods: a zip file), not CSV text"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97–2003 workbook (.xls), not CSV text"),
    (b"\xff\xfe", "UTF-16 text (Excel's \"Unicode Text\"), not UTF-8"),
    (b"\xfe\xff", "UTF-16 text (Excel's \"Unicode Text\"), not UTF-8"),
    (b"%PDF-", "a PDF document, not CSV text"),
)


def not_csv_text(head: bytes) -> str | None:
    """What a file starting with ``head`` is, and how to make it CSV, when it is a kind that is never CSV text."""
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return f"the file is {kind}; {SAVE_AS_CSV}"
    return None
