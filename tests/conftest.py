"""Shared fixtures: a fresh file database per test (thread workers and subprocesses need a file, not :memory:)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import time

import pytest

# Every row a service registers with its values is also read back at commit and compared (services/chain.py): a
# value the database stores differently fails the test that wrote it. Set first: subprocesses inherit it.
os.environ["SHOPKEEPER_CHAIN_CROSS_CHECK"] = "1"

from shopkeeper.db import close_database, open_database  # noqa: E402
from shopkeeper.services import chain  # noqa: E402
from shopkeeper.services.context import Context  # noqa: E402

chain.CROSS_CHECK = True


def pytest_configure(config) -> None:
    """PostgreSQL's ``pg_trgm`` lives in a schema of its own for the tests. An extension is one per database and
    lands in whichever schema first created it: ``public`` (tests/test_postgres.py, which drops and recreates that
    schema) or a TUI worker's ``sk_tui_gwN`` (dropped when that worker starts). Dropping it there, CASCADE, took the
    trigram indexes of the other schema with it, across xdist workers: a deadlock or a missing index now and then.
    Done once, by the controller, before the workers start."""
    url = os.environ.get("SHOPKEEPER_TEST_PG")
    if not url or hasattr(config, "workerinput") or importlib.util.find_spec("psycopg2") is None:
        return
    import psycopg2

    try:
        with psycopg2.connect(url) as con, con.cursor() as cur:
            cur.execute("CREATE SCHEMA IF NOT EXISTS sk_extensions")
            cur.execute("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                        "WHERE e.extname = 'pg_trgm'")
            row = cur.fetchone()
            if row is not None and row[0] != "sk_extensions":  # its functions are not ours to move: made again
                cur.execute("DROP EXTENSION pg_trgm CASCADE")
            if row is None or row[0] != "sk_extensions":
                cur.execute("CREATE EXTENSION pg_trgm SCHEMA sk_extensions")
    except psycopg2.Error:
        pass  # no server, or not allowed: the tests run as before (and say what is missing themselves)


def _missing_tool(tool: str) -> str | None:
    """Why ``tool`` cannot be used here, or None when it can."""
    if tool == "tmux":
        return None if shutil.which("tmux") else "tmux is not installed"
    if tool == "postgres":
        if not os.environ.get("SHOPKEEPER_TEST_PG"):
            return "set SHOPKEEPER_TEST_PG to a PostgreSQL URL (a database that may be wiped) to run"
        if importlib.util.find_spec("psycopg2") is None:
            return "psycopg2 is not installed (pip install -e '.[postgres]')"
        return None
    if tool == "chromium":
        # A real headless browser for ``shopkeeper serve``: Debian's chromium and chromium-driver, driven by selenium.
        for program, package in (("chromium", "chromium"), ("chromedriver", "chromium-driver")):
            if not shutil.which(program):
                return f"{program} is not installed (apt-get install {package})"
        for module, package in (("selenium", "selenium"), ("textual_serve", "textual-serve")):
            if importlib.util.find_spec(module) is None:
                return f"{package} is not installed (pip install -e '.[test]')"
        return None
    if tool in ("hledger", "ledger"):  # the books export's judges: Debian's packages
        return None if shutil.which(tool) else f"{tool} is not installed (apt-get install {tool})"
    if tool == "bean-check":  # beancount 3 from PyPI, in the test extra: its script sits beside this Python
        return None if bean_check() else "bean-check is not installed (pip install -e '.[test]')"
    if tool == "escpos":
        found = importlib.util.find_spec("escpos") is not None
        return None if found else "python-escpos is not installed (pip install -e .: it is a dependency)"
    raise ValueError(f"unknown tool {tool!r} in @pytest.mark.requires")


def bean_check() -> str | None:
    """The ``bean-check`` program of this Python's environment (or on PATH), or None."""
    import sys
    from pathlib import Path

    beside = Path(sys.executable).parent / "bean-check"
    return str(beside) if beside.exists() else shutil.which("bean-check")


def pytest_runtest_setup(item):
    """``@pytest.mark.requires("tmux")``: a test that needs a real tool is skipped without it on a developer's
    machine, and fails in CI (``$CI`` set), where a skipped test would pass in silence."""
    for marker in item.iter_markers("requires"):
        for tool in marker.args:
            why = _missing_tool(tool)
            if why is None:
                continue
            if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
                pytest.fail(f"CI needs {tool} for this test: {why}", pytrace=False)
            pytest.skip(why)


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory, monkeypatch):
    """No test reads the developer's own config or database."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.delenv("SHOPKEEPER_CONFIG", raising=False)
    monkeypatch.delenv("SHOPKEEPER_DB", raising=False)


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "shop.db"


@pytest.fixture
def db(db_path):
    database = open_database(str(db_path))
    yield database
    close_database()


@pytest.fixture
def ctx():
    return Context(staff="tester", terminal="till-1", negative_stock="warn", prices_include_tax=True,
                   default_tax_rate=20_000)


@pytest.fixture
def demo_db(db, ctx):
    """The seeded demo shop."""
    from shopkeeper.demo import seed_demo

    seed_demo(ctx)
    return db


def in_zone(monkeypatch, zone: str):
    """Run (a fixture's ``yield from``) with the process's local time zone set to ``zone``, then put it back."""
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def utc(monkeypatch):
    """Local days are UTC days: stored stamps fall on the local days they name wherever the tests run."""
    yield from in_zone(monkeypatch, "UTC")
