"""One running app per till: two sessions never ring up one open sale, and a crashed app's till (with its open
sale) comes back to the next app."""

from __future__ import annotations

import os
import socket
from dataclasses import replace

import pytest

from shopkeeper.models import TillClaim
from shopkeeper.services import till, till_claim
from shopkeeper.services.till_claim import Holder, TillInUse

MILK, COFFEE = "4006381333931", "8711000530085"
HOST = socket.gethostname()


def other_session() -> Holder:
    """Another app on this host that is still running (the test's parent process)."""
    return Holder(HOST, os.getppid(), till_claim._start_time(os.getppid()))


def me() -> Holder:
    return Holder.this_process()


def test_two_sessions_with_the_default_name_ring_up_two_sales(demo_db, ctx):
    first = till_claim.take("shop-pc", exact=False, holder=other_session())
    second = till_claim.take("shop-pc", exact=False, holder=me())
    assert (first.name, second.name) == ("shop-pc", "shop-pc-2")
    a, b = replace(ctx, terminal=first.name), replace(ctx, terminal=second.name)
    till.add_scan(a, MILK)
    till.add_scan(b, COFFEE)
    assert [line.sku for line in till.current_sale(a).lines] == ["MILK-1L"]
    assert [line.sku for line in till.current_sale(b).lines] == ["COFFEE-500"]
    paid = till.complete(b, "card")
    assert [line.sku for line in paid.lines] == ["COFFEE-500"], "one cashier's items paid on the other's sale"
    assert [line.sku for line in till.current_sale(a).lines] == ["MILK-1L"]


def test_a_till_named_on_purpose_is_refused_while_another_app_holds_it(demo_db):
    till_claim.take("till-1", exact=True, holder=other_session())
    with pytest.raises(TillInUse) as exc:
        till_claim.take("till-1", exact=True, holder=me())
    message = str(exc.value)
    assert exc.value.field == "terminal" and f"pid {os.getppid()} on {HOST}" in message
    assert "--terminal" in message and "gone" in message  # the ways forward


def test_a_crashed_apps_till_and_open_sale_come_back(demo_db, ctx):
    crashed = Holder(HOST, os.getpid(), "not-this-process")  # its pid now runs another process (reused)
    till_claim.take("till-1", exact=True, holder=crashed)
    till.add_scan(ctx, MILK)
    lease = till_claim.take("till-1", exact=True, holder=me())  # the app started again at the same till
    assert lease.name == "till-1" and TillClaim.get(TillClaim.name == "till-1").started == me().started
    assert [line.sku for line in till.current_sale(ctx).lines] == ["MILK-1L"]
    assert not till_claim.TillLease("till-1", "till-1", crashed).renew(), "the crashed holder lost its claim"


def test_the_lowest_free_default_name_is_taken_again_after_a_crash(demo_db):
    till_claim.take("shop-pc", exact=False, holder=other_session())
    till_claim.take("shop-pc", exact=False, holder=Holder(HOST, os.getpid(), "crashed"))  # shop-pc-2, then crashed
    assert till_claim.take("shop-pc", exact=False, holder=me()).name == "shop-pc-2"


def test_a_claim_from_another_host_lapses_when_not_renewed(demo_db, monkeypatch):
    elsewhere = Holder("other-host", 4242, "1")
    lease = till_claim.take("till-1", exact=True, holder=elsewhere)
    with pytest.raises(TillInUse):
        till_claim.take("till-1", exact=True, holder=me())  # renewed just now, and its pid cannot be asked
    assert lease.renew()
    monkeypatch.setattr(till_claim, "LEASE_SECONDS", -1)  # time has passed beyond the lease
    assert till_claim.take("till-1", exact=True, holder=me()).name == "till-1"
    assert not lease.renew()


def test_a_released_till_is_free_and_its_open_sale_stays(demo_db, ctx):
    with till_claim.held("till-1", exact=True) as lease:
        assert lease.name == "till-1" and lease.renew()
        till.add_scan(ctx, MILK)
    assert not TillClaim.select().exists()
    with till_claim.held("till-1", exact=True):
        assert [line.sku for line in till.current_sale(ctx).lines] == ["MILK-1L"]


def test_the_same_app_claiming_again_keeps_its_till(demo_db):
    till_claim.take("till-1", exact=True, holder=me())
    assert till_claim.take("till-1", exact=True, holder=me()).name == "till-1"
    assert TillClaim.select().count() == 1


def test_the_app_is_not_started_on_a_till_another_app_holds(demo_db, db_path, ctx):
    from shopkeeper.config import Config
    from shopkeeper.tui.app import run_app

    till_claim.take(ctx.terminal, exact=True, holder=other_session())
    with pytest.raises(TillInUse):
        run_app(str(db_path), Config(), ctx, exact_till=True)  # refused before the app takes the terminal
