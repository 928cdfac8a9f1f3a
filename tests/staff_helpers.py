"""A shop with staff and PINs, as the staff and permission tests use it."""

from __future__ import annotations

from shopkeeper.services import staff
from shopkeeper.services.context import Context

PINS = {"Olga": "1111", "Sue": "2222", "Cam": "3333"}
ROLES = {"Olga": "owner", "Sue": "supervisor", "Cam": "cashier"}


def as_(name: str, **kw) -> Context:
    return Context(staff=name, terminal="till-1", default_tax_rate=2000, **kw)


def add_staff() -> None:
    """Olga (owner), Sue (supervisor), Cam (cashier), each with a PIN; the owner's PIN first (the shop's rule)."""
    for name, role in ROLES.items():
        staff.add(as_(""), name, role)
    staff.set_pin(as_(""), "Olga", PINS["Olga"])
    for name in ("Sue", "Cam"):
        staff.set_pin(as_("Olga"), name, PINS[name])
