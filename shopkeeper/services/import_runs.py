"""Progress of product imports, so an interrupted one is finished by running the same file again.

An import writes in short transactions (tills keep selling meanwhile); each batch moves its run's ``last_line`` in
the same transaction as its rows. A run of the same file (same SHA-256) that did not finish is carried on from
there; ``unfinished()`` lists the others, so the shop is told an import is half done.
"""

from __future__ import annotations

from dataclasses import dataclass

from shopkeeper.db import utcnow, write_transaction
from shopkeeper.models import CountSession, ImportRun as ImportRunRow
from shopkeeper.services import stock
from shopkeeper.services.context import Context, staff_id, terminal_id

IMPORTING = "importing"
"""A count session an import fills and posts batch by batch: no one else may post or cancel it meanwhile."""


@dataclass(frozen=True)
class ImportRun:
    id: int
    source: str
    digest: str
    rows_total: int
    rows_done: int
    last_line: int
    started_at: str
    count_session: int | None

    @classmethod
    def of(cls, row: ImportRunRow) -> ImportRun:
        return cls(row.id, row.source, row.digest, row.rows_total, row.rows_done, row.last_line, row.started_at,
                   row.count_session_id)


def begin(ctx: Context, source: str, digest: str, rows: int) -> ImportRun:
    """The unfinished run of this file, to carry on, or a new one."""
    with write_transaction():
        row = (ImportRunRow.select().where((ImportRunRow.digest == digest) & ImportRunRow.finished_at.is_null())
               .order_by(ImportRunRow.id.desc()).first())
        if row is None:
            now = utcnow()
            row = ImportRunRow.create(source=source, digest=digest, rows_total=rows, started_at=now, updated_at=now,
                                      staff=staff_id(ctx), terminal=terminal_id(ctx))
        return ImportRun.of(row)


def count_session(ctx: Context, run: ImportRun, *, note: str) -> int:
    """The run's count session, started on its first counted row (inside the batch's transaction)."""
    current = ImportRunRow.select(ImportRunRow.count_session).where(ImportRunRow.id == run.id).scalar()
    if current is None:
        current = stock.start_count(ctx, note).id
        CountSession.update(status=IMPORTING).where(CountSession.id == current).execute()
        ImportRunRow.update(count_session=current).where(ImportRunRow.id == run.id).execute()
    return current


def advance(run: ImportRun, last_line: int, rows: int) -> None:
    """Record a batch as stored; call inside the batch's transaction."""
    ImportRunRow.update(last_line=last_line, rows_done=ImportRunRow.rows_done + rows, updated_at=utcnow()).where(
        ImportRunRow.id == run.id).execute()


def finish(ctx: Context, run: ImportRun) -> int | None:
    """Mark the run done and its count session posted; returns the count session's id, if it had one."""
    with write_transaction():
        now = utcnow()
        session = ImportRunRow.select(ImportRunRow.count_session).where(ImportRunRow.id == run.id).scalar()
        if session is not None:
            CountSession.update(status="posted", finished_at=now).where(CountSession.id == session).execute()
        ImportRunRow.update(finished_at=now, updated_at=now).where(ImportRunRow.id == run.id).execute()
    return session


def unfinished() -> list[ImportRun]:
    """Imports that stopped part way, oldest first."""
    query = ImportRunRow.select().where(ImportRunRow.finished_at.is_null()).order_by(ImportRunRow.id)
    return [ImportRun.of(row) for row in query]
