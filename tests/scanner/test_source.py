"""ScanHub: one API, many sources, thread-safe fan-out."""

from __future__ import annotations

import threading

from shopkeeper.scanner.events import ScanEvent, SourceStatus
from shopkeeper.scanner.source import ScanHub


class ListSource:
    """Publishes its scans from a thread when started."""

    def __init__(self, name, codes):
        self.name, self.codes = name, codes
        self.started = self.stopped = 0
        self.thread = None

    def start(self, emit, status):
        self.started += 1

        def run():
            status(SourceStatus(self.name, "connected", "ok"))
            for code in self.codes:
                emit(ScanEvent(code, None, self.name, 0.0))

        self.thread = threading.Thread(target=run)
        self.thread.start()

    def stop(self):
        self.stopped += 1
        self.thread.join()


def test_scans_from_all_sources_reach_every_subscriber():
    hub = ScanHub()
    a, b = [], []
    hub.subscribe(a.append)
    hub.subscribe(b.append)
    s1, s2 = ListSource("one", [str(i) for i in range(100)]), ListSource("two", ["x", "y"])
    hub.add_source(s1)
    hub.add_source(s2)
    hub.start()
    hub.stop()
    assert sorted(e.code for e in a) == sorted(e.code for e in b) and len(a) == 102
    assert [e.code for e in a if e.source == "one"] == [str(i) for i in range(100)]  # per-source order kept
    assert (s1.started, s1.stopped) == (1, 1)


def test_a_failing_subscriber_does_not_stop_others():
    hub = ScanHub()
    got = []
    hub.subscribe(lambda e: 1 / 0)
    hub.subscribe(got.append)
    hub.publish(ScanEvent("1", None, "t", 0.0))
    assert [e.code for e in got] == ["1"]


def test_unsubscribe_and_context_manager():
    hub = ScanHub()
    got = []
    with hub.subscribe(got.append):
        hub.publish(ScanEvent("1", None, "t", 0.0))
    hub.publish(ScanEvent("2", None, "t", 0.0))
    assert [e.code for e in got] == ["1"]


def test_late_status_subscriber_gets_current_state():
    hub = ScanHub()
    hub.publish_status(SourceStatus("dev", "disconnected", "unplugged"))
    seen = []
    hub.subscribe(on_status=seen.append)
    assert [s.state for s in seen] == ["disconnected"]


def test_source_added_while_running_starts_at_once():
    hub = ScanHub()
    hub.start()
    src = ListSource("late", ["z"])
    got = []
    hub.subscribe(got.append)
    hub.add_source(src)
    src.thread.join()
    hub.remove_source(src)
    assert [e.code for e in got] == ["z"] and src.stopped == 1
