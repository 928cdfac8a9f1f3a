"""`shopkeeper scanner listen --replay`, `scanner listen` errors and `shopkeeper labels`, through main()."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shopkeeper.cli import main

DATA = Path(__file__).parent / "data"


def test_listen_replay_json_one_object_per_line(capsys):
    assert main(["scanner", "listen", "--replay", str(DATA / "aim_scan.evemu"), "--json", "--parse"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["code"], r["symbology"], r["kind"]) for r in lines] == [
        ("4006381333931", "EAN-13", "gtin"), ("0109501101530003\x1d10LOT7", "GS1-128", "gs1")]


def test_listen_replay_text_reports_dropped_scan(capsys):
    assert main(["scanner", "listen", "--replay", str(DATA / "two_scans.evtest.txt")]) == 0
    out = capsys.readouterr()
    assert out.out.splitlines()[0].startswith("0A2")
    assert "SYN_DROPPED" in out.err


@pytest.mark.parametrize("argv,message", [
    (["scanner", "listen", "--replay", "/no/such/file"], "no such file"),
    (["scanner", "listen"], "no scanner device"),
    (["scanner", "listen", "--layout", "dvorak", "--replay", "x"], "invalid choice"),
])
def test_bad_input_exits_2_with_a_message(argv, message, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_recording_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("Event: time 1.0, garbage\n")
    assert main(["scanner", "listen", "--replay", str(bad)]) == 2
    assert "bad.txt:1" in capsys.readouterr().err


def test_labels_for_demo_products(demo_db, db_path, tmp_path, capsys):
    out = tmp_path / "labels"
    code = main(["--db", str(db_path), "labels", "--out", str(out), "--no-png", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    svgs = [p for p in result["written"] if p.endswith(".svg") and "sheet-" not in p]
    assert svgs and all(Path(p).exists() for p in result["written"])
    assert any("sheet-1.svg" in p for p in result["written"])


def _slow_scan(tmp_path: Path, gap_ms: int, *, enter: bool = True) -> Path:
    """An evemu recording of "12" (+ Enter) with a ``gap_ms`` pause between the two keys."""
    keys = [(0x02, 0.0), (0x03, gap_ms / 1000)] + ([(0x1C, gap_ms / 1000 + 0.002)] if enter else [])
    lines = ["# EVEMU 1.3", "N: Slow scanner"]
    for code, t in keys:
        lines += [f"E: {t:.6f} 0001 {code:04x} 0001", f"E: {t:.6f} 0000 0000 0000",
                  f"E: {t + 0.001:.6f} 0001 {code:04x} 0000", f"E: {t + 0.001:.6f} 0000 0000 0000"]
    path = tmp_path / "slow.evemu"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_listen_pause_ms_on_the_command_line_changes_what_a_recording_decodes_to(tmp_path, capsys):
    path = _slow_scan(tmp_path, 200)
    assert main(["scanner", "listen", "--replay", str(path), "--json"]) == 0
    out = capsys.readouterr()
    assert [json.loads(line)["code"] for line in out.out.splitlines()] == ["2"]  # "1" dropped after 150 ms
    assert "no key for more than 150 ms" in out.err
    assert main(["scanner", "listen", "--replay", str(path), "--json", "--pause-ms", "300"]) == 0
    assert [json.loads(line)["code"] for line in capsys.readouterr().out.splitlines()] == ["12"]


def test_listen_emit_on_pause_without_terminators_for_a_scanner_that_sends_no_enter(tmp_path, capsys):
    path = _slow_scan(tmp_path, 5, enter=False)
    assert main(["scanner", "listen", "--replay", str(path), "--json", "--terminators", "none",
                 "--emit-on-pause", "--pause-ms", "50"]) == 0
    assert [json.loads(line)["code"] for line in capsys.readouterr().out.splitlines()] == ["12"]


def test_listen_keep_aim_leaves_the_identifier_in_the_code(capsys):
    assert main(["scanner", "listen", "--replay", str(DATA / "aim_scan.evemu"), "--json", "--keep-aim"]) == 0
    codes = [json.loads(line)["code"] for line in capsys.readouterr().out.splitlines()]
    assert codes[0] == "]E04006381333931"


@pytest.mark.parametrize("argv,message", [
    (["--pause-ms", "0"], "'0' is not a whole number of milliseconds above 0"),
    (["--pause-ms", "fast"], "'fast' is not a whole number of milliseconds"),
    (["--terminators", "space"], "give enter, tab, both (enter,tab) or none"),
    (["--terminators", "none"], "--terminators none needs --emit-on-pause"),
])
def test_listen_bad_decoder_settings_exit_2_with_a_message(argv, message, capsys):
    try:
        code = main(["scanner", "listen", "--replay", str(DATA / "aim_scan.evemu"), *argv])
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_listen_parse_shows_the_lot_of_a_gs1_code(capsys):
    assert main(["scanner", "listen", "--replay", str(DATA / "aim_scan.evemu"), "--json", "--parse"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert records[1]["lot"] == "LOT7" and "lot" not in records[0]
    assert main(["scanner", "listen", "--replay", str(DATA / "aim_scan.evemu"), "--parse"]) == 0
    assert "lot LOT7" in capsys.readouterr().out.splitlines()[1]
