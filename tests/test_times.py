"""Times as people see and type them: local, with four-digit years and the zone said once; stored as UTC."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from shopkeeper.cli import main
from shopkeeper.times import local_time, parse_local, zone_label
from tests.conftest import in_zone


@pytest.fixture
def kolkata(monkeypatch):
    """A zone half an hour off any whole-hour mistake."""
    yield from in_zone(monkeypatch, "Asia/Kolkata")


def test_stored_utc_is_shown_as_local_time_with_a_four_digit_year(kolkata):
    assert local_time("2026-01-05T22:00:00.000000Z") == "2026-01-06 03:30"
    assert local_time("2026-01-05T22:00:00.000000Z", seconds=True) == "2026-01-06 03:30:00"
    assert zone_label() == "Asia/Kolkata (IST, UTC+05:30)"


def test_typed_dates_and_times_are_local_unless_they_say_otherwise(kolkata):
    assert parse_local("2026-01-06") == "2026-01-05T18:30:00.000000Z"
    assert parse_local("2026-01-06", end=True) == "2026-01-06T18:30:00.000000Z"
    assert parse_local("2026-01-06 03:30") == parse_local("2026-01-06T03:30") == "2026-01-05T22:00:00.000000Z"
    assert parse_local("2026-01-06T03:30Z") == "2026-01-06T03:30:00.000000Z"
    with pytest.raises(ValueError, match="--since: 'yesterday' is not a date"):
        parse_local("yesterday", what="--since")


def test_tui_times_have_four_digit_years(monkeypatch):
    from shopkeeper.tui.format import local_time as tui_time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert tui_time("2026-01-05T10:00:00.000000Z") == "2026-01-05 10:00"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_journal_reads_since_as_local_and_prints_local_times(kolkata, tmp_path, capsys):
    db = str(tmp_path / "shop.db")
    csv = tmp_path / "p.csv"
    csv.write_text("sku,name,price\nMILK,Milk,1.29\n")
    assert main(["--config", str(tmp_path / "c.toml"), "--db", db, "init"]) == 0
    assert main(["--db", db, "products", "import", str(csv)]) == 0
    assert main(["--db", db, "--staff", "ann", "receive", "MILK", "3"]) == 0
    capsys.readouterr()
    a_minute_ago = (dt.datetime.now() - dt.timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")  # local wall clock
    assert main(["--db", db, "--json", "journal", "--since", a_minute_ago]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["time"].endswith("Z")  # JSON keeps the stored UTC text
    assert main(["--db", db, "journal", "--since", a_minute_ago]) == 0
    header, line = capsys.readouterr().out.splitlines()
    assert header == "times in Asia/Kolkata (IST, UTC+05:30)"
    assert local_time(row["time"], seconds=True) in line
