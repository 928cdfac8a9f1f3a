"""The project's promises to a newcomer: the README's commands are what CI runs, the example config is complete."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import tomllib
from pathlib import Path

from shopkeeper.config import Config, parse_config

ROOT = Path(__file__).resolve().parents[1]


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
    modules = ["shopkeeper.services.stock", "shopkeeper.services.sales", "shopkeeper.services.catalog",
               "shopkeeper.services.reorder", "shopkeeper.services.audit", "shopkeeper.services.products_csv",
               "shopkeeper.models", "shopkeeper.db", "shopkeeper.money", "shopkeeper.config", "shopkeeper.barcodes",
               "shopkeeper.demo"]
    for extra in ("shopkeeper.services.till", "shopkeeper.services.queries", "shopkeeper.counter",
                  "shopkeeper.services.backup", "shopkeeper.bounds"):
        if (ROOT / (extra.replace(".", "/") + ".py")).exists():
            modules.append(extra)
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules)
            + "bad = [m for m in sys.modules if m == 'textual' or m.startswith('textual.')]\n"
            + "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
