"""Which count is a product's opening stock, not a count variance: one rule, read from the journal itself.

A shop's stock enters the journal first as a count when it opens that way: an import with an ``on_hand`` column
(``products_csv``: a ``count`` movement per product, in the import's count session), or a first stock take of
products that were on the shelf before shopkeeper knew them. Such a count says what was there, not what went
missing, so the shrinkage report leaves it out (the ``movement`` report keeps it in "counted", so opening + … =
closing still holds to the unit).

The rule: a ``count`` movement is an opening count when no receipt and no count of its product came before it in
the journal (by id, the journal's order). Sales, returns and adjustments before it do not change that: they moved
stock shopkeeper had never been told of. A later count, or a count after a receipt, is a variance as ever.

It is decided from the journal, not from the movement's reason text, so the journals written before this rule
(append-only: their reasons say "counted N" like any count) are read the same way as new ones, and a reason typed by
hand can never move a loss out of shrinkage.
"""

from __future__ import annotations

BEFORE_KINDS = ("receive", "count")
"""Kinds of movement after which a count is a variance: stock shopkeeper was told of."""


def opening_count_sql(alias: str = "m") -> str:
    """SQL true for a row ``alias`` of ``movement`` that is an opening count (portable: SQLite and PostgreSQL).
    The subquery walks the product's (product, id) index from its start and stops at its first receipt or count,
    so it costs a few index entries per count row; other kinds do not reach it (``CASE``)."""
    kinds = ", ".join(f"'{k}'" for k in BEFORE_KINDS)
    return (f"(CASE WHEN {alias}.kind = 'count' THEN NOT EXISTS (SELECT 1 FROM movement before_ WHERE "
            f"before_.product_id = {alias}.product_id AND before_.id < {alias}.id AND before_.kind IN ({kinds})) "
            "ELSE FALSE END)")
