"""``shopkeeper check``'s chain part: verify the hash chains from the last checkpoint (or from the start with
``full``), optionally against a head printed earlier, and the stock against the journal, in one read snapshot."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field

from peewee import DatabaseError

from shopkeeper.db import is_sqlite
from shopkeeper.errors import ShopError
from shopkeeper.models import database
from shopkeeper.services import chain
from shopkeeper.services.audit import Mismatch


@dataclass
class AgainstResult:
    printed: str
    ok: bool
    reason: str = ""


@dataclass
class ChainReport:
    head: chain.Head
    breaks: list[chain.Break] = field(default_factory=list)
    verified: dict[str, tuple[int, int]] = field(default_factory=dict)  # stream: (from position, to position]
    checkpoint: int | None = None  # the checkpoint verification started from
    checkpoint_problem: str | None = None
    against: AgainstResult | None = None
    products: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    stored_checkpoint: bool = False
    unsealed: dict[str, int] = field(default_factory=dict)  # SQLite: rows committed, not linked yet (not a break)
    not_sealed_because: str | None = None  # why check could not link them itself

    @property
    def ok(self) -> bool:
        return not (self.breaks or self.checkpoint_problem or self.mismatches
                    or (self.against is not None and not self.against.ok))


@contextlib.contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent read: a deferred transaction on SQLite (WAL snapshot), REPEATABLE READ on PostgreSQL."""
    if is_sqlite():
        database.execute_sql("BEGIN DEFERRED")
        try:
            yield
        finally:
            database.execute_sql("COMMIT")
    else:
        with database.atomic():
            database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield


def check(*, full: bool = False, against: str | None = None, store: bool = True) -> ChainReport:
    """Verify the chains and the stock. Without ``full``, from the latest checkpoint (whose own hash and recorded
    link hashes are checked) with its stock sums; ``full`` re-hashes every row and sums the whole journal. Stores a
    new checkpoint when all is well, nothing is left unsealed and enough came after the last one (``store``).

    On SQLite, rows committed since the last seal are linked first (``chain.seal_pending``); those it cannot link
    (a read-only database, or a till committing meanwhile) are counted in ``unsealed``, and their movements in the
    stock check, but are not a break: the next seal links them."""
    printed = chain.parse_head(against) if against else None
    not_sealed = None
    try:
        chain.seal_pending()
    except (DatabaseError, sqlite3.Error, ShopError) as exc:  # read-only file, or busy: check what is sealed
        not_sealed = str(exc)
    with _snapshot():
        report = ChainReport(chain.head(seal_first=False))
        report.not_sealed_because = not_sealed
        cp, problem = (None, None) if full else chain.latest_checkpoint()
        if problem:
            report.checkpoint_problem = problem
            cp = None
        report.checkpoint = cp.id if cp else None
        starts = {s: (cp.positions[s] if cp else 0) for s in chain.STREAMS}
        if printed is not None:
            report.against = _against(printed, against, report.head)
            if report.against.ok:  # the row at the printed position, and everything after it, must verify
                starts = {s: min(starts[s], max(printed.positions[s] - 1, 0)) for s in chain.STREAMS}
        pending = chain.unsealed()
        report.unsealed = {s: n for s, n in pending.items() if n}
        moved: dict[int, int] = {}
        for stream in chain.STREAMS:
            done = chain.verify(stream, starts[stream], sums=stream == "movement")
            report.verified[stream] = (done.start, done.end)
            if done.brk:
                report.breaks.append(done.brk)
            extra = chain.unlinked(stream) - pending[stream]
            if extra:
                first = chain.first_unlinked(stream)
                report.breaks.append(chain.Break(
                    stream, None, first,
                    f"{extra} row(s) are not in the chain (written behind the app's back, or links deleted)"
                    if extra > 0 else f"{-extra} linked row(s) are gone"))
            if stream == "movement":
                moved = done.moved
        tail = chain.unsealed_sums() if pending["movement"] else {}
        if cp is not None and cp.positions["movement"] == starts["movement"]:
            journal = dict(cp.stock)  # at the head: the checkpoint's sums and the linked movements after it
            for product, qty in moved.items():
                journal[product] = journal.get(product, 0) + qty
            expected = _plus(journal, tail)
        else:
            expected = journal_sums()  # every movement, linked or not
            journal = _plus(expected, {product: -qty for product, qty in tail.items()})
        rows = database.execute_sql("SELECT id, sku, on_hand FROM product ORDER BY sku").fetchall()
    report.products = len(rows)
    report.mismatches = [Mismatch(pid, sku, on_hand, expected.get(pid, 0)) for pid, sku, on_hand in rows
                         if on_hand != expected.get(pid, 0)]
    after = sum(report.head.positions[s] - starts[s] for s in chain.STREAMS)
    if store and report.ok and not report.unsealed and (cp is None or after >= chain.CHECKPOINT_EVERY):
        with contextlib.suppress(DatabaseError):  # a read-only database: checked, not stored
            chain.store_checkpoint(report.head.positions, report.head.hashes, journal)
            report.stored_checkpoint = True
    return report


def _plus(sums: dict[int, int], more: dict[int, int]) -> dict[int, int]:
    out = dict(sums)
    for product, qty in more.items():
        out[product] = out.get(product, 0) + qty
    return out


def journal_sums() -> dict[int, int]:
    """Every product's stock from the whole journal. SQLite walks the (product, id) index row by row for a GROUP
    BY (a random read of the table per movement); reading the table in its own order and adding up in Python is
    three times faster on a large journal."""
    if not is_sqlite():
        return dict(database.execute_sql("SELECT product_id, SUM(quantity) FROM movement GROUP BY product_id"))
    sums: dict[int, int] = {}
    cursor = database.connection().execute("SELECT product_id, quantity FROM movement NOT INDEXED")
    get = sums.get
    while rows := cursor.fetchmany(100_000):
        for product, qty in rows:
            sums[product] = get(product, 0) + qty
    return sums


def _against(printed: chain.PrintedHead, text: str, now: chain.Head) -> AgainstResult:
    ahead = [s for s in chain.STREAMS if printed.positions[s] > now.positions[s]]
    if ahead:
        return AgainstResult(text, False, "the head names positions beyond this database's chains ("
                             + ", ".join(f"{s} {printed.positions[s]} > {now.positions[s]}" for s in ahead)
                             + "): history was removed, or this is another shop or an older backup")
    hashes = {}
    for s in chain.STREAMS:
        found = chain.hash_at(s, printed.positions[s])
        if found is None:
            return AgainstResult(text, False, f"{chain.TABLES[s]}: chain position {printed.positions[s]} is gone")
        hashes[s] = found
    if not chain.combine(printed.positions, hashes).startswith(printed.hash_prefix):
        where = ", ".join(f"{s}={printed.positions[s]}" for s in chain.STREAMS)
        return AgainstResult(text, False, f"the chains at {where} no longer have the hash this head printed: "
                             "history up to that point was rewritten (and its chain recomputed)")
    return AgainstResult(text, True)
