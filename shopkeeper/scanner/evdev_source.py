"""Read a scanner through evdev, in a thread, surviving unplug and replug.

``EvdevScanSource`` opens the device named in config (a path such as ``/dev/input/by-id/…``, a device name, or
``vendor:product`` in hex), waits until no key is held and grabs it exclusively (a grab while a key is down would
leave that key stuck in the console), then decodes its events with ``ScanDecoder`` and publishes scans and status
changes. When the device vanishes (``OSError`` ENODEV) it reports "disconnected" and polls until it returns.

Everything that touches the kernel goes through a small ``Device`` protocol and an ``opener`` function, so tests
drive the whole loop with a fake device. The ``evdev`` package is imported only when a real device is opened.
"""

from __future__ import annotations

import errno
import os
import re
import select
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from shopkeeper.errors import ShopError
from shopkeeper.scanner.decoder import Event, ScanDecoder
from shopkeeper.scanner.events import ScanEvent, SourceStatus, StatusState
from shopkeeper.scanner.keymaps import EV_KEY, KEY_0, KEY_1, KEY_ENTER
from shopkeeper.scanner.settings import ScannerSettings

UDEV_RULE = "contrib/99-shopkeeper-scanner.rules"
_VENDOR_PRODUCT = re.compile(r"^(?P<v>[0-9a-fA-F]{1,4}):(?P<p>[0-9a-fA-F]{1,4})$")
_GONE = frozenset({errno.ENODEV, errno.ENOENT, errno.ENXIO, errno.EIO})

# USB vendors whose keyboard-emulating devices are barcode scanners.
SCANNER_VENDORS = {
    0x0C2E: "Honeywell/Metrologic", 0x0536: "Hand Held Products", 0x05E0: "Symbol/Zebra", 0x05F9: "Datalogic",
    0x1EAB: "Newland", 0x080C: "Datalogic", 0x065A: "Opticon", 0x04B4: "", 0x1D57: "", 0x0483: "",
}
_GENERIC_VENDORS = {0x04B4, 0x1D57, 0x0483}  # chip vendors: only a hint together with a scanner-like name
_NAME_HINTS = re.compile(r"barcode|scanner|scan|imager|honeywell|symbol|zebra|datalogic|newland|metrologic|"
                         r"opticon|\bKBW\b|hand ?held", re.IGNORECASE)


class DeviceNotFound(ShopError, LookupError):
    """No input device matches the configured name or vendor:product (yet)."""


class Device(Protocol):
    """What the reader needs from an open input device (real: ``_EvdevDevice``; tests: a fake)."""

    name: str
    path: str

    def active_keys(self) -> list[int]: ...

    def grab(self) -> None: ...

    def ungrab(self) -> None: ...

    def close(self) -> None: ...

    def read_events(self, timeout: float) -> list[Event]:
        """Events available within ``timeout`` seconds ([] if none). Raises OSError(ENODEV) once unplugged."""
        ...


Opener = Callable[[str], Device]


# --- the real device -------------------------------------------------------------------------------------

def _evdev():
    try:
        import evdev
    except ImportError:
        raise ShopError("reading a scanner device needs the 'evdev' Python package (pip install evdev); "
                        "scans typed into the terminal work without it") from None
    return evdev


class _EvdevDevice:
    def __init__(self, path: str) -> None:
        self._dev = _evdev().InputDevice(path)
        self.name = self._dev.name
        self.path = path

    def active_keys(self) -> list[int]:
        return list(self._dev.active_keys())

    def grab(self) -> None:
        self._dev.grab()

    def ungrab(self) -> None:
        self._dev.ungrab()

    def close(self) -> None:
        self._dev.close()

    def read_events(self, timeout: float) -> list[Event]:
        ready, _, _ = select.select([self._dev.fd], [], [], timeout)
        if not ready:
            return []
        try:
            return [(e.type, e.code, e.value, e.timestamp()) for e in self._dev.read()]
        except BlockingIOError:
            return []


@dataclass(frozen=True)
class DeviceInfo:
    """One input device, as ``shopkeeper scanner list`` shows it."""

    path: str
    name: str
    vendor: int
    product: int
    phys: str = ""
    links: tuple[str, ...] = ()
    # /dev/input/by-id and by-path symlinks pointing at it: stable names for the config.
    keyboard: bool = False
    # Sends Enter and digits: a keyboard or a keyboard-emulating scanner.
    scanner: bool = False
    reason: str = ""
    # Why it looks (or not) like a scanner.
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def vendor_product(self) -> str:
        return f"{self.vendor:04x}:{self.product:04x}"


def looks_like_scanner(name: str, vendor: int, keyboard: bool, links: Iterable[str] = ()) -> tuple[bool, str]:
    """Guess whether a device is a barcode scanner, and say why."""
    if not keyboard:
        return False, "sends no Enter/digit keys"
    text = " ".join([name, *links])
    if _NAME_HINTS.search(text):
        return True, "name looks like a scanner"
    if vendor in SCANNER_VENDORS and vendor not in _GENERIC_VENDORS:
        return True, f"USB vendor {vendor:04x} makes scanners ({SCANNER_VENDORS[vendor]})"
    return False, "a keyboard"


def _links(directory: str = "/dev/input") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for sub in ("by-id", "by-path"):
        d = Path(directory, sub)
        if not d.is_dir():
            continue
        for link in sorted(d.iterdir()):
            try:
                out.setdefault(os.path.realpath(link), []).append(str(link))
            except OSError:
                continue
    return out


def list_input_devices() -> list[DeviceInfo]:
    """Every readable input device; unreadable ones are skipped (see ``unreadable_devices``)."""
    evdev = _evdev()
    links = _links()
    out = []
    for path in sorted(evdev.list_devices()):
        try:
            dev = evdev.InputDevice(path)
        except OSError:
            continue
        try:
            keys = set(dev.capabilities().get(EV_KEY, []))
            keyboard = KEY_ENTER in keys and {KEY_1, KEY_0} <= keys
            dev_links = tuple(links.get(os.path.realpath(path), []))
            scanner, reason = looks_like_scanner(dev.name, dev.info.vendor, keyboard, dev_links)
            out.append(DeviceInfo(path=path, name=dev.name, vendor=dev.info.vendor, product=dev.info.product,
                                  phys=dev.phys or "", links=dev_links, keyboard=keyboard, scanner=scanner,
                                  reason=reason))
        finally:
            dev.close()
    return out


def unreadable_devices(directory: str = "/dev/input") -> list[str]:
    """Event nodes this user may not open: a hint that permissions hide a scanner."""
    return sorted(str(p) for p in Path(directory).glob("event*") if not os.access(p, os.R_OK))


def resolve_device(spec: str, devices: Iterable[DeviceInfo] | None = None) -> str:
    """The device path for a config value: a path is returned as is; a name or ``vendor:product`` is looked up.

    Among several matches (a scanner often has a keyboard node and a consumer-control node) the one that sends
    Enter and digits wins. Raises ``DeviceNotFound``.
    """
    spec = spec.strip()
    if not spec:
        raise DeviceNotFound("no scanner device configured ([scanner] device)")
    if spec.startswith("/"):
        return spec
    candidates = list(devices) if devices is not None else list_input_devices()
    m = _VENDOR_PRODUCT.match(spec)
    if m:
        vendor, product = int(m["v"], 16), int(m["p"], 16)
        found = [d for d in candidates if d.vendor == vendor and d.product == product]
    else:
        found = [d for d in candidates if d.name == spec] or \
                [d for d in candidates if spec.lower() in d.name.lower()]
    if not found:
        raise DeviceNotFound(f"no input device matches {spec!r} (try `shopkeeper scanner list`)")
    found.sort(key=lambda d: (not d.keyboard, d.path))
    return found[0].path


def open_device(spec: str) -> Device:
    """Open the device ``spec`` names (see ``resolve_device``). Raises DeviceNotFound, PermissionError, OSError."""
    path = resolve_device(spec)
    if not os.path.exists(path):
        raise DeviceNotFound(f"{path} does not exist (is the scanner plugged in?)")
    return _EvdevDevice(path)


# --- who holds it ----------------------------------------------------------------------------------------

def find_holders(device_path: str, proc: str = "/proc") -> list[tuple[int, str]]:
    """(pid, command) of other processes with ``device_path`` open, from ``/proc/*/fd``.

    Processes of other users are invisible without root, so an empty list means "could not tell", not "nobody".
    """
    try:
        target = os.path.realpath(device_path)
    except OSError:
        return []
    me = os.getpid()
    holders = []
    for entry in Path(proc).iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.path.realpath(os.readlink(fd)) == target or os.readlink(fd) == target:
                    comm = (entry / "comm").read_text().strip() if (entry / "comm").exists() else "?"
                    holders.append((int(entry.name), comm))
                    break
            except OSError:
                continue
    return sorted(holders)


def permission_message(path: str) -> str:
    return (f"cannot open {path}: permission denied. Add your user to the 'input' group "
            f"(sudo usermod -aG input $USER, then log out and in again), or install the udev rule: "
            f"sudo cp {UDEV_RULE} /etc/udev/rules.d/ && sudo udevadm control --reload && sudo udevadm trigger")


def busy_message(path: str, holders: list[tuple[int, str]]) -> str:
    if holders:
        who = ", ".join(f"pid {pid} ({comm})" for pid, comm in holders)
        return (f"{path} is grabbed by another process: {who}. Only one program can hold a scanner: stop it, "
                f"or give this terminal another scanner.")
    return (f"{path} is grabbed by another process (could not tell which; `sudo fuser -v {path}` shows it). "
            f"Only one program can hold a scanner.")


# --- the reader ------------------------------------------------------------------------------------------

class EvdevScanSource:
    """A scan source for ``ScanHub``: one device, one reader thread.

    ``opener``, ``wall`` (the clock of event timestamps) and ``sleep`` are injectable for tests.
    """

    def __init__(self, settings: ScannerSettings, *, device: str | None = None, opener: Opener = open_device,
                 proc: str = "/proc", wall: Callable[[], float] = time.time, poll: float = 0.05) -> None:
        self.settings = settings
        self.spec = device if device is not None else settings.device
        self.name = self.spec or "scanner"
        self._opener = opener
        self._proc = proc
        self._wall = wall
        self._poll = poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state: StatusState | None = None
        self._emit: Callable[[ScanEvent], None] = lambda e: None
        self._status: Callable[[SourceStatus], None] = lambda s: None
        self.decoder = ScanDecoder(settings, source=self.name)

    # -- lifecycle ------------------------------------------------------------------------------------------

    def start(self, emit: Callable[[ScanEvent], None], status: Callable[[SourceStatus], None]) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._emit, self._status = emit, status
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name=f"scanner {self.name}", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the reader to stop without waiting for it (safe from any thread, even the reader's own)."""
        self._stop.set()

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def state(self) -> StatusState | None:
        return self._state

    def _report(self, state: StatusState, message: str) -> None:
        if state == self._state:
            return
        self._state = state
        self._status(SourceStatus(self.name, state, message))

    # -- the loop (runs in the thread; tests may call it directly) ------------------------------------------

    def run(self) -> None:
        retry = self.settings.reconnect_ms / 1000
        while not self._stop.is_set():
            device = self._open()
            if device is None:
                self._stop.wait(retry)
                continue
            try:
                self._serve(device)
            finally:
                try:
                    device.close()
                except OSError:
                    pass
            if not self._stop.is_set():
                self._stop.wait(retry)
        self._report("stopped", f"{self.name}: stopped")

    def _open(self) -> Device | None:
        try:
            return self._opener(self.spec)
        except PermissionError as exc:
            self._report("denied", permission_message(exc.filename or self.spec))
        except (DeviceNotFound, FileNotFoundError):
            if self._state in ("connected", "disconnected"):
                self._report("disconnected", f"{self.name}: unplugged; waiting for it to come back")
            else:
                self._report("waiting", f"{self.name}: not found; waiting for it to be plugged in")
        except OSError as exc:
            self._report("error", f"{self.name}: cannot open: {exc.strerror or exc}")
        except ShopError as exc:
            self._report("error", str(exc))
        return None

    def _serve(self, device: Device) -> None:
        decoder = self.decoder
        decoder.reset()
        try:
            if self.settings.grab:
                if not self._grab(device):
                    return
            self._report("connected", f"{device.name} ({device.path}): ready")
            while not self._stop.is_set():
                self._read_once(device)
        except OSError as exc:
            decoder.reset()
            if exc.errno in _GONE:
                self._report("disconnected", f"{device.name}: unplugged; waiting for it to come back")
            else:
                self._report("error", f"{device.name}: read failed: {exc.strerror or exc}")

    def _read_once(self, device: Device) -> None:
        events = device.read_events(self._poll)
        if not events:
            scan = self.decoder.expire(self._wall())
            if scan is not None:
                self._emit(scan)
            return
        feed = self.decoder.feed
        for etype, code, value, ts in events:
            scan = feed(etype, code, value, ts)
            if scan is not None:
                self._emit(scan)
            if etype == 0 and code == 3:  # SYN_DROPPED: restore the real modifier state
                self.decoder.set_held(device.active_keys())

    def _grab(self, device: Device) -> bool:
        """Grab once no key is held, decoding what arrives meanwhile. False if the device is busy or we stop."""
        while device.active_keys():
            self._report("waiting", f"{device.name}: waiting for keys to be released before taking it")
            if self._stop.is_set():
                return False
            self._read_once(device)
        try:
            device.grab()
        except OSError as exc:
            if exc.errno == errno.EBUSY:
                self._report("busy", busy_message(device.path, find_holders(device.path, self._proc)))
                return False
            raise
        return True
