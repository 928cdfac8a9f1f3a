"""Staff: ``staff add NAME --role R``, ``staff list [--json]``, ``staff set-pin NAME``, ``staff set-role NAME R``,
``staff deactivate NAME``. The command acts as ``--staff`` (or the OS user mapped in ``[staff] os_users``) and is
refused (exit 2) when that member may not manage staff, once any PIN is set. No output ever carries a PIN hash."""

from __future__ import annotations

import argparse
import sys

from shopkeeper.cli import EXIT_OK, Cli, add_json
from shopkeeper.errors import InvalidInput


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("staff", help="staff members: add, list, set a PIN or role, deactivate")
    staff = p.add_subparsers(dest="staff_command", metavar="ACTION", required=True,
                             parser_class=type(p))
    q = staff.add_parser("add", help="add a staff member")
    q.add_argument("name")
    q.add_argument("--role", default="cashier", help="a role of the config (default roles: cashier, supervisor, "
                                                     "owner; default: cashier)")
    q.set_defaults(func=add)
    q = staff.add_parser("list", help="the staff list (name, role, active, whether a PIN is set)")
    add_json(q)
    q.set_defaults(func=list_)
    q = staff.add_parser("set-pin", help="set a staff member's PIN: read from the terminal, or from stdin when it "
                                         "is not one (4 to 12 digits)")
    q.add_argument("name")
    q.set_defaults(func=set_pin)
    q = staff.add_parser("set-role", help="give a staff member another role")
    q.add_argument("name")
    q.add_argument("role")
    q.set_defaults(func=set_role)
    q = staff.add_parser("deactivate", help="a member who left: kept on the records, no longer signs in")
    q.add_argument("name")
    q.set_defaults(func=deactivate)


def add(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services import staff

    cli.open_db()
    info = staff.add(cli.context(), args.name, args.role)
    cli.emit(info.as_dict(), f"added {info.name} ({info.role}); set a PIN with `shopkeeper staff set-pin "
                             f"{info.name}`")
    return EXIT_OK


def list_(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services import staff
    from shopkeeper.services.permissions import roles_apply
    from shopkeeper.times import local_time

    cli.open_db()
    rows = staff.list_staff()

    def text() -> str:
        if not rows:
            return "no staff yet (add one with `shopkeeper staff add NAME --role owner`)"
        out = [f"{'name':<24} {'role':<12} {'PIN':<4} active"]
        out += [f"{r.name:<24} {r.role:<12} {'set' if r.has_pin else '-':<4} {'yes' if r.active else 'no'}"
                + (f"  locked until {local_time(r.locked_until)}" if r.locked_until else "") for r in rows]
        if not roles_apply():
            out.append("no PIN is set: roles do not apply yet, anyone may do anything")
        return "\n".join(out)

    cli.emit([r.as_dict() for r in rows], text)
    return EXIT_OK


def _read_pin() -> str:
    if sys.stdin.isatty():
        import getpass

        pin = getpass.getpass("PIN: ")
        if getpass.getpass("PIN again: ") != pin:
            raise InvalidInput("the two PINs differ; nothing was changed", field="pin")
        return pin
    line = sys.stdin.readline()
    if not line.strip():
        raise InvalidInput("no PIN on stdin (one line of 4 to 12 digits)", field="pin")
    return line.strip()


def set_pin(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services import staff

    cli.open_db()
    ctx = cli.context()
    pin = _read_pin()
    staff.set_pin(ctx, args.name, pin)
    cli.emit({"name": args.name, "pin": "set"}, f"PIN set for {args.name}")
    return EXIT_OK


def set_role(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services import staff

    cli.open_db()
    staff.set_role(cli.context(), args.name, args.role)
    cli.emit({"name": args.name, "role": args.role}, f"{args.name} is now {args.role}")
    return EXIT_OK


def deactivate(args: argparse.Namespace, cli: Cli) -> int:
    from shopkeeper.services import staff

    cli.open_db()
    staff.deactivate(cli.context(), args.name)
    cli.emit({"name": args.name, "active": False}, f"{args.name} is deactivated")
    return EXIT_OK
