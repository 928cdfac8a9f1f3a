import pytest

from shopkeeper.errors import InvalidInput, NotFound, StockRefused
from shopkeeper.models import CountSession, Movement, Product
from shopkeeper.services import sales, stock
from shopkeeper.services.catalog import ProductData, save_product


@pytest.fixture
def tea(db):
    return save_product(ProductData(sku="TEA", name="Tea", price=300, barcodes=["5000208081240"]))


def on_hand(sku="TEA"):
    return Product.get(Product.sku == sku).on_hand


def test_receive_adds_stock_and_records_who_where_and_cost(ctx, tea):
    posted = stock.receive(ctx, "TEA", 12_000, 95, reference="delivery:881")
    assert posted.on_hand[tea.id] == 12_000 == on_hand()
    m = Movement.get()
    assert (m.kind, m.quantity, m.unit_cost, m.reference) == ("receive", 12_000, 95, "delivery:881")
    assert m.staff.name == "tester" and m.terminal.name == "till-1"
    assert m.created_at.endswith("Z")


def test_receive_by_barcode_and_moving_average_cost(ctx, tea):
    stock.receive(ctx, "5000208081240", 10_000, 100)
    stock.receive(ctx, "TEA", 30_000, 200)
    assert Product.get_by_id(tea.id).avg_cost == 175  # (10×1.00 + 30×2.00) / 40


def test_receive_refuses_nonsense(ctx, tea):
    with pytest.raises(InvalidInput, match="more than zero"):
        stock.receive(ctx, "TEA", 0, 10)
    with pytest.raises(InvalidInput, match="cost"):
        stock.receive(ctx, "TEA", 1000, -1)
    with pytest.raises(NotFound, match="unknown product 'COFFEE'"):
        stock.receive(ctx, "COFFEE", 1000, 1)
    assert Movement.select().count() == 0


def test_adjust_needs_a_known_reason(ctx, tea):
    stock.receive(ctx, "TEA", 5000, 100)
    with pytest.raises(InvalidInput, match="needs a reason"):
        stock.adjust(ctx, "TEA", -1000, "")
    stock.adjust(ctx, "TEA", -1000, "Damaged", note="dropped")
    assert on_hand() == 4000
    assert Movement.select().order_by(Movement.id.desc()).get().reason == "damaged: dropped"


def test_negative_stock_policy(ctx, tea):
    stock.receive(ctx, "TEA", 1000, 100)
    refuse = ctx.__class__(**{**ctx.__dict__, "negative_stock": "refuse"})
    with pytest.raises(StockRefused, match="only 1 on hand"):
        sales.sell(refuse, [sales.LineInput("TEA", 2000)])
    assert on_hand() == 1000 and Movement.select().count() == 1
    result = sales.sell(ctx, [sales.LineInput("TEA", 2000)])  # warn
    assert result.warnings and on_hand() == -1000
    allow = ctx.__class__(**{**ctx.__dict__, "negative_stock": "allow"})
    assert not sales.sell(allow, [sales.LineInput("TEA", 1000)]).warnings


def test_count_posts_the_variance(ctx, tea):
    stock.receive(ctx, "TEA", 10_000, 100)
    variance, _ = stock.count(ctx, "TEA", 8_500)
    assert (variance.expected, variance.counted, variance.variance) == (10_000, 8_500, -1_500)
    m = Movement.select().order_by(Movement.id.desc()).get()
    assert (m.kind, m.quantity) == ("count", -1_500)
    assert on_hand() == 8_500


def test_a_sale_during_a_long_stocktake_is_neither_lost_nor_counted_twice(ctx, tea):
    stock.receive(ctx, "TEA", 10_000, 100)
    session = stock.start_count(ctx, "Saturday stocktake")
    stock.record_count(ctx, session, "TEA", 9_000)  # one missing at the moment of counting
    sales.sell(ctx, [sales.LineInput("TEA", 2_000)])  # sold while the count goes on
    variances, _ = stock.post_count(ctx, session)
    assert variances[0].variance == -1_000
    assert on_hand() == 7_000  # the 9 counted, less the 2 sold since
    assert CountSession.get_by_id(session.id).status == "posted"
    with pytest.raises(InvalidInput, match="already posted"):
        stock.post_count(ctx, session)


def test_posting_a_count_moves_stock_in_its_own_transaction_not_a_savepoint(ctx, tea, monkeypatch):
    """With ``product``'s stock-value triggers, SQLite journals every page a statement changes inside a savepoint
    (an import's batch ran 8× slower): posting a count is all or nothing as a whole, and takes none."""
    import traceback

    from shopkeeper.models import database

    stock.receive(ctx, "TEA", 10_000, 100)
    session = stock.start_count(ctx)
    stock.record_count(ctx, session, "TEA", 9_000)
    opened: list[set[str]] = []
    savepoint = database.obj.savepoint

    def spied(*args, **kw):
        opened.append({frame.name for frame in traceback.extract_stack()})
        return savepoint(*args, **kw)

    monkeypatch.setattr(database.obj, "savepoint", spied)
    variances, _ = stock.post_count(ctx, session)
    assert variances[0].variance == -1_000 and on_hand() == 9_000
    assert [names for names in opened if "post_movements" in names] == []


def test_count_session_adds_shelves_and_recounts(ctx, tea):
    save_product(ProductData(sku="JAM", name="Jam"))
    stock.receive(ctx, "TEA", 5_000, 100)
    session = stock.start_count(ctx)
    stock.record_count(ctx, session, "TEA", 2_000)
    stock.record_count(ctx, session, "TEA", 2_000, add=True)  # second shelf
    stock.record_count(ctx, session, "JAM", 1_000)
    stock.record_count(ctx, session, "JAM", 3_000)  # recount replaces
    stock.remove_count(session, "JAM")
    variances, posted = stock.post_count(ctx, session)
    assert [(v.sku, v.counted, v.variance) for v in variances] == [("TEA", 4_000, -1_000)]
    assert on_hand("TEA") == 4_000 and on_hand("JAM") == 0


def test_cancelled_count_changes_nothing(ctx, tea):
    stock.receive(ctx, "TEA", 5_000, 100)
    session = stock.start_count(ctx)
    stock.record_count(ctx, session, "TEA", 1_000)
    stock.cancel_count(session)
    assert on_hand() == 5_000
    with pytest.raises(InvalidInput, match="cancelled"):
        stock.record_count(ctx, session, "TEA", 1_000)


def test_a_failing_entry_rolls_back_the_whole_batch(ctx, tea):
    with pytest.raises(InvalidInput):
        stock.post_movements(ctx, [stock.Entry(tea.id, "receive", 1000), stock.Entry(999, "receive", 1000)])
    assert Movement.select().count() == 0 and on_hand() == 0


def test_a_refused_first_action_by_new_staff_does_not_poison_later_ones(ctx, tea):
    new = ctx.__class__(**{**ctx.__dict__, "staff": "newcomer", "negative_stock": "refuse"})
    with pytest.raises(StockRefused):
        stock.adjust(new, "TEA", -1000, "lost")  # the staff row created here is rolled back
    stock.receive(new, "TEA", 1000, 10)
    assert Movement.get().staff.name == "newcomer"


def _many_entries(ids: list[int]) -> list[stock.Entry]:
    """Entries over a few products, each product more than once, some taking stock below zero."""
    return [stock.Entry(ids[i % len(ids)], "adjust", (-1) ** i * (1000 + 250 * i), unit_cost=None if i % 3 else 7,
                        reason="correction") for i in range(stock.MANY + 7)]


def test_many_entries_post_as_they_would_one_at_a_time(db_path, ctx):
    """From ``stock.MANY`` entries on, ``post_movements`` works set-based; what it stores and reports (stock after
    each product's last entry, unit costs, negative-stock warnings, the journal and its chain) is what posting the
    same entries one at a time gives."""
    from shopkeeper.db import close_database, open_database
    from shopkeeper.models import database
    from shopkeeper.services import chain_check

    results = {}
    for way in ("together", "one at a time"):
        open_database(str(db_path.with_name(f"{way}.db")))
        try:
            ids = [save_product(ProductData(sku=f"P{i}", name=f"P{i}", avg_cost=40 + i)).id for i in range(4)]
            entries = _many_entries(ids)
            if way == "together":
                posted = stock.post_movements(ctx, entries)
            else:
                posted = stock.Posted()
                for entry in entries:
                    one = stock.post_movements(ctx, [entry])
                    posted.on_hand.update(one.on_hand)
                    posted.unit_costs += one.unit_costs
                    posted.warnings += one.warnings
                    posted.movement_ids += one.movement_ids
            assert len(posted.movement_ids) == len(entries)
            assert chain_check.check(full=True).ok
            journal = database.execute_sql(
                "SELECT product_id, kind, quantity, unit_cost, reason FROM movement ORDER BY id").fetchall()
            assert [row[2] for row in journal] == [e.quantity for e in entries]
            linked = database.execute_sql("SELECT row_id FROM chain_link ORDER BY position").fetchall()
            results[way] = (posted.on_hand, posted.unit_costs, posted.warnings, journal,
                            [row[0] for row in linked] == sorted(posted.movement_ids),
                            {p.id: p.on_hand for p in Product.select()})
        finally:
            close_database()
    assert results["together"] == results["one at a time"]
    assert results["together"][2]  # some entries did take stock below zero


def test_many_entries_refused_by_the_negative_stock_policy_store_nothing(ctx, db):
    from dataclasses import replace

    ids = [save_product(ProductData(sku=f"P{i}", name=f"P{i}")).id for i in range(4)]
    with pytest.raises(StockRefused, match="stock would go to"):
        stock.post_movements(replace(ctx, negative_stock="refuse"), _many_entries(ids))
    assert Movement.select().count() == 0
    assert [p.on_hand for p in Product.select()] == [0, 0, 0, 0]
