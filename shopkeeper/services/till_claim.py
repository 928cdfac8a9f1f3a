"""One running app per till: a lease on the till's name.

A till's open sale belongs to its name (``ctx.terminal``), so two apps under one name would ring up one sale and
one cashier's items would be paid on the other's. A running app therefore claims its till: a ``till_claim`` row
with the host, pid and process start time of the app, renewed every ``RENEW_SECONDS`` by a background thread and
deleted on a clean exit. Another app asking for the same name gets it only when the holder is gone:

* on the same host, at once: its pid no longer runs, or is now another process (its start time differs);
* from any host: the claim has not been renewed for ``LEASE_SECONDS`` (a crashed or unplugged machine).

Names (see docs/tills.md): a name given on purpose (``--terminal``, config ``till.terminal``) is used as it is, and
a second app under it is told the till is in use (``TillInUse``) and how to go on. The default name is the host
name, and a session that finds it held takes the first free ``<host>-2``, ``<host>-3`` …: every SSH session has its
own open sale, and a session started again after a crash gets the lowest free name — its own till, with its open
sale, as long as the sessions before it still run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from peewee import IntegrityError

from shopkeeper.db import locked, utcnow, write_transaction
from shopkeeper.errors import ShopError
from shopkeeper.models import TillClaim, database

LEASE_SECONDS = 45  # a claim not renewed for this long belongs to an app that is gone
RENEW_SECONDS = 10
MAX_NUMBERED = 99  # default names go up to <host>-99

log = logging.getLogger(__name__)


class TillInUse(ShopError):
    """The till name is held by another running app."""


def _start_time(pid: int) -> str:
    """The process's start time since boot in clock ticks (``/proc/<pid>/stat`` field 22); "" where unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            data = f.read()
    except OSError:
        return ""
    fields = data.rsplit(")", 1)[-1].split()  # after the command name, which may hold spaces
    return fields[19] if len(fields) > 19 else ""


@dataclass(frozen=True)
class Holder:
    """Which process holds a claim."""

    host: str
    pid: int
    started: str = ""

    @classmethod
    def this_process(cls) -> Holder:
        return cls(socket.gethostname(), os.getpid(), _start_time(os.getpid()))

    def running(self) -> bool:
        """Whether this process still runs (asked on its own host only)."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # it runs, as another user
        if self.started:
            now = _start_time(self.pid)
            if now and now != self.started:
                return False  # the pid was reused by another process
        return True


def _cutoff() -> str:
    when = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=LEASE_SECONDS)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _holder(row: TillClaim) -> Holder:
    return Holder(row.host, row.pid, row.started)


def _gone(row: TillClaim, me: Holder) -> bool:
    if row.renewed_at < _cutoff():
        return True
    return row.host == me.host and not _holder(row).running()


def live_claims() -> list[TillClaim]:
    """The claims of the apps running on this database now (by till name)."""
    me = Holder.this_process()
    return [row for row in TillClaim.select().order_by(TillClaim.name) if not _gone(row, me)]


def _try_claim(name: str, me: Holder) -> TillClaim | None:
    """Claim ``name`` for ``me``; returns the claim of the live app holding it instead, or None when claimed."""
    for _ in range(2):  # PostgreSQL: two apps inserting the same new name at once; the loser reads the winner's row
        try:
            with write_transaction():
                row = locked(TillClaim.select().where(TillClaim.name == name)).first()
                now = utcnow()
                if row is None:
                    TillClaim.insert(name=name, host=me.host, pid=me.pid, started=me.started, claimed_at=now,
                                     renewed_at=now).execute()
                    return None
                if _holder(row) != me and not _gone(row, me):
                    return row
                if _holder(row) != me:
                    log.info("till %s: taking over the claim of pid %d on %s (gone)", name, row.pid, row.host)
                TillClaim.update(host=me.host, pid=me.pid, started=me.started, claimed_at=now, renewed_at=now).where(
                    TillClaim.id == row.id).execute()
                return None
        except IntegrityError:
            continue
    return TillClaim.get(TillClaim.name == name)


class TillLease:
    """This app's claim on till ``name`` (``requested`` is the name asked for; they differ for a default name
    whose till was held by another session)."""

    def __init__(self, name: str, requested: str, holder: Holder) -> None:
        self.name, self.requested, self.holder = name, requested, holder
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _mine(self):
        h = self.holder
        return ((TillClaim.name == self.name) & (TillClaim.host == h.host) & (TillClaim.pid == h.pid)
                & (TillClaim.started == h.started))

    def renew(self) -> bool:
        """Renew the lease; False when another app has taken the till over meanwhile."""
        with write_transaction():
            return TillClaim.update(renewed_at=utcnow()).where(self._mine()).execute() == 1

    def release(self) -> None:
        """Give the till up (a clean exit); the open sale stays, for the next app at this till."""
        with write_transaction():
            TillClaim.delete().where(self._mine()).execute()

    def keep_renewed(self, on_lost: Callable[[str], None] | None = None) -> None:
        """Renew every ``RENEW_SECONDS`` in a background thread (its own connection) until ``stop``."""

        def run() -> None:
            while not self._stop.wait(RENEW_SECONDS):
                try:
                    with database.connection_context():
                        if self.renew():
                            continue
                except ShopError as exc:  # busy: the next round tries again, well within the lease
                    log.warning("till %s: claim not renewed: %s", self.name, exc)
                    continue
                message = (f"till {self.name} was taken over by another app (this one did not renew its claim "
                           f"for {LEASE_SECONDS} s); quit this app so that two apps never ring up one sale")
                log.error(message)
                if on_lost is not None:
                    on_lost(message)
                return

        self._thread = threading.Thread(target=run, name=f"till-claim-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def take(requested: str, *, exact: bool, holder: Holder | None = None) -> TillLease:
    """Claim till ``requested`` (``exact``: that name or ``TillInUse``), else the first free numbered name."""
    me = holder or Holder.this_process()
    if not requested.strip():
        raise ShopError("a till needs a name (--terminal NAME, or till.terminal in the config)", field="terminal")
    names = [requested] if exact else [requested, *(f"{requested}-{n}" for n in range(2, MAX_NUMBERED + 1))]
    row = None
    for name in names:
        row = _try_claim(name, me)
        if row is None:
            return TillLease(name, requested, me)
    assert row is not None
    if not exact:
        raise TillInUse(f"tills {requested} to {names[-1]} are all in use; name this one with --terminal NAME",
                        field="terminal", reason="in use", value=requested)
    since = row.claimed_at[:19].replace("T", " ")
    raise TillInUse(
        f"till {requested} is in use by another app (pid {row.pid} on {row.host}, since {since} UTC): "
        f"two apps on one till would ring up one sale. Start this one with another name (--terminal NAME); "
        f"if that app is gone, its claim lapses {LEASE_SECONDS} s after its last renewal (at once on {row.host} "
        f"itself) and the till, with its open sale, is yours again",
        field="terminal", reason="in use", value=requested)


@contextlib.contextmanager
def held(requested: str, *, exact: bool, on_lost: Callable[[str], None] | None = None) -> Iterator[TillLease]:
    """Hold a till for the length of the block: claimed, renewed in the background, released at the end."""
    lease = take(requested, exact=exact)
    lease.keep_renewed(on_lost)
    try:
        yield lease
    finally:
        lease.stop()
        with contextlib.suppress(ShopError):
            lease.release()
