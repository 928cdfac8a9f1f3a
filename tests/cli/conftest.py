"""The command line as a test calls it: ``run(*args)`` → ``(exit code, stdout, stderr)`` on a shop of its own,
never a traceback."""

from __future__ import annotations

import pytest

from shopkeeper.cli import main


@pytest.fixture
def run(tmp_path, capsys):
    db = str(tmp_path / "shop.db")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--db", db, "--staff", "cli", *args])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err

    run.db = db
    return run
