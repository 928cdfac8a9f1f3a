"""A file that is not CSV text at all (a workbook renamed .csv, Excel's "Unicode Text", a PDF): `products import`
says what the file is and how to save it as CSV, exits 2, and changes nothing."""

from __future__ import annotations

import io
import zipfile

import pytest


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:  # the parts every .xlsx has
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


@pytest.mark.parametrize(("content", "kind"), [
    (_xlsx(), "a spreadsheet workbook (.xlsx or .ods: a zip file), not CSV text"),
    (bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504), "an Excel 97–2003 workbook (.xls), not CSV text"),
    ("sku\tname\tprice\nA\tApple\t1.00\n".encode("utf-16"), "UTF-16 text (Excel's \"Unicode Text\"), not UTF-8"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF document, not CSV text"),
], ids=["xlsx", "xls", "utf16", "pdf"])
def test_a_file_that_is_not_csv_text_is_named_for_what_it_is(run, tmp_path, content, kind):
    assert run("init")[0] == 0
    path = tmp_path / "products.csv"
    path.write_bytes(content)
    for preview in ((), ("--preview",)):
        code, _, err = run("products", "import", str(path), *preview)
        assert code == 2
        assert err == (f"shopkeeper: {path}: the file is {kind}; open it in the spreadsheet and save it as CSV UTF-8 "
                       "(File › Save As › CSV UTF-8)\n")
    code, out, _ = run("--json", "stock")
    assert code == 0 and '"sku"' not in out


def test_a_header_separated_by_another_character_says_which(run, tmp_path):
    assert run("init")[0] == 0
    path = tmp_path / "pipes.csv"
    path.write_text("sku|name|price\nA|Apple|1.00\n")
    code, _, err = run("products", "import", str(path))
    assert code == 2
    assert err == (f"shopkeeper: {path}: line 1: header: one column, 'sku|name|price': its columns seem separated "
                   "by '|'; save the file with ',' or ';' (or a tab) between columns\n")


def test_unknown_columns_are_named_as_the_file_writes_them(run, tmp_path):
    assert run("init")[0] == 0
    path = tmp_path / "dutch.csv"
    path.write_text("Artikelnummer;Omschrijving;EAN-code\nA-1;Kaas;\n")
    code, _, err = run("products", "import", str(path))
    assert code == 2 and "unknown column(s) Artikelnummer, Omschrijving, EAN-code; required column(s)" in err
