"""How long the books export takes: one day, one month and one year of a generated shop, every format.

    python bench/bench_books.py PATH --products 10000 --movements 1000000

The shop comes from ``make_shop.py`` (reused when it is already built). The export replays the journal up to the
period's end for the valuation (as ``report valuation --at`` does), so its time grows with the whole journal, not
only with the period.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from make_shop import END, build_shop  # noqa: E402

from shopkeeper.db import close_database, open_database  # noqa: E402
from shopkeeper.services import books, books_format  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--movements", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    build_shop(args.path, args.products, args.movements)
    open_database(args.path)
    last = (END - dt.timedelta(days=1)).astimezone().date()
    try:
        for label, first in (("day", last), ("month", last - dt.timedelta(days=29)),
                             ("year", last - dt.timedelta(days=364))):
            started = time.perf_counter()
            result = books.build(first, last)
            built = time.perf_counter() - started
            sizes = []
            for fmt in books_format.FORMATS:
                sizes.append(len(books_format.write(result, fmt, currency="EUR", decimals=2)))
            written = time.perf_counter() - started - built
            print(f"{label:>5}: {len(result.transactions):4d} transactions, model {built:6.2f} s, "
                  f"four formats {written:5.2f} s ({max(sizes) // 1024} KiB at most)")
    finally:
        close_database()
    return 0


if __name__ == "__main__":
    sys.exit(main())
