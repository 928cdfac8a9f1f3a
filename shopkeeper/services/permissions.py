"""Who may do what: the one check every service calls before a sensitive act.

``require(ctx, permission)`` returns an ``Approval`` or raises ``PermissionDenied`` (a ``ShopError`` with
``.permission``). It passes when ``ctx.staff``'s role has the permission, or when ``ctx.supervisor`` names someone
whose role has it and ``ctx.supervisor_pin`` is their PIN (verified here, never trusted from a screen; a wrong PIN
counts towards the lockout). Call it before the act's write transaction (a wrong supervisor PIN is recorded in a
transaction of its own), then, inside the act's transaction, ``approval.record(ctx, subject)``: when a supervisor
approved, that writes the ``override`` audit event naming both people.

A caller that cannot hand the act a new context (an act already built, run in a thread worker) runs it inside
``approving(name, pin)`` instead: within it, ``require`` takes that supervisor as ``ctx.supervisor``.

Roles apply once any staff member has a PIN: a first-run shop (demo, one person) works as before, every act open.

The permission each act needs (names in ``services.roles``):

========================= ===========================================================================
refund                    ``sales.refund`` (CLI ``return``; the till's refund when paid: ``till.complete``)
void_sale                 ``till.void`` of a sale with lines
remove_line_after_payment ``till.remove_line`` / lowering ``till.set_quantity`` once a part payment is on the sale
discount_over_limit       ``till.set_line_discount`` / ``set_sale_discount`` above the role's ``max_discount``
price_override            ``till.add_product(unit_price=...)`` / ``till.set_price`` at another price than the catalogue's
one_off_item              ``till.add_one_off``
stock_adjust              ``stock.adjust``
post_count                ``stock.post_count`` and ``stock.count``
edit_products             ``catalog.save_product`` (any field); prices and costs also need:
edit_prices_costs         ``catalog.save_product`` changing price, avg_cost or tax_rate
open_drawer               a no-sale drawer opening (``till_session.no_sale``)
close_day                 closing a till session with its Z report (``till_session.close``)
export_books              the books export (``shopkeeper export books``)
manage_staff              ``services.staff``: add, set PIN, set role, deactivate
manage_orders             drafting, editing, sending, closing, cancelling purchase orders (``services.ordering``)
training                  switching a till to the training copy (the app's Training command)
========================= ===========================================================================
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass

from peewee import fn

from shopkeeper.errors import ShopError
from shopkeeper.models import Staff
from shopkeeper.services import audit_log
from shopkeeper.services.context import Context
from shopkeeper.services.roles import (  # noqa: F401  (the names callers use: permissions.REFUND, ...)
    CLOSE_DAY, DISCOUNT_OVER_LIMIT, EDIT_PRICES_COSTS, EDIT_PRODUCTS, EXPORT_BOOKS, MANAGE_ORDERS, MANAGE_STAFF,
    ONE_OFF_ITEM, OPEN_DRAWER, PERMISSIONS, POST_COUNT, PRICE_OVERRIDE, REFUND, REMOVE_LINE_AFTER_PAYMENT,
    STOCK_ADJUST, TRAINING, VOID_SALE, WHAT, Role)


class PermissionDenied(ShopError):
    """The acting staff member may not do this; a supervisor who may can approve it (``ctx.approved_by``)."""

    def __init__(self, message: str, *, permission: str, staff: str = "", refusal: str = "") -> None:
        super().__init__(message, field="permission", reason=f"needs {permission}", value=permission)
        self.permission = permission
        self.staff = staff
        self.refusal = refusal  # who may not do what, without the remedy (the CLI, which takes no PIN, gives its own)


@dataclass(frozen=True)
class Approval:
    """A passed check. ``supervisor_id``: who approved it, when the acting member could not alone."""

    permission: str
    supervisor_id: int | None = None
    supervisor: str = ""

    def record(self, ctx: Context, subject: str = "", detail: Mapping[str, object] | None = None) -> None:
        """Inside the act's transaction: the ``override`` audit event, when a supervisor approved."""
        if self.supervisor_id is not None:
            audit_log.record(ctx, "override", subject=subject, supervisor_id=self.supervisor_id,
                             detail={"permission": self.permission, **(detail or {})})


OPEN = Approval("")

_APPROVING: ContextVar[tuple[str, str] | None] = ContextVar("approving", default=None)


@contextlib.contextmanager
def approving(supervisor: str, pin: str) -> Iterator[None]:
    """Within this block (this thread or task only), a supervisor's name and PIN for the act being run: as
    ``ctx.approved_by`` for a caller that cannot change the act's context. The PIN is checked as ever."""
    token = _APPROVING.set((supervisor, pin))
    try:
        yield
    finally:
        _APPROVING.reset(token)


def roles_apply() -> bool:
    """Whether any staff member has a PIN: until then every act is open to anyone."""
    return Staff.select().where(Staff.pin_hash.is_null(False) & (Staff.pin_hash != "")).exists()


def member(name: str) -> Staff | None:
    """The staff member called ``name`` (any case), or None."""
    name = name.strip()
    if not name:
        return None
    return (Staff.get_or_none(Staff.name == name)
            or Staff.select().where(fn.LOWER(Staff.name) == name.lower()).first())


def role_of(ctx: Context, row: Staff | None) -> Role | None:
    if row is None or not row.active:
        return None
    return ctx.access.role(row.role)


def may(ctx: Context, permission: str) -> bool:
    """Whether ``ctx.staff`` may do this alone (a screen may hide or mark what needs a supervisor)."""
    if not roles_apply():
        return True
    role = role_of(ctx, member(ctx.staff))
    return role is not None and permission in role.permissions


def require(ctx: Context, permission: str) -> Approval:
    """Pass, or raise ``PermissionDenied`` saying who may not do what and that a supervisor's PIN can approve."""
    if permission not in PERMISSIONS:  # a typo in a caller must not open or shut an act by accident
        raise ValueError(f"unknown permission {permission!r}")
    if not roles_apply():
        return Approval(permission)
    row = member(ctx.staff)
    role = role_of(ctx, row)
    if role is not None and permission in role.permissions:
        return Approval(permission)
    what = WHAT[permission]
    supervisor, pin = (ctx.supervisor, ctx.supervisor_pin) if ctx.supervisor else (_APPROVING.get() or ("", ""))
    if supervisor:
        from shopkeeper.services.staff import verify_pin

        sup = verify_pin(ctx, supervisor, pin)
        sup_role = role_of(ctx, sup)
        if sup_role is None or permission not in sup_role.permissions:
            raise PermissionDenied(f"{sup.name} ({sup.role}) may not {what} either: ask someone who may",
                                   permission=permission, staff=ctx.staff)
        return Approval(permission, sup.id, sup.name)
    if row is None:
        who = f"{ctx.staff!r} is not on the staff list" if ctx.staff.strip() else "no staff member is named"
        raise PermissionDenied(f"{who}: to {what}, act as a staff member who may (--staff NAME) or get a "
                               f"supervisor's approval", permission=permission, staff=ctx.staff)
    if not row.active:
        raise PermissionDenied(f"{row.name} is deactivated and may not {what}", permission=permission,
                               staff=ctx.staff)
    refusal = f"{row.name} ({row.role}) may not {what}"
    raise PermissionDenied(f"{refusal}: a supervisor's PIN is needed", permission=permission, staff=ctx.staff,
                           refusal=refusal)


def require_discount(ctx: Context, rate: int) -> Approval:
    """A discount of ``rate`` basis points of what it comes off: within the role's ``max_discount`` it is open to
    the role; above, it needs ``discount_over_limit``."""
    if not roles_apply():
        return Approval(DISCOUNT_OVER_LIMIT)
    role = role_of(ctx, member(ctx.staff))
    if role is not None and (role.max_discount is None or rate <= role.max_discount):
        return Approval(DISCOUNT_OVER_LIMIT)
    return require(ctx, DISCOUNT_OVER_LIMIT)


def discount_rate(amount: int, base: int) -> int:
    """``amount`` off ``base`` as basis points, rounded up (so 10.001 % counts as over a 10 % limit)."""
    if base <= 0:
        return 0 if amount <= 0 else 10_000
    return -(-amount * 10_000 // base)
