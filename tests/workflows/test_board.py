"""The deadline board: states around every boundary, escalations, visibility, figures."""
from datetime import date, datetime, timedelta

import pytest

from workflows.board import BoardQuery, state_of
from workflows.clock import BERLIN
from workflows.domain import Actor, Forbidden
from workflows.fristen import berechne
from workflows.worker import run_once

from ..helpers import LEITUNG_LVR, OWNER, PARTIES_LVR, SACHBEARBEITUNG_LVR, SYSTEM

EINGANG = "2026-01-03"       # + 3 months: 03.04.2026 (Karfreitag) -> shifted to Tue 07.04.2026
LEITUNG_LWL = Actor("lutz.lwl", frozenset({"Leitung"}), "LWL")


def at(clock, day: date, hour: int = 12) -> None:
    clock.set(datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN))


@pytest.fixture
def board_case(services, deploy, clock):
    deploy("fristpruefung.bpmn", "pruefen.json")
    at(clock, date(2026, 1, 5))
    services.start_case("fristpruefung", "LVR-B-1", {"eingang_am": EINGANG}, SYSTEM, parties=PARTIES_LVR,
                        title="Fristprüfung")
    return services


def only(services, actor=LEITUNG_LVR, **query) -> dict:
    rows, total = services.board(actor, BoardQuery(**query))
    assert total == len(rows) == 1, rows
    return rows[0]


def test_the_example_is_the_one_we_think():
    frist = berechne("lrv5-verhandlungstermin", date(2026, 1, 3))
    assert (frist.end, frist.shifted_end) == (date(2026, 4, 3), date(2026, 4, 7))


@pytest.mark.parametrize("day, state, days_left, working_days_left", [
    (date(2026, 3, 19), "laufend", 19, 11),        # 15 days before the calendar end, soon = 14 days
    (date(2026, 3, 20), "bald_faellig", 18, 10),   # 14 days before: warning window opens
    (date(2026, 4, 2), "bald_faellig", 5, 1),      # the day before the calendar end
    (date(2026, 4, 3), "bald_faellig", 4, 1),      # the calendar end (Karfreitag)
    (date(2026, 4, 4), "bald_faellig", 3, 1),      # after the calendar end, before the shifted end
    (date(2026, 4, 7), "bald_faellig", 0, 0),      # the shifted end: still in time
    (date(2026, 4, 8), "ueberfaellig", -1, -1),    # the day after the shifted end
])
def test_state_around_every_boundary(board_case, clock, day, state, days_left, working_days_left):
    at(clock, day)
    row = only(board_case, state=state)
    assert (row["state"], row["days_left"], row["working_days_left"]) == (state, days_left, working_days_left)
    assert (row["end_date"], row["shifted_end"]) == (date(2026, 4, 3), date(2026, 4, 7))
    assert row["legal_basis"].startswith("§ 5 Abs. 2 S. 1 LRV")
    others = [s for s in ("laufend", "bald_faellig", "ueberfaellig", "erfuellt") if s != state]
    for other in others:
        assert board_case.board(LEITUNG_LVR, BoardQuery(state=other)) == ([], 0)


@pytest.mark.parametrize("met, state", [(date(2026, 4, 7), "erfuellt"), (date(2026, 4, 8), "verspaetet_erfuellt")])
def test_met_in_time_or_late_is_judged_on_the_shifted_end(board_case, clock, met, state):
    at(clock, met)
    [task] = board_case.inbox(SACHBEARBEITUNG_LVR)
    board_case.complete_task(task["task_id"], {"vollstaendig": True}, SACHBEARBEITUNG_LVR)
    assert board_case.board(LEITUNG_LVR, BoardQuery()) == ([], 0)          # nothing open any more
    row = only(board_case, state=state)
    assert row["met_on"] == met


def test_escalation_lands_with_leitung_and_is_highlighted(board_case, clock):
    at(clock, date(2026, 4, 3), hour=23)
    assert run_once(board_case) == 0
    at(clock, date(2026, 4, 4), hour=0)          # the calendar end is over at midnight
    clock.advance(timedelta(minutes=1))
    assert run_once(board_case) == 1
    assert [t["title"] for t in board_case.inbox(LEITUNG_LVR)] == ["Fristüberschreitung bewerten"]
    row = only(board_case)
    assert row["escalated"] is True and row["lane"] == "EGH-Sachbearbeitung"


def test_visibility_and_roles(board_case, clock):
    at(clock, date(2026, 3, 1))
    assert board_case.board(LEITUNG_LWL, BoardQuery()) == ([], 0)          # not a party of the case
    assert board_case.board(OWNER, BoardQuery())[1] == 1
    with pytest.raises(Forbidden):
        board_case.board(SACHBEARBEITUNG_LVR, BoardQuery())
    assert only(board_case, organisation="AOK Rheinland/Hamburg")["business_key"] == "LVR-B-1"
    assert board_case.board(LEITUNG_LVR, BoardQuery(organisation="LWL")) == ([], 0)
    assert board_case.board(LEITUNG_LVR, BoardQuery(process_id="anderes")) == ([], 0)
    assert only(board_case, due_from=date(2026, 4, 7), due_to=date(2026, 4, 7))["key"] == "verhandlungstermin"
    assert board_case.board(LEITUNG_LVR, BoardQuery(due_to=date(2026, 4, 6))) == ([], 0)


def test_figures_count_in_time_late_and_missed(services, deploy, clock):
    deploy("fristpruefung.bpmn", "pruefen.json")
    at(clock, date(2026, 1, 5))
    for key in ("F-1", "F-2", "F-3", "F-4"):
        services.start_case("fristpruefung", key, {"eingang_am": EINGANG}, SYSTEM, parties=PARTIES_LVR,
                            title="Fristprüfung")
    for key, day in (("F-1", date(2026, 3, 2)), ("F-2", date(2026, 4, 7)), ("F-3", date(2026, 4, 20))):
        at(clock, day)
        [task] = [t for t in services.inbox(SACHBEARBEITUNG_LVR) if t["business_key"] == key]
        services.complete_task(task["task_id"], {"vollstaendig": True}, SACHBEARBEITUNG_LVR)
    at(clock, date(2026, 5, 1))
    [figure] = services.board_figures(LEITUNG_LVR)
    assert (figure["in_time"], figure["late"], figure["missed"], figure["running"]) == (2, 1, 1, 0)
    assert figure["share_in_time"] == pytest.approx(0.5)
    assert figure["median_days"] == 94                       # 58, 94, 107 days after the event
    months = {m["month"]: m for m in services.board_monthly(LEITUNG_LVR, months=6)}
    assert (months[date(2026, 3, 1)]["decided"], months[date(2026, 3, 1)]["in_time"]) == (1, 1)
    assert (months[date(2026, 4, 1)]["decided"], months[date(2026, 4, 1)]["in_time"]) == (3, 1)  # one met late, one missed


def test_state_of_matches_the_query_rules():
    end, shifted = date(2026, 4, 3), date(2026, 4, 7)
    assert state_of("laufend", end, shifted, None, date(2026, 4, 8)) == "ueberfaellig"
    assert state_of("erfuellt", end, shifted, date(2026, 4, 7), date(2026, 5, 1)) == "erfuellt"
    assert state_of("entfallen", end, shifted, None, date(2026, 5, 1)) == "entfallen"
