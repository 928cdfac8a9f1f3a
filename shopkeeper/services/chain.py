"""The hash chains over the journal (``movement``), the sales (``sale`` with its lines and payments) and the audit
log (``audit_event``): every row has a link ``(stream, position, row_id, hash)`` in ``chain_link``, where
``hash = sha256(previous link's hash + the row's canonical content)``. See docs/chain.md.

Rows are sealed (linked) under the chain lock (SQLite's ``BEGIN IMMEDIATE`` already holds it; PostgreSQL takes a
transaction advisory lock), so two tills committing at once append one after the other, never beside each other:
positions are in commit order. On PostgreSQL every transaction seals its own rows just before it commits; on SQLite,
where ids ascend in commit order, rows are sealed in batches: every ``SEAL_EVERY`` commits and before any head is
taken (see "sealing" below).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from hashlib import sha256

from peewee import DatabaseError

from shopkeeper.db import before_close, before_commit, is_sqlite, on_rollback, rollbacks, utcnow, write_transaction
from shopkeeper.errors import InvalidInput, ShopError
from shopkeeper.models import database

log = logging.getLogger(__name__)

VERSION = 1
"""Of the canonical serialisation below: a change to a field list is a new version (and a new genesis)."""

STREAMS: dict[str, int] = {"movement": 1, "sale": 2, "audit": 3}
"""Stream name → the number ``chain_link.stream`` stores. Also the order of streams in a head."""

TABLES = {"movement": "movement", "sale": "sale", "audit": "audit_event"}

FIELDS: dict[str, tuple[str, ...]] = {
    "movement": ("id", "product_id", "kind", "quantity", "unit_cost", "unit_price", "reason", "staff_id",
                 "terminal_id", "created_at", "reference", "sale_id", "count_session_id", "lot", "expiry",
                 "supplier_id", "po_line"),
    "sale": ("id", "kind", "created_at", "staff_id", "terminal_id", "original_id", "subtotal", "discount", "tax",
             "total", "payment", "tendered", '"change"', "reason", "till_session", "rounding"),
    "audit": ("id", "created_at", "kind", "staff_id", "supervisor_id", "terminal_id", "subject", "detail"),
}
"""What a row's hash covers, in this order (version 1). A sale's hash also covers its lines and payments:"""
SALE_LINE_FIELDS = ("id", "line_no", "product_id", "description", "quantity", "unit_price", "discount", "tax_rate",
                    "tax", "total", "unit_cost", "original_line_id", "lot", "expiry")
PAYMENT_FIELDS = ("id", "method", "amount", "tendered", '"change"')

ADVISORY_KEY = 0x73686F70636861  # "shopcha": PostgreSQL's transaction-level lock on the chains
HEAD_HASH_CHARS = 20
"""Hex digits of the combined hash printed in a head (80 bits): a receipt line, still far beyond forging."""
CHECKPOINT_EVERY = 10_000
"""``check`` stores a checkpoint when at least this many links came after the last one."""


def genesis(stream: str) -> bytes:
    """The 'previous hash' of a stream's first row."""
    return hashlib.sha256(f"shopkeeper-chain-v{VERSION}:{stream}".encode()).digest()


def _blob(value: object) -> object:
    """A value JSON has no form for: only a BLOB written behind the app's back (no chained column holds one). As
    ``{"blob": hex}``, which no row written by the app encodes to, so it can be hashed, never matches, and is named."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"blob": bytes(value).hex()}
    raise TypeError(f"chain: cannot encode a {type(value).__name__}")


_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False, default=_blob)
try:  # what ``_encoder.encode`` makes on every call, made once
    _c_encode = json.encoder.c_make_encoder(None, _blob, json.encoder.encode_basestring, None, ":", ",",
                                            False, False, True)
except TypeError:  # no C speedups, or another signature: the plain encoder
    _c_encode = None


def _json(value: object) -> str:
    """``_encoder.encode(value)`` for a list or tuple, without building Python's C encoder again every call."""
    return "".join(_c_encode(value, 0)) if _c_encode else _encoder.encode(value)


def canonical(values: Iterable[object]) -> bytes:
    """A row's content as bytes: a JSON array of its fields in the order of ``FIELDS`` (exact integers, text as
    UTF-8, NULL as ``null``), which Python's C encoder writes the same way every time."""
    return _json(list(values)).encode()


def link_hash(prev: bytes, content: bytes) -> bytes:
    return hashlib.sha256(prev + content).digest()


# --- reading rows as the chain sees them ------------------------------------------------------------------------

@functools.lru_cache(maxsize=256)
def _select(stream: str, where: str) -> str:
    return f"SELECT {', '.join(FIELDS[stream])} FROM {TABLES[stream]} t WHERE {where}"


@functools.lru_cache(maxsize=256)
def _in_marks(n: int, p: str) -> str:
    return f"= {p}" if n == 1 else f"IN ({', '.join([p] * n)})"


def _in(ids: list[int], p: str) -> str:
    return _in_marks(len(ids), p)


def contents(stream: str, ids: list[int], cursor=None) -> dict[int, bytes]:
    """Canonical content of rows ``ids`` of ``stream`` that exist (a sale with its lines and payments)."""
    if not ids:
        return {}
    cursor = cursor or database.obj.connection().cursor()
    p = database.obj.param
    out: dict[int, bytes] = {}
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        cursor.execute(_select(stream, f"id {_in(part, p)}"), part)
        out.update(_encode(stream, cursor.fetchall(), cursor))
    return out


def _encode(stream: str, rows: list[tuple], cursor=None) -> dict[int, bytes]:
    """Canonical content per row id. A sale's is ``[sale, [line, …], [payment, …]]``, lines and payments in id
    order: what was sold, at what price, and how it was paid."""
    if stream != "sale":
        return {row[0]: _json(row).encode() for row in rows}
    if not rows:
        return {}
    cursor = cursor or database.obj.connection().cursor()
    ids = [row[0] for row in rows]
    p = database.obj.param
    lines: dict[int, list[tuple]] = {i: [] for i in ids}
    payments: dict[int, list[tuple]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        where = _in(part, p)
        cursor.execute(f"SELECT sale_id, {', '.join(SALE_LINE_FIELDS)} FROM sale_line WHERE sale_id {where} "
                       "ORDER BY id", part)
        for row in cursor.fetchall():
            lines[row[0]].append(row[1:])
        cursor.execute(f"SELECT sale_id, {', '.join(PAYMENT_FIELDS)} FROM payment WHERE sale_id {where} "
                       "ORDER BY id", part)
        for row in cursor.fetchall():
            payments[row[0]].append(row[1:])
    return {row[0]: _json([row, lines[row[0]], payments[row[0]]]).encode() for row in rows}


# --- sealing ----------------------------------------------------------------------------------------------------
#
# A seal links rows that are committed (or being committed) and not linked yet, after each stream's tip, under the
# chain lock. Which rows those are, and so when a seal can run, depends on the database:
# - PostgreSQL hands out ids at insert and transactions commit in any order, so only the writing transaction knows
#   its rows: services register them, and ``seal`` links them just before that transaction commits.
# - SQLite has one writer at a time (``BEGIN IMMEDIATE``), so ids ascend in commit order and every row above a
#   stream's last linked row is committed and unlinked: any write transaction can link them all, in id order. So
#   the till does not pay per sale: every ``SEAL_EVERY`` commits (or after ``SEAL_WITHIN`` seconds) the committing
#   transaction links everything not linked yet in one statement, and so does every head (Z report, books export,
#   ``check``) and the closing of the shop (``seal_pending``). docs/chain.md says why, and what it measured.

CROSS_CHECK = os.environ.get("SHOPKEEPER_CHAIN_CROSS_CHECK") == "1"
"""PostgreSQL: re-read every row registered by its values at seal and compare (the test suite turns this on): the
proof that the values a service hands ``register_row`` are what the database stored."""

SEAL_EVERY = 50
"""SQLite: a commit that wrote chained rows links every row not linked yet when this process has made this many
such commits since it last sealed, ..."""
SEAL_ROWS = 500
"""... or registered this many rows since (a bulk writer, such as an import's batch, seals its own rows: one commit
never has to link more than a batch), ..."""
SEAL_WITHIN = 60.0
"""... or when the first of them is at least this many seconds old."""

_TEXT = frozenset({"kind", "created_at", "reason", "reference", "lot", "expiry", "payment", "description", "method",
                   "subject", "detail"})
_TYPES = {name: tuple(str if f in _TEXT else int for f in fields)
          for name, fields in {**FIELDS, "sale_line": SALE_LINE_FIELDS, "payment": PAYMENT_FIELDS}.items()}
"""The Python type each column reads back as (TEXT → str, INTEGER/BIGINT → int): a value of another type (a bool, a
float, a number as text) may be stored converted, so a row holding one is re-read rather than trusted."""


def insert_columns(table: str) -> str:
    """The columns of an INSERT whose values, with the new id in front, are what ``register_row`` takes for
    ``table`` (``movement``, ``sale``, ``audit_event``), in the chain's order; ``sale_line`` and ``payment`` start
    with ``sale_id``. Building the INSERT from this keeps the two in step."""
    if table in ("sale_line", "payment"):
        fields = SALE_LINE_FIELDS if table == "sale_line" else PAYMENT_FIELDS
        return ", ".join(("sale_id", *fields[1:]))
    stream = {t: s for s, t in TABLES.items()}[table]
    return ", ".join(FIELDS[stream][1:])


class _Pending(threading.local):
    """What this thread's transaction wrote and has not sealed yet."""

    def __init__(self) -> None:
        self.ids: dict[str, list[int]] = {}  # rows to read back at seal
        self.rows: dict[str, dict[int, tuple]] = {}  # rows registered with their values
        self.since = 0  # db.rollbacks() when ``rows`` got its first row


_pending = _Pending()


class _Unsealed:
    """SQLite: this process's commits of chained rows since it last sealed (any thread: a race only moves a seal
    by a commit), the rows they registered, and when the first of them was made (``time.monotonic``)."""

    commits = 0
    rows = 0
    first = 0.0


_unsealed = _Unsealed()


def register(stream: str, row_id: int) -> None:
    """Row ``row_id`` of ``stream`` was inserted in the current transaction: seal it when that commits (its
    content is read back then)."""
    _pending.ids.setdefault(stream, []).append(row_id)


def register_row(stream: str, values: tuple, lines: list[tuple] | None = None,
                 payments: list[tuple] | None = None) -> None:
    """Like ``register``, with the row's values as inserted (``values[0]`` its new id, then the columns of
    ``insert_columns``; a sale with its ``lines`` and ``payments`` in id order, each with its id first and without
    ``sale_id``), so sealing need not read them back. Only for values bound as they are into an INSERT built from
    ``insert_columns``: the database stores exactly those. A value of an unexpected type (a bool, a float, a
    number as text) makes sealing read the row back instead."""
    pending = _pending
    if not pending.rows:
        pending.since = rollbacks()
    pending.rows.setdefault(stream, {})[values[0]] = (values, lines, payments)


def _encoded(stream: str, values: tuple, lines: list[tuple] | None, payments: list[tuple] | None) -> bytes | None:
    """A registered row's canonical content, or None when a value's type could be stored converted."""
    if not _typed(stream, values):
        return None
    if stream != "sale":
        return _json(values).encode()
    lines, payments = lines or [], payments or []
    if not (all(_typed("sale_line", r) for r in lines) and all(_typed("payment", r) for r in payments)):
        return None
    return _json([values, lines, payments]).encode()


_SIGNATURES: dict[str, set[tuple[type, ...]]] = {name: set() for name in _TYPES}
"""Per table, the value types (``type(v)`` for each column) already found to read back as given: a row is checked
by one lookup of its types, and column by column only the first time that pattern of NULLs and types comes."""


def _typed(table: str, values: tuple) -> bool:
    signature = tuple(map(type, values))
    known = _SIGNATURES[table]
    if signature in known:
        return True
    types = _TYPES[table]
    if len(values) != len(types):
        raise ValueError(f"chain.register_row: {table} takes {len(types)} values, got {len(values)}")
    if all(kind is type(None) or kind is expected for kind, expected in zip(signature, types)):
        known.add(signature)
        return True
    return False


def _discard() -> None:
    """Drop what this thread registered, unsealed (bench/bench_sales.py's side without the chain)."""
    _pending.ids = {}
    _pending.rows = {}



def _forget() -> None:
    """A rollback, or a database opened: an ended transaction's rows were never committed."""
    db = database.obj
    if db is None or not db.in_transaction():  # the outermost transaction rolled back (or a database was opened)
        _pending.ids.clear()
        _pending.rows.clear()


def tip(stream: str) -> tuple[int, bytes]:
    """(position, hash) of the last link of ``stream``; (0, genesis) when it has none."""
    return _tips(database.obj.connection().cursor(), [stream])[stream][:2]


@functools.lru_cache(maxsize=16)
def _tips_sql(p: str, n: int) -> str:
    one = f"SELECT stream, position, hash, row_id FROM chain_link WHERE stream = {p} ORDER BY position DESC LIMIT 1"
    return " UNION ALL ".join(f"SELECT * FROM ({one}) AS t{k}" for k in range(n))


def _tips(cursor, streams: list[str], *, lock: bool = False) -> dict[str, tuple[int, bytes, int]]:
    """Each stream's tip: (position, hash, row id); (0, genesis, 0) for a stream with no link. With ``lock``
    (PostgreSQL), after taking the chain lock, in the same round trip."""
    sql = _tips_sql(database.obj.param, len(streams))
    codes = [STREAMS[s] for s in streams]
    if lock:
        cursor.execute(f"SELECT pg_advisory_xact_lock(%s); {sql}", [ADVISORY_KEY, *codes])
    else:
        cursor.execute(sql, codes)
    found = {code: (position, bytes(digest), row_id) for code, position, digest, row_id in cursor.fetchall()}
    return {s: found.get(STREAMS[s], (0, genesis(s), 0)) for s in streams}


def _lock(cursor=None) -> None:
    if not is_sqlite():
        (cursor or database.obj.connection().cursor()).execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_KEY,))


def seal() -> None:
    """``db.write_transaction``'s hook, just before the outermost commit, when the transaction wrote chained rows.
    PostgreSQL: link them, under the chain lock, held until the commit (``_seal_registered``). SQLite: count the
    commit; every ``SEAL_EVERY`` commits (or ``SEAL_ROWS`` rows), or ``SEAL_WITHIN`` seconds after the first one
    not sealed, link every row not linked yet, this transaction's included (it holds the write lock)."""
    pending = _pending
    if not pending.ids and not pending.rows:
        return
    if is_sqlite():
        state, now = _unsealed, time.monotonic()
        if not state.commits:
            state.first = now
        state.commits += 1
        state.rows += sum(map(len, pending.ids.values())) + sum(map(len, pending.rows.values()))
        pending.ids, pending.rows = {}, {}
        if state.commits >= SEAL_EVERY or state.rows >= SEAL_ROWS or now - state.first >= SEAL_WITHIN:
            _seal_sqlite(database.obj.connection().cursor())
        return
    _seal_registered(pending)


def _seal_registered(pending: _Pending) -> None:
    """PostgreSQL: link every registered row that still exists, per stream in id order, after the current tips.
    Raw cursor calls: this is on every sale's path. Rows registered with their values are hashed from them, unless
    something rolled back since the first was registered (a savepoint may have taken them away): then every row is
    read back, as those registered by id are. Two round trips: the lock with the tips, and the INSERT."""
    ids, rows = pending.ids, pending.rows
    pending.ids, pending.rows = {}, {}
    stale = bool(rows) and pending.since != rollbacks()
    found: dict[str, dict[int, bytes]] = {}
    for stream, registered in rows.items():
        done = found[stream] = {}
        for row_id, row in registered.items():
            content = None if stale else _encoded(stream, *row)
            if content is None:
                ids.setdefault(stream, []).append(row_id)
            else:
                done[row_id] = content
    cursor = database.obj.connection().cursor()
    if CROSS_CHECK:
        _cross_check(found, cursor)
    for stream, stream_ids in ids.items():
        found.setdefault(stream, {}).update(contents(stream, sorted(set(stream_ids)), cursor))
    streams = [s for s in STREAMS if found.get(s)]
    if not streams:  # all rolled back to savepoints
        return
    tips = {s: t[:2] for s, t in _tips(cursor, streams, lock=True).items()}
    _insert_links(_link(found, streams, tips), cursor)


def _seal_sqlite(cursor) -> int:
    """SQLite, inside a write transaction: link every row above each stream's last linked row, in id order.
    Every link on SQLite is appended so (``seal_unlinked`` too), so the tip's row is the highest linked one.
    Returns how many rows were linked."""
    _unsealed.commits = _unsealed.rows = 0
    return sum(_link_after(stream, *tip_, cursor) for stream, tip_ in _tips(cursor, _ALL).items())


_ALL = list(STREAMS)


def _link_after(stream: str, position: int, prev: bytes, after: int, cursor, batch: int = 50_000) -> int:
    """Link the rows of ``stream`` whose id is above ``after``, in id order, after the link at ``position`` (whose
    hash is ``prev``), ``batch`` rows a read. Under the chain lock. Returns how many were linked."""
    code, sql, done = STREAMS[stream], _select(stream, f"id > {database.obj.param} ORDER BY id LIMIT {batch}"), 0
    while True:
        cursor.execute(sql, (after,))
        rows = cursor.fetchall()
        if not rows:
            return done
        found = _encode(stream, rows, cursor)
        links = []
        for row in rows:
            prev = sha256(prev + found[row[0]]).digest()
            position += 1
            links.append((code, position, row[0], prev))
        _insert_links(links, cursor)
        done += len(links)
        after = rows[-1][0]


def seal_pending() -> int:
    """Link every committed row not linked yet, now: before a head is taken (``head``), by ``check``, and when a
    process closes the shop. SQLite only: on PostgreSQL every row is linked at its commit. Inside a write
    transaction, in it; otherwise in one of its own, begun only when there is something to link; nothing on a
    database opened read-only. Returns how many rows were linked."""
    db = database.obj
    if not is_sqlite(db) or getattr(db, "read_only", False):
        return 0
    if db.in_transaction():
        return _seal_sqlite(db.connection().cursor())
    if not any(unsealed().values()):
        _unsealed.commits = _unsealed.rows = 0
        return 0
    with write_transaction():
        return _seal_sqlite(db.connection().cursor())


def seal_due(now: float | None = None) -> bool:
    """This process made commits that are not sealed yet, the first ``SEAL_WITHIN`` seconds ago or more: a quiet
    till's last sales, which no further commit will seal soon. ``seal_if_due`` (the till app polls it)."""
    state = _unsealed
    return bool(state.commits) and (time.monotonic() if now is None else now) - state.first >= SEAL_WITHIN


def seal_if_due() -> int:
    """``seal_pending`` when ``seal_due``; should it fail (the database busy), not tried again for ``SEAL_WITHIN``
    seconds. Returns how many rows were linked."""
    if not seal_due():
        return 0
    _unsealed.first = time.monotonic()
    return seal_pending()


def unsealed() -> dict[str, int]:
    """Rows committed and not linked yet, per stream: on SQLite those above each stream's last linked row (the
    next seal links them); on PostgreSQL none (a row there with no link is not in the chain)."""
    if not is_sqlite():
        return dict.fromkeys(STREAMS, 0)
    cursor = database.obj.connection().cursor()
    return {s: cursor.execute(f"SELECT COUNT(*) FROM {TABLES[s]} WHERE id > ?", (t[2],)).fetchone()[0]
            for s, t in _tips(cursor, _ALL).items()}


def unsealed_sums() -> dict[int, int]:
    """Quantity per product over the movements not linked yet (``unsealed``)."""
    if not is_sqlite():
        return {}
    cursor = database.obj.connection().cursor()
    after = _tips(cursor, ["movement"])["movement"][2]
    return dict(cursor.execute("SELECT product_id, SUM(quantity) FROM movement WHERE id > ? GROUP BY product_id",
                               (after,)).fetchall())


def _seal_on_close() -> None:
    """A process closing the shop links what its commits left unlinked (``db.before_close``). If it cannot (the
    database busy or unwritable), the next seal of any process links them."""
    if not _unsealed.commits:
        return
    try:
        seal_pending()
    except (DatabaseError, sqlite3.Error, ShopError) as exc:
        log.warning("chain: rows left unsealed at close, for the next seal: %s", exc)
    _unsealed.commits = _unsealed.rows = 0



def _link(found: dict[str, dict[int, bytes]], streams: list[str], tips: dict[str, tuple[int, bytes]]) -> list[tuple]:
    """The links of rows ``found`` after ``tips`` (which are moved to the new tips)."""
    links = []
    for stream in streams:
        position, prev = tips[stream]
        content = found[stream]
        code = STREAMS[stream]
        for row_id in sorted(content):
            prev = sha256(prev + content[row_id]).digest()
            position += 1
            links.append((code, position, row_id, prev))
        tips[stream] = (position, prev)
    return links


def _cross_check(rows: dict[str, dict[int, bytes]], cursor) -> None:
    for stream, content in rows.items():
        stored = contents(stream, sorted(content), cursor)
        for row_id, given in content.items():
            if stored.get(row_id) != given:
                raise AssertionError(f"chain: {TABLES[stream]} row {row_id} was registered as {given!r} but the "
                                     f"database holds {stored.get(row_id)!r}")


@functools.lru_cache(maxsize=64)
def _links_sql(p: str, n: int) -> str:
    row = f"({p}, {p}, {p}, {p})"
    return f"INSERT INTO chain_link (stream, position, row_id, hash) VALUES {', '.join([row] * n)}"


def _insert_links(links: list[tuple], cursor=None) -> None:
    """One INSERT per 250 links."""
    p = database.obj.param
    cursor = cursor or database.obj.connection().cursor()
    for start in range(0, len(links), 250):
        part = links[start:start + 250]
        cursor.execute(_links_sql(p, len(part)), [value for link in part for value in link])


before_commit(seal)
on_rollback(_forget)
before_close(_seal_on_close)


def seal_unlinked(stream: str, *, batch: int = 50_000) -> int:
    """Link every row of ``stream`` that has no link yet: rows written before the chain existed (an upgrade) or by
    a tool that bypassed the services (a benchmark's raw side). Those above the highest linked row in id order; on
    PostgreSQL, whose chain is in commit order anyway, those below it first. On SQLite a row below it stays out of
    the chain (``check`` names it): every SQLite link is appended in id order above the last, which the batch
    seal relies on. Returns how many were linked."""
    code, p = STREAMS[stream], database.obj.param
    with write_transaction():
        _lock()
        cursor = database.obj.connection().cursor()
        after = database.execute_sql(f"SELECT COALESCE(MAX(row_id), 0) FROM chain_link WHERE stream = {p}",
                                     (code,)).fetchone()[0]
        done = 0
        if not is_sqlite():
            stray = [r[0] for r in database.execute_sql(  # a set difference: no (stream, row_id) index
                f"SELECT id FROM {TABLES[stream]} WHERE id <= {p} EXCEPT SELECT row_id FROM chain_link "
                f"WHERE stream = {p} ORDER BY 1", (after, code))]
            found = contents(stream, stray, cursor)
            if found:
                tips = {stream: tip(stream)}
                _insert_links(_link({stream: found}, [stream], tips), cursor)
                done = len(found)
        position, prev = tip(stream)
        return done + _link_after(stream, position, prev, after, cursor, batch)



# --- heads ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Head:
    """Where the chains stand: each stream's position and last hash, and one hash over all of them.

    ``str(head)`` is the printable head for a Z report, a receipt line or a books export, e.g.
    ``chain:movement=123456,sale=789,audit=12:sha256:3f9a0c…`` (20 hex digits); ``shopkeeper check --against``
    takes it back and proves that today's history extends the one it names."""

    positions: dict[str, int]
    hashes: dict[str, bytes] = field(repr=False)

    @property
    def digest(self) -> str:
        return combine(self.positions, self.hashes)

    def __str__(self) -> str:
        where = ",".join(f"{s}={self.positions[s]}" for s in STREAMS)
        return f"chain:{where}:sha256:{self.digest[:HEAD_HASH_CHARS]}"


def combine(positions: dict[str, int], hashes: dict[str, bytes]) -> str:
    """The head's hash (hex): over every stream's position and last hash."""
    text = "".join(f"{s}:{positions[s]}:{hashes[s].hex()}\n" for s in STREAMS)
    return hashlib.sha256(f"shopkeeper-chain-head-v{VERSION}\n{text}".encode()).hexdigest()


def head(until: str | None = None, *, seal_first: bool = True) -> Head:
    """The current chain head: a small value with each stream's position and hash; ``str()`` of it is the
    printable head (``chain:movement=123456,sale=789,audit=12:sha256:ab12…``), short enough for a receipt line and
    enough to prove later that the history then is part of the history now (``shopkeeper check --against``).
    It covers what is committed: rows written earlier in the caller's own transaction are sealed at its commit,
    after this head on PostgreSQL (a Z report's close reads it and then writes its own rows). On SQLite every row
    committed is linked first (``seal_pending``), and so is what the caller's transaction wrote so far; ``seal_first``
    False leaves that out (``check`` seals before its read snapshot).

    ``until`` (UTC text): the head as it stood over the rows created before then (each stream's last link whose
    row is older), so a books export of a closed period prints the same head however often it is made."""
    if seal_first:
        seal_pending()
    if until is None:
        tips = {s: tip(s) for s in STREAMS}
    else:
        tips = {s: _tip_before(s, until) for s in STREAMS}
    return Head({s: t[0] for s, t in tips.items()}, {s: t[1] for s, t in tips.items()})


def _tip_before(stream: str, until: str) -> tuple[int, bytes]:
    """(position, hash) of the last link of ``stream`` whose row was created before ``until``; walks back from the
    tip, so a recent period costs little."""
    p = database.obj.param
    row = database.execute_sql(
        f"SELECT l.position, l.hash FROM chain_link l JOIN {TABLES[stream]} t ON t.id = l.row_id "
        f"WHERE l.stream = {p} AND t.created_at < {p} ORDER BY l.position DESC LIMIT 1",
        (STREAMS[stream], until)).fetchone()
    return (row[0], bytes(row[1])) if row is not None else (0, genesis(stream))


_HEAD = re.compile(r"chain:(?P<where>[a-z]+=\d+(?:,[a-z]+=\d+)*):sha256:(?P<hash>[0-9a-f]{16,64})")


@dataclass(frozen=True)
class PrintedHead:
    positions: dict[str, int]
    hash_prefix: str


def parse_head(text: str) -> PrintedHead:
    """A head as printed (``chain:movement=…,sale=…,audit=…:sha256:…``); ``InvalidInput`` names what is wrong."""
    match = _HEAD.fullmatch(text.strip().lower())
    if match is None:
        raise InvalidInput(f"chain head {text!r}: expected chain:movement=N,sale=N,audit=N:sha256:HEX "
                           "(at least 16 hex digits), as a Z report or books export prints it",
                           field="against", value=text)
    positions = {}
    for part in match["where"].split(","):
        name, _, number = part.partition("=")
        if name not in STREAMS:
            raise InvalidInput(f"chain head {text!r}: unknown stream {name!r}", field="against", value=text)
        positions[name] = int(number)
    missing = [s for s in STREAMS if s not in positions]
    if missing:
        raise InvalidInput(f"chain head {text!r}: no position for {', '.join(missing)}", field="against",
                           value=text)
    return PrintedHead(positions, match["hash"])


# --- verifying --------------------------------------------------------------------------------------------------

@dataclass
class Break:
    """The first row of a stream that does not fit its chain."""

    stream: str
    position: int | None
    row_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{TABLES[self.stream]} row {self.row_id}" if self.row_id is not None else TABLES[self.stream]
        at = f" (chain position {self.position})" if self.position is not None else ""
        return f"{where}{at}: {self.reason}"


def _links(stream: str, after: int, upto: int | None = None, batch: int = 20_000) -> Iterator[list[tuple]]:
    p = database.obj.param
    position = after
    while True:
        bound = f" AND position <= {int(upto)}" if upto is not None else ""
        rows = database.execute_sql(
            f"SELECT position, row_id, hash FROM chain_link WHERE stream = {p} AND position > {p}{bound} "
            f"ORDER BY position LIMIT {batch}", (STREAMS[stream], position)).fetchall()
        if not rows:
            return
        yield rows
        position = rows[-1][0]


def link_at(stream: str, position: int) -> tuple[int, bytes] | None:
    """(row_id, hash) of the link at ``position``; None if there is none."""
    if position == 0:
        return None
    p = database.obj.param
    row = database.execute_sql(f"SELECT row_id, hash FROM chain_link WHERE stream = {p} AND position = {p}",
                               (STREAMS[stream], position)).fetchone()
    return None if row is None else (row[0], bytes(row[1]))


def hash_at(stream: str, position: int) -> bytes | None:
    if position == 0:
        return genesis(stream)
    found = link_at(stream, position)
    return None if found is None else found[1]


@dataclass
class Verified:
    stream: str
    start: int  # verified the links after this position
    end: int  # up to this one
    brk: Break | None = None
    moved: dict[int, int] = field(default_factory=dict)  # movement stream: quantity per product in (start, end]


def verify(stream: str, after: int = 0, *, sums: bool = False) -> Verified:
    """Recompute every link of ``stream`` after position ``after`` from its row and the link before it; the
    first link that does not fit is the ``Break``. With ``sums`` (movements), also add up each product's quantity
    over those rows (for the stock check from a checkpoint)."""
    prev = hash_at(stream, after)
    result = Verified(stream, after, after)
    if prev is None:
        result.brk = Break(stream, after, None, "the chain has no link at this position any more")
        return result
    expected = after
    table = TABLES[stream]
    for batch in _links(stream, after):
        ids = [row_id for _, row_id, _ in batch]
        if stream == "movement":
            rows = _rows_by_id(stream, ids, extra="quantity, product_id" if sums else "")
        else:
            rows = _rows_by_id(stream, ids)
        found = _encode_by_id(stream, rows, sums)
        for position, row_id, stored in batch:
            expected += 1
            if position != expected:
                result.brk = Break(stream, expected, None, f"chain position {expected} is missing")
                return result
            content = found.get(row_id)
            if content is None:
                result.brk = Break(stream, position, row_id, f"the {table} row is gone (deleted)")
                return result
            prev = link_hash(prev, content[0])
            if prev != bytes(stored):
                result.brk = Break(stream, position, row_id, "its content does not match its hash (changed "
                                   "after it was written, or the chain was rewritten from here)")
                return result
            if sums:
                qty, product = content[1]
                result.moved[product] = result.moved.get(product, 0) + qty
            result.end = position
    return result


def _rows_by_id(stream: str, ids: list[int], extra: str = "") -> list[tuple]:
    p = database.obj.param
    cols = ", ".join(FIELDS[stream]) + (f", {extra}" if extra else "")
    rows = []
    for start in range(0, len(ids), 5000):
        part = ids[start:start + 5000]
        if len(part) > 1 and part[-1] - part[0] + 1 == len(part) and part == sorted(part):
            rows += database.execute_sql(f"SELECT {cols} FROM {TABLES[stream]} WHERE id BETWEEN {p} AND {p}",
                                         (part[0], part[-1])).fetchall()
        else:
            for s in range(0, len(part), 500):
                piece = part[s:s + 500]
                marks = ", ".join([p] * len(piece))
                rows += database.execute_sql(f"SELECT {cols} FROM {TABLES[stream]} WHERE id IN ({marks})",
                                             piece).fetchall()
    return rows


def _encode_by_id(stream: str, rows: list[tuple], sums: bool) -> dict[int, tuple[bytes, tuple]]:
    width = len(FIELDS[stream])
    if stream == "sale":
        return {i: (c, ()) for i, c in _encode(stream, rows).items()}
    if sums and stream == "movement":
        return {row[0]: (canonical(row[:width]), row[width:]) for row in rows}
    return {row[0]: (canonical(row), ()) for row in rows}


def unlinked(stream: str) -> int:
    """Rows of ``stream`` without a link (inserted behind the services' back, or lost links): rows − links."""
    p = database.obj.param
    rows = database.execute_sql(f"SELECT COUNT(*) FROM {TABLES[stream]}").fetchone()[0]
    links = database.execute_sql(f"SELECT COALESCE(MAX(position), 0) FROM chain_link WHERE stream = {p}",
                                 (STREAMS[stream],)).fetchone()[0]
    return rows - links


def first_unlinked(stream: str) -> int | None:
    p = database.obj.param
    row = database.execute_sql(  # a set difference: chain_link has no (stream, row_id) index
        f"SELECT MIN(id) FROM (SELECT id FROM {TABLES[stream]} EXCEPT SELECT row_id FROM chain_link "
        f"WHERE stream = {p}) AS t", (STREAMS[stream],)).fetchone()
    return row[0]


# --- checkpoints ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Checkpoint:
    """A verified point of the chains: each stream's position and hash, and every product's stock from the
    journal up to the movement position; ``hash`` chains it to the checkpoint before."""

    id: int
    created_at: str
    positions: dict[str, int]
    hashes: dict[str, bytes]
    stock: dict[int, int]
    hash: str

    def content(self, prev: str) -> bytes:
        return _checkpoint_content(prev, self.created_at, self.positions, self.hashes, self.stock)


def _checkpoint_content(prev: str, created_at: str, positions: dict[str, int], hashes: dict[str, bytes],
                        stock: dict[int, int]) -> bytes:
    heads = ",".join(f"{s}={positions[s]}:{hashes[s].hex()}" for s in STREAMS)
    sums = ",".join(f"{k}={v}" for k, v in sorted(stock.items()) if v)
    return f"shopkeeper-checkpoint-v{VERSION}\n{prev}\n{created_at}\n{heads}\n{sums}".encode()


def latest_checkpoint() -> tuple[Checkpoint | None, str | None]:
    """The latest checkpoint and, when its own hash does not fit, why."""
    row = database.execute_sql("SELECT id, created_at, heads, stock, hash FROM chain_checkpoint "
                               "ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return None, None
    cp_id, created_at, heads, stock, stored = row
    heads = json.loads(heads)
    cp = Checkpoint(cp_id, created_at, {s: heads[s][0] for s in STREAMS},
                    {s: bytes.fromhex(heads[s][1]) for s in STREAMS},
                    {int(k): v for k, v in json.loads(stock).items()}, stored)
    p = database.obj.param
    before = database.execute_sql(f"SELECT hash FROM chain_checkpoint WHERE id < {p} ORDER BY id DESC LIMIT 1",
                                  (cp_id,)).fetchone()
    prev = before[0] if before else ""
    if hashlib.sha256(cp.content(prev)).hexdigest() != stored:
        return cp, f"checkpoint {cp_id} does not match its own hash (changed after it was written)"
    for s in STREAMS:
        if hash_at(s, cp.positions[s]) != cp.hashes[s]:
            return cp, (f"{TABLES[s]}: the chain at position {cp.positions[s]} no longer has the hash checkpoint "
                        f"{cp_id} recorded (rewritten before it)")
    return cp, None


def store_checkpoint(positions: dict[str, int], hashes: dict[str, bytes], stock: dict[int, int]) -> None:
    """Append a checkpoint (its own transaction)."""
    p = database.obj.param
    with write_transaction():
        before = database.execute_sql("SELECT hash FROM chain_checkpoint ORDER BY id DESC LIMIT 1").fetchone()
        created_at = utcnow()
        digest = hashlib.sha256(_checkpoint_content(before[0] if before else "", created_at, positions, hashes,
                                                    stock)).hexdigest()
        heads = {s: [positions[s], hashes[s].hex()] for s in STREAMS}
        database.execute_sql(f"INSERT INTO chain_checkpoint (created_at, heads, stock, hash) VALUES ({p}, {p}, {p}, {p})",
                             (created_at, json.dumps(heads, sort_keys=True),
                              json.dumps({str(k): v for k, v in sorted(stock.items()) if v}), digest))
