"""A read-only database (file or folder permissions, a read-only disk) can still be read: stock, journal, check
and backup work, and a write says the database is read-only and that nothing was saved.

The tests run as root, and root ignores file modes. So the CLI runs in a child process without the capabilities
that let root override them (``setpriv``): the same open() refusal a shop's own user would meet.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys

import pytest

from shopkeeper.cli import main


def _run_unprivileged(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "shopkeeper", *args]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("needs setpriv to drop root's power to ignore file modes")
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@pytest.fixture
def read_only_shop(tmp_path, capsys):
    folder = tmp_path / "shop"
    folder.mkdir()
    db = folder / "shop.db"
    config = tmp_path / "config.toml"
    config.write_text('[shop]\nname = "Demo Grocery"\n')  # the demo makes its own shop (never one init made)
    assert main(["--config", str(config), "--db", str(db), "demo", "--no-tui"]) == 0
    capsys.readouterr()
    assert not (folder / "shop.db-wal").exists()  # closed cleanly: everything is in the file itself
    db.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    yield config, db
    folder.chmod(0o755)
    db.chmod(0o644)


@pytest.mark.parametrize("folder_writable", [True, False], ids=["file-read-only", "folder-read-only"])
def test_a_read_only_database_can_still_be_read_and_backed_up(read_only_shop, tmp_path, folder_writable):
    config, db = read_only_shop
    if not folder_writable:
        db.parent.chmod(0o555)
    shop = ("--config", str(config), "--db", str(db))
    stock = _run_unprivileged(*shop, "--json", "stock")
    assert stock.returncode == 0, stock.stderr
    assert "MILK-1L" in stock.stdout
    journal = _run_unprivileged(*shop, "journal", "--limit", "3")
    lines = journal.stdout.splitlines()
    assert journal.returncode == 0 and lines[0].startswith("times in ") and len(lines) == 4, journal.stderr
    check = _run_unprivileged(*shop, "check")
    assert check.returncode == 0 and "ok" in check.stdout, check.stderr
    copy = tmp_path / "copy.db"
    backup = _run_unprivileged(*shop, "backup", str(copy))
    assert backup.returncode == 0, backup.stderr
    assert sqlite3.connect(copy).execute("SELECT count(*) FROM product").fetchone()[0] > 0

    sell = _run_unprivileged(*shop, "sell", "MILK-1L")
    assert sell.returncode == 2
    assert "the database is read-only" in sell.stderr and "nothing was saved" in sell.stderr
    assert "Traceback" not in sell.stderr
