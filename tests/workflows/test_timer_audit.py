"""The audit names every timer fire exactly once, whoever's step it happens in: the timer
worker's, a user's completion that re-enters a task whose deadline is already over, or the
start of a case filed late; a timer cancelled before it fired is never named."""
from datetime import timedelta

from workflows import consistency
from workflows.worker import run_once

from ..helpers import ANBIETER, PARTIES_LVR, SACHBEARBEITUNG_LVR, SYSTEM


def _timer_events(services, key):
    case = services.case(key, SYSTEM)
    return [e for e in case["history"] if e["action"] == "timer_ausgeloest"]


def _titles(services, key):
    return sorted(t["title"] for t in services.case(key, SYSTEM)["open_tasks"])


def test_a_case_filed_after_its_deadline_records_the_fire_at_its_start(services, deploy):
    deploy("fristpruefung.bpmn", "pruefen.json")
    services.start_case("fristpruefung", "LVR-T-1", {"eingang_am": "2025-06-02"}, SYSTEM, parties=PARTIES_LVR)
    assert _titles(services, "LVR-T-1") == ["Fristüberschreitung bewerten", "Unterlagen prüfen"]
    [event] = _timer_events(services, "LVR-T-1")
    assert event["actor"] == "timer" and event["details"]["timer"][0]["name"] == "Frist abgelaufen"
    assert event["details"]["schritt_von"] == SYSTEM.username
    assert run_once(services) == 0                        # nothing left for the worker to fire
    assert consistency.check_all(services) == []


def test_a_deadline_over_when_a_task_is_re_entered_fires_in_that_users_step(services, deploy, clock):
    deploy("fristpruefung.bpmn", "pruefen.json")
    ref = services.start_case("fristpruefung", "LVR-T-2", {"eingang_am": "2026-02-27"}, SYSTEM,
                              parties=PARTIES_LVR)
    assert _timer_events(services, "LVR-T-2") == []
    services.complete_task(ref.open_tasks[0]["task_id"], {"vollstaendig": False}, SACHBEARBEITUNG_LVR)
    clock.advance(timedelta(days=90))                     # the deadline passes while documents are awaited
    [nachreichen] = services.case("LVR-T-2", SYSTEM)["open_tasks"]
    services.complete_task(nachreichen["task_id"], {}, ANBIETER)
    assert "Fristüberschreitung bewerten" in _titles(services, "LVR-T-2")
    [event] = _timer_events(services, "LVR-T-2")
    assert event["details"]["timer"][0]["name"] == "Frist abgelaufen"
    assert event["details"]["schritt_von"] == ANBIETER.username
    assert run_once(services) == 0
    assert len(_timer_events(services, "LVR-T-2")) == 1
    assert consistency.check_all(services) == []


def test_a_cancelled_timer_is_never_named(services, deploy, clock):
    deploy("frist_abbruch.bpmn")
    ref = services.start_case("frist_abbruch", "LVR-T-3", {}, SYSTEM, parties=PARTIES_LVR)
    clock.advance(timedelta(days=20))                     # due, but the worker has not run yet
    services.complete_task(ref.open_tasks[0]["task_id"], {}, SACHBEARBEITUNG_LVR)
    assert services.case("LVR-T-3", SYSTEM)["status"] == "completed"
    assert _timer_events(services, "LVR-T-3") == []
    assert run_once(services) == 0
    assert consistency.check_all(services) == []


def test_the_worker_names_the_timer_it_fired(services, deploy, clock):
    deploy("frist_abbruch.bpmn")
    services.start_case("frist_abbruch", "LVR-T-4", {}, SYSTEM, parties=PARTIES_LVR)
    clock.advance(timedelta(days=14, minutes=1))
    assert run_once(services) == 1
    [event] = _timer_events(services, "LVR-T-4")
    assert event["details"]["timer"][0]["name"] == "Zwei Wochen abgelaufen"
    assert "schritt_von" not in event["details"]
    assert _titles(services, "LVR-T-4") == ["Verspätung bewerten"]
    assert run_once(services) == 0
