"""The evdev reader, driven by fake devices: grab, unplug/replug, permissions, a busy device, device lookup."""

from __future__ import annotations

import errno
import os
import threading

import pytest

from shopkeeper.scanner.evdev_source import (
    DeviceInfo,
    DeviceNotFound,
    EvdevScanSource,
    busy_message,
    find_holders,
    looks_like_scanner,
    resolve_device,
)
from shopkeeper.scanner.keymaps import KEY_LEFTSHIFT
from shopkeeper.scanner.settings import ScannerSettings
from shopkeeper.scanner.source import ScanHub

GONE = OSError(errno.ENODEV, "No such device")


class FakeDevice:
    """Plays a script: each item is a list of events, [] (a read timeout) or an exception to raise."""

    def __init__(self, script, *, held=(), grab_error=None, name="Fake Scanner", path="/dev/input/event7"):
        self.script = list(script)
        self.held = list(held)
        self.grab_error = grab_error
        self.name, self.path = name, path
        self.grabbed = self.closed = False
        self.grab_calls = []

    def active_keys(self):
        return list(self.held.pop(0)) if self.held else []

    def grab(self):
        self.grab_calls.append(list(self.held))
        if self.grab_error:
            raise self.grab_error
        self.grabbed = True

    def ungrab(self):
        self.grabbed = False

    def close(self):
        self.closed = True

    def read_events(self, timeout):
        if not self.script:
            raise OSError(errno.ENODEV, "No such device")  # end of script: the scanner is unplugged
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item


class Opener:
    """Returns (or raises) the next scripted result on each open; stops the source when out of script."""

    def __init__(self, results):
        self.results = list(results)
        self.source = None
        self.calls = 0

    def __call__(self, spec):
        self.calls += 1
        if not self.results:
            self.source.request_stop()
            raise DeviceNotFound(spec)
        r = self.results.pop(0)
        if isinstance(r, BaseException):
            raise r
        return r


def run_source(results, settings=None, **kw):
    opener = Opener(results)
    scans, statuses = [], []
    src = EvdevScanSource(settings or ScannerSettings(device="/dev/input/by-id/fake", reconnect_ms=1),
                          opener=opener, wall=lambda: 2e9, poll=0, **kw)
    opener.source = src
    src._emit, src._status = scans.append, statuses.append
    src.run()
    return scans, statuses, src


def test_reads_scans_and_reports_connected(typist):
    dev = FakeDevice([typist.scan("123"), [], typist.scan("456")])
    scans, statuses, _ = run_source([dev])
    assert [s.code for s in scans] == ["123", "456"]
    assert [s.state for s in statuses][:1] == ["connected"]
    assert dev.grabbed and dev.closed


def test_device_vanishing_mid_read_then_returning(typist):
    first = FakeDevice([typist.text("40063"), GONE])  # unplugged in the middle of a scan
    second = FakeDevice([typist.scan("96385074")])
    scans, statuses, _ = run_source([first, FileNotFoundError(), FileNotFoundError(), second])
    assert [s.code for s in scans] == ["96385074"]  # the half scan is not glued to the next one
    assert [s.state for s in statuses] == ["connected", "disconnected", "connected", "disconnected", "stopped"]
    assert "unplugged" in statuses[1].message
    assert first.closed and second.closed


def test_waiting_when_not_plugged_in_at_start():
    _, statuses, _ = run_source([FileNotFoundError()])
    assert statuses[0].state == "waiting" and "plugged in" in statuses[0].message


def test_grab_waits_until_no_key_is_held(typist):
    dev = FakeDevice([[], [], typist.scan("7")], held=[[KEY_LEFTSHIFT], [KEY_LEFTSHIFT], []])
    scans, statuses, _ = run_source([dev])
    assert dev.grab_calls == [[]]  # grabbed only once nothing was held
    assert statuses[0].state == "waiting" and "released" in statuses[0].message
    assert [s.code for s in scans] == ["7"]


def test_permission_denied_names_the_fix():
    denied = PermissionError(errno.EACCES, "Permission denied", "/dev/input/event7")
    _, statuses, _ = run_source([denied])
    msg = statuses[0].message
    assert statuses[0].state == "denied"
    assert "/dev/input/event7" in msg and "'input' group" in msg and "99-shopkeeper-scanner.rules" in msg


def test_busy_device_names_the_holder(tmp_path):
    device = tmp_path / "event7"
    device.write_text("")
    proc = tmp_path / "proc"
    (proc / "4242" / "fd").mkdir(parents=True)
    (proc / "4242" / "comm").write_text("evtest\n")
    os.symlink(device, proc / "4242" / "fd" / "3")
    (proc / "self").mkdir()
    dev = FakeDevice([], grab_error=OSError(errno.EBUSY, "Device or resource busy"), path=str(device))
    _, statuses, _ = run_source([dev], proc=str(proc))
    assert statuses[0].state == "busy"
    assert "pid 4242 (evtest)" in statuses[0].message
    assert dev.closed


def test_busy_message_without_holder_says_how_to_find_it():
    assert "fuser" in busy_message("/dev/input/event3", [])


def test_find_holders_on_real_proc_finds_this_process_not(tmp_path):
    path = tmp_path / "node"
    path.write_text("")
    with open(path):
        assert find_holders(str(path)) == []  # our own pid is excluded


def test_syn_dropped_restores_held_modifiers_from_the_device(typist):
    from shopkeeper.scanner.keymaps import EV_SYN, SYN_DROPPED, SYN_REPORT

    t = typist.t
    dev = FakeDevice([[(EV_SYN, SYN_DROPPED, 0, t), (EV_SYN, SYN_REPORT, 0, t)], typist.scan("a")],
                     held=[[], [KEY_LEFTSHIFT]])
    scans, _, _ = run_source([dev])
    assert [s.code for s in scans] == ["A"]  # Shift was down according to the device


def test_idle_expiry_drops_a_half_scan(typist):
    dev = FakeDevice([typist.text("12"), [], typist.scan("34")])
    scans, _, src = run_source([dev])  # wall clock far after the events: the idle read expires "12"
    assert [s.code for s in scans] == ["34"] and src.decoder.dropped == 1


def test_threaded_start_and_stop_through_a_hub(typist):
    got, connected = [], threading.Event()
    dev = FakeDevice([typist.scan("999")])
    hub = ScanHub()
    hub.subscribe(got.append, lambda st: connected.set() if st.state == "connected" else None)
    src = EvdevScanSource(ScannerSettings(device="x", reconnect_ms=10), opener=lambda spec: dev, poll=0.01)
    hub.add_source(src)
    hub.start()
    assert connected.wait(5)
    for _ in range(200):
        if got:
            break
        threading.Event().wait(0.01)
    hub.stop()
    assert [s.code for s in got] == ["999"] and src.state == "stopped"


DEVICES = [
    DeviceInfo("/dev/input/event3", "AT Translated Set 2 keyboard", 0x0001, 0x0001, keyboard=True),
    DeviceInfo("/dev/input/event9", "Honeywell Imaging & Mobility 1900 Consumer Control", 0x0C2E, 0x0B61),
    DeviceInfo("/dev/input/event8", "Honeywell Imaging & Mobility 1900", 0x0C2E, 0x0B61, keyboard=True),
]


def test_resolve_by_vendor_product_prefers_the_keyboard_node():
    assert resolve_device("0c2e:0b61", DEVICES) == "/dev/input/event8"


def test_resolve_by_name_exact_then_substring():
    assert resolve_device("Honeywell Imaging & Mobility 1900", DEVICES) == "/dev/input/event8"
    assert resolve_device("honeywell", DEVICES) == "/dev/input/event8"
    assert resolve_device("/dev/input/by-id/x", DEVICES) == "/dev/input/by-id/x"


def test_resolve_unknown_device():
    with pytest.raises(DeviceNotFound, match="scanner list"):
        resolve_device("nothing", DEVICES)
    with pytest.raises(DeviceNotFound, match="no scanner device configured"):
        resolve_device("", DEVICES)


def test_scanner_heuristics():
    assert looks_like_scanner("USB Barcode Scanner", 0x1234, True)[0]
    assert looks_like_scanner("HID 0c2e:0b61", 0x0C2E, True)[0]
    assert not looks_like_scanner("AT Translated Set 2 keyboard", 0x0001, True)[0]
    assert not looks_like_scanner("Barcode Scanner Consumer Control", 0x1234, False)[0]
