"""Terminal wedge: a fast burst ending in Enter is a scan; a person typing is not."""

from __future__ import annotations

import pytest

from shopkeeper.scanner.settings import ScannerSettings
from shopkeeper.scanner.wedge import WedgeDetector


def type_keys(det: WedgeDetector, text: str, t0: float, gaps: list[float] | float):
    t = t0
    result = None
    keys = list(text) + ["enter"]
    for i, key in enumerate(keys):
        result = det.feed(key, t)
        t += gaps[i] if isinstance(gaps, list) else gaps
    return result


def test_fast_burst_is_a_scan():
    scan = type_keys(WedgeDetector(), "4006381333931", 100.0, 0.004)
    assert scan is not None and scan.code == "4006381333931" and scan.typed == 13


def test_burst_arriving_all_at_once_is_a_scan():
    assert type_keys(WedgeDetector(), "96385074", 5.0, 0.0).code == "96385074"


def test_human_typing_is_not_a_scan():
    assert type_keys(WedgeDetector(), "4006381333931", 0.0, 0.15) is None


def test_fast_but_short_is_typing():
    assert type_keys(WedgeDetector(), "ok", 0.0, 0.001) is None


def test_ssh_bunching_with_one_longer_gap_is_still_a_scan():
    gaps = [0.0] * 6 + [0.12] + [0.0] * 7  # one packet boundary in the middle
    assert type_keys(WedgeDetector(), "4006381333931", 0.0, gaps).code == "4006381333931"


def test_slow_typing_then_scan_keeps_only_the_scan():
    det = WedgeDetector()
    for i, ch in enumerate("abc"):
        det.feed(ch, i * 0.4)
    assert type_keys(det, "12345678", 5.0, 0.002).code == "12345678"


def test_enter_after_a_pause_is_a_person():
    det = WedgeDetector()
    for i, ch in enumerate("12345678"):
        det.feed(ch, i * 0.002)
    assert det.feed("enter", 2.0) is None


def test_non_character_keys_break_a_burst():
    det = WedgeDetector()
    for i, ch in enumerate("1234"):
        det.feed(ch, i * 0.002)
    det.feed("up", 0.009)
    assert det.feed("enter", 0.01) is None


@pytest.mark.parametrize("gap_ms,is_scan", [(10, True), (30, True), (60, False), (120, False)])
def test_threshold(gap_ms, is_scan):
    scan = type_keys(WedgeDetector(ScannerSettings(wedge_max_gap_ms=35)), "123456", 0.0, gap_ms / 1000)
    assert (scan is not None) == is_scan
