"""Training mode in the app: marked on every screen, and the guide's first step ticked off by a real sale."""

from __future__ import annotations

import pytest

from shopkeeper.config import Config
from shopkeeper.db import close_database, open_database
from shopkeeper.models import Sale
from shopkeeper.services import training
from tests.tui.conftest import press_alone, settle

MILK = "4006381333931"


@pytest.mark.sqlite_only
async def test_the_guides_first_step_is_ticked_when_a_practice_sale_is_made(shop, db_path, till_ctx):
    from shopkeeper.tui.app import ShopkeeperApp
    from shopkeeper.tui.screens.training import TrainingGuideScreen

    real_sales = Sale.select().count()
    done = training.prepare(str(db_path))
    open_database(str(done.path))
    app = ShopkeeperApp(str(done.path), Config(), till_ctx, poll_interval=0.1, training_of=str(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, TrainingGuideScreen)
        assert "[ ] 1. Ring up a sale" in str(app.screen.query_one("#step-sale").content)
        assert "*** TRAINING ***" in str(app.screen.query_one("#topbar").content)
        await pilot.press("escape", "f2")
        await settle(app, pilot)
        assert "TRAINING" in str(app.screen.query_one("#topbar").content) and app.screen.border_title == "TRAINING"
        for key in MILK:
            await pilot.press(key)
        await pilot.press("enter")
        await settle(app, pilot)
        await press_alone(app, pilot, "f8", "enter")
        await settle(app, pilot)
        app.action_training()  # the command palette's Training: in training, the guide
        await settle(app, pilot)
        assert isinstance(app.screen, TrainingGuideScreen)
        assert "[x] 1. Ring up a sale (done)" in str(app.screen.query_one("#step-sale").content)
    assert Sale.select().count() == 1  # in the training copy
    close_database()
    open_database(str(db_path))
    assert Sale.select().count() == real_sales


async def test_a_cashier_opens_training_from_the_till_screen_with_a_supervisors_pin(shop, make_app, till_ctx,
                                                                                   monkeypatch):
    from shopkeeper.models import AuditEvent
    from shopkeeper.tui.app import SWITCH_TO_TRAINING
    from shopkeeper.tui.screens.help import help_text
    from shopkeeper.tui.screens.sign_in import SupervisorScreen
    from shopkeeper.tui.screens.till import TillScreen
    from tests.staff_helpers import PINS, add_staff
    from tests.tui.test_staff_pins import sign_in, typing_like_a_person

    assert "Ctrl+T Training" in " ".join(help_text().split())  # in the help, from the Till screen's keys
    typing_like_a_person(monkeypatch)
    add_staff()
    app = make_app(till_ctx.as_staff("Cam"))
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(app, pilot, PINS["Cam"])
        await pilot.press("f11")
        await settle(app, pilot)
        assert isinstance(app.screen, TillScreen)
        await pilot.press("ctrl+t")
        await settle(app, pilot)
        await press_alone(app, pilot, "y")  # "Switch this till to TRAINING?"
        await settle(app, pilot)
        assert isinstance(app.screen, SupervisorScreen)  # a cashier may not alone: the supervisor prompt
        await pilot.press(*"Sue", "enter", *PINS["Sue"], "enter")
        await settle(app, pilot)
    assert app.return_value == SWITCH_TO_TRAINING
    event = AuditEvent.get(AuditEvent.kind == training.STARTED)
    assert (event.staff.name, event.supervisor.name) == ("Cam", "Sue")
