"""One scan-source API for the whole app: subscribe to a ``ScanHub``, receive ``ScanEvent``s from any source.

Sources (``EvdevScanSource``, ``ReplaySource``) push scans and status changes into the hub from their own threads;
the hub calls every subscriber's callback *in that thread*. A Textual screen must therefore hop back to its loop
(``app.call_from_thread(...)``); the headless counter can act directly.

    hub = ScanHub()
    hub.add_source(EvdevScanSource(settings))
    sub = hub.subscribe(on_scan, on_status)
    hub.start()
    ...
    sub.close(); hub.stop()

A subscriber that raises is logged and skipped; it never stops a reader thread or other subscribers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from shopkeeper.scanner.events import ScanEvent, SourceStatus

log = logging.getLogger(__name__)

ScanCallback = Callable[[ScanEvent], None]
StatusCallback = Callable[[SourceStatus], None]


class ScanSource(Protocol):
    """Anything that can feed a hub."""

    name: str

    def start(self, emit: ScanCallback, status: StatusCallback) -> None: ...

    def stop(self) -> None: ...


class Subscription:
    """Returned by ``ScanHub.subscribe``; ``close()`` (or leaving a ``with`` block) unsubscribes."""

    def __init__(self, hub: ScanHub, on_scan: ScanCallback | None, on_status: StatusCallback | None) -> None:
        self._hub = hub
        self.on_scan = on_scan
        self.on_status = on_status

    def close(self) -> None:
        self._hub._unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ScanHub:
    """Fan-out of scans and status changes from any number of sources to any number of subscribers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: tuple[Subscription, ...] = ()
        self._sources: list[ScanSource] = []
        self._running = False
        self.status: dict[str, SourceStatus] = {}
        """The latest status of each source, by source name."""

    # -- subscribers ----------------------------------------------------------------------------------------

    def subscribe(self, on_scan: ScanCallback | None = None, on_status: StatusCallback | None = None
                  ) -> Subscription:
        """Receive every scan (and status change). A new status subscriber first gets the current statuses."""
        sub = Subscription(self, on_scan, on_status)
        with self._lock:
            self._subs = (*self._subs, sub)
            current = list(self.status.values())
        if on_status is not None:
            for st in current:
                self._call(on_status, st)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs = tuple(s for s in self._subs if s is not sub)

    # -- sources --------------------------------------------------------------------------------------------

    def add_source(self, source: ScanSource) -> None:
        with self._lock:
            self._sources.append(source)
            running = self._running
        if running:
            source.start(self.publish, self.publish_status)

    def remove_source(self, source: ScanSource) -> None:
        with self._lock:
            if source not in self._sources:
                return
            self._sources.remove(source)
            running = self._running
        if running:
            source.stop()

    @property
    def sources(self) -> list[ScanSource]:
        with self._lock:
            return list(self._sources)

    def start(self) -> None:
        with self._lock:
            if self._running:
                return
            self._running = True
            sources = list(self._sources)
        for source in sources:
            source.start(self.publish, self.publish_status)

    def stop(self) -> None:
        with self._lock:
            if not self._running:
                return
            self._running = False
            sources = list(self._sources)
        for source in sources:
            source.stop()

    # -- delivery (called from source threads) --------------------------------------------------------------

    def publish(self, event: ScanEvent) -> None:
        for sub in self._subs:  # a tuple swapped atomically: safe to iterate without the lock
            if sub.on_scan is not None:
                self._call(sub.on_scan, event)

    def publish_status(self, status: SourceStatus) -> None:
        with self._lock:
            self.status[status.source] = status
        for sub in self._subs:
            if sub.on_status is not None:
                self._call(sub.on_status, status)

    @staticmethod
    def _call(callback: Callable, arg: object) -> None:
        try:
            callback(arg)
        except Exception:
            log.exception("scan subscriber %r failed on %r", callback, arg)
