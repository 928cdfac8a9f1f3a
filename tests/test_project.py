"""The project's promises to a newcomer: the README's commands are what CI runs, the example config is complete."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from shopkeeper.config import Config, parse_config

ROOT = Path(__file__).resolve().parents[1]
pytest_plugins = ["pytester"]


def _quick_start_lines() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line for line in block.strip().splitlines() if line.strip()]


def test_readme_quick_start_is_two_lines_and_ci_runs_the_test_line():
    lines = _quick_start_lines()
    assert len(lines) == 2
    assert "shopkeeper demo" in lines[0]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert lines[1] in ci


def test_example_config_is_valid_and_documents_every_key():
    data = tomllib.loads((ROOT / "config.example.toml").read_text())
    config = parse_config(data)
    documented = {(section, key) for section, table in data.items() for key in table}
    for name in ("shop", "database", "till"):
        for f in dataclasses.fields(getattr(config, name)):
            assert (name, f.name) in documented, f"config.example.toml lacks {name}.{f.name}"
    for name, section in config.extra.items():
        for f in dataclasses.fields(section):
            text = (ROOT / "config.example.toml").read_text()
            assert f.name in text, f"config.example.toml lacks {name}.{f.name}"
    assert isinstance(config, Config)


def test_domain_modules_do_not_import_textual():
    """At run time, beside the import contracts: every domain module imported, and Textual still not loaded."""
    domain = [ROOT / "shopkeeper" / name for name in ("services", "scanner")]
    modules = ["shopkeeper.models", "shopkeeper.db", "shopkeeper.money", "shopkeeper.config", "shopkeeper.barcodes",
               "shopkeeper.demo", "shopkeeper.counter", "shopkeeper.receipts", "shopkeeper.labels",
               "shopkeeper.text", "shopkeeper.bounds", "shopkeeper.live", "shopkeeper.printer",
               "shopkeeper.denominations"]
    modules += sorted(f"shopkeeper.{folder.name}.{path.stem}" for folder in domain for path in folder.glob("*.py")
                      if path.stem != "__init__")
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules)
            + "bad = [m for m in sys.modules if m == 'textual' or m.startswith('textual.')]\n"
            + "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


PROBE = """
import pytest

@pytest.mark.requires("postgres")
def test_needs_postgres():
    pass
"""


@pytest.mark.parametrize("ci, outcome", [("true", {"errors": 1}), ("", {"skipped": 1})])
def test_a_test_that_needs_a_missing_tool_fails_in_ci_and_skips_elsewhere(pytester, monkeypatch, ci, outcome):
    monkeypatch.delenv("SHOPKEEPER_TEST_PG", raising=False)
    monkeypatch.setenv("CI", ci)
    pytester.makeconftest((ROOT / "tests" / "conftest.py").read_text())
    pytester.makepyfile(PROBE)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:textual-snapshot", "-rfs")
    result.assert_outcomes(**outcome)
    result.stdout.fnmatch_lines(["*SHOPKEEPER_TEST_PG*"])


def test_import_contracts_hold():
    """The contracts in pyproject.toml: no Textual in the domain, no models/db/peewee in screens and widgets."""
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == 0


# Peewee calls that write. (``update``/``delete``/``insert`` are also widget or list methods, so those count only
# when the query they build is executed.)
WRITE_CALLS = {"save", "create", "get_or_create", "insert_many", "insert_from", "delete_instance", "bulk_create",
               "bulk_update", "execute_sql", "replace_many", "truncate_table", "drop_table", "create_table"}
QUERY_BUILDERS = {"insert", "update", "delete", "replace"}


def _builds_a_write(chain: ast.expr) -> bool:
    """Whether a method chain (``Model.update(...).where(...)``) starts from a write query builder."""
    while isinstance(chain, ast.Call) and isinstance(chain.func, ast.Attribute):
        if chain.func.attr in QUERY_BUILDERS:
            return True
        chain = chain.func.value
    return False


def _write_calls(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr in WRITE_CALLS or (node.func.attr == "execute" and _builds_a_write(node.func.value)):
            lines.append(node.lineno)
    return lines


def test_screens_write_only_through_services():
    """A screen may hold a model instance a service returned; it must still not save it itself."""
    found = {}
    for path in sorted((ROOT / "shopkeeper" / "tui").rglob("*.py")):
        lines = _write_calls(ast.parse(path.read_text()))
        if lines:
            found[str(path.relative_to(ROOT))] = lines
    assert found == {}, f"database writes outside the services: {found}"


def test_the_write_call_scan_finds_writes():
    code = "p.save()\nProduct.update(name='x').where(Product.id == 1).execute()\nself.update('text')\nxs.insert(0, 1)\n"
    assert _write_calls(ast.parse(code)) == [1, 2]
