"""Replaying evtest and evemu-record recordings through the decoder."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from shopkeeper.scanner.decoder import ScanDecoder
from shopkeeper.scanner.keymaps import EV_KEY, EV_SYN, SYN_DROPPED
from shopkeeper.scanner.replay import (
    RecordingError,
    ReplaySource,
    parse_evemu,
    parse_evtest,
    parse_recording,
    read_recording,
    replay,
)
from shopkeeper.scanner.settings import ScannerSettings
from shopkeeper.scanner.source import ScanHub

DATA = Path(__file__).parent / "data"


def test_evtest_lines_parse():
    rec = parse_evtest([
        'Input device name: "Honeywell 1900"',
        "    Event code 30 (KEY_A)",
        "Event: time 1700000000.123456, type 1 (EV_KEY), code 30 (KEY_A), value 1",
        "Event: time 1700000000.123456, -------------- SYN_REPORT ------------",
        "Event: time 1700000000.200000, -------------- SYN_DROPPED ------------",
    ])
    assert rec.name == "Honeywell 1900"
    assert rec.events == [(EV_KEY, 30, 1, 1700000000.123456), (EV_SYN, 0, 0, 1700000000.123456),
                          (EV_SYN, SYN_DROPPED, 0, 1700000000.2)]


def test_evemu_lines_parse_hex_codes_and_decimal_values():
    rec = parse_evemu(["N: Scanner", "E: 0.000001 0001 001e 0001\t# EV_KEY / KEY_A 1", "E: 1.5 0004 0004 458756"])
    assert rec.name == "Scanner"
    assert rec.events == [(EV_KEY, 0x1E, 1, 0.000001), (4, 4, 458756, 1.5)]


def test_evtest_file_replays_including_syn_dropped():
    assert [s.code for s in replay(DATA / "two_scans.evtest.txt")] == ["0A2", "5"]


def test_evemu_file_replays_with_aim_and_group_separator():
    scans = replay(DATA / "aim_scan.evemu")
    assert [(s.code, s.symbology) for s in scans] == [
        ("4006381333931", "EAN-13"), ("0109501101530003\x1d10LOT7", "GS1-128")]
    assert scans[0].source == "replay:aim_scan.evemu (Newland NLS-HR22)"


def test_format_is_detected():
    assert read_recording(DATA / "aim_scan.evemu").format == "evemu"
    assert read_recording(DATA / "two_scans.evtest.txt").format == "evtest"


def test_bad_event_line_names_file_and_line():
    with pytest.raises(RecordingError, match=r"rec.txt:2: cannot read this evtest event line"):
        parse_recording("Testing ...\nEvent: time 1.0, type x\n", "rec.txt")


def test_file_without_events_says_what_was_expected(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    with pytest.raises(RecordingError, match=r"not an evtest, evemu-record or python-evdev recording \(it starts with 'hello'\)"
                                             r".*sudo evtest /dev/input/eventN"):
        replay(path)
    with pytest.raises(RecordingError, match="cannot read the recording"):
        replay(tmp_path / "missing.txt")


@pytest.mark.parametrize(("text", "why"), [
    ("", "the file is empty"),
    ("  \n\t\n", "the file is empty"),
    ("\x00\x01\x00\x00\x1e\x00", "this is binary data"),
    ('Input device name: "Scanner"\nTesting ... (interrupt to exit)\n', "evtest's header is here but no event line"),
    ("# EVEMU 1.3\nN: Scanner\nI: 0003 1eab 1d22 0110\n", "evemu-record's header is here but no event line"),
])
def test_a_file_that_is_no_recording_says_what_is_wrong(text, why):
    with pytest.raises(RecordingError, match=f"rec.txt: {why}"):
        parse_recording(text, "rec.txt")


def test_evtest_msc_scan_and_msc_raw_values_are_hex_as_evtest_prints_them():
    # evtest.c print_events: `if (type == EV_MSC && (code == MSC_RAW || code == MSC_SCAN)) printf("value %02x\n")`
    rec = parse_evtest([
        "Event: time 1732611128.101149, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001e",
        "Event: time 1732611128.101149, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70027",
        "Event: time 1732611128.101149, type 4 (EV_MSC), code 3 (MSC_RAW), value ff",
        "Event: time 1732611128.101149, type 1 (EV_KEY), code 30 (KEY_A), value 2",
    ])
    assert [e[2] for e in rec.events] == [0x7001E, 0x70027, 0xFF, 2]


def test_evtest_decimal_value_that_is_not_a_number_names_the_line():
    with pytest.raises(RecordingError, match=r"rec.txt:1: value '1e' is not a decimal number"):
        parse_recording("Event: time 1.0, type 1 (EV_KEY), code 30 (KEY_A), value 1e\n", "rec.txt")


def test_evtest_syn_lines_as_evtest_prints_them():
    rec = parse_evtest([
        "Event: time 1.000001, -------------- SYN_REPORT ------------",
        "Event: time 1.000002, >>>>>>>>>>>>>> SYN_DROPPED <<<<<<<<<<<<",
        "Event: time 1.000003, ++++++++++++++ SYN_MT_REPORT ++++++++++++",
    ])
    assert rec.events == [(EV_SYN, 0, 0, 1.000001), (EV_SYN, SYN_DROPPED, 0, 1.000002), (EV_SYN, 2, 0, 1.000003)]


def test_real_evtest_recording_with_hex_msc_scan_values_replays_to_its_scans():
    # Written as evtest writes it: MSC_SCAN before each key (values such as 7001e), a SYN_DROPPED between scans.
    scans = replay(DATA / "hex_msc_scan.evtest.txt")
    assert [s.code for s in scans] == ["4006381333931", "12345670"]
    assert scans[0].source == "replay:hex_msc_scan.evtest.txt (Newland NLS-HR22)"


def test_recording_pasted_with_tab_indentation_and_crlf_replays_to_its_scans():
    assert [s.code for s in replay(DATA / "pasted_with_tabs.evtest.txt")] == ["4006381333931"]


def test_evemu_recording_pasted_with_space_indentation_replays():
    text = "\n".join("    " + line for line in (DATA / "aim_scan.evemu").read_text().splitlines())
    rec = parse_recording(text, "pasted.evemu")
    assert rec.format == "evemu"
    assert rec.events == read_recording(DATA / "aim_scan.evemu").events


@pytest.mark.parametrize("marker", ["> ", ">\t", "> > ", ">"])
def test_recording_quoted_in_a_forum_reply_or_email_replays(marker):
    # a reply quotes a post with '>' before each line (markdown blockquote, email), as the indentation above
    text = "\n".join(marker + line for line in (DATA / "hex_msc_scan.evtest.txt").read_text().splitlines())
    rec = parse_recording(f"Here is my evtest output:\n\n{text}\n", "quoted.md")
    assert rec.events == read_recording(DATA / "hex_msc_scan.evtest.txt").events


def test_replay_source_feeds_a_hub():
    hub = ScanHub()
    got, done = [], threading.Event()
    hub.subscribe(got.append, lambda st: done.set() if st.state == "stopped" else None)
    source = ReplaySource(DATA / "two_scans.evtest.txt", ScannerSettings())
    hub.add_source(source)
    hub.start()
    assert done.wait(5)
    hub.stop()
    assert [s.code for s in got] == ["0A2", "5"]


def test_replay_source_realtime_sleeps_the_recorded_gaps():
    slept = []
    source = ReplaySource(DATA / "two_scans.evtest.txt", realtime=True, sleep=slept.append)
    source.start(lambda e: None, lambda s: None)
    source.join(5)
    assert sum(slept) == pytest.approx(1.0033 - 0.0001, abs=1e-3)


def test_python_evdev_evtest_output_replays():
    # python-evdev's evtest.py print_event: "time {:<17} type {} ({}), code {:<4} ({}), value {}", SYN lines between
    # dashes, SYN_DROPPED between "!"; every value in decimal.
    lines = ["Listening for events (press ctrl-c to exit) ..."]
    t = 1700000000.0
    for code, name in ((11, "KEY_0"), (28, "KEY_ENTER")):
        for value in (1, 0):
            t += 0.002
            lines.append(f"{'time ' + repr(round(t, 6)):<22} type 4 (EV_MSC), code 4    (MSC_SCAN), value 458791")
            lines.append(f"time {round(t, 6)!r:<17} type 1 (EV_KEY), code {code:<4} ({name}), value {value}")
            lines.append(f"time {round(t, 6)!r:<17} ------------- SYN_REPORT -------------")
    lines.append(f"time {t + 0.5!r:<17} !!!!!!!!!!!!! SYN_DROPPED !!!!!!!!!!!!!")
    rec = parse_recording("\n".join(lines), "pyevdev.txt")
    assert rec.format == "python-evdev"
    assert rec.events[0][:3] == (4, 4, 458791) and rec.events[-1][:2] == (EV_SYN, SYN_DROPPED)
    assert [s.code for s in ScanDecoder(ScannerSettings()).feed_all(rec.events)] == ["0"]
