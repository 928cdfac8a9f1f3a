"""Labels: the printed bars must decode back to the product's code (read with zxing-cpp)."""

from __future__ import annotations

import io
import xml.dom.minidom

import pytest

from shopkeeper.barcodes import BadCheckDigit, BarcodeError, in_store_ean13, normalize
from shopkeeper.labels import Label, render_png, render_svg, sheet_svgs, symbology_for, write_labels

zxingcpp = pytest.importorskip("zxingcpp")
Image = pytest.importorskip("PIL.Image")
ImageDraw = pytest.importorskip("PIL.ImageDraw")

CODES = ["4006381333931", "036000291452", "96385074", in_store_ean13("20", 1234), "SKU-42/b", "ab c+%"]


def decode(image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize("code", CODES)
def test_png_label_decodes_to_the_product_code(code):
    png = render_png(Label(code, "Organic whole milk 1 l", "€ 1.29"))
    texts = decode(Image.open(io.BytesIO(png)))
    assert len(texts) == 1
    assert normalize(texts[0]) == normalize(code)  # UPC-A reads back as its EAN-13 form


def _rasterise_bars(svg: bytes, px_per_mm: int = 12):
    """Draw the <rect> bars of a label SVG (ours: nested <svg x= y=> with mm units) into a PIL image."""
    root = xml.dom.minidom.parseString(svg).documentElement
    mm = lambda v: float(v.removesuffix("mm"))
    width, height = mm(root.getAttribute("width")), mm(root.getAttribute("height"))
    img = Image.new("L", (int(width * px_per_mm), int(height * px_per_mm)), 255)
    draw = ImageDraw.Draw(img)
    inner = [n for n in root.getElementsByTagName("svg")][0]
    ox, oy = mm(inner.getAttribute("x")), mm(inner.getAttribute("y"))
    for rect in inner.getElementsByTagName("rect"):
        if "black" not in rect.getAttribute("style"):
            continue
        x, y = ox + mm(rect.getAttribute("x")), oy + mm(rect.getAttribute("y"))
        w, h = mm(rect.getAttribute("width")), mm(rect.getAttribute("height"))
        draw.rectangle([x * px_per_mm, y * px_per_mm, (x + w) * px_per_mm - 1, (y + h) * px_per_mm - 1], fill=0)
    return img


@pytest.mark.parametrize("code", CODES)
def test_svg_label_bars_decode_to_the_product_code(code):
    svg = render_svg(Label(code, "Bread", "2.10"))
    assert normalize(decode(_rasterise_bars(svg))[0]) == normalize(code)


def test_svg_label_shows_name_and_price():
    svg = render_svg(Label("4006381333931", "Tea & <Biscuits>", "€ 3.50")).decode()
    assert "Tea &amp; &lt;Biscuits&gt;" in svg and "€ 3.50" in svg


def test_wrong_check_digit_is_refused_not_silently_fixed():
    with pytest.raises(BadCheckDigit):
        render_svg(Label("4006381333932", "Milk", "1.00"))
    with pytest.raises(BadCheckDigit):
        write_labels([Label("4006381333931", "ok"), Label("96385075", "bad")], "/nonexistent-never-created")


def test_symbology_choice():
    assert symbology_for("4006381333931") == ("ean13", "400638133393")
    assert symbology_for("036000291452")[0] == "upca"
    assert symbology_for("96385074")[0] == "ean8"
    assert symbology_for("00012345600012")[0] == "code128"
    with pytest.raises(BarcodeError, match="printable ASCII"):
        symbology_for("café")


def test_write_labels_writes_svg_png_and_sheet(tmp_path):
    labels = [Label(c, f"Item {i}", f"{i}.00") for i, c in enumerate(CODES)]
    labels.append(Label("SKU-42/b", "Same code twice", "1.00"))
    paths = write_labels(labels, tmp_path)
    names = {p.name for p in paths}
    assert "4006381333931.svg" in names and "4006381333931.png" in names
    assert "SKU-42_b.svg" in names and "SKU-42_b-2.svg" in names  # unsafe characters, no overwrite
    assert "sheet-1.svg" in names
    assert all(p.stat().st_size > 0 for p in paths)


def test_sheet_is_a4_and_paginates():
    labels = [Label(in_store_ean13("20", i), f"Item {i}", "1.00") for i in range(30)]
    pages = sheet_svgs(labels, columns=3, rows=8)
    assert len(pages) == 2
    root = xml.dom.minidom.parseString(pages[0]).documentElement
    assert (root.getAttribute("width"), root.getAttribute("height")) == ("210.0mm", "297.0mm")
    assert len([n for n in root.childNodes if n.nodeName == "svg"]) == 24
    second = xml.dom.minidom.parseString(pages[1]).documentElement
    assert len([n for n in second.childNodes if n.nodeName == "svg"]) == 6


def test_svg_label_of_a_name_with_control_characters_is_valid_xml():
    svg = render_svg(Label("4006381333931", "Tea\x1b[2J\x00 x80\x07", "€ 3.50\x0b"))
    doc = xml.dom.minidom.parseString(svg)  # raised on the control characters (exit 0, file unreadable)
    texts = [node.firstChild.data for node in doc.getElementsByTagName("text")]
    assert texts == ["Tea[2J x80", "4006381333931", "€ 3.50 "]  # \v is a line break: a space on paper
    for page in sheet_svgs([Label("4006381333931", "Tea\x1b[2J", "")]):
        xml.dom.minidom.parseString(page)
