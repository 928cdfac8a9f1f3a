"""Several processes write one shop at once: no lost update, no "database is locked", no acknowledged sale lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from shopkeeper.db import close_database, open_database
from shopkeeper.models import Movement, Product, Sale
from shopkeeper.services import stock
from shopkeeper.services.audit import check_stock
from shopkeeper.services.catalog import ProductData, save_product

pytestmark = pytest.mark.slow

SELLER = textwrap.dedent("""
    import sys
    from shopkeeper.db import open_database
    from shopkeeper.services.context import Context
    from shopkeeper.services.sales import LineInput, sell
    path, terminal, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    open_database(path)
    ctx = Context(staff="s", terminal=terminal, negative_stock="allow")
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    n = 0
    while count == 0 or n < count:
        n += 1
        result = sell(ctx, [LineInput("A", 1000), LineInput("4006381333931", 2000)], payment="card")
        print("committed", result.sale_id, flush=True)
""")


@pytest.fixture
def shop(db, ctx, db_path):
    save_product(ProductData(sku="A", name="Apples"))
    save_product(ProductData(sku="B", name="Bread", barcodes=["4006381333931"]))
    stock.receive(ctx, "A", 1_000_000, 10)
    stock.receive(ctx, "B", 1_000_000, 10)
    close_database()
    yield str(db_path)


def _spawn(path: str, terminal: str, count: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", SELLER, path, terminal, str(count)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_four_processes_selling_the_same_products_end_with_exact_stock(shop):
    per_process = 60
    procs = [_spawn(shop, f"till-{n}", per_process) for n in range(4)]
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = [proc.communicate(timeout=120) for proc in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
        assert "locked" not in err
        assert out.count("committed") == per_process
    open_database(shop)
    sold = 4 * per_process
    assert Product.get(Product.sku == "A").on_hand == 1_000_000 - sold * 1000
    assert Product.get(Product.sku == "B").on_hand == 1_000_000 - sold * 2000
    assert Sale.select().count() == sold
    assert check_stock()[1] == []


def test_kill_9_mid_burst_loses_no_acknowledged_sale(shop):
    proc = _spawn(shop, "till-k", 0)
    proc.stdin.write("go\n")
    proc.stdin.flush()
    acknowledged = []
    deadline = time.monotonic() + 60
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("committed"):
            acknowledged.append(int(line.split()[1]))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    acknowledged += [int(line.split()[1]) for line in proc.stdout.read().splitlines() if line.startswith("committed")]
    assert len(acknowledged) >= 40
    open_database(shop)
    stored = {s.id for s in Sale.select(Sale.id)}
    assert set(acknowledged) <= stored
    # Whatever was in flight is all there or not at all: every stored sale has both its movements.
    for sale_id in stored:
        assert Movement.select().where(Movement.sale == sale_id).count() == 2
    assert check_stock()[1] == []
