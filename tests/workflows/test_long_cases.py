"""No silent end (issue: untrusted data): SpiffWorkflow iterates a task tree only to depth
1,000 by default, so after ~500 turns of a loop the waiting task vanished and the case
reported itself completed. A Kita-Träger agreement adding Kitas over years gets there."""
import time

from workflows import engine

LOOP = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://example.org/t">
  <bpmn:process id="kitas_hinzufuegen" name="Kitas hinzufügen" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="EGH-Sachbearbeitung">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>kita</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>weiter</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="kita" name="Kita erfassen"><bpmn:incoming>f0</bpmn:incoming><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing></bpmn:userTask>
    <bpmn:exclusiveGateway id="weiter" default="f3"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="kita"/>
    <bpmn:sequenceFlow id="f1" sourceRef="kita" targetRef="weiter"/>
    <bpmn:sequenceFlow id="f2" sourceRef="weiter" targetRef="kita"><bpmn:conditionExpression>noch_eine</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="weiter" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_loop_of_2000_turns_keeps_waiting_for_its_next_task():
    model = engine.parse_model({"loop.bpmn": LOOP})
    workflow = engine.start(model, {"noch_eine": True})
    started = time.monotonic()
    for turn in range(2000):
        [task] = engine.ready_human_tasks(workflow)
        engine.complete(workflow, task.task_id, {"noch_eine": True, "nummer": turn})
        if turn % 500 == 499:                        # and through a save and a load
            workflow = engine.loads(engine.dumps(workflow), model)
    snap = engine.snapshot(workflow)
    assert snap.status.value == "running"
    assert [t.title for t in snap.human_tasks] == ["Kita erfassen"]
    [task] = snap.human_tasks
    engine.complete(workflow, task.task_id, {"noch_eine": False})
    assert engine.snapshot(workflow).status.value == "completed"
    assert time.monotonic() - started < 600           # not a speed goal (bench/): only that it ends
