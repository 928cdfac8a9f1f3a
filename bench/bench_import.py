"""Product list import: N products created, then their prices updated, through ``import_products``.

    python bench/bench_import.py [--products 2000]

Each product is saved by ``catalog.save_product``, which writes only the fields that differ and logs price, tax,
cost and unit changes; its two per-row statements (the locked read by SKU, the change-log insert) are built once per
kind of database, as the till's are. Measured on the shared 2-core dev machine (noisy: 8 engineers), 2000 products,
best of 3, runs interleaved: main at e645839 (every column written back, no log) create 1.95-2.90 s, update
1.55-2.23 s; with only changed columns and the change log: create 0.60-0.82 s, update 0.37-0.46 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shopkeeper.db import close_database, open_database  # noqa: E402
from shopkeeper.services.context import Context  # noqa: E402
from shopkeeper.services.products_csv import import_products  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    n = args.products
    create = "sku,name,barcode,price,cost,unit\n" + "".join(
        f"S{i:06d},Item {i},,{1 + i % 50}.{i % 100:02d},0.50,pcs\n" for i in range(n))
    update = "sku,name,price\n" + "".join(f"S{i:06d},Item {i},{2 + i % 50}.{i % 100:02d}\n" for i in range(n))
    ctx = Context(staff="bench", terminal="bench")
    best = {"create": float("inf"), "update": float("inf")}
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            open_database(str(Path(tmp) / "shop.db"))
            for what, data in (("create", create), ("update", update)):
                start = time.perf_counter()
                import_products(ctx, data.encode())
                best[what] = min(best[what], time.perf_counter() - start)
            close_database()
    print(f"{n} products: create {best['create']:.2f} s, update prices {best['update']:.2f} s (best of {args.rounds})")


if __name__ == "__main__":
    main()
