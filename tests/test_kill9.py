"""Crash safety: writers killed with SIGKILL at random moments lose nothing they acknowledged and leave nothing half.

Eight sellers (``shopkeeper sell``), an importer (``products import``), a receiver (``receive``), a headless counter
and, on SQLite, a backup loop (``backup DEST``) write one shop at once, each in its own process
(forked by tests/kill9_worker.py). Five rounds: all start, and each is killed with SIGKILL at its own random moment
(seeded). Afterwards every acknowledged operation is in the database whole, no sale lacks a line or a movement,
``shopkeeper check`` is clean and every backup passes SQLite's integrity check.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from peewee import fn

from shopkeeper.db import close_database, open_database
from shopkeeper.models import Movement, Product, Sale, SaleLine
from shopkeeper.services import stock
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.context import Context

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "tests" / "kill9_worker.py"
SEED = 20261128
ROUNDS = 5
LONGEST_LIFE = 2.5  # seconds after a round starts; each worker dies at a random moment before it

pytestmark = pytest.mark.slow


def _seed_shop(location: str) -> None:
    open_database(location)
    ctx = Context(staff="kill9", terminal="setup")
    for sku, name, barcodes in (("A", "Apples", []), ("B", "Bread", ["4006381333931"])):
        save_product(ProductData(sku=sku, name=name, price=150, barcodes=barcodes))
        stock.receive(ctx, sku, 1_000_000, 10)
    close_database()


@pytest.fixture
def sqlite_shop(db_path):
    _seed_shop(str(db_path))
    return str(db_path)


@pytest.fixture
def pg_shop():
    url = os.environ["SHOPKEEPER_TEST_PG"]
    db = open_database(url)
    db.execute_sql("DROP SCHEMA public CASCADE")
    db.execute_sql("CREATE SCHEMA public")
    close_database()
    _seed_shop(url)
    yield url
    close_database()


def _workers(with_backups: bool) -> list[tuple[str, str]]:
    """(role, terminal) of every writer."""
    workers = [("seller", f"till-{n}") for n in range(8)]
    workers += [("importer", "office"), ("receiver", "backdoor"), ("counter", "pi-door")]
    return workers + ([("backup", "cron")] if with_backups else [])


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _kill_rounds(location: str, folder: Path, with_backups: bool) -> dict[str, list[str]]:
    """Run the rounds; return every acknowledged line by kind, after checking no worker reported a failure."""
    rng = random.Random(SEED)
    workers = _workers(with_backups)
    zygote = subprocess.Popen([sys.executable, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=_env(), cwd=ROOT)
    pids: list[int] = []
    try:
        assert zygote.stdout.readline().strip() == "ready", "the worker zygote did not start"
        for round_no in range(ROUNDS):
            pids = []
            for n, (role, terminal) in enumerate(workers):
                zygote.stdin.write(f"{role} {location} {folder / f'{role}-{terminal}.ack'} {SEED}-{round_no}-{n} "
                                   f"{terminal} {folder / f'{role}-{terminal}-{round_no}.err'}\n")
                zygote.stdin.flush()
                pids.append(int(zygote.stdout.readline()))
            # The random moments: when each worker is killed, mid-transaction or not, whatever it is doing.
            schedule = sorted((rng.uniform(0.1, LONGEST_LIFE), n) for n in range(len(pids)))
            start = time.monotonic()
            for moment, n in schedule:
                time.sleep(max(start + moment - time.monotonic(), 0))
                assert not _gone(pids[n]), f"{workers[n]} ended by itself in round {round_no}"
                os.kill(pids[n], signal.SIGKILL)
            deadline = time.monotonic() + 30
            while not all(_gone(pid) for pid in pids):  # reaped by the kernel (the zygote ignores SIGCHLD)
                assert time.monotonic() < deadline, "a killed worker is still there"
                time.sleep(0.01)
    finally:
        for pid in pids:  # a failed assertion must not leave writers running
            if not _gone(pid):
                os.kill(pid, signal.SIGKILL)
        zygote.stdin.close()
        zygote.wait(30)

    problems = []
    for err in sorted(folder.glob("*.err")):
        text = err.read_text()
        if "Traceback" in text or "FAILED" in text:
            problems.append(f"{err.name}:\n{text}")
    assert not problems, "\n".join(problems)

    acks: dict[str, list[str]] = defaultdict(list)
    for log in folder.glob("*.ack"):
        data = log.read_text()
        for line in data[: data.rfind("\n") + 1].splitlines():  # a line cut short by the kill was never acknowledged
            kind, _, rest = line.partition(" ")
            acks[kind].append(rest)
    expected = {"sale", "import", "receive"} | ({"backup"} if with_backups else set())
    assert expected <= set(acks), f"some kinds of work never got done in {ROUNDS} rounds: {dict(acks)}"
    return acks


def _assert_nothing_lost_nothing_half(location: str, acks: dict[str, list[str]]) -> None:
    open_database(location)
    try:
        for entry in acks["sale"]:
            sale_id, lines, total = entry.split()
            sale = Sale.get_or_none(Sale.id == int(sale_id))
            assert sale is not None, f"acknowledged sale {sale_id} is missing"
            assert SaleLine.select().where(SaleLine.sale == sale).count() == int(lines), f"sale {sale_id} lines"
            if total != "-":
                assert sale.total == int(total), f"sale {sale_id} total"
        line_counts = dict(SaleLine.select(SaleLine.sale, fn.COUNT(SaleLine.id)).group_by(SaleLine.sale).tuples())
        movement_counts = dict(Movement.select(Movement.sale, fn.COUNT(Movement.id)).where(Movement.sale.is_null(False))
                               .group_by(Movement.sale).tuples())
        sales = [s for (s,) in Sale.select(Sale.id).tuples()]
        half = [s for s in sales if not line_counts.get(s) or movement_counts.get(s) != line_counts[s]]
        assert half == [], f"sales without all their lines and movements: {half}"

        for entry in acks["receive"]:
            movement_id, sku, qty = entry.split()
            movement = Movement.get_or_none(Movement.id == int(movement_id))
            assert movement is not None, f"acknowledged receipt (movement {movement_id}) is missing"
            assert (movement.kind, movement.product.sku, movement.quantity) == ("receive", sku, int(qty))

        for entry in acks["import"]:
            tag, count = entry.split()
            imported = {p.sku: p.on_hand for p in Product.select().where(Product.sku.startswith(f"IMP-{tag}-"))}
            assert imported == {f"IMP-{tag}-{k}": (k + 1) * 1000 for k in range(int(count))}, f"import {tag}"
    finally:
        close_database()

    check = subprocess.run([sys.executable, "-m", "shopkeeper", "--db", location, "check"], capture_output=True,
                           text=True, cwd=ROOT, timeout=120, env=_env())
    assert check.returncode == 0, check.stdout + check.stderr


def test_sigkill_at_random_moments_loses_no_acknowledged_operation(sqlite_shop, tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    acks = _kill_rounds(sqlite_shop, folder, with_backups=True)
    _assert_nothing_lost_nothing_half(sqlite_shop, acks)
    # Every backup under its own name, acknowledged or not (killed after writing it): a kill leaves at most a
    # ``.partial`` file beside it.
    backups = sorted(str(path) for path in folder.glob("backup-*.db"))
    assert set(acks["backup"]) <= set(backups)
    for path in backups:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)], path
            assert conn.execute("SELECT count(*) FROM product").fetchone()[0] >= 2, path  # the seeded shop
        finally:
            conn.close()


@pytest.mark.requires("postgres")
@pytest.mark.xdist_group("postgres")
def test_sigkill_at_random_moments_loses_nothing_on_postgres(pg_shop, tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    acks = _kill_rounds(pg_shop, folder, with_backups=False)
    _assert_nothing_lost_nothing_half(pg_shop, acks)
