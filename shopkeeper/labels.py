"""Shelf/product labels with python-barcode: one SVG (and PNG, with Pillow) per product, and A4 sheets.

Input is plain data (``Label``: code, name, price text), never models, so the CLI, the TUI and tests share it.

python-barcode silently *recomputes* a wrong check digit instead of refusing it, which would print a label for a
different product. So GTIN-shaped codes go through ``barcodes.validate_gtin`` first, and only the payload (without
check digit) is handed to python-barcode, whose recomputed digit is then the one we validated.

Names and prices are drawn as ``shopkeeper.text.printable`` text: control characters (which XML does not allow)
are left out, whatever the database holds.

Symbology: 13 digits → EAN-13, 12 → UPC-A, 8 → EAN-8, anything else → Code 128 (text as it is).
"""

from __future__ import annotations

import io
import re
import xml.dom.minidom
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import barcode
from barcode.writer import SVGWriter

from shopkeeper.barcodes import BarcodeError, validate_gtin
from shopkeeper.text import printable

MM_PX = 96 / 25.4
"""SVG user units (CSS px) per millimetre."""

A4_MM = (210.0, 297.0)
_FONT = str(Path(barcode.__file__).parent / "fonts" / "DejaVuSansMono.ttf")
_WRITER_OPTIONS = {"module_width": 0.33, "module_height": 15.0, "quiet_zone": 4.0, "font_size": 10,
                   "text_distance": 4.0}
NAME_MM, PRICE_MM = 6.0, 7.0
"""Space above the bars for the name and below them for the price."""


@dataclass(frozen=True)
class Label:
    code: str
    # The barcode value: a GTIN (validated) or free text for Code 128.
    name: str
    price: str = ""
    # Already formatted by the caller ("€ 2.50", "2.50 / kg").


def symbology_for(code: str) -> tuple[str, str]:
    """The python-barcode symbology and the data to give it for ``code``; raises on a bad GTIN check digit."""
    if code.isascii() and code.isdigit() and len(code) in (8, 12, 13):
        validate_gtin(code)
        return {8: "ean8", 12: "upca", 13: "ean13"}[len(code)], code[:-1]
    if not code or not code.isascii() or not code.isprintable():
        raise BarcodeError(f"{code!r} cannot be printed as a barcode: Code 128 takes printable ASCII only")
    return "code128", code


def _barcode(code: str, writer):
    kind, data = symbology_for(code)
    cls = barcode.get_barcode_class(kind)
    obj = cls(data, writer=writer)
    if kind != "code128" and obj.get_fullcode() != code:  # pragma: no cover - guards a python-barcode change
        raise BarcodeError(f"python-barcode would print {obj.get_fullcode()} for {code}")
    return obj


# --- SVG ------------------------------------------------------------------------------------------------------

def _svg_barcode(code: str) -> xml.dom.minidom.Element:
    writer = SVGWriter()
    writer.with_doctype = False
    svg_bytes = _barcode(code, writer).render({**_WRITER_OPTIONS, "compress": False})
    doc = xml.dom.minidom.parseString(svg_bytes)
    return doc.documentElement


def _mm(value: str) -> float:
    return float(value.removesuffix("mm"))


def _text(doc, x: float, y: float, size_mm: float, content: str, weight: str = "normal"):
    el = doc.createElement("text")
    el.setAttribute("x", f"{x:.2f}mm")
    el.setAttribute("y", f"{y:.2f}mm")
    el.setAttribute("style", f"font-family:DejaVu Sans,sans-serif;font-size:{size_mm * MM_PX:.2f}px;"
                             f"font-weight:{weight};text-anchor:middle;fill:black")
    el.appendChild(doc.createTextNode(printable(content)))  # a control character is not allowed in XML
    return el


def _label_element(doc, label: Label) -> tuple[xml.dom.minidom.Element, float, float]:
    """A ``<svg>`` element holding one label, and its width and height in mm."""
    bars = _svg_barcode(label.code)
    bw, bh = _mm(bars.getAttribute("width")), _mm(bars.getAttribute("height"))
    width = max(bw, 40.0)
    height = NAME_MM + bh + (PRICE_MM if label.price else 1.0)
    root = doc.createElement("svg")
    root.setAttribute("width", f"{width:.3f}mm")
    root.setAttribute("height", f"{height:.3f}mm")
    root.setAttribute("viewBox", f"0 0 {width * MM_PX:.3f} {height * MM_PX:.3f}")
    bg = doc.createElement("rect")
    for k, v in {"width": "100%", "height": "100%", "style": "fill:white"}.items():
        bg.setAttribute(k, v)
    root.appendChild(bg)
    root.appendChild(_text(doc, width / 2, NAME_MM - 1.8, 3.2, _fit(label.name, width, 3.2)))
    inner = doc.createElement("svg")
    inner.setAttribute("x", f"{(width - bw) / 2:.3f}mm")
    inner.setAttribute("y", f"{NAME_MM:.3f}mm")
    inner.setAttribute("width", f"{bw:.3f}mm")
    inner.setAttribute("height", f"{bh:.3f}mm")
    for child in list(bars.childNodes):
        if child.nodeType == child.ELEMENT_NODE:
            inner.appendChild(doc.importNode(child, True))
    root.appendChild(inner)
    if label.price:
        root.appendChild(_text(doc, width / 2, NAME_MM + bh + PRICE_MM - 2.0, 4.5, label.price, "bold"))
    return root, width, height


def _fit(text: str, width_mm: float, size_mm: float) -> str:
    """Shorten ``text`` with an ellipsis to roughly fit ``width_mm`` (average glyph ≈ 0.55 × font size)."""
    room = max(4, int(width_mm / (size_mm * 0.55)))
    return text if len(text) <= room else text[: room - 1] + "…"


def _new_doc() -> xml.dom.minidom.Document:
    impl = xml.dom.minidom.getDOMImplementation()
    assert impl is not None
    doc = impl.createDocument("http://www.w3.org/2000/svg", "svg", None)
    return doc


def render_svg(label: Label) -> bytes:
    """One label as a standalone SVG document."""
    doc = _new_doc()
    el, _, _ = _label_element(doc, label)
    el.setAttribute("xmlns", "http://www.w3.org/2000/svg")
    doc.replaceChild(el, doc.documentElement)
    return doc.toxml(encoding="UTF-8")


def sheet_svgs(labels: Sequence[Label], *, columns: int = 3, rows: int = 8, margin_mm: float = 8.0
               ) -> list[bytes]:
    """A4 sheets (one SVG per page) with ``columns`` × ``rows`` labels each, scaled to fit their cells."""
    if columns < 1 or rows < 1:
        raise BarcodeError("a label sheet needs at least one column and one row")
    per_page = columns * rows
    pages = []
    cell_w = (A4_MM[0] - 2 * margin_mm) / columns
    cell_h = (A4_MM[1] - 2 * margin_mm) / rows
    for start in range(0, max(len(labels), 1), per_page):
        doc = _new_doc()
        root = doc.createElement("svg")
        root.setAttribute("xmlns", "http://www.w3.org/2000/svg")
        root.setAttribute("width", f"{A4_MM[0]}mm")
        root.setAttribute("height", f"{A4_MM[1]}mm")
        root.setAttribute("viewBox", f"0 0 {A4_MM[0] * MM_PX:.3f} {A4_MM[1] * MM_PX:.3f}")
        doc.replaceChild(root, doc.documentElement)
        for i, label in enumerate(labels[start:start + per_page]):
            el, _, _ = _label_element(doc, label)
            col, row = i % columns, i // columns
            el.setAttribute("x", f"{(margin_mm + col * cell_w) * MM_PX + 2:.3f}")
            el.setAttribute("y", f"{(margin_mm + row * cell_h) * MM_PX + 2:.3f}")
            el.setAttribute("width", f"{cell_w * MM_PX - 4:.3f}")
            el.setAttribute("height", f"{cell_h * MM_PX - 4:.3f}")
            root.appendChild(el)
        pages.append(doc.toxml(encoding="UTF-8"))
    return pages


# --- PNG ------------------------------------------------------------------------------------------------------

def have_pillow() -> bool:
    try:
        import PIL  # noqa: F401
    except ImportError:
        return False
    return True


def render_png(label: Label, *, dpi: int = 300) -> bytes:
    """One label as PNG (needs Pillow)."""
    try:
        from barcode.writer import ImageWriter
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise BarcodeError("PNG labels need Pillow (pip install pillow); SVG labels work without it") from None
    if ImageWriter is None:  # pragma: no cover - python-barcode found no Pillow
        raise BarcodeError("PNG labels need Pillow (pip install pillow)")
    writer = ImageWriter(dpi=dpi)
    bars = _barcode(label.code, writer).render({**_WRITER_OPTIONS, "font_path": _FONT})
    px = dpi / 25.4
    top, bottom = int(NAME_MM * px), int((PRICE_MM if label.price else 1.0) * px)
    width = max(bars.width, int(40 * px))
    canvas = Image.new("RGB", (width, top + bars.height + bottom), "white")
    canvas.paste(bars, ((width - bars.width) // 2, top))
    draw = ImageDraw.Draw(canvas)
    name_font = ImageFont.truetype(_FONT, int(3.2 * px))
    name = printable(label.name)
    while name and draw.textlength(name, font=name_font) > width - 4:
        name = name[:-2] + "…"
    draw.text((width / 2, top / 2), name, font=name_font, fill="black", anchor="mm")
    if label.price:
        price_font = ImageFont.truetype(_FONT, int(4.5 * px))
        draw.text((width / 2, top + bars.height + bottom / 2), printable(label.price), font=price_font, fill="black",
                  anchor="mm")
    out = io.BytesIO()
    canvas.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()


# --- files ----------------------------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _file_stem(code: str, used: set[str]) -> str:
    stem = _UNSAFE.sub("_", code).strip("._") or "label"
    candidate, n = stem, 2
    while candidate in used:
        candidate, n = f"{stem}-{n}", n + 1
    used.add(candidate)
    return candidate


def write_labels(labels: Iterable[Label], out_dir: str | Path, *, png: bool | None = None,
                 sheet: bool = True) -> list[Path]:
    """Write ``CODE.svg`` (and ``CODE.png`` when ``png`` — by default when Pillow is installed) per label, plus
    ``sheet-N.svg`` A4 pages. Every label is validated before any file is written."""
    labels = list(labels)
    for label in labels:
        symbology_for(label.code)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if png is None:
        png = have_pillow()
    written: list[Path] = []
    used: set[str] = set()
    for label in labels:
        stem = _file_stem(label.code, used)
        path = out / f"{stem}.svg"
        path.write_bytes(render_svg(label))
        written.append(path)
        if png:
            path = out / f"{stem}.png"
            path.write_bytes(render_png(label))
            written.append(path)
    if sheet and labels:
        for i, page in enumerate(sheet_svgs(labels), 1):
            path = out / f"sheet-{i}.svg"
            path.write_bytes(page)
            written.append(path)
    return written
