"""serve: the app in a browser (textual-serve), for a tablet at the counter or an owner in the back office."""

from __future__ import annotations

import argparse
import os
import shlex
import socket
import sys
from urllib.parse import urlsplit

from shopkeeper.cli import EXIT_OK, Cli
from shopkeeper.errors import ShopError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the app to web browsers (each browser tab is a till of its own)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; any other asks for a login)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--public-url", metavar="URL",
                   help="the address browsers use when a reverse proxy stands in front, e.g. https://till.example")
    p.add_argument("--login", action="store_true",
                   help="ask for the login token on localhost too (behind a reverse proxy that checks nobody)")
    p.set_defaults(func=serve)


def _child_command(args: argparse.Namespace) -> str:
    """The command textual-serve runs for each browser: this shopkeeper, its global options. The database and
    config go by environment (``$SHOPKEEPER_DB``, ``$SHOPKEEPER_CONFIG``), so a password in a PostgreSQL URL is
    never on a command line that ``ps`` shows."""
    command = [sys.executable, "-m", "shopkeeper"]
    if args.staff is not None:
        command += ["--staff", args.staff]
    if args.terminal is not None:
        command += ["--terminal", args.terminal]
    return shlex.join(command)


def serve(args: argparse.Namespace, cli: Cli) -> int:
    try:
        from shopkeeper.serve import ServeGuard, ShopServer, is_loopback, needs_login, new_token
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith(("textual_serve", "aiohttp")):
            raise
        raise ShopError("shopkeeper serve needs textual-serve: pip install 'shopkeeper[serve]'") from exc
    from shopkeeper.db import close_database
    from shopkeeper.locations import display_location

    if not 0 < args.port < 65536:
        raise ShopError(f"--port: {args.port} is not a port (1 to 65535)", field="port")
    if args.public_url:
        public = urlsplit(args.public_url)
        if public.scheme not in ("http", "https") or not public.hostname:
            raise ShopError(f"--public-url: {args.public_url!r} is not an http:// or https:// address",
                            field="public_url")
        if public.path.strip("/") or public.query:
            raise ShopError(f"--public-url: {args.public_url!r}: the till is served at the root of its own address "
                            "(https://till.example), not under a path", field="public_url")
        args.public_url = f"{public.scheme}://{public.netloc}"
    cli.open_db(create=False)  # a wrong --db is told now, not in every browser that connects
    close_database()
    os.environ["SHOPKEEPER_DB"] = cli.location
    if args.config:
        os.environ["SHOPKEEPER_CONFIG"] = os.path.abspath(args.config)

    token = new_token() if args.login or needs_login(args.host) else None
    guard = ServeGuard(token=token, port=args.port, public_url=args.public_url)
    shown_host = socket.gethostname() if args.host in ("", "0.0.0.0", "::") else args.host  # all addresses
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    url = (args.public_url or f"http://{shown_host}:{args.port}").rstrip("/") + "/"
    shop = display_location(cli.location)
    till = args.terminal or cli.config.till.terminal  # a name given on purpose: every app claims exactly it

    def banner() -> None:
        lines = [f"shopkeeper serve: the app for {shop} at {url}"]
        if token:
            lines += [f"login: open {url}?token={token}",
                      f"  (or type the token {token} on the page it asks for; a new one every start)"]
        if not is_loopback(args.host):
            lines.append("warning: browsers reach this till over plain http, readable on the network: prefer "
                         "--host 127.0.0.1 with an SSH tunnel, or a reverse proxy with TLS (see docs/serve.md)")
        else:
            lines.append(f"only this machine can connect; from another: ssh -L {args.port}:{shown_host}:{args.port} "
                         f"{socket.gethostname()}, then open http://localhost:{args.port}/ there (see docs/serve.md)")
        if till:
            lines.append(f"every browser tab is till {till}: one tab at a time (see docs/tills.md); Ctrl+C stops "
                         "serving")
        else:
            lines.append("each browser tab is a till of its own (see docs/tills.md); Ctrl+C stops serving")
        print(cli.lines("\n".join(lines)), flush=True)

    server = ShopServer(_child_command(args), host=args.host, port=args.port, guard=guard,
                        public_url=args.public_url, banner=banner)
    try:
        server.serve()
    except OSError as exc:
        reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
        raise ShopError(f"cannot listen on {args.host} port {args.port}: {reason}",
                        field="port") from exc
    return EXIT_OK
