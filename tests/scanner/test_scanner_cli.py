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
