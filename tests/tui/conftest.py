"""Fixtures for the TUI tests: a seeded shop with fixed timestamps, an app factory, stable snapshots."""

from __future__ import annotations

import asyncio
import inspect
import os
import time

import pytest

from shopkeeper.config import Config
from shopkeeper.services.context import Context
from tests.tui.shop_data import seed_shop


@pytest.fixture(autouse=True)
def _stable_terminal(monkeypatch):
    """No blinking cursor, UTC times: snapshots must not depend on when or where they run."""
    monkeypatch.setattr("textual.widgets._input.Input.cursor_blink", False)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    time.tzset()


@pytest.fixture
def till_ctx():
    return Context(staff="Sam", terminal="till-1", negative_stock="warn", default_tax_rate=700)


@pytest.fixture
def shop(db, db_path, till_ctx):
    """The twelve-product test shop (see shop_data.py)."""
    seed_shop(till_ctx)
    return db_path


@pytest.fixture
def make_app(db_path, till_ctx):
    from shopkeeper.tui.app import ShopkeeperApp

    def make(ctx: Context | None = None, **kw) -> ShopkeeperApp:
        return ShopkeeperApp(str(db_path), Config(), ctx or till_ctx, poll_interval=0.1, **kw)

    return make


async def settle(app, pilot, rounds: int = 3) -> None:
    """Let thread workers finish and their results land."""
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def press_alone(app, pilot, *keys: str) -> None:
    """A person answering a dialog: each key on its own, then the quiet after it. (The app's ``KeyGate`` delivers
    a lone key once ``wedge_max_pause_ms`` has passed without another; the test ends that wait at once.)"""
    for key in keys:
        await pilot.press(key)
        app.call_later(app.key_gate.flush)
        await pilot.pause()


def scan_burst(app, code: str, terminator: str = "enter") -> None:
    """A keyboard-emulating scanner typing into the terminal: the code's keys and the terminator arrive back to
    back (all queued before the app handles the first)."""
    from textual import events

    for ch in code:
        app.post_message(events.Key(ch, ch))
    app.post_message(events.Key(terminator, "\r" if terminator == "enter" else "\t"))


def pytest_configure(config):
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run ``async def`` tests in a fresh event loop (no async plugin is needed for Textual's pilot)."""
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
        asyncio.run(pyfuncitem.obj(**args))
        return True
    return None


def screen_lines(app) -> list[str]:
    """The text of each line of the screen as painted (every layer: dialogs and notifications included)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]
