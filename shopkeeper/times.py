"""Times as people read and write them: local, four-digit years; stored as UTC ISO-8601 text.

The database keeps UTC (``2026-11-25T10:00:00.123456Z``) so tills in one shop agree and text sorts as time does.
Everything shown (CLI text, screens) is the local time of the machine showing it, with the zone said once
(``zone_label``), and every date or time a person types is read as local time unless it names its own offset.
JSON output keeps the stored UTC text: it is data for programs, not a display.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

UTC_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_utc_text(moment: dt.datetime) -> str:
    """An aware datetime (or a naive one taken as local time) as stored UTC text."""
    return moment.astimezone(dt.UTC).strftime(UTC_FORMAT)


def parse_stored(utc_iso: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(utc_iso.replace("Z", "+00:00"))
    except ValueError:
        return None


def local_time(utc_iso: str, *, seconds: bool = False) -> str:
    """``2026-01-05T10:00:00.000000Z`` → ``2026-01-05 11:00`` in the local time zone."""
    if not utc_iso:
        return ""
    moment = parse_stored(utc_iso)
    if moment is None:
        return utc_iso[:19 if seconds else 16]
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def zone_name() -> str:
    """The local zone's name: ``$TZ``, else the IANA name ``/etc/localtime`` points at, else its abbreviation."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and "/" in tz and not tz.startswith("/"):
        return tz
    try:
        target = str(Path("/etc/localtime").resolve())
    except OSError:
        target = ""
    if not tz and "zoneinfo/" in target:
        return target.split("zoneinfo/", 1)[1]
    return dt.datetime.now().astimezone().tzname() or "local time"


def zone_label() -> str:
    """``Europe/Paris (CET, UTC+01:00)``: said once wherever local times are listed."""
    now = dt.datetime.now().astimezone()
    offset = now.strftime("%z")
    offset = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    name, abbr = zone_name(), now.tzname() or ""
    if abbr == "UTC" and name.rsplit("/", 1)[-1] in ("UTC", "UCT", "Universal", "Zulu"):
        return "UTC"
    if name == abbr or not abbr or abbr == offset:
        return f"{name} ({offset})"
    return f"{name} ({abbr}, {offset})"


def parse_local(text: str, *, what: str = "time", end: bool = False) -> str:
    """A date or time a person typed → stored UTC text. ``2026-11-25``, ``2026-11-25 09:30`` and
    ``2026-11-25T09:30`` are local time; an explicit offset (``…+01:00``, ``…Z``) is respected.

    A bare date means its start, or with ``end`` the start of the next day. Raises ValueError naming ``what``."""
    raw = text.strip()
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{what}: {raw!r} is not a date like 2026-11-25 or a time like 2026-11-25 09:30 "
                         "(local time)") from None
    if moment.year < 1000:
        raise ValueError(f"{what}: {raw!r}: write the year with four digits")
    if end and len(raw) == 10:
        moment += dt.timedelta(days=1)
    return to_utc_text(moment)
