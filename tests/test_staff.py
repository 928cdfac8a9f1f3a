import json

import pytest

from shopkeeper.errors import InvalidInput
from shopkeeper.models import AuditEvent, Staff
from shopkeeper.services import pins, staff
from shopkeeper.services.permissions import PermissionDenied, roles_apply
from shopkeeper.services.roles import Access
from tests.staff_helpers import PINS, add_staff, as_


def _kinds() -> list[str]:
    return [e.kind for e in AuditEvent.select().order_by(AuditEvent.id)]


def test_a_pin_is_stored_as_a_salted_slow_hash_with_its_parameters_never_in_clear(db):
    add_staff()
    olga, sue = Staff.get(Staff.name == "Olga"), Staff.get(Staff.name == "Sue")
    assert olga.pin_hash.startswith(f"scrypt${pins.N}${pins.R}${pins.P}$")
    assert "1111" not in olga.pin_hash
    same = pins.hash_pin("2222")
    assert same != sue.pin_hash  # salted: the same PIN hashes differently
    assert pins.matches("2222", sue.pin_hash) and pins.matches("2222", same)
    assert not pins.matches("2223", sue.pin_hash)
    weaker = "scrypt$1024$8$1$" + same.split("$", 4)[4]  # parameters are read back from the string
    assert not pins.matches("2222", weaker)


def test_a_pin_is_four_to_twelve_digits(db):
    add_staff()
    for bad in ("123", "12a4", "1234567890123", "١٢٣٤"):
        with pytest.raises(InvalidInput, match="4 to 12 digits"):
            staff.set_pin(as_("Olga"), "Cam", bad)


def test_wrong_pins_lock_the_member_out_after_the_configured_tries_and_are_recorded(db):
    add_staff()
    ctx = as_("Cam", access=Access(max_pin_failures=3, lockout_minutes=10))
    for left in ("2 more tries", "1 more try"):
        with pytest.raises(staff.PinRefused, match=left):
            staff.verify_pin(ctx, "Sue", "0000")
    with pytest.raises(staff.PinRefused, match="locked out for 10 minutes"):
        staff.verify_pin(ctx, "Sue", "0000")
    with pytest.raises(staff.PinRefused, match="locked out"):  # even the right PIN, until the time is up
        staff.verify_pin(ctx, "Sue", PINS["Sue"])
    kinds = _kinds()
    assert kinds.count("pin_failed") == 3 and kinds.count("pin_lockout") == 1
    failed = AuditEvent.select().where(AuditEvent.kind == "pin_failed").first()
    assert failed.staff.name == "Cam" and json.loads(failed.detail)["name"] == "Sue"
    assert "0000" not in "".join(e.detail for e in AuditEvent.select())  # a typed PIN is never recorded


def test_a_right_pin_clears_the_count_of_wrong_ones(db):
    add_staff()
    ctx = as_("Cam", access=Access(max_pin_failures=2))
    with pytest.raises(staff.PinRefused):
        staff.verify_pin(ctx, "Sue", "0000")
    assert staff.verify_pin(ctx, "sue", PINS["Sue"]).name == "Sue"  # any case
    with pytest.raises(staff.PinRefused, match="1 more try"):
        staff.verify_pin(ctx, "Sue", "0000")


def test_a_lockout_shows_in_the_staff_list_only_until_it_ends(db):
    add_staff()
    ctx = as_("Cam", access=Access(max_pin_failures=1, lockout_minutes=10))
    with pytest.raises(staff.PinRefused, match="locked out"):
        staff.verify_pin(ctx, "Sue", "0000")
    (sue,) = [m for m in staff.list_staff() if m.name == "Sue"]
    assert sue.locked_until is not None
    Staff.update(locked_until="2020-01-01T00:00:00.000000Z").where(Staff.name == "Sue").execute()  # time is up
    assert [m.locked_until for m in staff.list_staff() if m.name == "Sue"] == [None]
    staff.verify_pin(ctx, "Sue", PINS["Sue"])
    assert Staff.get(Staff.name == "Sue").locked_until is None  # a right PIN after the lockout clears it


def test_the_first_pin_must_be_someone_who_may_manage_staff(db):
    staff.add(as_(""), "Cam", "cashier")
    with pytest.raises(InvalidInput, match="someone who may manage staff first"):
        staff.set_pin(as_(""), "Cam", "1234")
    assert not roles_apply()


def test_roles_apply_once_a_pin_is_set_and_then_only_managers_change_staff(db):
    staff.add(as_(""), "Olga", "owner")
    staff.add(as_("anyone"), "Cam")  # no PIN yet: open to anyone
    staff.set_pin(as_(""), "Olga", "1111")
    assert roles_apply()
    with pytest.raises(PermissionDenied) as denied:
        staff.add(as_("Cam"), "Mallory", "owner")
    assert denied.value.permission == "manage_staff"
    staff.set_role(as_("Olga"), "Cam", "supervisor")
    staff.deactivate(as_("Olga"), "Cam")
    assert _kinds() == ["staff_added", "staff_added", "pin_set", "role_changed", "staff_deactivated"]
    change = AuditEvent.get(AuditEvent.kind == "role_changed")
    assert json.loads(change.detail) == {"name": "Cam", "old": "cashier", "new": "supervisor"}
    assert change.staff.name == "Olga"
    with pytest.raises(staff.PinRefused):  # deactivated: no longer signs in
        staff.sign_in(as_(""), "Cam", "1234")


def test_the_last_manager_with_a_pin_can_be_neither_demoted_nor_deactivated(db):
    add_staff()
    with pytest.raises(InvalidInput, match="last one"):
        staff.set_role(as_("Olga"), "Olga", "cashier")
    with pytest.raises(InvalidInput, match="last one"):
        staff.deactivate(as_("Olga"), "Olga")


def test_an_unknown_role_is_refused_with_the_known_ones(db):
    with pytest.raises(InvalidInput, match="cashier, owner, supervisor"):
        staff.add(as_(""), "Cam", "boss")


def test_the_staff_list_says_whether_a_pin_is_set_never_the_hash(db):
    add_staff()
    rows = [r.as_dict() for r in staff.list_staff()]
    assert [(r["name"], r["role"], r["has_pin"]) for r in rows] == [
        ("Cam", "cashier", True), ("Olga", "owner", True), ("Sue", "supervisor", True)]
    assert "scrypt" not in json.dumps(rows)


def test_signing_in_is_recorded_and_gives_the_stored_name(db):
    add_staff()
    assert staff.sign_in(as_(""), "cam", PINS["Cam"]) == "Cam"
    event = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert (event.kind, event.staff.name) == ("sign_in", "Cam")
