"""Reading the audit trail: the audit log (``AuditEvent``) and the product change log (``ProductChange``, shown as
``product_changed``: every price, tax, cost, unit or active change, old → new), newest first, filtered by time,
staff member and kind. Read-only; the CLI (``shopkeeper audit``) and the Audit log screen both read it here."""

from __future__ import annotations

import json
from dataclasses import dataclass

from peewee import JOIN, fn

from shopkeeper.models import AuditEvent, Product, ProductChange, Staff, Terminal

PRODUCT_CHANGED = "product_changed"
KINDS = ("sale_voided", "line_removed", "discount", "price_override", PRODUCT_CHANGED, "no_sale", "override",
         "pin_failed", "pin_lockout", "sign_in", "staff_added", "pin_set", "role_changed", "staff_deactivated",
         "count_cancelled", "backup_made", "export_made")
"""The kinds recorded (others may be added by other parts of the shop: any kind is accepted as a filter)."""


def check_kind(kind: str) -> None:
    """A ``--kind`` filter that names no kind at all (a typo: ``void`` for ``sale_voided``) is refused with the
    kinds there are, rather than answered with "no events". A kind another part of the shop records is one."""
    from shopkeeper.errors import InvalidInput

    if kind in KINDS or AuditEvent.select().where(AuditEvent.kind == kind).exists():
        return
    raise InvalidInput(f"--kind: {kind!r} is not a kind of the audit trail; kinds: {', '.join(KINDS)}",
                       field="kind", value=kind)


@dataclass(frozen=True)
class Entry:
    created_at: str
    kind: str
    staff: str
    supervisor: str
    terminal: str
    subject: str
    detail: dict

    def as_dict(self) -> dict[str, object]:
        return {"time": self.created_at, "kind": self.kind, "staff": self.staff, "supervisor": self.supervisor,
                "terminal": self.terminal, "subject": self.subject, "detail": self.detail}

    def summary(self) -> str:
        """One line a person reads: the detail's values, the PIN-free facts only (no hash is ever recorded)."""
        d = self.detail
        if self.kind == PRODUCT_CHANGED:
            return f"{d.get('sku', '')} {d.get('field', '')}: {d.get('old')} → {d.get('new')} ({d.get('change')})"
        if self.kind == "role_changed":
            return f"{d.get('name')}: {d.get('old')} → {d.get('new')}"
        if self.kind == "sale_voided":
            lines = d.get("lines") or []
            from shopkeeper.money import format_qty

            return f"{len(lines)} line(s): " + ", ".join(
                f"{line.get('description')} ×{format_qty(int(line.get('quantity') or 0))}" for line in lines[:4])
        return ", ".join(f"{k}={v}" for k, v in d.items() if not isinstance(v, (list, dict)))


def _staff_filter(name: str):
    return fn.LOWER(Staff.name) == name.strip().lower()


def entries(*, since: str | None = None, staff: str | None = None, kind: str | None = None,
            limit: int | None = 500) -> list[Entry]:
    """Newest first. ``since``: stored UTC text; ``staff``: a name (acting or approving); ``kind``: one kind."""
    out: list[Entry] = []
    if kind != PRODUCT_CHANGED:
        sup = Staff.alias()
        query = (AuditEvent.select(AuditEvent, Staff.name.alias("staff_name"), sup.name.alias("sup_name"),
                                   Terminal.name.alias("terminal_name"))
                 .join_from(AuditEvent, Staff, JOIN.LEFT_OUTER, on=(AuditEvent.staff == Staff.id))
                 .join_from(AuditEvent, sup, JOIN.LEFT_OUTER, on=(AuditEvent.supervisor == sup.id))
                 .join_from(AuditEvent, Terminal, JOIN.LEFT_OUTER, on=(AuditEvent.terminal == Terminal.id))
                 .order_by(AuditEvent.id.desc()))
        if since:
            query = query.where(AuditEvent.created_at >= since)
        if kind:
            query = query.where(AuditEvent.kind == kind)
        if staff:
            query = query.where(_staff_filter(staff) | (fn.LOWER(sup.name) == staff.strip().lower()))
        if limit:
            query = query.limit(limit)
        for row in query.objects():
            try:
                detail = json.loads(row.detail) if row.detail else {}
            except ValueError:
                detail = {"text": row.detail}
            out.append(Entry(row.created_at, row.kind, row.staff_name or "", row.sup_name or "",
                             row.terminal_name or "", row.subject, detail))
    if kind in (None, PRODUCT_CHANGED):
        query = (ProductChange.select(ProductChange, Product.sku.alias("sku"), Staff.name.alias("staff_name"),
                                      Terminal.name.alias("terminal_name"))
                 .join_from(ProductChange, Product)
                 .join_from(ProductChange, Staff, JOIN.LEFT_OUTER, on=(ProductChange.staff == Staff.id))
                 .join_from(ProductChange, Terminal, JOIN.LEFT_OUTER, on=(ProductChange.terminal == Terminal.id))
                 .where(ProductChange.kind != "create")
                 .order_by(ProductChange.id.desc()))
        if since:
            query = query.where(ProductChange.created_at >= since)
        if staff:
            query = query.where(_staff_filter(staff))
        if limit:
            query = query.limit(limit)
        for row in query.objects():
            out.append(Entry(row.created_at, PRODUCT_CHANGED, row.staff_name or "", "", row.terminal_name or "",
                             f"product:{row.product_id}",
                             {"sku": row.sku, "field": row.field, "old": row.old, "new": row.new,
                              "change": row.kind, **({"note": row.note} if row.note else {})}))
    out.sort(key=lambda e: e.created_at, reverse=True)
    return out[:limit] if limit else out


def entries_detached(**filters) -> list[Entry]:
    """``entries`` from a thread worker: on its own connection (Peewee's connections are per thread)."""
    from shopkeeper.models import database

    with database.connection_context():
        return entries(**filters)
