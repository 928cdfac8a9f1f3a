"""A counter in sell mode with the default terminal name (the host name) shares the till's open sale."""
from shopkeeper.counter import Counter
from shopkeeper.models import SaleLine
from shopkeeper.services import till

MILK, COFFEE = "4006381333931", "8711000530085"


def test_counter_scan_does_not_commit_the_tills_open_sale(demo_db, ctx):
    counter = Counter(ctx, "sell")           # `shopkeeper counter --mode sell` running on the box, same config
    counter.begin()
    till.add_scan(ctx, MILK)                 # a cashier (SSH into the same box) is ringing up a customer
    outcome = counter.handle(COFFEE)         # a self-service customer takes a coffee
    assert outcome.ok
    sale_id = int(outcome.message.split()[1].rstrip(":"))
    lines = [l.description for l in SaleLine.select().where(SaleLine.sale == sale_id)]
    assert lines == ["Coffee beans 500 g"], f"counter sale {sale_id} also holds the till's lines: {lines}"
    assert [l.sku for l in till.current_sale(ctx).lines] == ["MILK-1L"], "the till's open sale is gone"


def test_counter_start_does_not_commit_the_tills_open_sale(demo_db, ctx):
    till.add_scan(ctx, MILK)
    Counter(ctx, "sell").begin()             # systemd (re)starts the counter mid-sale at the till
    assert [l.sku for l in till.current_sale(ctx).lines] == ["MILK-1L"], \
        "the till's half-rung sale was committed as paid 'other' by the counter starting"
