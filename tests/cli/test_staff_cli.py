import io
import json
import os
import stat

import pytest

from shopkeeper.cli import main


@pytest.fixture
def shop(tmp_path, capsys, monkeypatch):
    db = str(tmp_path / "shop.db")
    config = tmp_path / "config.toml"

    def run(*args: str, staff: str | None = None, stdin: str | None = None, user: str = "nobody-here"):
        monkeypatch.setattr("getpass.getuser", lambda: user)
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(["--config", str(config), "--db", db, *(["--staff", staff] if staff else []), *args])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err

    run.db = db
    assert run("init")[0] == 0
    config.write_text(f'[database]\nurl = "{db}"\n[staff]\nos_users = {{ "shopowner" = "Olga" }}\n')
    return run


def test_staff_are_added_listed_given_pins_and_roles_and_deactivated(shop):
    assert shop("staff", "add", "Olga", "--role", "owner")[0] == 0
    assert shop("staff", "add", "Cam")[0] == 0
    code, out, err = shop("staff", "set-pin", "Olga", stdin="1111\n")
    assert (code, out.strip()) == (0, "PIN set for Olga")
    assert shop("staff", "set-pin", "Cam", staff="Olga", stdin="3333\n")[0] == 0
    assert shop("staff", "set-role", "Cam", "supervisor", staff="Olga")[0] == 0
    code, out, _ = shop("staff", "list", "--json")
    rows = json.loads(out)
    assert rows == [{"name": "Cam", "role": "supervisor", "active": True, "has_pin": True, "locked_until": None},
                    {"name": "Olga", "role": "owner", "active": True, "has_pin": True, "locked_until": None}]
    assert "scrypt" not in out and "1111" not in out
    assert shop("staff", "deactivate", "Cam", staff="Olga")[0] == 0
    code, out, _ = shop("audit", "--kind", "role_changed")
    assert code == 0 and "role_changed" in out and "Olga" in out and "Cam: cashier → supervisor" in out
    code, out, _ = shop("audit", "--json", "--staff", "Olga")
    kinds = [e["kind"] for e in json.loads(out)]
    assert kinds == ["staff_deactivated", "role_changed", "pin_set"]
    assert "scrypt" not in out


def test_the_cli_refuses_what_the_acting_member_may_not_do(shop):
    shop("staff", "add", "Olga", "--role", "owner")
    shop("staff", "add", "Cam")
    shop("staff", "set-pin", "Olga", stdin="1111\n")
    code, _, err = shop("staff", "add", "Mallory", "--role", "owner", staff="Cam")
    assert code == 2
    assert "Cam (cashier) may not manage staff" in err
    # the command line takes no PIN: it says how to act as someone who may instead
    assert "PIN is needed" not in err and "--staff NAME" in err
    code, _, err = shop("staff", "add", "Mallory")  # nobody named, and this OS user is not mapped
    assert code == 2 and "no staff member is named" in err
    code, out, err = shop("staff", "add", "Mallory", user="shopowner")  # the OS user mapped to Olga
    assert code == 0, err
    code, out, _ = shop("audit", "--kind", "staff_added", "--json", "--limit", "1")
    assert json.loads(out)[0]["staff"] == "Olga"


def test_a_pin_from_stdin_is_checked_and_a_bad_one_is_refused_with_exit_2(shop):
    shop("staff", "add", "Olga", "--role", "owner")
    code, _, err = shop("staff", "set-pin", "Olga", stdin="12\n")
    assert code == 2 and "4 to 12 digits" in err
    code, _, err = shop("staff", "set-pin", "Olga", stdin="")
    assert code == 2 and "no PIN on stdin" in err
    code, _, err = shop("staff", "set-role", "Olga", "boss")
    assert code == 2 and "no role 'boss'" in err


def test_an_audit_kind_that_names_nothing_is_refused_with_the_kinds(shop):
    shop("staff", "add", "Olga", "--role", "owner")
    code, out, err = shop("audit", "--kind", "void")
    assert code == 2 and "'void' is not a kind" in err and "sale_voided" in err
    assert shop("audit", "--kind", "sale_voided")[0] == 0  # a kind none of which happened yet: just none
    code, out, _ = shop("audit", "--kind", "staff_added", "--json")
    assert code == 0 and len(json.loads(out)) == 1


def test_the_database_and_its_backup_are_readable_by_their_owner_only(shop, tmp_path):
    shop("staff", "add", "Olga", "--role", "owner")
    assert stat.S_IMODE(os.stat(shop.db).st_mode) == 0o600
    code, _, _ = shop("backup", str(tmp_path / "copy.db"))
    assert code == 0
    assert stat.S_IMODE(os.stat(tmp_path / "copy.db").st_mode) == 0o600
    code, out, _ = shop("audit", "--kind", "backup_made", "--json")
    assert json.loads(out)[0]["detail"]["path"] == str(tmp_path / "copy.db")


def test_opening_a_database_anyone_can_read_warns(shop):
    shop("staff", "list")
    os.chmod(shop.db, 0o644)
    code, _, err = shop("staff", "list")
    assert code == 0
    assert "can be read by every user of this computer (mode 0644)" in err


def test_a_product_export_is_in_the_audit_trail(shop, tmp_path):
    code, _, _ = shop("products", "export", str(tmp_path / "p.csv"), staff="Olga")
    assert code == 0
    code, out, _ = shop("audit", "--kind", "export_made", "--json")
    (event,) = json.loads(out)
    assert (event["staff"], event["detail"]["target"]) == ("Olga", str(tmp_path / "p.csv"))


def test_the_headless_counter_acts_as_the_configured_staff_member(tmp_path):
    from shopkeeper.cli import Cli, build_parser
    from shopkeeper.cli.counter_cmd import _counter_context

    config = tmp_path / "config.toml"
    config.write_text('[staff]\ncounter = "Door"\n')
    cli = Cli(build_parser().parse_args(["--config", str(config), "staff", "list"]))
    assert _counter_context(cli).staff == "Door"
    cli = Cli(build_parser().parse_args(["--config", str(config), "--staff", "Olga", "staff", "list"]))
    assert _counter_context(cli).staff == "Olga"  # --staff still wins
