"""A sale number too big for SQLite typed into the refund prompt: NotFound, not OverflowError (a crashed till)."""
import pytest

from shopkeeper.errors import ShopError
from shopkeeper.services import till


def test_huge_sale_number_is_a_clear_error(demo_db, ctx):
    with pytest.raises(ShopError):
        till.start_refund(ctx, int("4006381333931" * 2))  # e.g. a barcode typed twice into "Sale #"
