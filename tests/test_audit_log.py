import json

import pytest
from peewee import IntegrityError

from shopkeeper.models import AuditEvent, database
from shopkeeper.services import audit_log
from shopkeeper.services.context import Context


def test_an_audit_event_is_recorded_with_who_and_where_and_cannot_be_changed(db):
    ctx = Context(staff="Ana", terminal="till-1")
    with database.atomic():
        event_id = audit_log.record(ctx, "sale_voided", subject="open_sale:4", detail={"total": 1250, "lines": 2})
    event = AuditEvent.get_by_id(event_id)
    assert (event.kind, event.staff.name, event.terminal.name, event.subject) == (
        "sale_voided", "Ana", "till-1", "open_sale:4")
    assert json.loads(event.detail) == {"lines": 2, "total": 1250}
    with pytest.raises(IntegrityError, match="append-only"):
        AuditEvent.update(kind="nothing").where(AuditEvent.id == event_id).execute()
    with pytest.raises(IntegrityError, match="append-only"):
        AuditEvent.delete().where(AuditEvent.id == event_id).execute()
