"""The shop's files are its owner's: the database (with its ``-wal``/``-shm``), backups and configs hold every
sale, cost and PIN hash, so they are created readable by their owner only, or by the owner and one group (config
``[files] group``, for several OS users working one shop). Opening a database any user may read warns.

SQLite gives a database's ``-wal`` and ``-shm`` the database file's own mode, so creating the database file with
the right mode (before SQLite first opens it) is enough for them; ``secure`` puts the group on them as well.
"""

from __future__ import annotations

import contextlib
import grp
import os
import stat
from pathlib import Path

from shopkeeper.errors import ConfigError

SIDECARS = ("-wal", "-shm", "-journal", "-writers")  # -writers: db.WRITERS_LOCK, empty, given the group too


def mode_for(group: str = "") -> int:
    return 0o660 if group else 0o600


def _gid(group: str) -> int:
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise ConfigError(f"files.group: no group {group!r} on this computer", field="files.group") from None


def restrict_umask(group: str = "") -> int:
    """Make whatever this process creates from now on private (or shared with the group only); returns the old
    umask."""
    return os.umask(0o007 if group else 0o077)


def secure(path: str | os.PathLike, group: str = "") -> None:
    """Give ``path`` (and its SQLite sidecars, where present) the owner-only mode, or owner+group with ``group``."""
    gid = _gid(group) if group else -1
    for name in (str(path), *(f"{path}{suffix}" for suffix in SIDECARS)):
        with contextlib.suppress(FileNotFoundError):
            if gid != -1:
                os.chown(name, -1, gid)
            os.chmod(name, mode_for(group))


def create_private(path: str | os.PathLike, group: str = "") -> bool:
    """Create an empty ``path`` with the private mode if it does not exist yet (SQLite then makes a new database in
    it); returns whether it was created."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode_for(group))
    except FileExistsError:
        return False
    os.close(fd)
    secure(path, group)
    return True


def exposed(path: str | os.PathLike | None) -> str | None:
    """A warning when the database at ``path`` (or a sidecar) can be read by every user of this computer."""
    if path is None:
        return None
    for name in (str(path), *(f"{path}{suffix}" for suffix in SIDECARS)):
        try:
            mode = os.stat(name).st_mode
        except OSError:
            continue
        if mode & stat.S_IROTH:
            return (f"{name} can be read by every user of this computer (mode {stat.S_IMODE(mode):04o}): it holds "
                    f"every sale, cost and PIN hash; run `chmod 600 {Path(path).name}*` in {Path(path).parent} "
                    f"(or 660 with [files] group)")
    return None
