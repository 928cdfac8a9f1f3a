"""Purchase orders: drafting from suggestions, editing, sending, receiving, closing, cancelling; the on-order figure;
returns to a supplier and what they do to the stock's value."""

from __future__ import annotations

import datetime as dt

import peewee
import pytest

from shopkeeper.errors import InvalidInput, NotFound
from shopkeeper.models import Movement, Product, PurchaseOrder, PurchaseOrderEvent
from shopkeeper.services import ordering, reports, stock, suppliers
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.ordering import Suggested
from shopkeeper.services.suppliers import SupplierData


@pytest.fixture
def shop(db, ctx):
    """Milk from a dairy (cases of 12 at 9.60), bread from a baker with a 20.00 minimum order."""
    suppliers.create_supplier(ctx, SupplierData(name="Dairy", lead_days=1))
    suppliers.create_supplier(ctx, SupplierData(name="Baker", min_order=2000))
    save_product(ProductData(sku="MILK", name="Milk", reorder_point=12_000, reorder_qty=24_000))
    save_product(ProductData(sku="BREAD", name="Bread", reorder_point=4_000, reorder_qty=10_000))
    save_product(ProductData(sku="JAM", name="Jam"))
    suppliers.link_product(ctx, "MILK", "Dairy", item_code="D-M", pack_size=12_000, pack_cost=960)
    suppliers.link_product(ctx, "BREAD", "Baker", item_code="B-SD", pack_size=1_000, pack_cost=150)
    stock.receive(ctx, "MILK", 5_000, 82)
    stock.receive(ctx, "BREAD", 1_000, 150)
    return db


def _id(sku: str) -> int:
    return Product.get(Product.sku == sku).id


def _supplier(name: str) -> int:
    return suppliers.find_supplier(name).id


def _on_order(sku: str) -> int:
    return Product.get(Product.sku == sku).on_order


@pytest.fixture
def suggest(monkeypatch):
    """Set what the reorder service suggests: ``suggest(("MILK", "Dairy", 20_000), ...)``."""
    wanted: list[tuple[str, str, int]] = []

    def fake(ctx, supplier_id=None):
        out = [Suggested(_id(sku), _supplier(sup), qty, None) for sku, sup, qty in wanted]
        return [s for s in out if supplier_id is None or s.supplier_id == supplier_id]

    monkeypatch.setattr(ordering, "_suggested_lines", fake)

    def set_(*lines):
        wanted[:] = lines

    return set_


def _draft(ctx, order_id: int | None = None):
    orders = ordering.list_orders(status="draft")
    return ordering.get_order(order_id if order_id is not None else orders[0].id)


# --- drafting ------------------------------------------------------------------------------------------------

def test_po_draft_makes_one_draft_per_supplier_in_whole_packs_at_the_pack_cost(shop, ctx, suggest):
    suggest(("MILK", "Dairy", 20_000), ("BREAD", "Baker", 10_000))
    done = ordering.draft_orders(ctx)
    assert [(d.supplier, d.created, d.added) for d in done] == [("Dairy", True, ["MILK"]),
                                                                 ("Baker", True, ["BREAD"])]
    milk = ordering.get_order(done[0].order_id)
    line = milk.lines[0]
    assert (line.item_code, line.quantity, line.packs, line.pack_cost, line.unit_cost) == ("D-M", 24_000, 2000, 960, 80)
    assert milk.value == 1920 and milk.automatic and milk.status == "draft"
    assert _on_order("MILK") == 24_000  # drafts count as on order


def test_a_draft_is_topped_up_to_the_suppliers_minimum_order(shop, ctx, suggest):
    suggest(("BREAD", "Baker", 10_000))  # 10 × 1.50 = 15.00 < 20.00
    done = ordering.draft_orders(ctx)
    order = ordering.get_order(done[0].order_id)
    assert done[0].topped_up and order.lines[0].quantity == 14_000 and order.value == 2100


def test_a_second_po_draft_never_duplicates(shop, ctx, suggest):
    suggest(("MILK", "Dairy", 20_000))
    ordering.draft_orders(ctx)
    suggest()  # the suggestions now see the draft on order: nothing is missing
    assert ordering.draft_orders(ctx) == []
    assert PurchaseOrder.select().count() == 1 and _on_order("MILK") == 24_000


def test_a_second_po_draft_adds_only_what_is_still_missing(shop, ctx, suggest):
    suggest(("MILK", "Dairy", 20_000))
    first = ordering.draft_orders(ctx)[0]
    suggest(("MILK", "Dairy", 5_000), ("JAM", "Dairy", 2_000))  # more sold since; jam now wanted too
    again = ordering.draft_orders(ctx)[0]
    assert (again.order_id, again.created, again.raised, again.added) == (first.order_id, False, ["MILK"], ["JAM"])
    lines = ordering.get_order(first.order_id).lines
    assert [(ln.sku, ln.quantity) for ln in lines] == [("MILK", 36_000), ("JAM", 2_000)]


def test_po_draft_leaves_a_line_a_person_edited_as_edited(shop, ctx, suggest):
    suggest(("MILK", "Dairy", 20_000))
    order_id = ordering.draft_orders(ctx)[0].order_id
    ordering.set_line(ctx, order_id, 1, quantity=6_000)
    suggest(("MILK", "Dairy", 20_000))
    assert ordering.draft_orders(ctx) == []
    line = ordering.get_order(order_id).lines[0]
    assert (line.quantity, line.edited) == (6_000, True) and _on_order("MILK") == 6_000


def test_po_draft_never_touches_a_sent_order(shop, ctx, suggest):
    suggest(("MILK", "Dairy", 20_000))
    sent = ordering.draft_orders(ctx)[0].order_id
    ordering.send_order(ctx, sent)
    suggest(("MILK", "Dairy", 10_000))
    new = ordering.draft_orders(ctx)[0]
    assert new.created and new.order_id != sent
    assert ordering.get_order(sent).lines[0].quantity == 24_000


def test_po_draft_skips_an_inactive_supplier(shop, ctx, suggest):
    suggest(("MILK", "Dairy", 20_000), ("BREAD", "Baker", 10_000))
    suppliers.deactivate_supplier(ctx, "Dairy")
    assert [d.supplier for d in ordering.draft_orders(ctx)] == ["Baker"]


def test_po_draft_for_one_supplier_drafts_only_that_one(shop, ctx, suggest):
    suggest(("MILK", "Dairy", 20_000), ("BREAD", "Baker", 10_000))
    assert [d.supplier for d in ordering.draft_orders(ctx, "Baker")] == ["Baker"]


def test_without_learned_suggestions_the_typed_reorder_points_count_what_is_on_order(shop, ctx, monkeypatch):
    """The seam's fallback: ``reorder.low_stock`` with the position taken as on hand + on order."""
    from shopkeeper.services import reorder

    monkeypatch.delattr(reorder, "suggestions", raising=False)
    first = ordering.draft_orders(ctx)
    assert sorted(d.supplier for d in first) == ["Baker", "Dairy"]
    assert ordering.draft_orders(ctx) == []
    assert PurchaseOrder.select().count() == 2


# --- editing, sending, cancelling ------------------------------------------------------------------------------

def test_lines_are_added_edited_and_removed_and_on_order_follows(shop, ctx):
    order = ordering.create_order(ctx, "Dairy")
    line = ordering.add_line(ctx, order.id, "MILK", packs=2000)
    assert (line.quantity, line.unit_cost, line.edited) == (24_000, 80, True)
    assert _on_order("MILK") == 24_000
    ordering.set_line(ctx, order.id, 1, pack_cost=1200)
    assert ordering.get_order(order.id).lines[0].unit_cost == 100
    ordering.add_line(ctx, order.id, "JAM", quantity=3_000, unit_cost=250)
    ordering.remove_line(ctx, order.id, 1)
    assert _on_order("MILK") == 0 and _on_order("JAM") == 3_000
    with pytest.raises(NotFound) as err:
        ordering.set_line(ctx, order.id, 1, quantity=1000)
    assert err.value.field == "line"


def test_a_bad_quantity_or_cost_names_its_field(shop, ctx):
    order = ordering.create_order(ctx, "Dairy")
    for kwargs, field in (({"quantity": 0}, "quantity"), ({"unit_cost": -1}, "unit_cost")):
        with pytest.raises(InvalidInput) as err:
            ordering.add_line(ctx, order.id, "MILK", **kwargs)
        assert err.value.field == field


def test_sending_writes_text_and_csv_with_item_codes_and_pack_counts(shop, ctx, tmp_path):
    order = ordering.create_order(ctx, "Dairy", note="back door")
    ordering.add_line(ctx, order.id, "MILK", packs=3000)
    sent = ordering.send_order(ctx, order.id, out_dir=tmp_path / "out")
    assert [p.name for p in sent.paths] == [f"po-{order.id}.txt", f"po-{order.id}.csv"]
    assert "D-M" in sent.text and "28.80" in sent.text and "back door" in sent.text
    rows = (tmp_path / "out" / f"po-{order.id}.csv").read_text().splitlines()
    assert rows[1] == "1,D-M,MILK,Milk,3,12,36,pcs,9.60,28.80"
    assert ordering.get_order(order.id).status == "sent"
    with pytest.raises(InvalidInput):  # once only
        ordering.send_order(ctx, order.id)


def test_an_empty_order_cannot_be_sent(shop, ctx):
    order = ordering.create_order(ctx, "Dairy")
    with pytest.raises(InvalidInput) as err:
        ordering.send_order(ctx, order.id)
    assert err.value.field == "order"


def test_cancelling_takes_the_order_off_order_and_is_recorded(shop, ctx):
    order = ordering.create_order(ctx, "Dairy")
    ordering.add_line(ctx, order.id, "MILK", packs=1000)
    ordering.send_order(ctx, order.id)
    ordering.cancel_order(ctx, order.id, note="phoned instead")
    view = ordering.get_order(order.id)
    assert view.status == "cancelled" and _on_order("MILK") == 0
    assert [(e.status, e.staff, e.terminal) for e in view.events] == [
        ("draft", "tester", "till-1"), ("sent", "tester", "till-1"), ("cancelled", "tester", "till-1")]
    with pytest.raises(InvalidInput):
        ordering.add_line(ctx, order.id, "JAM", quantity=1000)


def test_the_status_history_is_append_only(shop, ctx):
    ordering.create_order(ctx, "Dairy")
    for sql in ("UPDATE purchase_order_event SET status = 'sent'", "DELETE FROM purchase_order_event"):
        with pytest.raises(peewee.DatabaseError, match="append-only"):
            with shop.atomic():
                shop.execute_sql(sql)


# --- receiving -------------------------------------------------------------------------------------------------

@pytest.fixture
def sent_milk(shop, ctx):
    order = ordering.create_order(ctx, "Dairy")
    ordering.add_line(ctx, order.id, "MILK", packs=2000)  # 24 at 0.80
    ordering.send_order(ctx, order.id)
    return order.id


def test_a_draft_cannot_be_received_against(shop, ctx):
    order = ordering.create_order(ctx, "Dairy")
    ordering.add_line(ctx, order.id, "MILK", packs=1000)
    with pytest.raises(InvalidInput) as err:
        ordering.receive_against(ctx, order.id, [("MILK", 1000, None)])
    assert err.value.field == "order" and "send it first" in err.value.reason


def test_receiving_references_the_order_and_averages_at_the_lines_cost(shop, ctx, sent_milk):
    receipt = ordering.receive_against(ctx, sent_milk, [("MILK", 12_000, None)])
    assert receipt.status == "partly_received" and receipt.flagged == []
    m = Movement.get_by_id(receipt.movement_ids[0])
    line = ordering.get_order(sent_milk).lines[0]
    assert (m.kind, m.reference, m.supplier_id, m.po_line, m.unit_cost) == (
        "receive", f"po:{sent_milk}", _supplier("Dairy"), line.id, 80)
    milk = Product.get(Product.sku == "MILK")
    assert (milk.on_hand, milk.avg_cost, milk.on_order) == (17_000, 81, 12_000)  # (5×82 + 12×80) / 17 = 80.6


def test_a_changed_cost_is_what_the_average_uses(shop, ctx, sent_milk):
    ordering.receive_against(ctx, sent_milk, [("MILK", 24_000, 100)])
    milk = Product.get(Product.sku == "MILK")
    assert (milk.avg_cost, milk.on_order) == (97, 0)  # (5×82 + 24×100) / 29 = 96.9
    assert ordering.get_order(sent_milk).status == "received"


def test_over_delivery_and_goods_not_on_the_order_are_accepted_and_flagged(shop, ctx, sent_milk):
    receipt = ordering.receive_against(ctx, sent_milk, [("MILK", 30_000, None), ("JAM", 2_000, 300)])
    assert [(ln.sku, ln.flag, ln.ordered, ln.received) for ln in receipt.lines] == [
        ("MILK", "over", 24_000, 30_000), ("JAM", "not_on_order", 0, 2_000)]
    assert receipt.status == "received"
    view = ordering.get_order(sent_milk)
    assert [(ln.sku, ln.over, ln.not_on_order) for ln in view.lines] == [("MILK", 6_000, False), ("JAM", 2_000, True)]
    assert (_on_order("MILK"), _on_order("JAM")) == (0, 0)
    assert Product.get(Product.sku == "JAM").avg_cost == 300


def test_closing_short_cancels_the_rest(shop, ctx, sent_milk):
    ordering.receive_against(ctx, sent_milk, [("MILK", 10_000, None)])
    view = ordering.close_order(ctx, sent_milk)
    assert view.status == "received" and view.lines[0].cancelled == 14_000 and _on_order("MILK") == 0
    assert view.events[-1].note == "closed short"


def test_closing_an_order_nothing_came_against_cancels_it(shop, ctx, sent_milk):
    assert ordering.close_order(ctx, sent_milk).status == "cancelled"


def test_an_order_with_goods_received_is_closed_not_cancelled(shop, ctx, sent_milk):
    ordering.receive_against(ctx, sent_milk, [("MILK", 1_000, None)])
    with pytest.raises(InvalidInput):
        ordering.cancel_order(ctx, sent_milk)
    with pytest.raises(InvalidInput) as err:
        ordering.remove_line(ctx, sent_milk, 1)
    assert err.value.field == "line"
    with pytest.raises(InvalidInput) as err:
        ordering.set_line(ctx, sent_milk, 1, quantity=500)
    assert err.value.field == "quantity"


def test_lowering_a_sent_line_to_what_came_completes_the_order(shop, ctx, sent_milk):
    ordering.receive_against(ctx, sent_milk, [("MILK", 12_000, None)])
    ordering.set_line(ctx, sent_milk, 1, quantity=12_000)
    assert ordering.get_order(sent_milk).status == "received" and _on_order("MILK") == 0


# --- returns to a supplier ---------------------------------------------------------------------------------------

def test_a_return_against_the_order_leaves_at_the_lines_cost_and_restores_the_value(shop, ctx, sent_milk):
    """5 at 0.82 on hand; 5 arrive at 0.80 (average 0.81); the 5 go back at 0.80: the 5 left are worth 0.82 each
    again, as before the delivery (at the average cost they would stay at 0.81, a loss hidden in the stock)."""
    ordering.receive_against(ctx, sent_milk, [("MILK", 5_000, None)])
    assert Product.get(Product.sku == "MILK").avg_cost == 81
    posted = ordering.return_to_supplier(ctx, "MILK", 5_000, order_id=sent_milk, reason="wrong item")
    m = Movement.get_by_id(posted.movement_ids[0])
    assert (m.kind, m.quantity, m.unit_cost, m.reference, m.supplier_id, m.po_line) == (
        "supplier_return", -5_000, 80, f"po:{sent_milk}", _supplier("Dairy"), ordering.get_order(sent_milk).lines[0].id)
    milk = Product.get(Product.sku == "MILK")
    assert (milk.on_hand, milk.avg_cost) == (5_000, 82)
    assert ordering.get_order(sent_milk).lines[0].received == 5_000  # the order keeps what came


def test_no_more_can_go_back_on_an_order_than_came_on_it(shop, ctx, sent_milk):
    ordering.receive_against(ctx, sent_milk, [("MILK", 3_000, None)])
    ordering.return_to_supplier(ctx, "MILK", 2_000, order_id=sent_milk, reason="damaged")
    with pytest.raises(InvalidInput) as err:
        ordering.return_to_supplier(ctx, "MILK", 2_000, order_id=sent_milk, reason="damaged")
    assert err.value.field == "quantity"
    with pytest.raises(InvalidInput) as err:
        ordering.return_to_supplier(ctx, "BREAD", 1_000, order_id=sent_milk, reason="damaged")
    assert err.value.field == "product"


def test_a_return_needs_a_reason_and_a_supplier_or_order(shop, ctx):
    with pytest.raises(InvalidInput) as err:
        ordering.return_to_supplier(ctx, "MILK", 1_000, supplier="Dairy", reason=" ")
    assert err.value.field == "reason"
    with pytest.raises(InvalidInput) as err:
        ordering.return_to_supplier(ctx, "MILK", 1_000, reason="damaged")
    assert err.value.field == "supplier"


def test_a_return_without_an_order_leaves_at_the_average_cost(shop, ctx):
    posted = ordering.return_to_supplier(ctx, "MILK", 1_000, supplier="Dairy", reason="damaged")
    m = Movement.get_by_id(posted.movement_ids[0])
    assert (m.unit_cost, m.reference) == (82, f"supplier:{_supplier('Dairy')}")
    assert Product.get(Product.sku == "MILK").avg_cost == 82


def test_a_return_to_a_supplier_is_not_shrinkage_and_has_its_own_movement_column(shop, ctx, sent_milk):
    ordering.receive_against(ctx, sent_milk, [("MILK", 24_000, None)])
    ordering.return_to_supplier(ctx, "MILK", 4_000, order_id=sent_milk, reason="damaged")
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    opts = reports.Options(start=dt.date.today() - dt.timedelta(days=1), end=tomorrow)
    assert reports.shrinkage(opts).tables[0].total["units"] == 0
    moved = {r["sku"]: r for r in reports.movement(opts).tables[0].rows}
    assert moved["MILK"]["to_supplier"] == -4_000 and moved["MILK"]["closing"] == 25_000


def test_replaying_the_journal_gives_the_average_a_return_left(shop, ctx, sent_milk):
    ordering.receive_against(ctx, sent_milk, [("MILK", 24_000, None)])
    ordering.return_to_supplier(ctx, "MILK", 20_000, order_id=sent_milk, reason="damaged")
    milk = Product.get(Product.sku == "MILK")
    assert reports.stock_at("9999")[milk.id] == (milk.on_hand, milk.avg_cost)


def test_every_kind_the_journal_screen_offers_includes_returns_to_suppliers():
    assert "supplier_return" in stock.KINDS


# --- the "done when" -------------------------------------------------------------------------------------

def test_from_a_fresh_demo_an_order_is_drafted_sent_half_received_then_received_in_full(demo_db, ctx):
    done = ordering.draft_orders(ctx)
    assert done and len({d.supplier_id for d in done}) == len(done)  # one draft per supplier
    assert ordering.draft_orders(ctx) == []  # and a second run changes nothing
    order = ordering.get_order(max(done, key=lambda d: len(d.added)).order_id)
    assert order.status == "draft" and order.lines
    ordering.send_order(ctx, order.id)
    before = {ln.product_id: (Product.get_by_id(ln.product_id).on_hand, Product.get_by_id(ln.product_id).avg_cost)
              for ln in order.lines}

    half = [(ln.sku, ln.quantity // 2, None) for ln in order.lines]
    ordering.receive_against(ctx, order.id, half)
    view = ordering.get_order(order.id)
    assert view.status == "partly_received"
    for ln in view.lines:
        on_hand, avg = before[ln.product_id]
        p = Product.get_by_id(ln.product_id)
        q = ln.quantity // 2
        assert p.on_hand == on_hand + q
        assert p.avg_cost == stock.moving_average(on_hand, avg, q, ln.unit_cost)
        assert p.on_order == ln.quantity - q

    ordering.receive_against(ctx, order.id, [(ln.sku, ln.quantity - ln.quantity // 2, None) for ln in view.lines])
    view = ordering.get_order(order.id)
    assert view.status == "received"
    assert [e.status for e in view.events] == ["draft", "sent", "partly_received", "received"]
    for ln in view.lines:
        on_hand, avg = before[ln.product_id]
        p = Product.get_by_id(ln.product_id)
        q = ln.quantity // 2
        mid = stock.moving_average(on_hand, avg, q, ln.unit_cost)
        assert (p.on_hand, p.on_order) == (on_hand + ln.quantity, 0)
        assert p.avg_cost == stock.moving_average(on_hand + q, mid, ln.quantity - q, ln.unit_cost)
    assert PurchaseOrderEvent.select().where(PurchaseOrderEvent.order == order.id).count() == 4


# --- the migration -------------------------------------------------------------------------------------------

def test_the_line_columns_migration_upgrades_a_database_of_the_previous_version(shop, ctx, db_path):
    from shopkeeper.db import MIGRATIONS, SCHEMA_VERSION, _m019_po_line_edited, close_database, current_version, \
        open_database

    order = ordering.create_order(ctx, "Dairy")
    ordering.add_line(ctx, order.id, "MILK", packs=1000)
    for column in ("pack_cost", "edited"):
        shop.execute_sql(f"ALTER TABLE purchase_order_line DROP COLUMN {column}")
    shop.execute_sql("DELETE FROM schema_version WHERE version > ?", (MIGRATIONS.index(_m019_po_line_edited),))
    close_database()
    db = open_database(str(db_path))
    assert current_version(db) == SCHEMA_VERSION
    line = ordering.get_order(order.id).lines[0]
    assert (line.quantity, line.pack_cost, line.edited) == (12_000, 0, False)  # the database defaults
    ordering.set_line(ctx, order.id, 1, pack_cost=960)
    assert ordering.get_order(order.id).lines[0][8:] == (960, 12_000, 80, 0, 0, True)


def test_the_seam_takes_the_learned_suggestions_without_their_own_minimum_order_top_up(shop, ctx, monkeypatch):
    """``reorder.suggestions`` tops each call's lines up to the supplier's minimum; a draft that already holds lines
    must not be topped up again for a small addition, so the seam takes the quantity before that top-up."""
    from types import SimpleNamespace

    from shopkeeper.services import reorder

    learned = [SimpleNamespace(product_id=_id("MILK"), supplier_id=_supplier("Dairy"), quantity=36_000, unit_cost=80,
                               topped_up=12_000),
               SimpleNamespace(product_id=_id("JAM"), supplier_id=None, quantity=1_000, unit_cost=0, topped_up=0)]
    monkeypatch.setattr(reorder, "suggestions", lambda ctx, supplier_id=None: learned, raising=False)
    assert ordering._suggested_lines(ctx) == [Suggested(_id("MILK"), _supplier("Dairy"), 24_000, 80)]


def test_topping_up_a_large_minimum_adds_whole_rounds_of_packs_at_once(shop, ctx, suggest):
    suppliers.edit_supplier(ctx, "Baker", SupplierData(min_order=1_000_000_000))  # 10,000,000.00: one pack at 1.50
    suggest(("BREAD", "Baker", 1_000))
    order = ordering.get_order(ordering.draft_orders(ctx)[0].order_id)
    assert order.lines[0].quantity == 6_666_667_000 and order.value == 1_000_000_050
