"""Stock screen figures at 1k and 100k products, each beside a baseline measured in the same run.

    python bench/bench_tui.py            # 1k and 100k
    python bench/bench_tui.py 1000 20000 # other sizes

Run it with the Python that has shopkeeper installed (a SQLite shop's install, ``pip install -e .``, has no
psycopg2; with it installed, Peewee imports it at start and the first frame is a few ms later, which the bench says).

* first frame: wall time from starting ``shopkeeper --config FILE --db PATH`` (the real command line, stdout on a
  pseudo-terminal) to the end of the first compositor refresh whose frame holds the stock table with product rows
  (headless, 80×24), beside a bare Textual app's first frame measured the same way. Best of 5 each, shopkeeper
  byte-compiled first as an installed package is. Target: under 1.5× the bare app.
* keystroke: time from changing the filter to the refreshed table painted (the on-loop first window; the full
  index follows in a thread), median and worst over a set of filters, beside the same window query run alone in
  sqlite3. Target: under 30 ms at 100k.
* memory: peak resident set size of the launched app process at its first frame. Target: under 120 MB.

The shop is bulk-inserted (raw SQL into a schema made by ``open_database``), with stock, movements and barcodes.
"""

from __future__ import annotations

import asyncio
import os
import pty
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RUNS = 5
FILTERS = ["a", "ap", "app", "appl", "apple", "apple 1", "zzz", "ITEM-0099", "200000", "", "tea"]

# Both scripts print the wall time at the end of the first compositor refresh (the frame handed to the driver) that
# shows what counts: for the bare app, its screen; for ours, the stock table with product rows in it.
BARE_APP = """
import sys, time
from textual.app import App
from textual.screen import Screen
compositor_refresh = Screen._compositor_refresh
def timed_refresh(self):
    compositor_refresh(self)
    if not getattr(Screen, "reported", False):
        Screen.reported = True
        print(time.time(), file=sys.stderr, flush=True)
        self.app.exit()
Screen._compositor_refresh = timed_refresh
App().run(headless=True, size=(80, 24))
"""

# Ours is launched the way staff launch it: ``shopkeeper --config FILE --db PATH`` through the real command line
# (argument parsing, config file, opening the database, then the app), stdout on a pseudo-terminal. An import hook
# patches the app for timing when the CLI itself imports it, so nothing is loaded ahead of the CLI.
SHOP_APP = """
import importlib.util, resource, sys, time

def patch():
    from textual.app import App
    from textual.screen import Screen
    from shopkeeper.tui.widgets.virtual_table import VirtualTable
    state = {"rows_rendered": False, "reported": False}
    render_line = VirtualTable.render_line
    def spy_render_line(self, y):
        strip = render_line(self, y)
        if y == 1 and self.id == "stock" and self.row_count and self.cursor_row is not None:
            state["rows_rendered"] = True  # the first product row of the stock table went into this frame
        return strip
    VirtualTable.render_line = spy_render_line
    compositor_refresh = Screen._compositor_refresh
    def timed_refresh(self):
        compositor_refresh(self)
        if state["rows_rendered"] and not state["reported"]:
            state["reported"] = True
            print(time.time(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, file=sys.stderr,
                  flush=True)
            self.app.exit()
    Screen._compositor_refresh = timed_refresh
    run = App.run
    App.run = lambda self, **kw: run(self, headless=True, size=(80, 24))

class PatchWhenLoaded:
    def find_spec(self, name, path=None, target=None):
        if name != "shopkeeper.tui.app":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        exec_module = spec.loader.exec_module
        def exec_and_patch(module):
            exec_module(module)
            patch()
        spec.loader.exec_module = exec_and_patch
        return spec

sys.meta_path.insert(0, PatchWhenLoaded())
sys.path.insert(0, ROOT)
from shopkeeper.cli import main
sys.exit(main(sys.argv[1:]))
"""


def build_shop(path: Path, n: int) -> None:
    from shopkeeper.db import close_database, open_database

    open_database(str(path))
    close_database()
    rng = random.Random(1)
    words = ["apple", "bread", "cheese", "dog", "egg", "fig", "grape", "ham", "ice", "jam", "kale", "lime", "mint", "nut", "oat", "pea", "rice", "salt", "tea", "veg"]
    now = "2026-01-01T00:00:00.000000Z"
    con = sqlite3.connect(path)
    with con:
        con.executemany(
            "INSERT INTO product (sku, name, unit, price, tax_rate, avg_cost, reorder_point, reorder_qty, category, "
            "active, on_hand, updated_at) VALUES (?, ?, 'pcs', ?, 20000, ?, ?, 12000, 'Generated', 1, ?, ?)",
            ((f"ITEM-{i:06d}", f"{rng.choice(words).title()} {rng.choice(words)} {i}", rng.randint(50, 5000),
              rng.randint(20, 3000), rng.choice([0, 2000, 5000]), rng.randint(0, 40) * 1000, now) for i in range(n)))
        con.execute("INSERT INTO movement (product_id, kind, quantity, unit_cost, reason, created_at, reference) "
                    "SELECT id, 'receive', on_hand, avg_cost, '', ?, 'delivery:opening' FROM product "
                    "WHERE on_hand <> 0", (now,))
        con.execute("INSERT INTO barcode (code, product_id) SELECT printf('20%011d', id), id FROM product "
                    "WHERE id % 3 = 0")
    con.execute("ANALYZE")
    con.close()


def first_frame(script: str, *args: str) -> tuple[float, list[str]]:
    """Start ``script`` with stdout on a pseudo-terminal (as in a terminal or SSH session); it prints the wall
    time of its first frame (and more) on stderr."""
    master, slave = pty.openpty()
    try:
        start = time.time()
        proc = subprocess.run([sys.executable, "-c", script, *args], stdin=subprocess.DEVNULL, stdout=slave,
                              stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    finally:
        os.close(slave)
        os.close(master)
    if proc.returncode:
        raise SystemExit(f"launch failed ({proc.returncode}):\n{proc.stderr}")
    out = proc.stderr.split()
    return float(out[0]) - start, out[1:]


def best_of(runs: int, script: str, *args: str) -> tuple[float, list[str]]:
    results = [first_frame(script, *args) for _ in range(runs)]
    return min(results, key=lambda r: r[0])


def compile_bytecode() -> None:
    """Byte-compile shopkeeper first, as ``pip install`` does and as any launch after the first finds it: with
    PYTHONDONTWRITEBYTECODE set (this build machine sets it), an editable checkout would otherwise be compiled from source at
    every launch, while Textual's installed files are not."""
    import compileall

    compileall.compile_dir(ROOT / "shopkeeper", quiet=1)


def sqlite_baseline(path: Path) -> list[float]:
    """The same first-window query the screen runs, alone in sqlite3."""
    from shopkeeper.db import close_database, open_database
    from shopkeeper.services import queries
    from shopkeeper.services.queries import StockQuery

    open_database(str(path))
    times = []
    for text in FILTERS:
        t0 = time.perf_counter()
        queries.stock_window(StockQuery(text), 0, 21)
        times.append((time.perf_counter() - t0) * 1000)
    close_database()
    return times


async def keystrokes(path: Path) -> list[float]:
    from textual.widgets import Input

    from shopkeeper.config import Config
    from shopkeeper.db import close_database, open_database
    from shopkeeper.services.context import Context
    from shopkeeper.tui.app import ShopkeeperApp

    open_database(str(path))
    app = ShopkeeperApp(str(path), Config(), Context(staff="Sam", terminal="bench"))
    from shopkeeper.tui.screens.stock import StockScreen

    times = []
    painted = asyncio.Event()
    original = StockScreen._requery

    def requery(self, query):
        original(self, query)
        self.app.call_after_refresh(painted.set)  # runs once the re-read table has been repainted

    StockScreen._requery = requery
    async with app.run_test(size=(80, 24)) as pilot:
        await asyncio.sleep(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause()
        box = app.screen.query_one("#filter", Input)
        for text in FILTERS:
            painted.clear()
            t0 = time.perf_counter()
            box.value = text  # as a keystroke does: the filter's value watcher -> the screen re-reads the window
            await painted.wait()
            times.append((time.perf_counter() - t0) * 1000)
            await asyncio.sleep(0.3)  # the index arrives in a thread after typing pauses: not part of it
            await app.workers.wait_for_complete()
            await pilot.pause()
    StockScreen._requery = original
    close_database()
    return times


def main(sizes: list[int]) -> None:
    import importlib.util

    compile_bytecode()
    pg = importlib.util.find_spec("psycopg2") is not None
    print(f"python {sys.version.split()[0]} ({sys.executable}); filters: {FILTERS}")
    print(f"psycopg2 {'installed: Peewee imports it at start' if pg else 'not installed (a SQLite shop needs none)'}")
    bare, _ = best_of(RUNS, BARE_APP)
    print(f"bare Textual app, first frame: {bare * 1000:.0f} ms (best of {RUNS})")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"shop-{n}.db"
            t0 = time.perf_counter()
            build_shop(path, n)
            print(f"\n== {n:,} products (built in {time.perf_counter() - t0:.1f} s)")
            config = Path(tmp) / "config.toml"
            config.write_text('[till]\nstaff = "Sam"\nterminal = "bench"\n')
            shop, extra = best_of(RUNS, SHOP_APP.replace("ROOT", repr(str(ROOT))), "--config", str(config), "--db", str(path))
            rss = int(extra[0])
            print(f"first frame of `shopkeeper --config F --db D`: {shop * 1000:.0f} ms vs bare {bare * 1000:.0f} ms "
                  f"= {shop / bare:.2f}x (target < 1.5x; best of {RUNS} each)")
            base = sqlite_baseline(path)
            keys = asyncio.run(keystrokes(path))
            print(f"keystroke to refreshed table: median {statistics.median(keys):.1f} ms, worst {max(keys):.1f} ms "
                  f"(target < 30 ms)")
            print(f"same window query alone in sqlite3: median {statistics.median(base):.1f} ms, "
                  f"worst {max(base):.1f} ms; ratio of medians {statistics.median(keys) / max(statistics.median(base), 0.01):.1f}x")
            for text, k, b in zip(FILTERS, keys, base, strict=True):
                print(f"   {text!r:>12}: {k:6.1f} ms  (query alone {b:5.1f} ms)")
            print(f"peak RSS of the app process: {rss} MB (target < 120 MB)")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000, 100_000])
