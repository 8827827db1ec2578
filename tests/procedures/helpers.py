"""Shared helpers of the procedure scenario tests: deploying a model from bpmn/ with the
forms it names, finding and completing tasks by title, reading deadlines, firing timers,
and the structural checks every model must pass."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from lxml import etree

from workflows import engine
from workflows.domain import LANES, Actor, DeadlineStatus
from workflows.worker import run_once

from ..helpers import BPMN_DIR, OWNER

KRANKENKASSE = Actor("kai.kk", frozenset({"Krankenkasse"}), "AOK Rheinland/Hamburg")

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC",
      "di": "http://www.omg.org/spec/DD/20100524/DI",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
FLOW_NODES = ("startEvent", "endEvent", "boundaryEvent", "intermediateCatchEvent", "intermediateThrowEvent",
              "userTask", "scriptTask", "manualTask", "serviceTask", "task", "exclusiveGateway",
              "parallelGateway", "inclusiveGateway", "eventBasedGateway", "subProcess", "callActivity")
ALLOWED_LANES = {"EGH-Sachbearbeitung", "Leitung", "Krankenkasse", "Leistungserbringer"}


def bpmn_path(process_id: str) -> Path:
    return BPMN_DIR / f"{process_id}.bpmn"


def tree(process_id: str):
    return etree.parse(str(bpmn_path(process_id)))


def form_names(process_id: str) -> list[str]:
    return sorted(set(tree(process_id).xpath(
        "//spiffworkflow:property[@name='formJsonSchemaFilename']/@value", namespaces=NS)))


def model_files(process_id: str) -> dict[str, str]:
    """The BPMN file, the processes it calls and every JSON form they name."""
    return engine.deployment_files(BPMN_DIR, bpmn_path(process_id).name)


def deploy(services, process_id: str) -> dict:
    return services.deploy_model(model_files(process_id), OWNER, main=bpmn_path(process_id).name)


def titles(services, actor: Actor) -> list[str]:
    return sorted(t["title"] for t in services.inbox(actor))


def task(services, actor: Actor, title: str) -> dict:
    found = [t for t in services.inbox(actor) if t["title"] == title]
    assert len(found) == 1, f"{title!r} not exactly once in the inbox of {actor.username}: {titles(services, actor)}"
    return found[0]


def due_day(row: dict) -> date | None:
    """The last day of the deadline an inbox row shows."""
    return row["due_date"]


def complete(services, actor: Actor, title: str, data: dict):
    """Complete the task as its form would: only the form's fields, all required ones."""
    row = task(services, actor, title)
    schema = json.loads((BPMN_DIR / row["form"]).read_text(encoding="utf-8"))
    assert set(data) <= set(schema["properties"]), f"{title}: not in {row['form']}: {set(data) - set(schema['properties'])}"
    assert set(schema["required"]) <= set(data), f"{title}: required missing: {set(schema['required']) - set(data)}"
    return services.complete_task(row["task_id"], data, actor)


@dataclass(frozen=True)
class Stand:
    """What the tests check of a deadline: its computation and its state."""

    key: str
    rule: str
    event: date
    end: date
    shifted_end: date
    status: DeadlineStatus
    met_on: date | None


def stand(deadline) -> Stand:
    """A case-file deadline as a Stand."""
    frist = deadline.frist
    return Stand(deadline.key, frist.rule, frist.event, frist.end, frist.shifted_end, deadline.status,
                 deadline.met_on)


def deadlines_of(case_file: dict) -> dict[str, Stand]:
    return {d.key: stand(d) for d in case_file["deadlines"]}


def deadlines(services, key: str, actor: Actor) -> dict[str, Stand]:
    return deadlines_of(services.case(key, actor))


def fires_exactly_at(services, clock, due: datetime) -> None:
    """Nothing fires one minute before `due`, something fires one minute after."""
    assert services.next_timer_due() == due
    clock.set(due - timedelta(minutes=1))
    assert run_once(services) == 0
    clock.set(due + timedelta(minutes=1))
    assert run_once(services) == 1


def structure_problems(process_id: str) -> list[str]:
    """Everything that breaks our modelling conventions (empty list = fine)."""
    problems = []
    doc = tree(process_id)
    [process] = doc.xpath("//bpmn:process", namespaces=NS)
    if process.get("id") != process_id or process.get("isExecutable") != "true":
        problems.append("process id/isExecutable")
    lane_of = {}
    for lane in doc.xpath("//bpmn:lane", namespaces=NS):
        if lane.get("name") not in ALLOWED_LANES or lane.get("name") not in LANES:
            problems.append(f"unknown lane {lane.get('name')!r}")
        for ref in lane.xpath("bpmn:flowNodeRef", namespaces=NS):
            lane_of[ref.text] = lane.get("name")
    shapes = {s.get("bpmnElement"): s for s in doc.xpath("//bpmndi:BPMNShape", namespaces=NS)}
    edges = {e.get("bpmnElement"): e for e in doc.xpath("//bpmndi:BPMNEdge", namespaces=NS)}
    for pool in doc.xpath("//bpmn:participant", namespaces=NS):
        if pool.get("id") not in shapes:
            problems.append(f"participant {pool.get('id')} without shape")
    for lane in doc.xpath("//bpmn:lane", namespaces=NS):
        if lane.get("id") not in shapes:
            problems.append(f"lane {lane.get('id')} without shape")
    nodes = [n for tag in FLOW_NODES for n in process.xpath(f"bpmn:{tag}", namespaces=NS)]
    for node in nodes:
        node_id, tag = node.get("id"), etree.QName(node).localname
        if node_id not in shapes or not shapes[node_id].xpath("dc:Bounds", namespaces=NS):
            problems.append(f"{node_id} without DI shape")
        if node_id not in lane_of:
            problems.append(f"{node_id} in no lane")
        text = "".join(node.xpath("bpmn:documentation/text()", namespaces=NS))
        if "LRV" not in text or "§" not in text:                  # cites the Landesrahmenvertrag
            problems.append(f"{node_id} without documentation citing the LRV")
        if tag == "userTask":
            forms = node.xpath(".//spiffworkflow:property[@name='formJsonSchemaFilename']/@value", namespaces=NS)
            if len(forms) != 1:
                problems.append(f"{node_id} without form")
            else:
                problems += [f"{node_id}: {p}" for p in form_problems(forms[0])]
        if tag == "exclusiveGateway":
            outgoing = node.xpath("bpmn:outgoing", namespaces=NS)
            if len(outgoing) > 1 and not node.get("default"):
                problems.append(f"{node_id} without default flow")
        if tag == "boundaryEvent":
            expression = "".join(node.xpath(".//bpmn:timeDate/text()", namespaces=NS))
            if not expression or expression.strip().upper().startswith("P"):
                problems.append(f"{node_id} has no timeDate expression")
    for flow in process.xpath("bpmn:sequenceFlow", namespaces=NS):
        edge = edges.get(flow.get("id"))
        if edge is None or len(edge.xpath("di:waypoint", namespaces=NS)) < 2:
            problems.append(f"{flow.get('id')} without DI edge")
    return problems


def form_problems(name: str) -> list[str]:
    path = BPMN_DIR / name
    if not path.exists():
        return [f"form {name} missing"]
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        return [f"form {name} is no JSON: {err}"]
    problems = []
    if schema.get("type") != "object" or not schema.get("title"):
        problems.append(f"form {name}: type object and title needed")
    properties = schema.get("properties") or {}
    if not properties:
        problems.append(f"form {name}: no properties")
    for field, spec in properties.items():
        if not field.isidentifier() or field.startswith("_") or field != field.lower():
            problems.append(f"form {name}: field {field!r} is no lowercase identifier")
        if not spec.get("title"):
            problems.append(f"form {name}: field {field} without title")
        if spec.get("format") == "date" and spec.get("type") != "string":
            problems.append(f"form {name}: date field {field} must be a string")
        if spec.get("type") == "array" and spec.get("items", {}).get("enum") and not spec.get("uniqueItems"):
            problems.append(f"form {name}: checklist {field} without uniqueItems")
    missing = set(schema.get("required", [])) - set(properties)
    if missing:
        problems.append(f"form {name}: required fields without property: {sorted(missing)}")
    return problems


def model_problems(process_id: str) -> list[str]:
    """Our modelling conventions: lanes, DI for every node, flow, lane and pool, citations of the source (§ and document),
    forms, default flows, timer expressions."""
    doc = tree(process_id)
    [process] = doc.xpath("//bpmn:process", namespaces=NS)
    problems = [] if process.get("id") == process_id and process.get("isExecutable") == "true" else ["process"]
    shapes = {s.get("bpmnElement"): s for s in doc.xpath("//bpmndi:BPMNShape", namespaces=NS)}
    edges = {e.get("bpmnElement"): e for e in doc.xpath("//bpmndi:BPMNEdge", namespaces=NS)}
    lane_of: dict[str, list[str]] = {}
    for element in doc.xpath("//bpmn:participant | //bpmn:lane", namespaces=NS):
        if element.get("id") not in shapes:
            problems.append(f"{element.get('id')} without shape")
    for lane in doc.xpath("//bpmn:lane", namespaces=NS):
        if lane.get("name") not in LANES:
            problems.append(f"unknown lane {lane.get('name')!r}")
        for ref in lane.xpath("bpmn:flowNodeRef", namespaces=NS):
            lane_of.setdefault(ref.text, []).append(lane.get("name"))
    for node in (n for tag in FLOW_NODES for n in process.xpath(f"bpmn:{tag}", namespaces=NS)):
        node_id, tag = node.get("id"), etree.QName(node).localname
        if node_id not in shapes or not shapes[node_id].xpath("dc:Bounds", namespaces=NS):
            problems.append(f"{node_id} without DI shape")
        if len(lane_of.get(node_id, [])) != 1:
            problems.append(f"{node_id} not in exactly one lane")
        text = "".join(node.xpath("bpmn:documentation/text()", namespaces=NS))
        if not (re.search(r"(§|Abs\.|Abschnitt|Nr\.) ", text) and re.search(
                r"LRV|LV extern|FrühV|SGB|[Vv]ereinbarung|Rundschreiben|Fachkonzept|Arbeitshilfe|Besprechung", text)):
            problems.append(f"{node_id} without documentation citing its source")
        if tag == "userTask":
            forms = node.xpath(".//spiffworkflow:property[@name='formJsonSchemaFilename']/@value", namespaces=NS)
            if len(forms) != 1 or not forms[0].startswith(process_id + "_"):
                problems.append(f"{node_id}: one form named {process_id}_*.json needed")
            problems += [f"{node_id}: {p}" for p in form_problems(forms[0])] if forms else []
        if tag == "exclusiveGateway" and len(node.xpath("bpmn:outgoing", namespaces=NS)) > 1 \
                and not node.get("default"):
            problems.append(f"{node_id} without default flow")
        for expression in node.xpath(".//bpmn:timeDate/text()", namespaces=NS):
            if not re.fullmatch(r'\w+\["(timer|warnung)"\]', expression.strip()):
                problems.append(f"{node_id}: timer not on a frist() result: {expression}")
        if node.xpath(".//bpmn:timeDuration | .//bpmn:timeCycle", namespaces=NS):
            problems.append(f"{node_id}: durations/cycles instead of frist()")
    for flow in process.xpath("bpmn:sequenceFlow", namespaces=NS):
        edge = edges.get(flow.get("id"))
        if edge is None or len(edge.xpath("di:waypoint", namespaces=NS)) < 2:
            problems.append(f"{flow.get('id')} without DI edge")
    return problems
