"""The audit log: one append-only row per sensitive act that is not a stock movement (``models.AuditEvent``).

Every service that does such an act calls ``record`` inside its own transaction, so the act and its record commit
together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from shopkeeper.db import utcnow
from shopkeeper.models import AuditEvent
from shopkeeper.services.chain import register
from shopkeeper.services.context import Context, staff_id, terminal_id


def record(ctx: Context, kind: str, *, subject: str = "", detail: Mapping[str, object] | None = None,
           supervisor_id: int | None = None) -> int:
    """Append one audit event; ``detail`` is stored as JSON with sorted keys (exact integers, no floats)."""
    event_id = AuditEvent.insert(
        created_at=utcnow(), kind=kind, staff=staff_id(ctx), supervisor=supervisor_id, terminal=terminal_id(ctx),
        subject=subject, detail=json.dumps(dict(detail or {}), sort_keys=True, ensure_ascii=False),
    ).execute()
    register("audit", event_id)  # sealed into the audit chain at commit
    return event_id
