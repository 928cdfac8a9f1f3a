"""``shopkeeper export books``: every format to stdout or a file (written whole), an audit event per export, bad
dates and formats exit 2 with one line, never a traceback."""

from __future__ import annotations

import json
import subprocess

import pytest

from shopkeeper.db import close_database, open_database
from shopkeeper.models import AuditEvent
from shopkeeper.services.books_format import FORMATS
from shopkeeper.services.context import Context
from tests.books_shop import seed
from tests.conftest import bean_check

PERIOD = ("--from", "2026-11-02", "--to", "2026-11-03")


@pytest.fixture
def shop(run):
    assert run("init")[0] == 0
    open_database(run.db)
    try:
        seed(Context(staff="tester", terminal="till-1"))
    finally:
        close_database()
    return run


def _events(run) -> list[AuditEvent]:
    open_database(run.db)
    try:
        return list(AuditEvent.select().where(AuditEvent.kind == "export_made").order_by(AuditEvent.id))
    finally:
        close_database()


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_to_stdout_and_to_a_file_are_the_same_bytes(shop, tmp_path, fmt):
    code, out, _ = shop("export", "books", *PERIOD, "--format", fmt)
    assert code == 0 and out
    target = tmp_path / f"books.{fmt}"
    code, again, err = shop("export", "books", *PERIOD, "--format", fmt, "--out", str(target))
    assert code == 0 and again == ""
    assert "wrote 3 transactions from 2026-11-02 to 2026-11-03" in err
    assert target.read_text(encoding="utf-8") == out
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_every_export_is_recorded_in_the_audit_log(shop, tmp_path):
    assert shop("export", "books", *PERIOD, "--format", "csv", "--out", str(tmp_path / "b.csv"))[0] == 0
    (event,) = _events(shop)
    detail = json.loads(event.detail)
    assert event.subject == "books:2026-11-02:2026-11-03"
    assert detail["format"] == "csv" and detail["transactions"] == 3 and detail["out"].endswith("b.csv")


@pytest.mark.parametrize(("args", "message"), [
    (("--from", "2026-13-01", "--to", "2026-11-03", "--format", "csv"), "--from: '2026-13-01' is not a date"),
    (("--from", "2026-11-04", "--to", "2026-11-03", "--format", "csv"), "--from 2026-11-04 is after --to 2026-11-03"),
    ((*PERIOD, "--format", "gnucash"), "invalid choice: 'gnucash'"),
    (("--to", "2026-11-03", "--format", "csv"), "the following arguments are required: --from"),
])
def test_bad_dates_and_formats_exit_2_with_one_line(shop, capsys, args, message):
    try:
        code, out, err = shop("export", "books", *args)
    except SystemExit as exc:  # argparse's usage errors (CliParser: one line, exit 2)
        code, (out, err) = exc.code, capsys.readouterr()
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1
    assert _events(shop) == []


def test_an_unwritable_out_file_exits_2_and_leaves_nothing(shop, tmp_path):
    code, _, err = shop("export", "books", *PERIOD, "--format", "csv", "--out", str(tmp_path / "no" / "b.csv"))
    assert code == 2 and "cannot write" in err
    assert list(tmp_path.glob("**/*partial*")) == []


@pytest.mark.requires("bean-check", "hledger", "ledger")
def test_the_day_with_a_z_report_0_50_short_passes_every_tool(shop, tmp_path):
    """The issue's "done when", on the rows the tills and payments branches write: cash, card, split, a refund, a
    paid-out, a drawer counted 0.50 short — the export of that day passes bean-check, hledger and ledger."""
    day = ("--from", "2026-11-02", "--to", "2026-11-02")
    files = {}
    for fmt in ("beancount", "hledger", "ledger"):
        files[fmt] = tmp_path / f"day.{fmt}"
        assert shop("export", "books", *day, "--format", fmt, "--out", str(files[fmt]))[0] == 0
    assert "Expenses:Cash-Over-Short                    0.50 EUR" in files["ledger"].read_text()
    for cmd in ([bean_check(), files["beancount"]], ["hledger", "-f", files["hledger"], "check", "--strict"],
                ["ledger", "-f", files["ledger"], "--pedantic", "balance"]):
        done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr


def test_a_cashier_may_not_export_the_books_and_a_training_copy_has_none(shop):
    from shopkeeper.models import ShopSetting
    from shopkeeper.services import training
    from tests.staff_helpers import add_staff

    open_database(shop.db)
    try:
        add_staff()
    finally:
        close_database()
    code, _, err = shop("--staff", "Cam", "export", "books", *PERIOD, "--format", "csv")
    assert code == 2 and "may not export the books" in err and "Traceback" not in err
    assert shop("--staff", "Olga", "export", "books", *PERIOD, "--format", "csv")[0] == 0
    open_database(shop.db)
    try:
        ShopSetting.insert(key=training.SETTING, value="1").execute()
    finally:
        close_database()
        training._active.clear()
    code, _, err = shop("--staff", "Olga", "export", "books", *PERIOD, "--format", "csv")
    training._active.clear()
    assert code == 2 and "training copy" in err
