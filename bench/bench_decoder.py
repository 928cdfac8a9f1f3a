"""Decode throughput of the evdev scan decoder (events/s), beside a bare-loop baseline in the same run.

    python bench/bench_decoder.py [--scans N] [--layout us]

The stream is what a real scanner sends: per key an EV_MSC scancode, key down, SYN_REPORT, key up, SYN_REPORT,
with Shift around capitals, and Enter at the end of each 13-character scan. The baseline walks the same events doing
one dict lookup each, so the ratio shows what the decoder costs above merely touching every event.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shopkeeper.scanner.decoder import ScanDecoder
from shopkeeper.scanner.keymaps import (
    EV_KEY,
    EV_MSC,
    EV_SYN,
    KEY_ENTER,
    KEY_LEFTSHIFT,
    SYN_REPORT,
    get_keymap,
    keys_for,
)
from shopkeeper.scanner.settings import ScannerSettings


def build_events(n_scans: int, layout: str) -> list[tuple[int, int, int, float]]:
    km = get_keymap(layout)
    events = []
    t = 1_700_000_000.0

    def add(etype, code, value):
        nonlocal t
        events.append((etype, code, value, t))
        t += 0.0005

    for i in range(n_scans):
        text = f"Ab{i:011d}"
        for code, shift, _altgr in keys_for(text, km):
            if shift:
                add(EV_KEY, KEY_LEFTSHIFT, 1)
            add(EV_MSC, 4, 458752 + code)
            add(EV_KEY, code, 1)
            add(EV_SYN, SYN_REPORT, 0)
            add(EV_KEY, code, 0)
            add(EV_SYN, SYN_REPORT, 0)
            if shift:
                add(EV_KEY, KEY_LEFTSHIFT, 0)
        add(EV_KEY, KEY_ENTER, 1)
        add(EV_KEY, KEY_ENTER, 0)
        add(EV_SYN, SYN_REPORT, 0)
    return events


def best_of(runs: int, fn) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scans", type=int, default=5000)
    ap.add_argument("--layout", default="us")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    events = build_events(args.scans, args.layout)
    table = {code: code for code in range(256)}

    def baseline():
        hits = 0
        for _etype, code, _value, _ts in events:
            if table.get(code) is not None:
                hits += 1
        return hits

    result = {}

    def decode():
        result["scans"] = ScanDecoder(ScannerSettings(layout=args.layout)).feed_all(events)

    t_base = best_of(args.runs, baseline)
    t_dec = best_of(args.runs, decode)
    assert len(result["scans"]) == args.scans, len(result["scans"])
    n = len(events)
    print(f"events: {n:,} ({args.scans:,} scans of 13 chars, layout {args.layout}), best of {args.runs} runs")
    print(f"baseline (dict lookup per event): {n / t_base:>14,.0f} events/s")
    print(f"ScanDecoder.feed_all:             {n / t_dec:>14,.0f} events/s  "
          f"({args.scans / t_dec:,.0f} scans/s)")
    print(f"ratio decoder/baseline time: {t_dec / t_base:.1f}x")


if __name__ == "__main__":
    main()
