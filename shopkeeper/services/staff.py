"""Staff members: add, PIN, role, deactivate, and PIN checks with a lockout. Every change is in the audit log.

The PIN itself never leaves this module: ``StaffInfo`` says whether a member has one, never its hash.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shopkeeper.db import utcnow, write_transaction
from shopkeeper.errors import InvalidInput, NotFound, ShopError
from shopkeeper.models import Staff
from shopkeeper.services import audit_log, pins
from shopkeeper.services.context import Context, staff_id, terminal_id
from shopkeeper.services.permissions import MANAGE_STAFF, member, require, roles_apply
from shopkeeper.text import clean

MAX_NAME = 40


class PinRefused(ShopError):
    """A wrong PIN, or a member locked out after too many."""


@dataclass(frozen=True)
class StaffInfo:
    name: str
    role: str
    active: bool
    has_pin: bool
    locked_until: str | None

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "role": self.role, "active": self.active, "has_pin": self.has_pin,
                "locked_until": self.locked_until}


def list_staff(*, active_only: bool = False) -> list[StaffInfo]:
    query = Staff.select().order_by(Staff.name)
    if active_only:
        query = query.where(Staff.active)
    now = utcnow()  # a lockout that has ended is no longer one (it is cleared at the next right PIN)
    return [StaffInfo(s.name, s.role, bool(s.active), bool(s.pin_hash),
                      s.locked_until if s.locked_until and s.locked_until > now else None) for s in query]


def signable(ctx: Context, permission: str | None = None) -> list[str]:
    """Names of the active members with a PIN (who may ``permission`` alone, when given): the sign-in list."""
    out = []
    for row in Staff.select().where(Staff.active & Staff.pin_hash.is_null(False)).order_by(Staff.name):
        role = ctx.access.role(row.role)
        if permission is None or (role is not None and permission in role.permissions):
            out.append(row.name)
    return out


def _get(name: str) -> Staff:
    row = member(name)
    if row is None:
        raise NotFound(f"no staff member {name!r} (see `shopkeeper staff list`)", field="name", value=name)
    return row


def _check_role(ctx: Context, role: str) -> str:
    role = role.strip().lower()
    if ctx.access.role(role) is None:
        raise InvalidInput(f"no role {role!r}: one of {', '.join(sorted(ctx.access.roles))} (config [roles.<name>])",
                           field="role", reason="unknown role", value=role)
    return role


def _prepare(ctx: Context) -> None:
    staff_id(ctx)  # created (if new) in a commit of its own: see till._writing
    terminal_id(ctx)


def add(ctx: Context, name: str, role: str = "cashier") -> StaffInfo:
    name = clean(name, field="name").strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"a staff name is 1 to {MAX_NAME} characters", field="name")
    role = _check_role(ctx, role)
    approval = require(ctx, MANAGE_STAFF)
    _prepare(ctx)
    with write_transaction():
        if member(name) is not None:
            raise InvalidInput(f"{name} is already on the staff list", field="name", value=name)
        sid = Staff.insert(name=name, role=role, active=True).execute()
        audit_log.record(ctx, "staff_added", subject=f"staff:{sid}", detail={"name": name, "role": role},
                         supervisor_id=approval.supervisor_id)
        approval.record(ctx, f"staff:{sid}")
    return StaffInfo(name, role, True, False, None)


def _managers_left(ctx: Context, without: Staff) -> bool:
    """Whether someone other than ``without``, active with a PIN, may still manage staff."""
    for other in Staff.select().where(Staff.active & Staff.pin_hash.is_null(False) & (Staff.id != without.id)):
        role = ctx.access.role(other.role)
        if role is not None and MANAGE_STAFF in role.permissions:
            return True
    return False


def set_pin(ctx: Context, name: str, pin: str) -> None:
    """Set (or change) a member's PIN. The shop's first PIN must be a manager's (someone whose role has
    manage_staff): roles apply from then on, and someone must be able to manage staff."""
    pin = pins.check_pin(pin)
    approval = require(ctx, MANAGE_STAFF)
    row = _get(name)
    if not roles_apply():
        role = ctx.access.role(row.role)
        if role is None or MANAGE_STAFF not in role.permissions:
            raise InvalidInput(f"set a PIN for someone who may manage staff first (an owner): once any PIN is set, "
                               f"roles apply, and {row.name} ({row.role}) could not manage staff",
                               field="name", value=row.name)
    hashed = pins.hash_pin(pin)  # slow: outside the write lock
    _prepare(ctx)
    with write_transaction():
        Staff.update(pin_hash=hashed, failed_pins=0, locked_until=None).where(Staff.id == row.id).execute()
        audit_log.record(ctx, "pin_set", subject=f"staff:{row.id}", detail={"name": row.name},
                         supervisor_id=approval.supervisor_id)
        approval.record(ctx, f"staff:{row.id}")


def set_role(ctx: Context, name: str, role: str) -> None:
    role = _check_role(ctx, role)
    approval = require(ctx, MANAGE_STAFF)
    row = _get(name)
    if role == row.role:
        return
    new = ctx.access.role(role)
    if (row.pin_hash and MANAGE_STAFF not in new.permissions and row.active
            and not _managers_left(ctx, row)):
        raise InvalidInput(f"{row.name} is the last one with a PIN who may manage staff: give someone else that "
                           f"role first", field="role", value=role)
    _prepare(ctx)
    with write_transaction():
        Staff.update(role=role).where(Staff.id == row.id).execute()
        audit_log.record(ctx, "role_changed", subject=f"staff:{row.id}",
                         detail={"name": row.name, "old": row.role, "new": role},
                         supervisor_id=approval.supervisor_id)
        approval.record(ctx, f"staff:{row.id}")


def deactivate(ctx: Context, name: str) -> None:
    """A member who left: their name stays on the records, they can no longer unlock a till or approve."""
    approval = require(ctx, MANAGE_STAFF)
    row = _get(name)
    if not row.active:
        return
    if row.pin_hash and not _managers_left(ctx, row):
        role = ctx.access.role(row.role)
        if role is not None and MANAGE_STAFF in role.permissions:
            raise InvalidInput(f"{row.name} is the last one with a PIN who may manage staff: give someone else "
                               f"that role first", field="name", value=row.name)
    _prepare(ctx)
    with write_transaction():
        Staff.update(active=False).where(Staff.id == row.id).execute()
        audit_log.record(ctx, "staff_deactivated", subject=f"staff:{row.id}", detail={"name": row.name},
                         supervisor_id=approval.supervisor_id)
        approval.record(ctx, f"staff:{row.id}")


def _later(minutes: int) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _local_time(stamp: str) -> str:
    when = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    return when.astimezone().strftime("%H:%M")


def verify_pin(ctx: Context, name: str, pin: str) -> Staff:
    """The active member ``name`` if ``pin`` is theirs. A wrong PIN is counted and recorded (``pin_failed``);
    ``ctx.access.max_pin_failures`` in a row lock the member out for ``lockout_minutes`` (``pin_lockout``).
    Call outside a write transaction: the failure is committed on its own before ``PinRefused`` is raised."""
    row = member(name)
    if row is None or not row.active or not row.pin_hash:
        raise PinRefused(f"{name.strip() or 'nobody'}: no active staff member with a PIN by that name",
                         field="name", reason="unknown name")
    now = utcnow()
    if row.locked_until and row.locked_until > now:
        raise PinRefused(f"{row.name} is locked out after too many wrong PINs until {_local_time(row.locked_until)}",
                         field="pin", reason="locked out")
    if pins.matches(pin, row.pin_hash):
        if row.failed_pins or row.locked_until:
            with write_transaction():
                Staff.update(failed_pins=0, locked_until=None).where(Staff.id == row.id).execute()
        return row
    _prepare(ctx)
    access = ctx.access
    with write_transaction():
        failed = (Staff.select(Staff.failed_pins).where(Staff.id == row.id).scalar() or 0) + 1
        audit_log.record(ctx, "pin_failed", subject=f"staff:{row.id}", detail={"name": row.name, "failed": failed})
        if failed >= access.max_pin_failures:
            until = _later(access.lockout_minutes)
            Staff.update(failed_pins=0, locked_until=until).where(Staff.id == row.id).execute()
            audit_log.record(ctx, "pin_lockout", subject=f"staff:{row.id}",
                             detail={"name": row.name, "until": until, "minutes": access.lockout_minutes})
        else:
            Staff.update(failed_pins=failed).where(Staff.id == row.id).execute()
    if failed >= access.max_pin_failures:
        raise PinRefused(f"wrong PIN for {row.name}: locked out for {access.lockout_minutes} minutes",
                         field="pin", reason="locked out")
    left = access.max_pin_failures - failed
    raise PinRefused(f"wrong PIN for {row.name} ({left} more tr{'y' if left == 1 else 'ies'} before a lockout)",
                     field="pin", reason="wrong PIN")


def sign_in(ctx: Context, name: str, pin: str) -> str:
    """A cashier unlocking the till: their name as stored, once the PIN is theirs; recorded as ``sign_in``."""
    row = verify_pin(ctx, name, pin)
    signed = ctx.as_staff(row.name)
    _prepare(signed)
    with write_transaction():
        audit_log.record(signed, "sign_in", subject=f"staff:{row.id}")
    return row.name
