"""The evdev event decoder: Shift, repeat, noise, pauses, SYN_DROPPED, terminators, prefixes, AIM, GS."""

from __future__ import annotations

import pytest

from shopkeeper.scanner.decoder import ScanDecoder
from shopkeeper.scanner.keymaps import (
    EV_KEY,
    EV_LED,
    EV_SYN,
    KEY_1,
    KEY_2,
    KEY_A,
    KEY_CAPSLOCK,
    KEY_ENTER,
    KEY_KP0,
    KEY_KP2,
    KEY_KP9,
    KEY_KPENTER,
    KEY_LEFTALT,
    KEY_LEFTCTRL,
    KEY_LEFTSHIFT,
    KEY_RIGHTBRACE,
    KEY_TAB,
    SYN_DROPPED,
    SYN_REPORT,
)
from shopkeeper.scanner.settings import ScannerSettings


def codes(events, **settings) -> list[str]:
    return [s.code for s in ScanDecoder(ScannerSettings(**settings)).feed_all(events)]


def test_plain_digits(typist):
    assert codes(typist.scan("4006381333931")) == ["4006381333931"]


def test_shift_gives_capitals_and_symbols(typist):
    assert codes(typist.scan("Ab-C_9!@")) == ["Ab-C_9!@"]


def test_shift_released_between_keys(typist):
    ev = typist.text("A") + typist.text("a") + typist.key(KEY_ENTER)
    assert codes(ev) == ["Aa"]


def test_held_key_auto_repeat_types_once(typist):
    assert codes(typist.scan("12", hold_repeats=5)) == ["12"]


def test_key_up_types_nothing(typist):
    ev = [(EV_KEY, KEY_A, 0, typist.t), (EV_SYN, SYN_REPORT, 0, typist.t)] + typist.scan("7")
    assert codes(ev) == ["7"]


def test_noise_between_scans_is_ignored(typist):
    ev = typist.scan("111")
    ev += [(EV_LED, 0, 1, typist.t), (EV_KEY, KEY_ENTER, 1, typist.t), (EV_KEY, KEY_ENTER, 0, typist.t)]  # stray Enter
    ev += [(EV_KEY, KEY_LEFTSHIFT, 1, typist.t), (EV_KEY, KEY_LEFTSHIFT, 0, typist.t)]  # lone modifier
    ev += typist.scan("222")
    assert codes(ev) == ["111", "222"]


def test_scan_cut_short_is_dropped_after_a_pause(typist):
    dropped = []
    dec = ScanDecoder(ScannerSettings(pause_ms=100), on_drop=lambda text, why: dropped.append((text, why)))
    ev = typist.text("40063")
    typist.wait(0.5)
    ev += typist.scan("96385074")
    assert [s.code for s in dec.feed_all(ev)] == ["96385074"]
    assert dropped == [("40063", "no key for more than 100 ms")]
    assert dec.dropped == 1


def test_expire_drops_a_stale_scan_while_idle(typist):
    dec = ScanDecoder(ScannerSettings(pause_ms=100))
    dec.feed_all(typist.text("123"))
    assert dec.expire(typist.t + 0.05) is None and dec.pending == "123"
    assert dec.expire(typist.t + 0.2) is None and dec.pending == ""
    assert dec.feed_all(typist.key(KEY_ENTER)) == []  # the late Enter completes nothing


def test_emit_on_pause_for_scanners_without_terminator(typist):
    dec = ScanDecoder(ScannerSettings(terminators=(), emit_on_pause=True, pause_ms=50))
    scans = dec.feed_all(typist.text("ABC"))
    typist.wait(1)
    scans += dec.feed_all(typist.text("DEF"))
    tail = dec.expire(typist.t + 1)
    assert [s.code for s in scans] + [tail.code] == ["ABC", "DEF"]


def test_syn_dropped_discards_the_scan_and_events_until_report(typist):
    ev = typist.text("999")
    ev += [(EV_SYN, SYN_DROPPED, 0, typist.t), (EV_KEY, KEY_1, 1, typist.t), (EV_KEY, KEY_ENTER, 1, typist.t),
           (EV_SYN, SYN_REPORT, 0, typist.t)]
    ev += typist.scan("123")
    dec = ScanDecoder()
    assert [s.code for s in dec.feed_all(ev)] == ["123"]
    assert dec.overflows == 1 and dec.dropped == 1


def test_syn_dropped_forgets_a_held_shift(typist):
    ev = [(EV_KEY, KEY_LEFTSHIFT, 1, typist.t), (EV_SYN, SYN_DROPPED, 0, typist.t), (EV_SYN, SYN_REPORT, 0, typist.t)]
    ev += typist.scan("a")
    assert codes(ev) == ["a"]


def test_ten_scans_back_to_back_decode_as_ten(typist):
    expected = [f"{i:013d}" for i in range(10)]
    ev = []
    for code in expected:
        ev += typist.scan(code)
    assert codes(ev) == expected


def test_tab_terminator_only_when_configured(typist):
    assert codes(typist.scan("55", terminator=KEY_TAB)) == []
    assert codes(typist.scan("55", terminator=KEY_TAB), terminators=("tab",)) == ["55"]
    assert codes(typist.scan("66", terminator=KEY_KPENTER)) == ["66"]


def test_prefix_and_suffix_are_stripped(typist):
    ev = typist.scan("#@123$") + typist.scan("456")
    assert codes(ev, prefix="#@", suffix="$") == ["123", "456"]


def test_aim_identifier_is_stripped_and_recorded(typist):
    scans = ScanDecoder().feed_all(typist.scan("]E04006381333931") + typist.scan("]C0HELLO") + typist.scan("X1"))
    assert [(s.code, s.symbology, s.aim) for s in scans] == [
        ("4006381333931", "EAN-13", "]E0"), ("HELLO", "Code 128", "]C0"), ("X1", None, None)]


def test_aim_kept_when_strip_aim_off(typist):
    assert codes(typist.scan("]E0123"), strip_aim=False) == ["]E0123"]


def test_group_separator_from_ctrl_bracket_is_kept(typist):
    ev = typist.text("0109501101530003")
    ev += [(EV_KEY, KEY_LEFTCTRL, 1, typist.t)] + typist.key(KEY_RIGHTBRACE) + [(EV_KEY, KEY_LEFTCTRL, 0, typist.t)]
    ev += typist.scan("10LOT")
    assert codes(ev) == ["0109501101530003\x1d10LOT"]


def test_group_separator_from_alt_keypad_029(typist):
    ev = typist.text("01")
    ev += [(EV_KEY, KEY_LEFTALT, 1, typist.t)] + typist.key(KEY_KP0) + typist.key(KEY_KP2) + typist.key(KEY_KP9)
    ev += [(EV_KEY, KEY_LEFTALT, 0, typist.t)] + typist.scan("10")
    assert codes(ev) == ["01\x1d10"]


def test_capslock_flips_letters_only(typist):
    ev = typist.key(KEY_CAPSLOCK) + typist.scan("ab1") + typist.key(KEY_CAPSLOCK) + typist.scan("ab")
    assert codes(ev) == ["AB1", "ab"]


def test_scan_event_carries_source_and_time(typist):
    scans = ScanDecoder(source="Honeywell 1900").feed_all(typist.scan("42"))
    assert scans[0].source == "Honeywell 1900"
    assert scans[0].time == pytest.approx(typist.t - 0.003, abs=0.01)


@pytest.mark.parametrize("layout", ["us", "uk", "de", "fr"])
def test_layouts_decode_what_the_scanner_typed(layout, make_typist):
    t = make_typist(layout)
    text = "Hello-World_42.z/y,ABC@#"
    assert codes(t.scan(text), layout=layout) == [text]


def test_wrong_layout_swaps_y_and_z(make_typist):
    t = make_typist("de")
    assert codes(t.scan("zy"), layout="us") == ["yz"]


def test_french_digits_need_shift(make_typist):
    t = make_typist("fr")
    ev = t.key(KEY_1) + t.key(KEY_2) + t.key(KEY_ENTER)  # unshifted on AZERTY: & é
    assert codes(ev, layout="fr") == ["&é"]
    assert codes(t.scan("12"), layout="fr") == ["12"]


def test_german_dead_key_then_space_types_the_accent(make_typist):
    t = make_typist("de")
    from shopkeeper.scanner.keymaps import KEY_GRAVE, KEY_SPACE
    ev = t.key(KEY_GRAVE) + t.key(KEY_SPACE) + t.text("1") + t.key(KEY_ENTER)
    assert codes(ev, layout="de") == ["^1"]


def test_settings_refuse_unknown_terminator():
    with pytest.raises(ValueError, match="terminators"):
        ScannerSettings(terminators=("space",))
    with pytest.raises(ValueError, match="emit_on_pause"):
        ScannerSettings(terminators=())


def test_scanner_settings_load_from_config():
    from shopkeeper.config import parse_config

    cfg = parse_config({"scanner": {"device": "0c2e:0b61", "layout": "de", "terminators": ["enter", "tab"]}})
    s = cfg.section("scanner")
    assert (s.device, s.layout, s.terminators) == ("0c2e:0b61", "de", ("enter", "tab"))
