"""The shop's files are its owner's: database, -wal, -shm, backups, configs (shopkeeper/files.py)."""

import grp
import os
import stat

from shopkeeper import files
from shopkeeper.config import Config, FilesSection, write_config
from shopkeeper.db import close_database, open_database
from shopkeeper.models import Staff


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_database_and_its_wal_and_shm_are_readable_by_their_owner_only(tmp_path):
    path = tmp_path / "shop.db"
    old = os.umask(0o022)  # a permissive umask: the files must be private anyway
    try:
        open_database(str(path))
        Staff.insert(name="Olga").execute()
        assert {_mode(path), _mode(f"{path}-wal"), _mode(f"{path}-shm")} == {0o600}
        assert files.exposed(path) is None
    finally:
        close_database()
        os.umask(old)


def test_a_database_anyone_can_read_is_named_with_the_fix(tmp_path):
    path = tmp_path / "shop.db"
    open_database(str(path))
    close_database()
    os.chmod(path, 0o644)
    warning = files.exposed(path)
    assert warning and "mode 0644" in warning and "chmod 600" in warning


def test_with_a_group_the_files_are_the_owners_and_the_groups(tmp_path):
    group = grp.getgrgid(os.getgid()).gr_name
    path = tmp_path / "shop.db"
    assert files.create_private(path, group)
    assert _mode(path) == 0o660 and os.stat(path).st_gid == os.getgid()
    assert not files.create_private(path, group)  # there already: left as it is


def test_a_written_config_is_its_owners(tmp_path):
    write_config(tmp_path / "config.toml", Config())
    assert _mode(tmp_path / "config.toml") == 0o600
    shared = Config(files=FilesSection(group=grp.getgrgid(os.getgid()).gr_name))
    old = os.umask(0o002)
    try:
        write_config(tmp_path / "shared.toml", shared)
    finally:
        os.umask(old)
    assert _mode(tmp_path / "shared.toml") == 0o660
