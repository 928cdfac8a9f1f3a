"""Kept per-product figures packed into one blob: product id then its figures, each a little-endian 64-bit integer.

The reports' caches keep a row of integers per product (``product_sales_cache``: a span's sales, ``journal_cache``:
a month start's running totals). Read back as 100k database rows and built into tuples one by one, they took
longer than the rest of a report; as one blob they are read and rebuilt by C loops (array slices, zip).
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Mapping, Sequence


def pack(figures: Mapping[int, Sequence[int]]) -> bytes | None:
    """Each product id and its figures (all of one width), or None if a number does not fit in 64 bits (those
    figures are then not kept)."""
    try:
        packed = array("q", [v for pid, values in figures.items() for v in (pid, *values)])
    except OverflowError:
        return None
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tobytes()


def unpack(blob: bytes, width: int) -> dict[int, tuple[int, ...]]:
    """``pack`` undone: product id → its ``width`` figures as a tuple."""
    ids, *figures = unpack_columns(blob, width)
    return dict(zip(ids, zip(*figures)))


def unpack_columns(blob: bytes, width: int) -> list[list[int]]:
    """``pack`` undone by column: the product ids, then each of the ``width`` figures, in one order (a report
    that sums or ranks a figure over every product reads it as one list, no tuple per product)."""
    packed = array("q")
    packed.frombytes(bytes(blob))
    if sys.byteorder != "little":
        packed.byteswap()
    step = width + 1
    return [packed[n::step].tolist() for n in range(step)]
