"""The app at 80×24, as painted: no key, header, figure or message cut off, notifications clear of the till's TOTAL,
and meaning that survives ``NO_COLOR`` (marks, bold and reverse video, not colour alone)."""

from __future__ import annotations

import pytest
from rich.segment import Segment
from textual.color import Color
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey

from shopkeeper.tui.screens.journal import JournalScreen
from shopkeeper.tui.screens.product import ProductScreen
from shopkeeper.tui.screens.sell import SellScreen
from shopkeeper.tui.widgets.sale_lines import SaleLinesView
from shopkeeper.tui.widgets.virtual_table import VirtualTable
from tests.tui.conftest import screen_lines, settle

SIZE = (80, 24)


def shown(app, widget) -> str:
    """The text painted over ``widget``'s region, its lines joined by single spaces."""
    region = widget.region
    lines = screen_lines(app)[region.y: region.bottom]
    return " ".join(" ".join(line[region.x: region.right].split()) for line in lines).strip()


def whole(text: str) -> str:
    return " ".join(text.split())


async def press(app, pilot, *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await settle(app, pilot)


SCREENS = {
    "stock": (),
    "sell": ("f2",),
    "receive": ("f3",),
    "adjust": ("f4",),
    "count": ("f5",),
    "journal": ("f6",),
    "product": (*"MILK-1L", "enter"),
    "product journal": (*"MILK-1L", "enter", "f6"),
    "reports": ("f10",),
}


@pytest.mark.parametrize("keys", SCREENS.values(), ids=SCREENS.keys())
async def test_footer_shows_only_whole_keys(shop, make_app, keys):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await press(app, pilot, *keys)
        footer = app.screen.query_one(Footer)
        line = screen_lines(app)[footer.region.y]
        palette = footer.query_one("FooterKey.-command-palette", FooterKey)
        keys_shown = [k for k in footer.query(FooterKey) if k is not palette]
        assert len(keys_shown) >= 2
        for key in keys_shown:
            assert key.region.right <= palette.region.x, f"{key.description!r} runs under the palette key"
            assert f"{key.key_display} {key.description}" in line
        assert line.rstrip().endswith("▏^p palette")
        assert line[palette.region.right:].strip() == ""  # nothing of a hidden key past the palette key


async def test_refund_header_fits_and_a_long_reason_ends_in_an_ellipsis(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await press(app, pilot, "f2", "ctrl+f", "1", "enter", "enter")
        mode = app.screen.query_one("#sale-mode", Static)
        assert shown(app, mode) == "REFUND against sale #1 (paid cash) · 2 line(s) · F7 pay back as paid"
        await press(app, pilot, "ctrl+n", "y", "ctrl+f", "enter",
                    *"customer says the box was already open when she got it home", "enter")
        text = shown(app, mode)
        assert text.startswith("REFUND no receipt · 0 line(s) · F7/F8/F9 pay back · reason: customer")
        assert text.endswith("…")


async def test_receive_shows_the_whole_product_line_message_and_received_row(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await press(app, pilot, "f3", *"OLIVES-KG", "enter", *"2.5", "enter", *"12.345")
        screen = app.screen
        info = screen.query_one("#product-info", Static)
        assert shown(app, info) == whole(str(info.content))
        assert shown(app, info).endswith("avg cost 8.20 · ok")
        message = screen.query_one("#cost-msg", Static)
        assert shown(app, message) == "✗ 12.345 has more than 2 decimal places"
        await press(app, pilot, *["backspace"] * 6, *"8.30", "enter", *"INV-2026-000123", "enter")
        table = screen.query_one("#received", VirtualTable)
        assert table.region.width == SIZE[0]
        row = screen_lines(app)[table.region.y + 1]
        sku, name, figures = row[:12], row[13:32], row[32:].split()
        assert (sku.strip(), figures) == ("OLIVES-KG", ["2.5", "8.30", "6.5", "INV-2026-000123"])
        assert name == "Kalamata olives (l…"  # the one column that gives way, and says so


async def test_notifications_on_the_sell_screen_leave_the_total_in_view(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await _sell(app, pilot, "MILK-1L", "BREAD-SD")
        for n in range(3):
            app.notify(f"notice number {n} that takes a line or two of the screen", timeout=30)
        await settle(app, pilot)
        toasts = list(screen.query("Toast"))
        assert len(toasts) == 3
        totals = screen.query_one("#totals", Static)
        for name in ("#totals", "#status", "#keys"):
            region = screen.query_one(name).region
            assert not any(t.region.overlaps(region) for t in toasts), f"a notification covers {name}"
        assert shown(app, totals) == whole(str(totals.content))
        assert shown(app, totals).endswith("TOTAL EUR 5.24")


async def test_product_and_stock_journals_show_the_whole_row_under_the_cursor(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await press(app, pilot, *"EGGS-6", "enter", "f6")
        assert isinstance(app.screen, ProductScreen)
        detail = app.screen.query_one("#product-journal-detail", Static)
        assert shown(app, detail).endswith("adjust -1 @ 1.90 · by Ben at till-1 · damaged: dropped box")
        await press(app, pilot, "end")
        assert shown(app, detail).endswith("receive +9 @ 1.90 · by Sam at till-1 · delivery:opening")
        await press(app, pilot, "escape", "escape", "f6")
        assert isinstance(app.screen, JournalScreen)
        detail = app.screen.query_one("#journal-detail", Static)
        assert "EGGS-6 Free-range eggs x6 · adjust -1 @ 1.90 · by Ben at till-1 · damaged: dropped box" in \
            shown(app, detail)


async def _sell(app, pilot, *codes: str) -> SellScreen:
    await settle(app, pilot)
    await press(app, pilot, "f2")
    for code in codes:
        await press(app, pilot, *code, "enter")
    assert isinstance(app.screen, SellScreen)
    return app.screen


# -- NO_COLOR ---------------------------------------------------------------------------------------------------

def painted(app, widget, y: int) -> list[Segment]:
    """Line ``y`` of ``widget`` as the terminal receives it (NO_COLOR's monochrome filter already applied)."""
    strip = app.screen._compositor.render_strips()[widget.region.y + y]
    region = widget.region
    return list(strip.crop(region.x, region.right))


def contrast(segment: Segment) -> float:
    style = segment.style
    fg, bg = Color.from_rich_color(style.color), Color.from_rich_color(style.bgcolor)
    return abs(fg.brightness - bg.brightness)


@pytest.fixture
def no_color(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")


async def test_no_color_out_of_stock_rows_are_marked_bold_and_readable(shop, make_app, no_color):
    app = make_app()
    assert app.no_color
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.screen.table
        rows = {table._row_at(i).sku: i for i in range(table.row_count)}
        for sku, mark, word in (("SOAP-BAR", "✗", "OUT"), ("CROISSANT", "▼", "LOW")):
            segments = painted(app, table, 1 + rows[sku] - int(table.scroll_y))
            text = "".join(s.text for s in segments)
            assert text.startswith(f"{mark} {sku}") and f" {word} " in text
            for segment in segments:
                if segment.text.strip():
                    assert contrast(segment) > 0.5, f"{sku}: {segment.text!r} hard to read"
                    assert segment.style.bold or word != "OUT"


async def test_no_color_sell_cursor_is_reverse_video_and_marked(shop, make_app, no_color):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _sell(app, pilot, "MILK-1L", "BREAD-SD")
        await press(app, pilot, "up")
        lines = screen.query_one("#lines", SaleLinesView)
        assert lines.cursor_row == 0
        cursor = painted(app, lines, 1)
        other = painted(app, lines, 2)
        assert "".join(s.text for s in cursor).startswith("▸1")
        assert "".join(s.text for s in other).startswith(" 2")
        assert all(s.style.reverse for s in cursor if s.text.strip())
        assert not any(s.style.reverse for s in other if s.text.strip())


async def test_footer_refits_its_keys_when_the_terminal_is_resized(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await press(app, pilot, "f2")

        def keys() -> list[str]:
            footer = app.screen.query_one(Footer)
            return [k.description for k in footer.query(FooterKey) if not k.has_class("-command-palette")]

        narrow = keys()
        await pilot.resize_terminal(160, 24)
        await settle(app, pilot)
        assert len(keys()) > len(narrow) and keys()[: len(narrow)] == narrow
        await pilot.resize_terminal(*SIZE)
        await settle(app, pilot)
        assert keys() == narrow


async def test_count_header_is_whole_with_a_session_open(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await press(app, pilot, "f5")
        await pilot.press(*"MILK-1L", "enter")
        await settle(app, pilot)
        await pilot.press("5", "enter")
        await settle(app, pilot)
        title = app.screen.query_one("#count-title")
        line = screen_lines(app)[title.region.y]
        assert "1 counted" in line and line.rstrip().endswith("F9 posts variances"), line


async def test_a_choice_dialog_opens_in_the_middle_of_the_screen(shop, make_app):
    from shopkeeper.tui.screens.confirm import ChoiceScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(ChoiceScreen("Unsaved changes to price.", [("save", "Save", "s"), ("stay", "Stay", "escape")]))
        await settle(app, pilot)
        box = app.screen.query_one("#confirm-box").region
        assert box.x > 0 and box.y > 0
        assert abs((box.x + box.right) - SIZE[0]) <= 2 and abs((box.y + box.bottom) - SIZE[1]) <= 2, box
