"""Database locations as people give them (a path, ``sqlite:///…``, ``postgresql://user:pw@host/db``) and as we show
them: a path, or a PostgreSQL database and its host, never a password."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

_POSTGRES = ("postgres://", "postgresql://")


def is_postgres(location: str) -> bool:
    return location.startswith(_POSTGRES)


def sqlite_path(location: str) -> Path | None:
    """The file behind a database location, or None for PostgreSQL, other URLs and ``:memory:``."""
    if location == ":memory:" or is_postgres(location):
        return None
    if location.startswith("sqlite:///"):
        location = location[len("sqlite:///"):]  # sqlite:////abs/path, sqlite:///relative/path
    elif "://" in location:
        return None
    return Path(location).expanduser()


def has_password(location: str) -> bool:
    if not is_postgres(location):
        return False
    try:
        return bool(urlsplit(location).password)
    except ValueError:
        return ":" in location.split("://", 1)[1].split("@", 1)[0] if "@" in location else False


def redacted(location: str) -> str:
    """The location with any password replaced by ``***``, for a command line shown to the user."""
    if not has_password(location):
        return location
    scheme, rest = location.split("://", 1)
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def display_location(location: str) -> str:
    """``postgresql://u:pw@host:5432/shop`` → ``shop on host:5432 (PostgreSQL)``; a path as given."""
    if not is_postgres(location):
        return location
    try:
        parts = urlsplit(location)
        host = parts.hostname or "localhost"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(PostgreSQL, unreadable URL)"
    name = parts.path.lstrip("/") or "(default)"
    return f"{name} on {host}{port} (PostgreSQL)"
