"""``shopkeeper serve``: the guard in front of textual-serve, and a real browser ringing up a sale through it."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from shopkeeper.cli import main
from shopkeeper.models import Movement, Sale, TillClaim
from shopkeeper.serve import COOKIE, ServeGuard, ShopServer, is_loopback, needs_login

ROOT = Path(__file__).resolve().parents[2]
MILK = "4006381333931"  # the demo shop's whole milk, 1.29


def _ask(guard: ServeGuard, requests, public_url: str | None = None):
    """Run ``requests(client)`` against the real served web app (no app process is started)."""

    async def go():
        server = ShopServer("false", host="127.0.0.1", port=0, guard=guard, public_url=public_url,
                            banner=lambda: None)
        async with TestClient(TestServer(await server._make_app())) as client:
            return await requests(client)

    return asyncio.run(go())


def test_only_localhost_is_served_without_a_login():
    assert not needs_login("127.0.0.1") and not needs_login("localhost") and not needs_login("::1")
    assert needs_login("0.0.0.0") and needs_login("::") and needs_login("192.168.1.20") and needs_login("shop-pc")
    assert is_loopback("[::1]") and is_loopback("127.0.0.2") and not is_loopback("localhost.evil.example")


def test_a_till_beyond_localhost_asks_for_the_token_and_keeps_it_in_a_cookie():
    async def requests(client):
        bare = await client.get("/")
        wrong = await client.get("/?token=guess")
        socket_without_login = await client.get("/ws")
        login = await client.get("/?token=s3cret&fontsize=20", allow_redirects=False)
        page = await client.get("/")
        return (bare.status, await bare.text(), wrong.status, await wrong.text(), socket_without_login.status,
                login.status, login.headers["Location"], login.headers["Set-Cookie"], page.status, await page.text())

    (bare, bare_text, wrong, wrong_text, socket_status, login, location, cookie, page,
     page_text) = _ask(ServeGuard(token="s3cret", port=8000), requests)
    assert bare == 401 and "printed when it started" in bare_text and 'name="token"' in bare_text
    assert wrong == 401 and "not the one" in wrong_text
    assert socket_status == 401  # the app behind the page is out of reach too
    assert login == 303 and location == "/?fontsize=20"  # the token leaves the address bar
    assert f"{COOKIE}_8000=s3cret" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert page == 200 and "data-session-websocket-url" in page_text


def test_a_page_from_another_site_never_drives_the_till():
    """Localhost without a login: another site's name pointed at 127.0.0.1 (DNS rebinding) gets nothing, and the
    websocket that runs the app is refused to a script from another origin."""

    async def requests(client):
        page = await client.get("/")
        rebound = await client.get("/", headers={"Host": f"evil.example:{client.port}"})
        cross_site = await client.get("/ws", headers={"Origin": "http://evil.example"})
        return page.status, await page.text(), rebound.status, cross_site.status

    page, text, rebound, cross_site = _ask(ServeGuard(token=None, port=8000), requests)
    assert page == 200 and re.search(r'data-session-websocket-url="ws://127\.0\.0\.1:\d+/ws"', text)
    assert (rebound, cross_site) == (403, 403)


def test_behind_a_reverse_proxy_the_page_points_at_the_public_address():
    async def requests(client):
        page = await client.get("/", headers={"Host": "till.example"})
        return page.status, await page.text()

    status, text = _ask(ServeGuard(token=None, port=8000, public_url="https://till.example"), requests,
                        public_url="https://till.example")
    assert status == 200 and 'data-session-websocket-url="wss://till.example/ws"' in text
    assert 'src="https://till.example/static/js/textual.js"' in text


def test_serve_refuses_a_bad_port_and_a_missing_database(tmp_path, capsys):
    assert main(["--db", str(tmp_path / "shop.db"), "serve", "--port", "70000"]) == 2
    assert "--port: 70000" in capsys.readouterr().err
    assert main(["--db", str(tmp_path / "shop.db"), "serve", "--public-url", "https://shop.example/till"]) == 2
    assert "not under a path" in capsys.readouterr().err
    assert main(["--db", str(tmp_path / "none.db"), "serve", "--port", "8123"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_the_app_needs_a_terminal_unless_a_textual_driver_brings_its_screen(tmp_path, capsys, monkeypatch):
    """textual-serve runs ``shopkeeper`` with its output on a pipe and ``$TEXTUAL_DRIVER`` naming its web driver."""
    missing = str(tmp_path / "none.db")
    assert main(["--db", missing]) == 2
    assert "needs a terminal" in capsys.readouterr().err
    monkeypatch.setenv("TEXTUAL_DRIVER", "textual.drivers.web_driver:WebDriver")
    assert main(["--db", missing]) == 2  # past the check: to the database, which is not there
    err = capsys.readouterr().err
    assert "needs a terminal" not in err and "none.db" in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# xterm.js draws the terminal on a canvas: the test reads its text from the xterm Terminal object, which the page
# keeps in a closure. This hook, run before the page's scripts, catches it when the page stores it (``this.terminal
# = new Terminal(...)``) by a setter on Object.prototype, then steps aside with a plain property.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, 'terminal', {configurable: true, set(value) {
  Object.defineProperty(this, 'terminal', {value, writable: true, configurable: true, enumerable: true});
  if (value && value.buffer && !window.shopkeeperTerminal) window.shopkeeperTerminal = value;
}});
"""
READ_SCREEN = """
const t = window.shopkeeperTerminal;
if (!t) return '';
const lines = [];
for (let y = 0; y < t.rows; y++) lines.push(t.buffer.active.getLine(y).translateToString(true));
return lines.join('\\n');
"""


@pytest.mark.slow
@pytest.mark.requires("chromium")
def test_a_browser_rings_up_a_sale(demo_db, db_path, tmp_path):
    """``shopkeeper serve --login`` and headless Chromium: the login page, the token, the stock screen, keys typed
    in the page (F2, a scanned code, F8 and Enter) reach the app, and the sale is committed at the browser's own till."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    from shopkeeper.db import close_database, open_database

    close_database()
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), TEXTUAL_ANIMATIONS="none")
    server = subprocess.Popen([sys.executable, "-m", "shopkeeper", "--db", str(db_path), "--staff", "Ana", "serve",
                               "--port", str(port), "--login"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env, cwd=ROOT)
    browser = None
    try:
        banner = server.stdout.readline()  # printed once the port is bound
        assert banner.startswith("shopkeeper serve:"), server.stderr.read()
        login = re.search(r"login: open (\S+)", server.stdout.readline()).group(1)
        assert login.startswith(f"http://127.0.0.1:{port}/?token=")

        options = webdriver.ChromeOptions()
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1024,768", f"--user-data-dir={tmp_path / 'chromium'}"):
            options.add_argument(flag)
        options.binary_location = shutil.which("chromium")  # the system's own: Selenium Manager never downloads one
        browser = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
        browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CATCH_TERMINAL})

        browser.get(f"http://127.0.0.1:{port}/")
        assert "printed when it started" in browser.page_source  # no token, no till
        browser.get(login)
        assert browser.current_url == f"http://127.0.0.1:{port}/"  # the token is now a cookie

        def wait_for(text: str) -> str:
            screen = ""

            def shown(_) -> bool:
                nonlocal screen
                screen = browser.execute_script(READ_SCREEN)
                return text in screen

            try:
                WebDriverWait(browser, 20, poll_frequency=0.1).until(shown)
            except Exception as exc:
                raise AssertionError(f"{text!r} never appeared in the page:\n{screen}") from exc
            return screen

        screen = wait_for("Low stock")
        assert "MILK-1L" in screen and "staff: Ana" in screen
        keys = browser.find_element("css selector", ".xterm-helper-textarea")  # where xterm.js takes keys
        keys.send_keys(Keys.F2)
        wait_for("scan or type a code")
        keys.send_keys(MILK + Keys.ENTER)
        wait_for("TOTAL EUR 1.29")
        keys.send_keys(Keys.F8)
        wait_for("Remaining 1.29")  # the payment dialog on card: Enter charges the rest
        keys.send_keys(Keys.ENTER)
        wait_for("✓ Sale #")
        # With the page still open: its app quits as on Ctrl+Q and gives its till up, at once (a server that left
        # the sessions open would wait for the browsers, up to aiohttp's shutdown timeout of a minute).
        server.terminate()
        _, errors = server.communicate(timeout=15)
        assert server.returncode == 0, errors
    finally:
        if browser is not None:
            browser.quit()
        if server.poll() is None:
            server.kill()
            server.communicate()
    open_database(str(db_path))
    assert not TillClaim.select().exists()
    sale = Sale.select().order_by(Sale.id.desc()).get()
    assert (sale.total, sale.payment, sale.staff.name) == (129, "card", "Ana")
    assert sale.terminal.name == socket.gethostname()  # a browser tab is a till named like any session's
    (movement,) = Movement.select().where(Movement.sale == sale)
    assert (movement.product.sku, movement.kind, movement.quantity) == ("MILK-1L", "sale", -1000)
