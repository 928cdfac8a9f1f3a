"""Ctrl+C during `products import`: the command says what it left (nothing, or the rows stored so far) and how
to finish, exits 130, and running it again finishes the import."""

from __future__ import annotations

import re

import pytest

from shopkeeper.services import products_csv


@pytest.fixture
def big_file(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("sku,name,price,on_hand\n" + "".join(f"S{i:04d},Item {i},1.00,2\n" for i in range(300)))
    return path


def _ctrl_c_after(monkeypatch, batches: int) -> None:
    real = products_csv._write_batch
    done = [0]

    def write_then_interrupt(*args, **kwargs):
        if done[0] == batches:
            raise KeyboardInterrupt
        done[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(products_csv, "_write_batch", write_then_interrupt)


def test_ctrl_c_mid_import_says_what_is_stored_and_running_again_finishes(run, big_file, monkeypatch):
    assert run("init")[0] == 0
    _ctrl_c_after(monkeypatch, 1)  # the first batch (200 rows) is stored, the second interrupted
    code, _, err = run("products", "import", str(big_file))
    assert code == 130
    assert f"{big_file}: import interrupted after 200 of 300 rows; those are stored. Run the same command " in err
    monkeypatch.undo()
    code, out, err = run("products", "import", str(big_file))
    assert code == 0 and re.search(r"started \d{4}-\d\d-\d\d \d\d:\d\d and interrupted after 200 of 300 rows "
                                   r"\(those were not redone\)", err)  # a local time, as the journal shows
    assert "100 created" in out
    code, out, _ = run("--json", "stock")
    assert code == 0 and out.count('"sku"') == 300


def test_ctrl_c_before_the_first_batch_says_nothing_changed(run, big_file, monkeypatch):
    assert run("init")[0] == 0
    _ctrl_c_after(monkeypatch, 0)
    code, _, err = run("products", "import", str(big_file))
    assert code == 130 and "import interrupted before any row was stored: nothing changed" in err
    code, out, _ = run("--json", "stock")
    assert code == 0 and '"sku"' not in out
