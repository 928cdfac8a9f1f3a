"""Fixtures for the TUI tests: a seeded shop with fixed timestamps, an app factory, stable snapshots.

Every test that opens a shop runs on SQLite and on PostgreSQL (``[sqlite]``/``[postgresql]``): on PostgreSQL when
``$SHOPKEEPER_TEST_PG`` names a database, and in CI always (it fails there when the server could not be started).
Each xdist worker has its own schema in that database, emptied between tests, so the two workers never wait for
each other. ``@pytest.mark.sqlite_only`` keeps a test on SQLite (snapshots: one picture per screen is enough).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import time

import pytest

from shopkeeper.config import Config
from shopkeeper.db import close_database, open_database
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


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


BACKENDS = [pytest.param("sqlite", id="sqlite")]
if os.environ.get("SHOPKEEPER_TEST_PG") or _in_ci():
    BACKENDS.append(pytest.param("postgresql", id="postgresql", marks=pytest.mark.requires("postgres")))


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("sqlite_only") is None:
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request) -> str:
    """``sqlite`` or ``postgresql``: the database the test's shop lives in."""
    return getattr(request, "param", "sqlite")


def _schema_url(worker_id: str) -> str:
    """``$SHOPKEEPER_TEST_PG`` with this worker's own schema first on the search path."""
    url = os.environ["SHOPKEEPER_TEST_PG"]
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3Dsk_tui_{worker_id}"


_fresh_schemas: set[str] = set()


def _empty_postgres_shop(url: str, worker_id: str) -> None:
    """A schema of our own, migrated once per worker and emptied (ids restarting at 1) before each test: cheaper
    than migrating a new one every time."""
    schema = f"sk_tui_{worker_id}"
    if schema not in _fresh_schemas:
        from playhouse.db_url import connect

        admin = connect(os.environ["SHOPKEEPER_TEST_PG"])
        admin.execute_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.execute_sql(f"CREATE SCHEMA {schema}")
        admin.close()
        _fresh_schemas.add(schema)
        return
    db = open_database(url)
    db.execute_sql("SET lock_timeout = '20s'")  # a connection left open by a test fails the next, never hangs it
    tables = [r[0] for r in db.execute_sql("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                                           "AND tablename <> 'schema_version'").fetchall()]
    db.execute_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    close_database()


@pytest.fixture
def db_path(backend, tmp_path, worker_id):
    """Where the shop is: a file for SQLite, a URL for PostgreSQL (``str(db_path)`` is the app's ``--db``)."""
    if backend == "sqlite":
        return tmp_path / "shop.db"
    return _schema_url(worker_id)


@pytest.fixture
def db(db_path, backend, worker_id):
    if backend == "postgresql":
        _empty_postgres_shop(db_path, worker_id)
    database = open_database(str(db_path))
    yield database
    close_database()


@pytest.fixture
def till_ctx():
    return Context(staff="Sam", terminal="till-1", negative_stock="warn", default_tax_rate=7_000)


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
    """Let thread workers finish and their results land. An exclusive worker replaced by a newer one (a live
    refresh arriving meanwhile) is cancelled: that is the app working, not a failure to wait on."""
    from textual.worker import WorkerCancelled

    for _ in range(rounds):
        for _attempt in range(10):
            try:
                await app.workers.wait_for_complete()
                break
            except WorkerCancelled:
                continue
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
