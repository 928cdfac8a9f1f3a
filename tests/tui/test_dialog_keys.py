"""Keys that must do what the screen says: the staff chooser's typed name, ``?`` for help, Count's Ctrl+D and
Ctrl+X, the help text at 80 columns, and palette entries found by the words people use."""

from __future__ import annotations

import pytest
from textual.content import Content

from shopkeeper.models import CountLine, CountSession
from shopkeeper.tui.screens.confirm import ConfirmScreen
from shopkeeper.tui.screens.count import CountScreen
from shopkeeper.tui.screens.help import WIDTH, HelpScreen, help_text
from shopkeeper.tui.screens.staff import StaffScreen
from shopkeeper.tui.screens.stock import StockScreen
from tests.tui.conftest import settle

SIZE = (80, 24)


# -- staff chooser ------------------------------------------------------------------------------------------------

async def test_staff_chooser_records_the_typed_name_not_the_highlighted_one(shop, make_app, till_ctx):
    app = make_app(till_ctx.as_staff(""))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, StaffScreen)
        await pilot.press(*"Zoe")  # straight away, no Tab: the list's first name (Ana) is highlighted
        assert "Zoe (new)" in str(app.screen.query_one("#staff-choice").content)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.ctx.staff == "Zoe"


async def test_staff_chooser_typed_existing_name_is_that_person(shop, make_app, till_ctx):
    app = make_app(till_ctx.as_staff(""))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press(*"ben", "enter")
        await settle(app, pilot)
        assert app.ctx.staff == "Ben"


async def test_staff_chooser_arrows_choose_from_the_list_instead_of_the_typed_text(shop, make_app, till_ctx):
    app = make_app(till_ctx.as_staff(""))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press(*"Zo", "down", "down")  # Ana, Ben, Sam: the arrows take over from the typing
        assert app.screen.query_one("#staff-new").value == ""
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.ctx.staff == "Ben"


# -- ? for help -------------------------------------------------------------------------------------------------

async def test_question_mark_opens_help_from_the_stock_filter_and_closes_it(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.focused.id == "filter"
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        assert app.screen_stack[0].query_one("#filter").value == ""
        app.call_later(app.key_gate.flush)  # (the dialog's lone key is delivered after a quiet moment)
        await pilot.press("question_mark")
        app.call_later(app.key_gate.flush)
        await settle(app, pilot)
        assert isinstance(app.screen, StockScreen)


async def test_question_mark_opens_help_from_the_sell_code_field_with_a_quantity_typed(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f2")
        await settle(app, pilot)
        await pilot.press(*"3*", "question_mark")  # no code begun yet
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        assert app.screen_stack[-2].code_input.value == "3*"


async def test_question_mark_is_typed_inside_text(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press(*"tea", "question_mark")  # a filter with text in it: "?" is text
        await settle(app, pilot)
        assert isinstance(app.screen, StockScreen)
        assert app.screen.query_one("#filter").value == "tea?"
        await pilot.press("f1")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)


def test_help_has_a_sell_section_and_fits_80_columns():
    text = Content.from_markup(help_text()).plain
    too_wide = [line for line in text.splitlines() if len(line) > WIDTH]
    assert too_wide == []
    assert "Sell (F2)" in text
    for key in ("F7 Cash", "Ctrl+N Void", "Ctrl+F Refund", "Ctrl+Y Park"):
        assert key in " ".join(text.split()), key


async def test_help_box_shows_every_line_whole_at_80x24(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f1")
        await settle(app, pilot)
        body = app.screen.query_one("#help-box Static")
        assert body.content_region.width >= WIDTH
        assert body.virtual_size.height == len(help_text().splitlines())  # not one line wrapped


# -- the command palette ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("words", ["staff", "cashier", "till"])
async def test_palette_finds_who_is_at_the_till_by_the_words_people_use(shop, make_app, words):
    from shopkeeper.tui.commands import ShopCommands

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        provider = ShopCommands(app.screen)
        hits = [hit async for hit in provider.search(words)]
        titles = [str(hit.text) for hit in sorted(hits, key=lambda h: -h.score)]
        assert "Who is at the till" in titles, titles


# -- Count: Ctrl+D and Ctrl+X with the code field focused -------------------------------------------------------

async def test_count_ctrl_d_removes_a_line_and_ctrl_x_cancels_while_the_code_field_has_focus(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f5")
        await settle(app, pilot)
        await pilot.press(*"MILK-1L", "enter", *"27", "enter")
        await pilot.press(*"CANDLE", "enter", "5", "enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, CountScreen) and app.focused.id == "code"
        session = screen.session_id

        def lines() -> int:
            return CountLine.select().where(CountLine.session == session).count()

        assert lines() == 2
        await pilot.press(*"TEA", "ctrl+d")  # half a code typed: Ctrl+D is still the screen's
        await settle(app, pilot)
        assert lines() == 1
        await pilot.press("ctrl+x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        app.screen.action_answer(True)
        await settle(app, pilot)
        assert CountSession.get_by_id(session).status == "cancelled"

