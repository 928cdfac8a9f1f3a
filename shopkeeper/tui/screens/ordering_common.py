"""What the ordering screens share: tables whose rows are read whole in a thread, service calls run in a thread,
and how an order's status reads.

Suppliers, their products and the lines of one order are short lists: ``ListSource`` reads the whole list as the
table's index in the ``VirtualTable``'s thread worker (its own connection), so painting never touches the
database. Writes (``in_thread``) run in a thread worker too; their result or their error comes back to the loop.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from shopkeeper.errors import ShopError
from shopkeeper.services.ordering_queries import detached
from shopkeeper.tui.widgets.virtual_table import Column

STATUS_WORDS = {"draft": "draft", "sent": "sent", "partly_received": "part received", "received": "received",
                "cancelled": "cancelled"}
"""An order's status as the screens write it (the stored value is ``partly_received``)."""


class ListSource:
    """A ``TableSource`` over a list read whole by ``loader`` (in the table's thread); ``cells`` turns a row into
    cells, ``style`` into a row style; ``rows`` takes the list out of what ``loader`` returned, ``key`` names a row
    (the cursor stays on it when the list is read again). ``loaded`` is what was read last (set on the loop)."""

    def __init__(self, columns: Sequence[Column], loader: Callable[[], Any],
                 cells: Callable[[Any], list[tuple[str, str]]], style: Callable[[Any], str] | None = None,
                 rows: Callable[[Any], list] = lambda index: index,
                 key: Callable[[Any], Any] = lambda row: row.id) -> None:
        self.columns = columns
        self.key = key
        self.loader, self._cells, self._style, self._rows = loader, cells, style, rows
        self.loaded: Any = None

    def load_index(self) -> Any:
        return self.loader()

    def index_count(self, index: Any) -> int:
        self.loaded = index  # on the loop: ``VirtualTable._index_loaded`` asks for the count first
        return len(self._rows(index)) if index is not None else 0

    def window(self, index: Any | None, offset: int, limit: int) -> list:
        if index is None:
            return []
        return self._rows(index)[offset: offset + limit]

    def position(self, index: Any, key: Any) -> int | None:
        for n, row in enumerate(self._rows(index) if index is not None else []):
            if self.key(row) == key:
                return n
        return None

    def row_key(self, row: Any) -> Any:
        return self.key(row)

    def cells(self, row: Any) -> list[tuple[str, str]]:
        return self._cells(row)

    def row_style(self, row: Any) -> str:
        return self._style(row) if self._style else ""


def in_thread(screen: Any, call: Callable[[], Any], done: Callable[[Any], None] | None = None, *,
              write: bool = True, group: str = "ordering", approval: tuple[str, str] | None = None) -> None:
    """Run ``call`` (a service call) in a thread worker on its own connection. Back on the loop: a ``ShopError``
    becomes an error notification (and ``done`` is not called); a lost server goes to the app; otherwise, after a
    write, every screen re-reads (``data_changed``), warnings are shown, and ``done(result)`` runs.

    An act the staff member may not do alone asks for a supervisor's PIN right there, then runs again in a worker
    with that ``approval`` (``permissions.approving``: ``call`` was built with the context from before)."""
    from shopkeeper.services.permissions import PermissionDenied, approving

    app = screen.app

    def finish(ok: bool, value: Any) -> None:
        if not ok:
            if isinstance(value, PermissionDenied):
                app.ask_supervisor(value, lambda: in_thread(
                    screen, call, done, write=write, group=group,
                    approval=(app.ctx.supervisor, app.ctx.supervisor_pin)))
                return
            if isinstance(value, ShopError):
                app.lost_server(value)
                screen.notify(str(value), severity="error", timeout=6)
                return
            if app.lost_server(value):
                screen.notify("the database server is unreachable: nothing was done; retrying the connection",
                              severity="error", timeout=6)
                return
            raise value
        if write:
            app.data_changed()
            for warning in getattr(value, "warnings", None) or []:
                screen.notify(warning, severity="warning", timeout=6)
        if done is not None and screen.is_attached:
            done(value)

    def work() -> None:
        try:
            with approving(*approval) if approval else contextlib.nullcontext():
                result = (True, detached(call))
        except Exception as exc:  # handed to the loop, which decides what it means
            result = (False, exc)
        try:
            app.call_from_thread(finish, *result)
        except RuntimeError:  # the app is shutting down
            pass

    screen.run_worker(work, thread=True, group=group, exit_on_error=False)


def order_folder(location: str) -> Path:
    """Where the screens write a sent order's text and CSV: ``orders/`` beside a SQLite shop's file, else in the
    user's data folder (a PostgreSQL shop has no folder of its own)."""
    if "://" not in location:
        return Path(location).expanduser().resolve().parent / "orders"
    from shopkeeper.config import default_data_dir

    return default_data_dir() / "orders"
