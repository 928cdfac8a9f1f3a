"""Training mode: a practice copy of the shop that the real shop never hears of."""

from __future__ import annotations

import pytest

from shopkeeper.db import close_database, open_database
from shopkeeper.errors import ShopError
from shopkeeper.models import Movement, Payment, Product, Sale
from shopkeeper.receipts import receipt_for
from shopkeeper.services import sales, stock, till, training
from shopkeeper.services.catalog import ProductData, save_product
from shopkeeper.services.context import Context


@pytest.fixture
def real(db, db_path, ctx):
    save_product(ProductData(sku="MILK", name="Milk", price=129, tax_rate=700, barcodes=["4006381333931"]))
    save_product(ProductData(sku="APPLES", name="Apples", unit="kg", price=299))
    stock.receive(ctx, "MILK", 20_000, 80)
    stock.receive(ctx, "APPLES", 5_500, 120)
    sales.sell(ctx, [sales.LineInput("MILK", 2000)], payment="card")
    return str(db_path)


def _books(location: str) -> tuple:
    close_database()
    open_database(location)
    return (Sale.select().count(), Movement.select().count(), Payment.select().count(),
            sorted(Product.select(Product.sku, Product.on_hand, Product.price).tuples()))


def test_a_trainee_ringing_up_sales_moves_neither_the_real_stock_nor_the_books(real, ctx):
    before = _books(real)
    done = training.prepare(real)
    assert done.created and done.products == 2 and done.path.name == "shop.training.db"
    close_database()
    open_database(str(done.path))
    assert training.active()
    assert sorted(Product.select(Product.sku, Product.on_hand, Product.price).tuples()) == before[3]
    trainee = Context(staff="trainee", terminal="till-1")
    sales.sell(trainee, [sales.LineInput("MILK", 3000)], payment="cash")
    till.add_scan(trainee, "4006381333931")
    result = till.complete(trainee, "card")
    sales.refund(trainee, sale_id=result.sale_id)
    assert Sale.select().count() == 3
    assert _books(real) == before  # the real shop: same sales, movements, payments, stock and prices


def test_training_copy_is_kept_until_reset_and_reset_starts_afresh(real, ctx):
    path = training.prepare(real).path
    close_database()
    open_database(str(path))
    sales.sell(Context(staff="trainee"), [sales.LineInput("MILK", 1000)], payment="card")
    close_database()
    open_database(real)
    assert not training.prepare(real).created
    open_database(str(path))
    assert Sale.select().count() == 1
    close_database()
    open_database(real)
    assert training.prepare(real, reset=True).created
    open_database(str(path))
    assert Sale.select().count() == 0 and Product.get(Product.sku == "MILK").on_hand == 18_000


def test_a_real_shop_is_never_taken_for_a_training_copy(real, db_path, tmp_path):
    import shutil

    close_database()
    shutil.copyfile(db_path, tmp_path / "shop.training.db")  # a real shop sits where the copy would go
    open_database(real)
    with pytest.raises(ShopError, match="not a training copy"):
        training.prepare(real, reset=True)
    with pytest.raises(ShopError, match="already a training copy"):
        training.training_location(str(tmp_path / "shop.training.db"))


def test_receipts_printed_in_training_say_so_all_over(real, ctx):
    from shopkeeper.config import Config

    done = training.prepare(real)
    close_database()
    open_database(str(done.path))
    result = sales.sell(Context(staff="trainee"), [sales.LineInput("MILK", 1000)] * 9, payment="card")
    text = receipt_for(result, Config(), ctx)
    lines = text.splitlines()
    assert lines[0].strip() == training.RECEIPT_MARK and lines[-1].strip() == training.RECEIPT_MARK
    assert text.count(training.RECEIPT_MARK) >= 3  # and between the lines: no piece passes for a receipt


def test_the_guide_ticks_steps_from_the_training_rows(real):
    done = training.prepare(real)
    close_database()
    open_database(str(done.path))
    guide = training.Guide()
    assert not any(guide.progress().values())
    trainee = Context(staff="trainee", terminal="till-1")
    till.add_scan(trainee, "4006381333931")
    assert guide.progress()["void"] is False
    till.void(trainee)
    assert guide.progress()["void"] is True
    sales.sell(trainee, [sales.LineInput("APPLES", 750)], payment="card")
    stock.count(trainee, "MILK", 1000)
    progress = guide.progress()
    assert progress["sale"] and progress["weighed"] and progress["count"]
    assert not progress["refund"] and not progress["park"]


def test_each_trainee_has_a_first_day_of_their_own(real):
    done = training.prepare(real)
    close_database()
    open_database(str(done.path))
    guide = training.Guide()
    tina, cam = Context(staff="Tina", terminal="till-1"), Context(staff="Cam", terminal="till-2")
    sales.sell(tina, [sales.LineInput("APPLES", 750)], payment="card")
    till.add_scan(tina, "4006381333931")
    till.void(tina)
    assert guide.progress("tina")["sale"] and guide.progress("Tina")["void"]
    assert not any(guide.progress("Cam").values())  # the next new cashier starts with nothing ticked
    till.add_scan(cam, "4006381333931")
    till.complete(cam, "card")
    cams = guide.progress("Cam")
    assert cams["sale"] and not cams["weighed"] and not cams["void"]
    assert guide.progress()["weighed"]  # no name: anyone's


def test_the_copy_has_the_shops_staff_and_pins_so_a_trainee_practises_the_supervisor_prompt(real, ctx):
    from shopkeeper.models import Staff
    from shopkeeper.services import permissions, staff
    from tests.staff_helpers import PINS, add_staff, as_

    add_staff()
    done = training.prepare(real)
    close_database()
    open_database(str(done.path))
    assert permissions.roles_apply()  # PINs set in the shop: roles apply in practice as in the shop
    assert staff.verify_pin(as_("Cam"), "Cam", PINS["Cam"]).name == "Cam"  # signs in with the shop's PIN
    cam = as_("Cam")
    sold = sales.sell(cam, [sales.LineInput("MILK", 1000)], payment="card")
    with pytest.raises(permissions.PermissionDenied):  # a cashier's refund: the supervisor prompt, as in the shop
        sales.refund(cam, sale_id=sold.sale_id)
    sales.refund(cam.approved_by("Sue", PINS["Sue"]), sale_id=sold.sale_id)
    with pytest.raises(ShopError):
        staff.verify_pin(as_("Cam"), "Cam", "0000")  # a failure in practice counts in the copy only
    close_database()
    open_database(real)
    assert Staff.get(Staff.name == "Cam").failed_pins == 0


def test_a_pin_set_in_the_shop_after_the_copy_was_made_reaches_the_copy_next_time(real, ctx):
    from shopkeeper.services import staff
    from tests.staff_helpers import add_staff, as_

    training.prepare(real)
    open_database(real)
    add_staff()
    staff.add(as_("Olga"), "Tina", "cashier")
    staff.set_pin(as_("Olga"), "Tina", "4444")  # a new cashier's PIN, set in the shop
    done = training.prepare(real)  # the copy is kept (not reset), its staff refreshed
    assert not done.created
    open_database(str(done.path))
    assert staff.verify_pin(as_("Tina"), "Tina", "4444").role == "cashier"


def test_no_pin_hash_leaves_the_copy_in_json(real, ctx, capsys):
    from shopkeeper.cli import main
    from shopkeeper.models import Staff
    from tests.staff_helpers import add_staff

    add_staff()
    hashes = [h for (h,) in Staff.select(Staff.pin_hash).where(Staff.pin_hash.is_null(False)).tuples()]
    close_database()
    assert main(["--db", real, "--staff", "Olga", "--json", "training", "--no-tui"]) == 0
    path = training.training_location(real)
    assert main(["--db", str(path), "--staff", "Olga", "--json", "staff", "list"]) == 0
    out = capsys.readouterr().out
    assert hashes and not any(h in out or h.split("$")[-1] in out for h in hashes)
    assert '"Cam"' in out


def test_reset_refuses_while_an_app_has_the_copy_open_and_says_which_till(real, ctx):
    from shopkeeper.services import till_claim

    done = training.prepare(real)
    open_database(str(done.path))
    lease = till_claim.take("till-7", exact=True)  # an app running on the practice copy holds its till
    sales.sell(Context(staff="trainee"), [sales.LineInput("MILK", 1000)], payment="card")
    close_database()
    open_database(real)
    with pytest.raises(ShopError, match="open in the app at till till-7") as refused:
        training.prepare(real, reset=True)
    assert refused.value.field == "reset"
    open_database(str(done.path))
    assert Sale.select().count() == 1  # the copy is as it was: nothing pulled from under the app
    lease.release()
    close_database()
    open_database(real)
    assert training.prepare(real, reset=True).created  # once the app has left, the reset goes ahead
    open_database(str(done.path))
    assert Sale.select().count() == 0


def test_switching_to_training_needs_the_training_permission_and_is_in_the_shops_audit_log(real, ctx):
    from shopkeeper.models import AuditEvent
    from shopkeeper.services import permissions
    from tests.staff_helpers import PINS, add_staff, as_

    add_staff()
    with pytest.raises(permissions.PermissionDenied):
        training.begin(as_("Cam"))
    training.begin(as_("Cam").approved_by("Sue", PINS["Sue"]))
    event = AuditEvent.get(AuditEvent.kind == training.STARTED)
    assert (event.staff.name, event.supervisor.name) == ("Cam", "Sue")


def test_cli_reset_of_a_copy_in_use_exits_2_with_who_has_it_and_records_no_start(real, ctx, capsys):
    from shopkeeper.cli import main
    from shopkeeper.models import AuditEvent
    from shopkeeper.services import till_claim

    done = training.prepare(real)
    open_database(str(done.path))
    lease = till_claim.take("till-7", exact=True)
    close_database()
    assert main(["--db", real, "training", "--reset", "--no-tui"]) == 2
    assert "open in the app at till till-7" in capsys.readouterr().err
    open_database(real)
    assert not AuditEvent.select().where(AuditEvent.kind == training.STARTED).exists()
    open_database(str(done.path))
    lease.release()
