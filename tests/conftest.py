"""Shared fixtures: a fresh file database per test (thread workers and subprocesses need a file, not :memory:)."""

from __future__ import annotations

import pytest

from shopkeeper.db import close_database, open_database
from shopkeeper.services.context import Context


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
                   default_tax_rate=2000)


@pytest.fixture
def demo_db(db, ctx):
    """The seeded demo shop."""
    from shopkeeper.demo import seed_demo

    seed_demo(ctx)
    return db
