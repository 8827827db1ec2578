"""Timers are bounded (issue: untrusted data): cycle timers below one hour are refused at
deploy and at run time, timer values must be ISO texts of a moment in a sane range, and one
sweep of the worker steps each case at most once, so it always returns."""
from datetime import timedelta

import pytest

from workflows import store as tables
from workflows.domain import ModelError, ScriptError
from workflows.worker import run_once

from ..helpers import OWNER, PARTIES_LVR, SACHBEARBEITUNG_LVR, count_rows


def _model(cycle: str, date: str = 'termin["timer"]') -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://example.org/t">
  <bpmn:process id="erinnern" name="Erinnern" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="EGH-Sachbearbeitung">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>bearbeiten</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>zyklus</bpmn:flowNodeRef><bpmn:flowNodeRef>merken</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>ende_erinnerung</bpmn:flowNodeRef><bpmn:flowNodeRef>termin_da</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="termin_da" name="Termin"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDate>{date}</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:userTask id="bearbeiten" name="Bearbeiten"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:boundaryEvent id="zyklus" name="Erinnerung" attachedToRef="bearbeiten" cancelActivity="false">
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeCycle>{cycle}</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:scriptTask id="merken" name="Merken"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:script>erinnert = True</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="ende_erinnerung"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="termin_da"/>
    <bpmn:sequenceFlow id="f1" sourceRef="termin_da" targetRef="bearbeiten"/>
    <bpmn:sequenceFlow id="f2" sourceRef="bearbeiten" targetRef="end"/>
    <bpmn:sequenceFlow id="f3" sourceRef="zyklus" targetRef="merken"/>
    <bpmn:sequenceFlow id="f4" sourceRef="merken" targetRef="ende_erinnerung"/>
  </bpmn:process>
</bpmn:definitions>"""


def _start(services, clock, key, cycle, termin=None):
    termin = termin or (clock.now() + timedelta(hours=1)).isoformat()
    return services.start_case("erinnern", key, {"zyklus": {"timer": cycle}, "termin": {"timer": termin}},
                               SACHBEARBEITUNG_LVR, parties=PARTIES_LVR)


@pytest.mark.parametrize("cycle", ['"R/PT0S"', '"R/PT0.01S"', '"R/PT59M"'])
def test_short_cycles_are_refused_at_deploy(services, cycle):
    with pytest.raises(ModelError, match="mindestens 1 Stunde"):
        services.deploy_model({"e.bpmn": _model(cycle)}, OWNER)
    assert count_rows(services.store, tables.model_versions) == 0


def test_a_short_cycle_from_data_fails_only_its_case_and_the_sweep_returns(services, clock):
    services.deploy_model({"e.bpmn": _model('zyklus["timer"]')}, OWNER)
    _start(services, clock, "Z-1", "R/PT0S")
    _start(services, clock, "Z-2", "R/P1D")
    clock.advance(timedelta(hours=2))
    assert run_once(services) == 2                       # returns; each case stepped once
    bad = services.case("Z-1", SACHBEARBEITUNG_LVR)
    assert bad["status"] == "error" and "öfter als einmal pro Stunde" in bad["error"] and "zyklus" in bad["error"]
    assert services.case("Z-2", SACHBEARBEITUNG_LVR)["status"] == "running"


@pytest.mark.parametrize("termin, why", [
    ("9999-01-01T00:00:00+00:00", "außerhalb der Jahre"),
    ("morgen", "kein Datum und keine Dauer"),
    (5, "statt eines Textes"),
])
def test_timer_values_that_are_no_sane_moment_are_refused(services, clock, termin, why):
    services.deploy_model({"e.bpmn": _model('"R/P1D"')}, OWNER)
    with pytest.raises(ScriptError, match=why):
        _start(services, clock, "Z-4", "R/P1D", termin=termin)
    assert count_rows(services.store, tables.instances) == 0


def test_a_case_has_at_most_200_deadlines_with_identifier_keys(services):
    """One script must not register thousands of deadlines (they would flood the board), and a
    deadline key (it reaches the CSV and iCalendar exports) is an identifier."""
    from ..helpers import script_model
    services.deploy_model({"s.bpmn": script_model(
        'for i in range(250):\n    frist(f"f{i}", "sgb9-14-zustaendigkeit", "2026-03-02")')}, OWNER)
    services.start_case("skript_daten", "F-1", {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR)
    [task] = services.case("F-1", SACHBEARBEITUNG_LVR)["open_tasks"]
    with pytest.raises(ScriptError, match="höchstens 200 Fristen"):
        services.complete_task(task["task_id"], {}, SACHBEARBEITUNG_LVR)
    assert count_rows(services.store, tables.deadlines) == 0
    services.deploy_model({"s.bpmn": script_model(
        'frist("a\\r\\nBEGIN:VEVENT", "sgb9-14-zustaendigkeit", "2026-03-02")')}, OWNER)
    services.start_case("skript_daten", "F-2", {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR)
    [task] = services.case("F-2", SACHBEARBEITUNG_LVR)["open_tasks"]
    with pytest.raises(ScriptError, match="Schlüssel einer Frist"):
        services.complete_task(task["task_id"], {}, SACHBEARBEITUNG_LVR)
