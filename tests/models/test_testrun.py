"""Test runs: timers fire in a throwaway store; real cases and the real clock are untouched."""
from datetime import date, timedelta

import pytest

from workflows.clock import end_of_day
from workflows.domain import Forbidden, InvalidInput
from workflows.fristen import berechne
from workflows.store import instances

from ..helpers import DEMO_TODAY, OWNER, PARTIES_LVR, SACHBEARBEITUNG_LVR, SYSTEM, client_for, count_rows, csrf_token


def test_test_run_shows_which_timers_fire_and_where_the_case_goes(services, deploy, clock):
    deploy("fristpruefung.bpmn", "pruefen.json")
    services.start_case("fristpruefung", "ECHT-1", {"eingang_am": "2026-02-20"}, SYSTEM, parties=PARTIES_LVR)
    before = clock.now()
    events = services.test_run("fristpruefung", {"eingang_am": "2026-03-02"}, 120, OWNER)
    assert [e["what"] for e in events] == ["Vorgang angelegt", "Timer ausgelöst"]
    assert events[0]["open_tasks"] == [("Unterlagen prüfen", "EGH-Sachbearbeitung")]
    end = berechne("lrv5-verhandlungstermin", date(2026, 3, 2)).end
    assert events[1]["fired"] == ["Frist abgelaufen"]
    assert events[1]["at"] == end_of_day(end) + timedelta(seconds=1)     # midnight after the calendar end
    assert ("Fristüberschreitung bewerten", "Leitung") in events[1]["open_tasks"]
    assert events[1]["deadlines"][0][1] == end
    assert clock.now() == before                                  # the real clock did not move
    assert count_rows(services.store, instances) == 1              # no test case among the real ones
    assert [t["business_key"] for t in services.inbox(SACHBEARBEITUNG_LVR)] == ["ECHT-1"]


def test_test_run_stops_at_the_horizon_and_checks_input(services, deploy):
    deploy("fristpruefung.bpmn", "pruefen.json")
    assert [e["what"] for e in services.test_run("fristpruefung", {"eingang_am": "2026-03-02"}, 30, OWNER)] == [
        "Vorgang angelegt"]
    with pytest.raises(Forbidden):
        services.test_run("fristpruefung", {"eingang_am": "2026-03-02"}, 30, SACHBEARBEITUNG_LVR)
    with pytest.raises(InvalidInput):
        services.test_run("fristpruefung", {"eingang_am": "2026-03-02"}, 0, OWNER)
    with pytest.raises(InvalidInput):
        services.test_run("fristpruefung", {"__class__": 1}, 30, OWNER)


def test_test_run_reports_a_failing_step(services, deploy):
    deploy("defekter_timer.bpmn")
    events = services.test_run("defekter_timer", {}, 30, OWNER)
    assert events[-1]["what"] == "Fehler" and "rechnen" in events[-1]["error"]


def test_test_run_page(make_app):
    app = make_app(*DEMO_TODAY)
    cases = app.extensions["workflows"].model_versions()
    owner = client_for(app, "paula.prozess")
    page = owner.get("/modelle/anerkennungsverfahren/testlauf")
    assert page.status_code == 200
    response = owner.post("/modelle/anerkennungsverfahren/testlauf", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "daten": '{"unterlagen_vollstaendig_am": "2026-11-02"}',
        "tage": "400"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "Vorgang angelegt" in text
    assert app.extensions["workflows"].model_versions() == cases
    assert client_for(app, "sabine.lvr").get("/modelle/anerkennungsverfahren/testlauf").status_code == 403
    bad = owner.post("/modelle/anerkennungsverfahren/testlauf", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "daten": "{kaputt", "tage": "30"})
    assert bad.status_code == 422 and "kein gültiges JSON" in bad.get_data(as_text=True)
