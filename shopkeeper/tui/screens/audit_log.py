"""The audit log: every sensitive act, newest first, read-only; filter by kind and by staff member (who did it or
approved it). Read in a thread worker (``services.audit_trail``), so the till never waits on it."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Select, Static
from textual.worker import Worker, WorkerState

from shopkeeper.services import audit_trail
from shopkeeper.tui.format import cell, plain
from shopkeeper.tui.screens.base import ShopScreen
from shopkeeper.tui.widgets.footer import ShopFooter
from shopkeeper.tui.widgets.top_bar import TopBar

LIMIT = 1000


class AuditLogScreen(ShopScreen):
    TITLE = "Audit log"

    class Loaded(Message):
        def __init__(self, rows: list[audit_trail.Entry]) -> None:
            super().__init__()
            self.rows = rows

    def compose(self) -> ComposeResult:
        yield TopBar(self.TITLE)
        with Horizontal(id="audit-controls"):
            yield Label("Kind")
            yield Select([(k, k) for k in audit_trail.KINDS], id="audit-kind", compact=True, prompt="all kinds")
            yield Label("Staff")
            yield Input(placeholder="name (Enter)", id="audit-staff", compact=True)
        yield Static("", id="audit-status", markup=False)
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield ShopFooter(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#audit-table", DataTable)
        table.add_columns("Time", "Kind", "Staff", "Approved by", "Till", "About", "Detail")
        table.focus()
        self.mark_seen()
        self.refresh_data()

    def refresh_data(self) -> None:
        kind = self.query_one("#audit-kind", Select).value
        staff = self.query_one("#audit-staff", Input).value.strip()
        self.query_one("#audit-status", Static).update("reading…")
        self._load(None if kind is Select.NULL else str(kind), staff or None)

    @work(thread=True, exclusive=True, group="audit", exit_on_error=False)
    def _load(self, kind: str | None, staff: str | None) -> None:
        self.post_message(self.Loaded(audit_trail.entries_detached(kind=kind, staff=staff, limit=LIMIT)))

    @on(Worker.StateChanged)
    def _failed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "audit" and event.state == WorkerState.ERROR:
            self.query_one("#audit-status", Static).update(plain(f"✗ {event.worker.error}"))

    @on(Loaded)
    def _show(self, event: Loaded) -> None:
        from shopkeeper.times import local_time

        table = self.query_one("#audit-table", DataTable)
        table.clear()
        for e in event.rows:
            table.add_row(local_time(e.created_at, seconds=True), e.kind, cell(e.staff), cell(e.supervisor),
                          cell(e.terminal), cell(e.subject), cell(e.summary()))
        more = f" (the newest {LIMIT})" if len(event.rows) >= LIMIT else ""
        self.query_one("#audit-status", Static).update(f"{len(event.rows)} event(s){more}, newest first")

    @on(Select.Changed, "#audit-kind")
    def _kind(self) -> None:
        if self.is_mounted:
            self.refresh_data()

    @on(Input.Submitted, "#audit-staff")
    def _staff(self, event: Input.Submitted) -> None:
        event.stop()
        self.refresh_data()
