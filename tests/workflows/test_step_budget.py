"""Limits of a whole step (issue: untrusted data): a gateway loop of scripts with no waiting
step, a multi-instance activity with a huge cardinality and a call activity that calls itself
are stopped (or refused at deploy) with a German message instead of holding a worker."""
import time

import pytest

from workflows import engine
from workflows.domain import ModelError, ScriptError

HEAD = ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'id="d" targetNamespace="http://example.org/t">')

SCRIPT_LOOP = HEAD + """<bpmn:process id="schleife" isExecutable="true">
  <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
  <bpmn:scriptTask id="zaehlen"><bpmn:incoming>f0</bpmn:incoming><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>
    <bpmn:script>n = n + 1 if "n" in dir() else 1</bpmn:script></bpmn:scriptTask>
  <bpmn:exclusiveGateway id="weiter" default="f3"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>
  <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="zaehlen"/>
  <bpmn:sequenceFlow id="f1" sourceRef="zaehlen" targetRef="weiter"/>
  <bpmn:sequenceFlow id="f2" sourceRef="weiter" targetRef="zaehlen"><bpmn:conditionExpression>True</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="f3" sourceRef="weiter" targetRef="end"/>
</bpmn:process></bpmn:definitions>"""

MULTI = HEAD + """<bpmn:process id="viele" isExecutable="true">
  <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
  <bpmn:scriptTask id="je_kita"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>
    <bpmn:multiInstanceLoopCharacteristics isSequential="true"><bpmn:loopCardinality>anzahl</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>
    <bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="je_kita"/>
  <bpmn:sequenceFlow id="f1" sourceRef="je_kita" targetRef="end"/>
</bpmn:process></bpmn:definitions>"""

RECURSIVE = HEAD + """<bpmn:process id="selbst" isExecutable="true">
  <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
  <bpmn:callActivity id="nochmal" name="Noch einmal" calledElement="selbst"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing></bpmn:callActivity>
  <bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="nochmal"/>
  <bpmn:sequenceFlow id="f1" sourceRef="nochmal" targetRef="end"/>
</bpmn:process></bpmn:definitions>"""


def test_a_gateway_loop_of_scripts_is_stopped_by_the_step_budget(monkeypatch):
    monkeypatch.setattr(engine.bounds, "MAX_STEP_TASKS", 300)          # the real bound, reached sooner
    model = engine.parse_model({"s.bpmn": SCRIPT_LOOP.replace('"n" in dir()', "n is not None")
                                .replace("n = n + 1 if n is not None else 1", "n = n + 1")})
    started = time.monotonic()
    with pytest.raises(ScriptError, match="nach 300 ausgeführten Elementen abgebrochen"):
        engine.start(model, {"n": 0})
    assert time.monotonic() - started < engine.MAX_STEP_SECONDS + 5


@pytest.mark.parametrize("anzahl", [10 ** 6, -1, "viele"])
def test_a_huge_multi_instance_cardinality_is_refused(anzahl):
    model = engine.parse_model({"m.bpmn": MULTI})
    with pytest.raises(ScriptError, match="Anzahl der Instanzen von Element je_kita"):
        engine.start(model, {"anzahl": anzahl})
    engine.start(model, {"anzahl": 3})            # a sane count runs


def test_a_call_activity_that_calls_itself_is_refused_at_deploy():
    with pytest.raises(ModelError, match="rekursive Aufrufe") as raised:
        engine.parse_model({"r.bpmn": RECURSIVE})
    assert raised.value.element_id == "nochmal"
