"""The writers of tests/test_kill9.py: each runs one kind of work in a loop until it is killed.

    python tests/kill9_worker.py      (then one line per worker on stdin; see ``main``)

ROLE is ``seller``, ``importer``, ``receiver`` and ``backup`` (each step is the real command line,
``shopkeeper.cli.main``, in this process) or ``counter`` (the headless counter's ``Counter.handle``). After a step
has returned success, one line naming what it wrote is appended to ACK_LOG and fsync'd: a line there is an
operation a person was told is done. A step that fails is reported on stderr as ``FAILED`` and the loop goes on.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import re
import signal
import sys
import traceback
from decimal import Decimal
from pathlib import Path

ITEMS = ("A", "B", "4006381333931")  # B's barcode: the sale looks it up as a scan would


class Acks:
    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def __call__(self, line: str) -> None:
        os.write(self.fd, (line + "\n").encode())
        os.fsync(self.fd)


def cli(db: str, *args: str, terminal: str = "kill9") -> dict | None:
    """``shopkeeper --db DB --json ARGS``: its JSON answer, or None (reported) when it did not succeed."""
    from shopkeeper.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["--db", db, "--staff", "kill9", "--terminal", terminal, "--json", *args])
    if status != 0:
        print(f"FAILED exit {status}: shopkeeper {' '.join(args)}", file=sys.stderr, flush=True)
        return None
    return json.loads(out.getvalue())


def cents(text: str) -> int:
    return int(Decimal(text) * 100)


def seller(db: str, ack: Acks, rng: random.Random, terminal: str) -> None:
    while True:
        items = [f"{item}x{rng.randint(1, 3)}" for item in rng.sample(ITEMS, rng.randint(1, 3))]
        sold = cli(db, "sell", *items, "--pay", rng.choice(("card", "cash")), terminal=terminal)
        if sold is not None:
            ack(f"sale {sold['sale']} {len(sold['lines'])} {cents(sold['total'])}")


def importer(db: str, ack: Acks, rng: random.Random, terminal: str, folder: Path) -> None:
    """New products with stock (IMP-<tag>-<k> with k+1 on hand) and new prices for the products being sold."""
    n = 0
    while True:
        n += 1
        tag = f"{os.getpid()}-{n}"
        rows = ["sku,name,price,on_hand"]
        # B before A: not in id order, as a file from elsewhere may list them
        rows += [f"{sku},{name},{rng.randint(50, 900) / 100:.2f}," for sku, name in (("B", "Bread"), ("A", "Apples"))]
        rows += [f"IMP-{tag}-{k},Imported {k},1.{k:02d},{k + 1}" for k in range(20)]
        path = folder / f"import-{tag}.csv"
        path.write_text("\n".join(rows) + "\n")
        if cli(db, "products", "import", str(path), terminal=terminal) is not None:
            ack(f"import {tag} 20")


def receiver(db: str, ack: Acks, rng: random.Random, terminal: str) -> None:
    while True:
        sku, qty = rng.choice(("A", "B")), rng.randint(1, 50)
        got = cli(db, "receive", sku, str(qty), "--cost", "0.10", terminal=terminal)
        if got is not None:
            ack(f"receive {got['movements'][0]} {sku} {qty * 1000}")


def backup(db: str, ack: Acks, rng: random.Random, terminal: str, folder: Path) -> None:
    n = 0
    while True:
        n += 1
        dest = folder / f"backup-{os.getpid()}-{n}.db"
        if cli(db, "backup", str(dest), terminal=terminal) is not None:
            ack(f"backup {dest}")


def counter(db: str, ack: Acks, rng: random.Random, terminal: str) -> None:
    from shopkeeper.counter import Counter
    from shopkeeper.db import open_database
    from shopkeeper.services.context import Context

    open_database(db)
    scans = Counter(Context(staff="kill9", terminal=terminal, negative_stock="allow"), "sell")
    while True:
        outcome = scans.handle(rng.choice(ITEMS))
        sale = re.match(r"sale (\d+):", outcome.message)
        if not outcome.ok or sale is None:
            print(f"FAILED counter scan: {outcome.message}", file=sys.stderr, flush=True)
            continue
        ack(f"sale {sale.group(1)} 1 -")


def run(role: str, db: str, log: str, seed: str, terminal: str) -> None:
    ack, rng = Acks(log), random.Random(seed)
    if role in ("importer", "backup"):
        {"importer": importer, "backup": backup}[role](db, ack, rng, terminal, Path(log).parent)
    else:
        {"seller": seller, "receiver": receiver, "counter": counter}[role](db, ack, rng, terminal)


def main() -> None:
    """Import everything once, then fork a worker per line ``ROLE DB ACK_LOG SEED TERMINAL STDERR`` read from
    stdin and answer its pid: a new writer is at work at once, its moment of death is not spent importing."""
    import shopkeeper.counter  # noqa: F401
    import shopkeeper.services.audit  # noqa: F401
    import shopkeeper.services.products_csv  # noqa: F401
    import shopkeeper.services.sales  # noqa: F401
    from shopkeeper.cli import build_parser

    build_parser()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped by the kernel as they die
    print("ready", flush=True)
    for line in sys.stdin:
        role, db, log, seed, terminal, stderr = line.split()
        pid = os.fork()
        if pid == 0:
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                os.dup2(os.open(os.devnull, os.O_RDWR), 0)
                os.dup2(os.open(os.devnull, os.O_RDWR), 1)
                os.dup2(os.open(stderr, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644), 2)
                run(role, db, log, seed, terminal)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(1)
        print(pid, flush=True)


if __name__ == "__main__":
    main()
