"""``shopkeeper check`` says when an append-only table has lost its protection (a trigger dropped, replaced by one
that does nothing, or disabled): someone changed the file behind the app's back."""

from __future__ import annotations

import json

from shopkeeper.db import PROTECTED_TABLES, unprotected
from shopkeeper.models import database
from tests.cli.conftest import run  # noqa: F401  (the fixture)


def test_a_new_shop_has_every_protection(run):
    assert run("init")[0] == 0
    code, out, _ = run("--json", "check")
    assert code == 0 and json.loads(out)["append_only"] == {"ok": True, "unprotected": []}
    assert unprotected(database.obj) == []
    assert "sale" in PROTECTED_TABLES and "audit_event" in PROTECTED_TABLES


def test_check_names_a_dropped_or_emptied_trigger_and_fails(run):
    assert run("init")[0] == 0
    run("check")
    database.obj.execute_sql("DROP TRIGGER sale_no_update")
    database.obj.execute_sql("DROP TRIGGER audit_event_no_delete")
    database.obj.execute_sql("CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event BEGIN SELECT 1; END")
    code, out, _ = run("check")
    assert code == 1
    assert "append-only protection REMOVED" in out and "sale: UPDATE; audit_event: DELETE" in out
    code, out, _ = run("--json", "check")
    assert json.loads(out)["append_only"] == {"ok": False, "unprotected": ["sale: UPDATE", "audit_event: DELETE"]}
