"""PostgreSQL tells every listener about every commit (LISTEN/NOTIFY), and a lost server is a state the code knows,
not a traceback. Needs $SHOPKEEPER_TEST_PG (see tests/test_postgres.py)."""

from __future__ import annotations

import os
import queue
from urllib.parse import urlsplit, urlunsplit

import pytest

from shopkeeper.db import (ServerUnreachable, backend_pid, close_database, connection_lost, open_database,
                           reconnect, write_transaction)
from shopkeeper.live import ChangeListener
from shopkeeper.models import Movement, Product, ProductChange, database
from shopkeeper.services import stock, till
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.context import Context
from tests.tcp_proxy import TcpProxy

URL = os.environ.get("SHOPKEEPER_TEST_PG", "")
pytestmark = [pytest.mark.requires("postgres"), pytest.mark.slow, pytest.mark.xdist_group("postgres")]


def wipe(url: str = URL) -> None:
    db = open_database(url)
    db.execute_sql("DROP SCHEMA public CASCADE")
    db.execute_sql("CREATE SCHEMA public")
    close_database()


@pytest.fixture
def pg():
    wipe()
    db = open_database(URL)
    yield db
    close_database()


@pytest.fixture
def proxy():
    parts = urlsplit(URL)
    p = TcpProxy(parts.hostname or "localhost", parts.port or 5432)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"{netloc[0]}@127.0.0.1:{p.port}" if len(netloc) == 2 else f"127.0.0.1:{p.port}"
    p.url = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    yield p
    p.close()


class Heard:
    """What a listener told: ``changes`` (sets of ``table:id``) and ``states`` (up, why), in queues."""

    def __init__(self, url: str) -> None:
        self.changes: queue.Queue[set[str]] = queue.Queue()
        self.states: queue.Queue[tuple[bool, str]] = queue.Queue()
        self.listener = ChangeListener(url, self.changes.put, lambda up, why: self.states.put((up, why)))

    def __enter__(self) -> Heard:
        self.listener.start()
        assert self.states.get(timeout=10) == (True, "")
        return self

    def __exit__(self, *exc) -> None:
        self.listener.stop()

    def until(self, wanted: set[str]) -> set[str]:
        seen: set[str] = set()
        while not wanted <= seen:
            seen |= self.changes.get(timeout=10)
        return seen


def test_every_commit_is_announced_with_its_table_and_row(pg):
    ctx = Context(staff="pg", terminal="t1")
    with Heard(URL) as heard:
        save_product(ProductData(sku="MILK", name="Milk", price=129))
        milk = Product.get(Product.sku == "MILK").id
        heard.until({f"product:{milk}"})
        stock.receive(ctx, "MILK", 10_000, 80)
        moved = Movement.select().order_by(Movement.id.desc()).get().id
        heard.until({f"product:{milk}", f"movement:{moved}"})
        draft = till.add_scan(ctx, "MILK")
        heard.until({f"open_sale:{draft.id}", f"open_sale_line:{draft.lines[0].id}"})


def test_a_price_change_that_moves_no_stock_is_announced_to_other_tills(pg):
    """A product screen open at another till must see a price change, which moves no stock: its product row and
    its change-log row are announced."""
    save_product(ProductData(sku="A", name="A", price=100))
    product = Product.get(Product.sku == "A").id
    with Heard(URL) as heard:
        save_product(ProductData(sku="A", price=120))
        change = ProductChange.select().order_by(ProductChange.id.desc()).get()
        assert change.field == "price"
        heard.until({f"product:{product}", f"product_change:{change.id}"})


def test_a_rolled_back_change_is_never_announced(pg):
    with Heard(URL) as heard:
        save_product(ProductData(sku="A", name="A"))
        with pytest.raises(RuntimeError), write_transaction():
            save_product(ProductData(sku="B", name="B"))
            raise RuntimeError("changed my mind")
        save_product(ProductData(sku="C", name="C"))
        ids = {p.sku: p.id for p in Product.select()}
        seen = heard.until({f"product:{ids['A']}", f"product:{ids['C']}"})
        assert not any(n.startswith("product:") and int(n.split(":")[1]) not in ids.values() for n in seen)


def test_the_listener_ignores_its_own_apps_commits(pg):
    with Heard(URL) as heard:
        heard.listener.ignore_pid = backend_pid()
        save_product(ProductData(sku="OURS", name="ours"))
        other = []

        def elsewhere() -> None:
            with database.connection_context():
                save_product(ProductData(sku="THEIRS", name="theirs"))
                other.append(Product.get(Product.sku == "THEIRS").id)

        import threading
        t = threading.Thread(target=elsewhere)
        t.start()
        t.join()
        seen = heard.until({f"product:{other[0]}"})
        ours = Product.get(Product.sku == "OURS").id
        assert f"product:{ours}" not in seen


def test_listener_reports_a_lost_server_and_comes_back(pg, proxy):
    with Heard(proxy.url) as heard:
        proxy.cut()
        up, why = heard.states.get(timeout=10)
        assert not up and why
        proxy.resume()
        assert heard.states.get(timeout=15) == (True, "")
        save_product(ProductData(sku="AFTER", name="after the outage"))
        heard.until({f"product:{Product.get(Product.sku == 'AFTER').id}"})


def test_a_write_to_a_lost_server_says_so_and_works_after_reconnecting(pg, proxy):
    close_database()
    db = open_database(proxy.url)
    ctx = Context(staff="pg", terminal="t1")
    save_product(ProductData(sku="MILK", name="Milk", price=129))
    proxy.cut()
    with pytest.raises(ServerUnreachable) as caught, write_transaction():
        database.execute_sql("SELECT 1")
    assert caught.value.reason == "unreachable"
    with pytest.raises(Exception) as read_error:  # a read outside a transaction: Peewee's error, recognised
        stock.receive(ctx, "MILK", 1000, 80)
    assert connection_lost(read_error.value)
    proxy.resume()
    reconnect()
    stock.receive(ctx, "MILK", 1000, 80)
    assert Product.get(Product.sku == "MILK").on_hand == 1000
    assert db is database.obj


def test_a_server_side_error_is_not_a_lost_connection(pg):
    with pytest.raises(Exception) as caught:
        pg.execute_sql("SELECT * FROM no_such_table")
    assert not connection_lost(caught.value)
    pg.rollback()
