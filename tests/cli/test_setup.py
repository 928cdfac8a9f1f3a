"""init and demo as a shop owner meets them: the shop's money rules kept in its database, nothing deleted, nothing
replaced under a running till, paths that mean the same file later."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from shopkeeper.cli import main


@pytest.fixture
def run(capsys):
    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err

    return run


def test_a_config_with_other_decimals_is_refused_naming_both(run, tmp_path):
    shop_config, db = tmp_path / "shop.toml", str(tmp_path / "shop.db")
    assert run("--config", str(shop_config), "--db", db, "init", "--currency", "EUR", "--decimals", "2")[0] == 0
    csv = tmp_path / "p.csv"
    csv.write_text("sku,name,price\nMILK,Milk,1.29\n")
    other = tmp_path / "other.toml"
    other.write_text('[shop]\ncurrency = "EUR"\ndecimals = 3\n')
    code, _, err = run("--config", str(other), "--db", db, "products", "import", str(csv))
    assert code == 2
    assert f"config {other} says EUR with 3 decimals" in err and "keeps EUR with 2 decimals" in err
    code, _, err = run("--config", str(other), "--db", db, "stock")
    assert code == 2 and "EUR with 2 decimals" in err
    assert run("--config", str(shop_config), "products", "import", str(csv))[0] == 0


def test_a_shop_made_before_settings_adopts_the_config_and_says_so_once(run, tmp_path):
    from shopkeeper.db import close_database, open_database

    db = str(tmp_path / "old.db")
    open_database(db)
    close_database()
    con = sqlite3.connect(db)  # as an older shopkeeper left it: schema 1, no settings table
    con.executescript("DROP TABLE shop_setting; DELETE FROM schema_version WHERE version > 1;")
    con.close()
    code, _, err = run("--db", db, "stock")
    assert code == 0 and "had no currency recorded; it now keeps EUR with 2 decimals" in err
    code, _, err = run("--db", db, "stock")
    assert code == 0 and err == ""
    config = tmp_path / "gbp.toml"
    config.write_text('[shop]\ncurrency = "GBP"\n')
    assert run("--config", str(config), "--db", db, "stock")[0] == 2


def test_demo_reset_never_touches_a_real_shop(run, tmp_path):
    db = tmp_path / "shop.db"
    assert run("--config", str(tmp_path / "c.toml"), "--db", str(db), "init")[0] == 0
    before = db.read_bytes()
    code, _, err = run("--db", str(db), "demo", "--reset", "--no-tui")
    assert code == 2 and "is a real shop, not a demo" in err
    assert db.read_bytes() == before and list(tmp_path.glob("shop.db.*.bak")) == []
    code, _, err = run("--db", str(db), "demo", "--no-tui")  # nor fills it with demo goods
    assert code == 2 and run("--db", str(db), "--config", str(tmp_path / "c.toml"), "stock")[1] == "no products yet\n"


def test_demo_reset_moves_the_old_demo_aside(run, tmp_path):
    db = tmp_path / "demo.db"
    assert run("--db", str(db), "demo", "--no-tui")[0] == 0
    code, out, _ = run("--db", str(db), "demo", "--reset", "--no-tui")
    assert code == 0 and "previous demo is kept as" in out
    (kept,) = tmp_path.glob("demo.db.*.bak")
    assert sqlite3.connect(kept).execute("SELECT COUNT(*) FROM product").fetchone()[0] == 15


def test_demo_with_another_number_of_products_is_rebuilt(run, tmp_path):
    db = str(tmp_path / "demo.db")
    assert run("--db", db, "demo", "--no-tui", "--products", "3")[0] == 0
    code, _, err = run("--db", db, "demo", "--no-tui", "--products", "10")
    assert code == 0 and "rebuilding the demo shop with 10 generated products (it had 3)" in err
    code, out, _ = run("--db", db, "--json", "stock")
    assert sum(row["sku"].startswith("ITEM-") for row in json.loads(out)) == 10
    assert run("--db", db, "demo", "--no-tui")[0] == 0  # no --products: the demo as it is
    assert len(list(tmp_path.glob("demo.db.*.bak"))) == 1


def test_seeding_reports_progress_up_to_the_total(db, ctx):
    from shopkeeper.demo import DEMO_PRODUCTS, seed_demo

    seen = []
    seed_demo(ctx, extra_products=250, progress=lambda done, total: seen.append((done, total)))
    total = len(DEMO_PRODUCTS) + 250
    assert seen[-1] == (total, total) and len(seen) > 10
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


HOLDER = textwrap.dedent("""
    import sqlite3, sys
    con = sqlite3.connect(sys.argv[1])
    con.execute("SELECT COUNT(*) FROM product").fetchone()  # an idle till: open, not in a transaction
    print("open", flush=True)
    sys.stdin.read()
""")


@pytest.fixture
def held(tmp_path):
    """A database another process (an idle till) holds open."""
    procs = []

    def hold(db: str) -> None:
        proc = subprocess.Popen([sys.executable, "-c", HOLDER, db], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True)
        assert proc.stdout.readline().strip() == "open"
        procs.append(proc)

    yield hold
    for proc in procs:
        proc.stdin.close()
        proc.wait()


def test_init_force_refuses_while_a_till_has_the_database_open(run, tmp_path, held):
    db, config = str(tmp_path / "shop.db"), str(tmp_path / "c.toml")
    assert run("--config", config, "--db", db, "init")[0] == 0
    held(db)
    code, _, err = run("--config", config, "--db", db, "init", "--force")
    assert code == 2 and "is in use by another process" in err
    assert list(tmp_path.glob("shop.db.*.bak")) == []


def test_demo_reset_refuses_while_the_demo_is_open_elsewhere(run, tmp_path, held):
    db = str(tmp_path / "demo.db")
    assert run("--db", db, "demo", "--no-tui")[0] == 0
    held(db)
    code, _, err = run("--db", db, "demo", "--reset", "--no-tui")
    assert code == 2 and "is in use by another process" in err
    assert list(tmp_path.glob("demo.db.*.bak")) == []


def test_init_force_moves_a_closed_database_aside(run, tmp_path):
    db, config = str(tmp_path / "shop.db"), str(tmp_path / "c.toml")
    assert run("--config", config, "--db", db, "init")[0] == 0
    code, out, _ = run("--config", config, "--db", db, "init", "--force")
    assert code == 0 and "old database kept as" in out and len(list(tmp_path.glob("shop.db.*.bak"))) == 1


def test_init_with_relative_paths_names_the_same_file_later(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    assert run("--config", "d/c.toml", "--db", "d/c.db", "init")[0] == 0
    assert run("--config", "d/c.toml", "stock") == (0, "no products yet\n", "")
    monkeypatch.chdir(tmp_path / "d")
    assert run("--config", "c.toml", "stock") == (0, "no products yet\n", "")
    assert sorted(p.name for p in (tmp_path / "d").iterdir() if p.suffix == ".db") == ["c.db"]


@pytest.mark.parametrize("content", [b"", b"just some notes\n" * 10])
def test_a_file_that_is_not_a_shop_is_refused_and_left_alone(run, tmp_path, content):
    bad = tmp_path / "notes.db"
    bad.write_bytes(content)
    code, _, err = run("--db", str(bad), "stock")
    assert code == 2 and "not a shopkeeper database" in err
    assert bad.read_bytes() == content


def test_an_sqlite_file_of_another_program_is_refused(run, tmp_path):
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE contacts (name TEXT)")
    con.commit()
    con.close()
    code, _, err = run("--db", str(other), "stock")
    assert code == 2 and "not a shopkeeper database" in err
    assert {r[0] for r in sqlite3.connect(other).execute("SELECT name FROM sqlite_master")} == {"contacts"}


def test_a_postgresql_password_is_never_printed(run, tmp_path):
    pytest.importorskip("psycopg2")
    url = "postgresql://clerk:s3cret-pw@127.0.0.1:1/shopdb"  # nothing listens on port 1
    code, out, err = run("--config", str(tmp_path / "c.toml"), "--db", url, "init")
    assert code == 2 and "s3cret" not in out + err
    assert "shopdb on 127.0.0.1:1 (PostgreSQL)" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "c.toml").exists()
    code, out, err = run("--db", url, "stock")
    assert code == 2 and "s3cret" not in out + err and len(err.strip().splitlines()) == 1


def test_counter_idle_must_be_a_real_number_of_seconds(run, tmp_path):
    db = str(tmp_path / "shop.db")
    assert run("--config", str(tmp_path / "c.toml"), "--db", db, "init")[0] == 0
    replay = tmp_path / "scan.txt"
    replay.write_text("")
    for bad in ("nan", "inf", "0"):
        code, _, err = run("--config", str(tmp_path / "c.toml"), "counter", "--mode", "sell", "--sale-end", "idle",
                           "--idle", bad, "--replay", str(replay))
        assert code == 2 and "idle timeout must be a number of seconds more than 0" in err


def test_a_config_holding_a_password_is_written_for_its_owner_only(tmp_path):
    from shopkeeper.config import parse_config, write_config

    path = tmp_path / "c.toml"
    write_config(path, parse_config({"database": {"url": "postgresql://u:pw@h/db"}}))
    assert os.stat(path).st_mode & 0o077 == 0


def _demo_stderr(tmp_path, *, tty: bool) -> str:
    """stderr of ``shopkeeper demo --no-tui --products 200``, on a terminal or a pipe."""
    import pty

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), COLUMNS="100")
    cmd = [sys.executable, "-m", "shopkeeper", "--db", str(tmp_path / "demo.db"), "demo", "--no-tui",
           "--products", "200"]
    if not tty:
        return subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stderr
    leader, follower = pty.openpty()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the demo is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait() == 0
    return b"".join(chunks).decode("utf-8", "replace")


def test_building_a_demo_shows_progress_on_a_terminal_only(tmp_path):
    assert "building the demo shop" in _demo_stderr(tmp_path / "a", tty=True)
    assert _demo_stderr(tmp_path / "b", tty=False) == ""
