"""The real ``shopkeeper`` command in a real terminal (tmux, 80×24): start it, type into it, read the screen."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from shopkeeper.models import Movement, Product

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.requires("tmux")]


class Tmux:
    def __init__(self, command: str, env: dict[str, str]) -> None:
        self.socket = f"shopkeeper-test-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        self._tmux("new-session", "-d", "-x", "80", "-y", "24", f"cd {shlex.quote(str(ROOT))} && env {exports} "
                   f"{command}; echo EXITED $?; sleep 30")

    def _tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True,
                              timeout=10).stdout

    def keys(self, *keys: str) -> None:
        for key in keys:
            self._tmux("send-keys", key)
            time.sleep(0.05)  # a person's pace: a burst would be taken for a scanner

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p")

    def wait_for(self, text: str, timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on screen:\n{screen}")
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)


def test_shopkeeper_in_tmux_filters_receives_and_quits(shop, tmp_path):
    env = {
        "PYTHONPATH": str(ROOT), "TERM": "xterm-256color", "TZ": "UTC",
        "XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"], "XDG_DATA_HOME": os.environ["XDG_DATA_HOME"],
    }
    term = Tmux(f"{shlex.quote(sys.executable)} -m shopkeeper --db {shlex.quote(str(shop))} --staff Sam "
                f"--terminal till-9", env)
    try:
        term.wait_for("Low stock")
        screen = term.wait_for("staff: Sam")
        assert "MILK-1L" in screen
        term.keys(*"olive")
        screen = term.wait_for("SOAP-BAR")
        assert "OLIVES-KG" in screen and "MILK-1L" not in screen.split("Low stock")[0]
        term.keys("Escape", "F3")
        term.wait_for("Goods in")
        term.keys(*"TEA-EB", "Enter")
        term.wait_for("English breakfast tea")
        term.keys("5", "Enter", "Enter", *"INV-42", "Enter")
        term.wait_for("INV-42")
        term.keys("Escape")
        screen = term.wait_for("Find")
        assert "TEA-EB" in screen
        term.keys("C-q")
        term.wait_for("EXITED 0")
    finally:
        term.close()
    assert Product.get(Product.sku == "TEA-EB").on_hand == 7_000
    last = Movement.select().order_by(Movement.id.desc()).get()
    assert (last.reference, last.staff.name, last.terminal.name) == ("INV-42", "Sam", "till-9")
