"""The TUI tests run on both databases in CI, whether or not the server could be started there."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize(("ci", "pg_url", "expected"), [
    ("true", "", ["sqlite", "postgresql"]),  # CI without a server: the [postgresql] tests exist, and fail
    ("", "postgresql://u@h/db", ["sqlite", "postgresql"]),
    ("", "", ["sqlite"]),  # a developer's machine without PostgreSQL
])
def test_tui_tests_run_on_postgresql_in_ci_and_wherever_a_server_is_named(monkeypatch, ci, pg_url, expected):
    import tests.tui.conftest as tui_conftest

    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("SHOPKEEPER_TEST_PG", pg_url)
    try:
        module = importlib.reload(tui_conftest)
        assert [p.id for p in module.BACKENDS] == expected
        postgres = [p for p in module.BACKENDS if p.id == "postgresql"]
        assert all(m.name == "requires" and m.args == ("postgres",) for p in postgres for m in p.marks)
    finally:
        monkeypatch.undo()
        importlib.reload(tui_conftest)
