"""The app keeps the reports' figures of the closed days in a thread: once a day when idle after the day turns,
and after a till's close (``report_upkeep``)."""

from __future__ import annotations

from shopkeeper.services import report_upkeep, till_session
from shopkeeper.tui import app as app_module
from tests.tui.conftest import press_alone, settle
from tests.tui.test_till_screen import SIZE, open_till, type_into


async def test_the_app_keeps_the_closed_days_once_idle_and_again_after_the_day_turns(shop, make_app, monkeypatch):
    kept = []
    monkeypatch.setattr(report_upkeep, "keep_closed_days", lambda: kept.append(app_module.utcnow()[:10]) or {})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.keep_figures_if_due(now=app.last_input + app_module.KEEP_AFTER_IDLE - 1)  # someone is at the till
        await settle(app, pilot)
        assert kept == []
        app.keep_figures_if_due(now=app.last_input + app_module.KEEP_AFTER_IDLE)
        await settle(app, pilot)
        assert len(kept) == 1
        app.keep_figures_if_due(now=app.last_input + 3600)  # once a day
        await settle(app, pilot)
        assert len(kept) == 1
        monkeypatch.setattr(app_module, "utcnow", lambda: "2099-01-02T00:00:05.000000Z")  # the day turns
        app.keep_figures_if_due(now=app.last_input + 3600)
        await settle(app, pilot)
        assert kept[1:] == ["2099-01-02"]


async def test_keeping_the_closed_days_runs_on_its_own_connection_without_error(shop, make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.keep_figures()
        workers = [w for w in app.workers if w.group == "report-upkeep"]
        await settle(app, pilot)
        assert [w.state.name for w in workers] == ["SUCCESS"]


async def test_a_till_closed_on_screen_keeps_the_closed_days(shop, make_app, till_ctx, monkeypatch):
    kept = []
    monkeypatch.setattr(report_upkeep, "keep_closed_days", lambda: kept.append(1) or {})
    till_session.open(till_ctx, 15000)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_till(app, pilot)
        await pilot.press("ctrl+k")
        await settle(app, pilot)
        await type_into(app, pilot, "150.00", "")
        await press_alone(app, pilot, "y")
        await settle(app, pilot)
        assert screen.showing == "Z" and kept == [1]
