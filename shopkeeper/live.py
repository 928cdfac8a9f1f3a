"""Hear other processes' changes to a PostgreSQL shop as they commit (LISTEN/NOTIFY), in a thread of its own.

The triggers of ``db.notify_changes`` announce every committed row change on ``db.CHANGE_CHANNEL`` as
``<table>:<id>``. A ``ChangeListener`` holds its own psycopg2 connection (never Peewee's: those belong to other
threads), waits on it with ``select()``, and hands each batch of notices to ``on_changes``. It also watches the
server: when its connection fails it calls ``on_state(False, why)``, reconnects with a growing pause (0.1 s up to
5 s), and calls ``on_state(True, "")`` once it is back — the changes missed meanwhile are then unknown, so the
caller should re-read everything. No Textual here: the app hops to its event loop itself.
"""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Callable

from shopkeeper.db import CHANGE_CHANNEL

HEALTH_CHECK_SECONDS = 2.0
"""How long a quiet connection waits before it asks the server a ``SELECT 1`` (a silently dropped link shows)."""
MAX_BACKOFF_SECONDS = 5.0


class ChangeListener:
    """``LISTEN`` on ``dsn`` (a libpq URL) in a daemon thread. ``ignore_pid``: notices sent by this server process
    (the app's own connection, whose commits it already knows of) are left out."""

    def __init__(self, dsn: str, on_changes: Callable[[set[str]], None],
                 on_state: Callable[[bool, str], None], *, channel: str = CHANGE_CHANNEL) -> None:
        self.dsn = dsn
        self.on_changes = on_changes
        self.on_state = on_state
        self.channel = channel
        self.ignore_pid: int | None = None
        self.connected = False
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="shopkeeper-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _run(self) -> None:
        import psycopg2

        backoff = 0.1
        while not self._stop.is_set():
            conn = None
            try:
                conn = psycopg2.connect(self.dsn, connect_timeout=3, application_name="shopkeeper-listen",
                                        keepalives=1, keepalives_idle=5, keepalives_interval=2, keepalives_count=2)
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute(f'LISTEN "{self.channel}"')
                self.connected = True
                backoff = 0.1
                self.on_state(True, "")
                self._listen(conn)
            except (psycopg2.Error, OSError) as exc:
                if self._stop.is_set():
                    break
                if self.connected or backoff == 0.1:
                    self.connected = False
                    self.on_state(False, " ".join(str(exc).split()) or type(exc).__name__)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            finally:
                if conn is not None:
                    conn.close()
        self.connected = False

    def _listen(self, conn) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([conn, self._wake_r], [], [], HEALTH_CHECK_SECONDS)
            if not ready:
                with conn.cursor() as cur:
                    cur.execute("SELECT 1")  # raises when the server went away in silence
                continue
            if conn not in ready:
                continue  # woken up to stop
            conn.poll()
            changes = {n.payload for n in conn.notifies if n.pid != self.ignore_pid}
            conn.notifies.clear()
            if changes:
                self.on_changes(changes)
