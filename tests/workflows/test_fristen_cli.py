"""Tests for the console command ``fristen`` (workflows.fristen_cli.main)."""
from __future__ import annotations

import json
from datetime import date

import pytest

from workflows.fristen import RULES, berechne
from workflows.fristen_cli import main


def test_json_example(capsys):
    assert main(["lrv5-verhandlungstermin", "2025-11-30", "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)  # exactly one JSON object
    assert out.count("\n") == 1 and "\\u" not in out  # ensure_ascii=False
    expected = berechne("lrv5-verhandlungstermin", date(2025, 11, 30)).to_dict()
    assert data == expected
    assert data["rule"] == "lrv5-verhandlungstermin"
    assert data["title"] == RULES["lrv5-verhandlungstermin"].title
    assert (data["event"], data["end"], data["shifted_end"]) == (
        "2025-11-30", "2026-02-28", "2026-03-02")
    assert data["soll"] is True and data["reading"] is None
    assert "§ 193 BGB" in data["explanation"]


def test_text_output_german_dates(capsys):
    assert main(["lrv5-verhandlungstermin", "30.11.2025"]) == 0
    out = capsys.readouterr().out
    assert "30.11.2025 (So)" in out and "28.02.2026 (Sa)" in out and "02.03.2026 (Mo)" in out
    assert "Rechtsgrundlage" in out and "Sollziel" in out
    assert len(out.splitlines()) > 3


def test_list_contains_all_rules(capsys):
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    listed = {line.split()[0] for line in out.splitlines()}
    assert listed == set(RULES)
    assert RULES["fruehv8-entscheidung"].title in out


def test_options_are_passed(capsys):
    assert main(["lrv5-abschluss", "2025-11-30", "--reading", "B",
                 "--verhandlungstermin", "2026-01-15", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["reading"], data["end"]) == ("B", "2026-04-15")
    assert main(["ereignisfrist", "2025-07-31", "--months", "3", "--land", "SN", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["shifted_end"] == "2025-11-03"
    assert main(["sgb9-14-entscheidung", "2026-01-05", "--feiertag", "2026-01-26", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["shifted_end"] == "2026-01-27"
    assert main(["sgb9-18-entscheidung", "2026-01-05", "--traeger-art", "egh"]) == 0
    assert "§ 18 Abs. 7" in capsys.readouterr().out


def test_kuendigung_text_shows_latest_receipt(capsys):
    assert main(["kuendigung-kitajahr", "2026-09-01"]) == 0
    out = capsys.readouterr().out
    assert "Spätester Zugang" in out and "31.07.2027 (Sa)" in out and "30.07.2027 (Fr)" in out


@pytest.mark.parametrize("argv,needle", [
    (["lrv5-verhandlungstermin", "2025-13-01"], "ungültiges Datum"),
    (["lrv5-verhandlungstermin", "gestern"], "ungültiges Datum"),
    (["gibt-es-nicht", "2025-11-30"], "Unbekannte Regel"),
    (["lrv5-abschluss", "2025-11-30", "--reading", "B"], "verhandlungstermin"),
    (["lrv5-abschluss", "2025-11-30", "--reading", "X"], "Ungültiger Wert"),
    (["fruehv8-entscheidung", "2025-11-30", "--land", "XX"], "Landescode"),
    (["fruehv8-entscheidung"], "Datum angeben"),
])
def test_errors_exit_2_with_german_message(capsys, argv, needle):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert needle in captured.err and captured.out == ""


def test_argparse_error_exit_2(capsys):
    assert main(["ereignisfrist", "2025-01-01", "--months", "drei"]) == 2
    assert "--months" in capsys.readouterr().err
