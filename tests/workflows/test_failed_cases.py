"""One bad case stays one bad case (issue: untrusted data): whatever breaks while one case is
loaded, stepped or saved marks that case failed with a German reason, the worker goes on with
the others, the failed case's timers are retried with backoff, a request touching it gets a
409, process owners retry it and Leitung ends it with a reason, both audited."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from workflows import store as tables
from workflows.domain import CaseFailed, Forbidden, InvalidInput
from workflows.worker import run_once

from ..helpers import LEITUNG_LVR, OWNER, PARTIES_LVR, SACHBEARBEITUNG_LVR, count_rows

TIMER_THEN_TASK = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://example.org/t">
  <bpmn:process id="warten_dann_pruefen" name="Warten, dann prüfen" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="EGH-Sachbearbeitung">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>warten</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>pruefen</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="warten" name="Ein Tag"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:userTask id="pruefen" name="Prüfen"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="warten"/>
    <bpmn:sequenceFlow id="f1" sourceRef="warten" targetRef="pruefen"/>
    <bpmn:sequenceFlow id="f2" sourceRef="pruefen" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.fixture
def three(services):
    services.deploy_model({"w.bpmn": TIMER_THEN_TASK}, OWNER)
    for key in ("W-1", "W-2", "W-3"):
        services.start_case("warten_dann_pruefen", key, {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR)
    return services


def _break(services, key) -> str:
    """Damage a case's stored state so that loading it raises a plain (non-domain) exception."""
    with services.store.transaction() as conn:
        good = conn.execute(sa.select(tables.instances.c.workflow_json)
                            .where(tables.instances.c.business_key == key)).scalar()
        conn.execute(tables.instances.update().where(tables.instances.c.business_key == key)
                     .values(workflow_json=good.replace('"tasks"', '"aufgaben"', 1)))
    return good


def _repair(services, key, good) -> None:
    with services.store.transaction() as conn:
        conn.execute(tables.instances.update().where(tables.instances.c.business_key == key)
                     .values(workflow_json=good))


def _titles(services, key):
    return [t["title"] for t in services.case(key, SACHBEARBEITUNG_LVR)["open_tasks"]]


def test_one_broken_case_among_three_does_not_stop_the_others(three, clock):
    _break(three, "W-1")                       # claimed first: the lowest id
    clock.advance(timedelta(days=2))
    assert run_once(three) == 3
    assert _titles(three, "W-2") == ["Prüfen"] and _titles(three, "W-3") == ["Prüfen"]
    broken = three.case("W-1", LEITUNG_LVR)
    assert broken["status"] == "error"
    assert "lässt sich nicht laden" in broken["error"] and "KeyError" in broken["error"]
    assert count_rows(three.store, tables.audit_events, action="fehler") == 1
    assert run_once(three) == 0                # backoff: not claimed again in the same round
    assert [c["business_key"] for c in three.failed_cases(LEITUNG_LVR)] == ["W-1"]


def test_a_request_touching_a_failed_case_gets_a_conflict(three, clock):
    clock.advance(timedelta(days=2))
    run_once(three)
    [task] = three.case("W-1", SACHBEARBEITUNG_LVR)["open_tasks"]
    _break(three, "W-1")
    with pytest.raises(CaseFailed, match="wegen eines Fehlers angehalten") as raised:
        three.complete_task(task["task_id"], {}, SACHBEARBEITUNG_LVR)
    assert raised.value.code == "vorgang_fehlerhaft"
    case = three.case("W-1", SACHBEARBEITUNG_LVR)       # the case file still opens, with the reason
    assert case["status"] == "error" and "lässt sich nicht laden" in case["error"]
    with pytest.raises(CaseFailed):
        three.complete_task(task["task_id"], {}, SACHBEARBEITUNG_LVR)
    assert count_rows(three.store, tables.audit_events, action="aufgabe_erledigt") == 0


def test_process_owner_retries_after_a_fix_and_leitung_ends_a_case(three, clock):
    good = _break(three, "W-1")
    _break(three, "W-2")
    clock.advance(timedelta(days=2))
    run_once(three)
    with pytest.raises(Forbidden):
        three.retry_failed_case("W-1", SACHBEARBEITUNG_LVR)
    assert three.retry_failed_case("W-1", OWNER) == "error"       # not fixed yet: stays failed
    _repair(three, "W-1", good)
    assert three.retry_failed_case("W-1", OWNER) == "running"
    assert _titles(three, "W-1") == ["Prüfen"]                   # its due timer fired on the retry
    with pytest.raises(Forbidden):
        three.close_failed_case("W-2", "Modellfehler, Vorgang neu angelegt", OWNER)
    with pytest.raises(InvalidInput):
        three.close_failed_case("W-2", "", LEITUNG_LVR)
    three.close_failed_case("W-2", "Modellfehler, Vorgang neu angelegt", LEITUNG_LVR)
    assert three.case("W-2", LEITUNG_LVR)["status"] == "cancelled"
    assert count_rows(three.store, tables.open_tasks, business_key="W-2") == 0
    assert count_rows(three.store, tables.pending_timers, instance_id=three.case("W-2", LEITUNG_LVR)["id"]) == 0
    assert count_rows(three.store, tables.audit_events, action="vorgang_erneut_angestossen") == 2
    assert count_rows(three.store, tables.audit_events, action="vorgang_beendet") == 1
    assert three.failed_cases(OWNER) == []
