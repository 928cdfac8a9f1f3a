"""What the till makes of typed input before a code."""

from __future__ import annotations

import pytest

from shopkeeper.errors import InvalidInput
from shopkeeper.models import Product
from shopkeeper.services import till


@pytest.mark.parametrize("text", ["-2*5449000000996", "−2*5449000000996", "+2*5449000000996", "0*5449000000996",
                                  "1.2345*5449000000996", "- 2 * 5449000000996"])
def test_a_bad_quantity_prefix_is_refused_never_part_of_a_code(demo_db, ctx, text):
    products = Product.select().count()
    with pytest.raises(InvalidInput) as exc:
        till.add_scan(ctx, text)
    assert exc.value.field == "quantity" and "positive number" in str(exc.value)
    assert Product.select().count() == products and till.current_sale(ctx).empty


def test_a_positive_quantity_prefix_still_multiplies(demo_db, ctx):
    draft = till.add_scan(ctx, "2*5449000000996")
    assert [(line.sku, line.quantity) for line in draft.lines] == [("WATER-1.5", 2000)]
