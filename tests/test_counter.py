"""The headless counter, driven by evtest recordings replayed through the real decoder and scan hub."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shopkeeper.counter import Counter, Feedback, run
from shopkeeper.models import CountLine, CountSession, Movement, OpenSale, Product, Sale
from shopkeeper.scanner.keymaps import EV_KEY, KEY_ENTER, KEY_LEFTSHIFT, get_keymap, keys_for
from shopkeeper.scanner.replay import ReplaySource
from shopkeeper.services import stock

MILK, COFFEE = "4006381333931", "8711000530085"
ROOT = Path(__file__).resolve().parents[1]


def evtest_recording(codes: list[str], *, gap: float = 0.05, start: float = 1_700_000_000.0,
                     name: str = "Honeywell 1900") -> str:
    """An evtest transcript of a US-layout scanner typing each code and Enter, ``gap`` seconds between scans."""
    keymap = get_keymap("us")
    out = [f'Input device name: "{name}"', "Testing ... (interrupt to exit)"]
    t = start

    def event(code: int, value: int) -> None:
        nonlocal t
        t += 0.002
        out.append(f"Event: time {t:.6f}, type {EV_KEY} (EV_KEY), code {code} (KEY_{code}), value {value}")
        out.append(f"Event: time {t:.6f}, -------------- SYN_REPORT ------------")

    for code in codes:
        for key, shift, _altgr in [*keys_for(code, keymap), (KEY_ENTER, False, False)]:
            if shift:
                event(KEY_LEFTSHIFT, 1)
            event(key, 1)
            event(key, 0)
            if shift:
                event(KEY_LEFTSHIFT, 0)
        t += gap
    return "\n".join(out) + "\n"


@pytest.fixture
def recording(tmp_path):
    def make(codes: list[str], **kw) -> Path:
        path = tmp_path / f"scan-{len(list(tmp_path.glob('scan-*')))}.txt"
        path.write_text(evtest_recording(codes, **kw))
        return path

    return make


def on_hand(sku: str) -> int:
    return Product.get(Product.sku == sku).on_hand


def test_sell_each_scan_is_its_own_sale(demo_db, ctx, recording):
    before = on_hand("MILK-1L")
    sales_before = Sale.select().count()
    counter = Counter(ctx, "sell")
    assert run(counter, ReplaySource(recording([MILK, MILK, COFFEE])), install_signals=False) == 0
    new = list(Sale.select().where(Sale.id > sales_before).order_by(Sale.id))
    assert [s.total for s in new] == [129, 129, 1150] and {s.payment for s in new} == {"other"}
    assert on_hand("MILK-1L") == before - 2000
    assert not OpenSale.select().exists()
    assert (counter.scans, counter.errors, counter.sales) == (3, 0, 3)


def test_ten_scans_back_to_back_are_ten_sales(demo_db, ctx, recording):
    before = on_hand("WATER-1.5")
    counter = Counter(ctx, "sell")
    run(counter, ReplaySource(recording(["WATER-1.5"] * 10, gap=0.0)), install_signals=False)
    assert on_hand("WATER-1.5") == before - 10_000 and counter.sales == 10


def test_sell_grouped_by_total_code(demo_db, ctx, recording):
    sales_before = Sale.select().count()
    counter = Counter(ctx, "sell", sale_end="idle", total_code="TOTAL", idle_seconds=60)
    run(counter, ReplaySource(recording([MILK, MILK, COFFEE, "TOTAL", MILK])), install_signals=False)
    new = list(Sale.select().where(Sale.id > sales_before).order_by(Sale.id))
    # the total code ends the first sale; the end of the stream commits the second
    assert [s.total for s in new] == [2 * 129 + 1150, 129]


def test_sell_grouped_sale_ends_after_idle_timeout(demo_db, ctx):
    now = [1000.0]
    counter = Counter(ctx, "sell", sale_end="idle", idle_seconds=0.2, clock=lambda: now[0])
    counter.handle(MILK)
    now[0] += 0.1
    counter.handle(MILK)
    assert OpenSale.select().count() == 1 and Sale.select().count() == 25  # 25 demo sales
    counter.tick(now[0] + 0.19)
    assert Sale.select().count() == 25, "not yet idle: 0.19 s since the last scan"
    counter.tick(now[0] + 0.2)
    assert Sale.select().order_by(Sale.id.desc()).first().total == 258 and not OpenSale.select().exists()


def test_a_grouped_sale_left_by_a_crash_is_committed_on_start(demo_db, ctx):
    Counter(ctx, "sell", sale_end="idle").handle(COFFEE)  # then the process died
    counter = Counter(ctx, "sell", sale_end="idle")
    counter.begin()
    assert not OpenSale.select().exists() and Sale.select().order_by(Sale.id.desc()).first().total == 1150


def test_unknown_and_bad_codes_are_skipped_and_signalled(demo_db, ctx, recording, tmp_path):
    log = tmp_path / "feedback.log"
    script = tmp_path / "beep.sh"
    script.write_text(f'#!/bin/sh\necho "$1 $2 $SHOPKEEPER_EVENT" >> {log}\n')
    script.chmod(0o755)
    counter = Counter(ctx, "sell", feedback=Feedback(str(script)))
    run(counter, ReplaySource(recording(["NOPE-123", MILK[:-1] + "0", MILK])), install_signals=False)
    assert (counter.scans, counter.errors, counter.sales) == (3, 2, 1)
    assert sorted(log.read_text().splitlines()) == sorted(
        ["error NOPE-123 error", f"error {MILK[:-1]}0 error", f"ok {MILK} ok"])


def test_refused_sale_leaves_no_draft_behind(demo_db, ctx):
    refuse = ctx.__class__(staff="pi", terminal="shelf", negative_stock="refuse")
    counter = Counter(refuse, "sell")
    assert not counter.handle("SOAP-BAR").ok  # none on hand
    assert not OpenSale.select().exists()
    assert counter.handle(MILK).ok and Sale.select().order_by(Sale.id.desc()).first().total == 129


def test_receive_mode_takes_each_scan_in(demo_db, ctx, recording):
    before = on_hand("COFFEE-500")
    counter = Counter(ctx, "receive")
    run(counter, ReplaySource(recording([COFFEE, COFFEE, "TEA-EB"])), install_signals=False)
    assert on_hand("COFFEE-500") == before + 2000
    moves = list(Movement.select().where(Movement.kind == "receive").order_by(Movement.id.desc()).limit(3))
    assert {m.reference for m in moves} == {"counter:till-1"}


def test_count_mode_adds_to_one_open_session_and_resumes_it(demo_db, ctx, recording):
    run(Counter(ctx, "count"), ReplaySource(recording([MILK, MILK, "OLIVES-KG"])), install_signals=False)
    run(Counter(ctx, "count"), ReplaySource(recording([MILK])), install_signals=False)
    (session,) = CountSession.select()
    assert session.status == "open"
    counted = {line.product.sku: line.counted for line in CountLine.select().where(CountLine.session == session)}
    assert counted == {"MILK-1L": 3000, "OLIVES-KG": 1000}
    variances, _ = stock.post_count(ctx, session.id)
    assert {v.sku for v in variances} == {"MILK-1L", "OLIVES-KG"}


def test_bad_options_are_errors_not_tracebacks(ctx):
    from shopkeeper.errors import InvalidInput

    with pytest.raises(InvalidInput):
        Counter(ctx, "steal")
    with pytest.raises(InvalidInput):
        Counter(ctx, "sell", sale_end="never")
    with pytest.raises(InvalidInput):
        Feedback("beep 'unclosed")


def _cli(db_path: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "shopkeeper", "--db", str(db_path), "--terminal", "pi-door", "--staff", "pi",
            *args]


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


@pytest.mark.slow
def test_sigterm_mid_stream_finishes_cleanly(demo_db, db_path, recording):
    """SIGTERM while a recording plays in real time: exit 0, every scan logged as sold is in the journal, nothing
    half-done, no draft left."""
    from shopkeeper.db import close_database, open_database

    path = recording([MILK] * 40, gap=0.15)
    sales_before = Sale.select().count()
    close_database()
    proc = subprocess.Popen(_cli(db_path, "counter", "--mode", "sell", "--replay", str(path), "--realtime"),
                            stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT)
    lines: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if sum("sale " in entry and ": MILK-1L" in entry for entry in lines) >= 3:
            proc.send_signal(signal.SIGTERM)
            break
    _, rest = proc.communicate(timeout=30)
    lines += rest.splitlines()
    assert proc.returncode == 0, "".join(lines)
    sold_lines = [entry for entry in lines if "sale " in entry and ": MILK-1L" in entry]
    assert 3 <= len(sold_lines) < 40, "stopped mid-stream"
    assert any("counter stopped" in entry for entry in lines)
    open_database(str(db_path))
    assert Sale.select().count() - sales_before == len(sold_lines)
    assert not OpenSale.select().exists()
    milk = Product.get(Product.sku == "MILK-1L")
    journal = sum(m.quantity for m in Movement.select().where(Movement.product == milk))
    assert milk.on_hand == journal


@pytest.mark.slow
def test_cli_usage_errors_exit_2_without_traceback(demo_db, db_path, tmp_path):
    proc = subprocess.run(_cli(db_path, "counter", "--mode", "sell", "--replay", str(tmp_path / "missing.txt")),
                          capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and "no such file" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run(_cli(db_path, "counter", "--mode", "receive", "--sale-end", "idle",
                               "--replay", str(tmp_path / "x")),
                          capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and "only apply to --mode sell" in proc.stderr


@pytest.mark.slow
def test_a_counter_grouping_sales_is_refused_a_till_another_app_holds(demo_db, db_path, tmp_path):
    from shopkeeper.services import till_claim

    parent = os.getppid()  # a live process on this host: the app already at till pi-door
    till_claim.take("pi-door", exact=True, holder=till_claim.Holder(till_claim.socket.gethostname(), parent,
                                                                     till_claim._start_time(parent)))
    scans = tmp_path / "scans.txt"
    scans.write_text("4006381333931\n")
    proc = subprocess.run(_cli(db_path, "counter", "--mode", "sell", "--sale-end", "idle", "--replay", str(scans)),
                          capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and "till pi-door is in use" in proc.stderr and "Traceback" not in proc.stderr


EXPIRED_MILK = "]d2010400638133393117250131" "10L2501"  # GS1 DataMatrix: MILK-1L, expired 2025-01-31
FRESH_MILK = "]d2010400638133393117701231" "10L9912"  # expires 2070-12-31


def test_an_expired_item_is_not_sold_by_the_counter_which_cannot_ask(demo_db, ctx):
    counter = Counter(ctx, "sell")
    sales_before = Sale.select().count()
    outcome = counter.handle(EXPIRED_MILK)
    assert not outcome.ok and "EXPIRED on 2025-01-31" in outcome.message
    assert Sale.select().count() == sales_before
    assert counter.handle(FRESH_MILK).ok  # in date: sold, its lot kept on the movement
    assert Movement.select().where(Movement.lot == "L9912").count() == 1


def test_receiving_and_counting_expired_goods_ask_nothing(demo_db, ctx):
    before = on_hand("MILK-1L")
    assert Counter(ctx, "receive").handle(EXPIRED_MILK).ok
    assert on_hand("MILK-1L") == before + 1000
    counting = Counter(ctx, "count")
    counting.begin()
    assert counting.handle(EXPIRED_MILK).ok


def test_counter_sales_print_their_receipt_when_a_printer_is_configured(demo_db, ctx, tmp_path):
    import tomli_w

    from shopkeeper.config import load_config

    printed = tmp_path / "printed.txt"
    script = f"import sys; open({str(printed)!r}, 'ab').write(sys.stdin.buffer.read())"
    path = tmp_path / "config.toml"
    path.write_text(tomli_w.dumps({"printer": {"kind": "command", "command": f'{sys.executable} -c "{script}"'}}))
    counter = Counter(ctx, "sell", printer_config=load_config(path))
    assert counter.handle(MILK).ok
    sale = Sale.select().order_by(Sale.id.desc()).first()
    assert f"Sale #{sale.id}" in printed.read_text()
