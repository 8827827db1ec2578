"""What a workflow shows: ready human tasks (data, properties, documentation), the case data,
its deadlines, the snapshot the index tables store after a step and, for the consistency
check, the steps and human tasks the workflow itself records.
"""
from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from ..domain import CaseSnapshot, CaseStatus, Conflict, Deadline, HumanTask, NotFound
from .helpers import DEADLINES_KEY
from .waits import awaited_events, pending_timers


def ready_human_tasks(workflow: BpmnWorkflow) -> list[HumanTask]:
    """Ready user and manual tasks, with the lane that decides who may work them."""
    deadlines = workflow.data.get(DEADLINES_KEY, {})
    tasks = []
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        spec = task.task_spec
        properties = (getattr(spec, "extensions", None) or {}).get("properties", {})
        key = properties.get("frist")
        due = deadlines.get(key or "", {})
        tasks.append(HumanTask(
            task_id=str(task.id), spec_name=spec.name, title=spec.bpmn_name or spec.name,
            lane=getattr(spec, "lane", None), form=properties.get("formJsonSchemaFilename"),
            documentation=getattr(spec, "documentation", None), deadline_key=key if due else None,
            due_date=date.fromisoformat(due["end"]) if due else None))
    return tasks


def task_data(workflow: BpmnWorkflow, task_id: str) -> dict[str, Any]:
    return dict(ready_human_task(workflow, task_id).data)


def task_properties(workflow: BpmnWorkflow, task_id: str) -> dict[str, str]:
    """The spiffworkflow:properties of a ready task (form, deadline key, document to produce)."""
    spec = ready_human_task(workflow, task_id).task_spec
    return dict((getattr(spec, "extensions", None) or {}).get("properties", {}))


def task_documentation(workflow: BpmnWorkflow, task_id: str) -> str | None:
    """The element's documentation (it cites the rule the step comes from)."""
    return getattr(ready_human_task(workflow, task_id).task_spec, "documentation", None)


def ready_human_task(workflow: BpmnWorkflow, task_id: str):
    try:
        task = workflow.get_task_from_id(_uuid(task_id))
    except Exception:
        task = None
    if task is None or not task.task_spec.manual:
        raise NotFound("Die Aufgabe gibt es in diesem Vorgang nicht.", task_id=task_id)
    if task.state != TaskState.READY:
        raise Conflict("Die Aufgabe ist nicht mehr offen; sie wurde bereits erledigt oder ist entfallen.",
                       task_id=task_id)
    return task


def _uuid(task_id: str):
    try:
        return UUID(str(task_id))
    except ValueError:
        raise NotFound("Ungültige Aufgaben-ID.", task_id=task_id) from None


def deadlines(workflow: BpmnWorkflow) -> list[Deadline]:
    return [Deadline.from_data(key, raw) for key, raw in workflow.data.get(DEADLINES_KEY, {}).items()]


def case_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The current business data: the workflow's data after completion, else the data of
    the step of the model that changed last."""
    if workflow.is_completed():
        return {k: v for k, v in workflow.data.items() if k != DEADLINES_KEY}
    modelled = [t for t in workflow.get_tasks(state=_CURRENT_STATES) if getattr(t.task_spec, "bpmn_id", None)]
    if not modelled:
        return dict(workflow.task_tree.data)
    # the newest step the model defines (SpiffWorkflow's internal joins may hold older data)
    return dict(max(modelled, key=lambda t: t.last_state_change).data)


_CURRENT_STATES = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.COMPLETED


def snapshot(workflow: BpmnWorkflow) -> CaseSnapshot:
    """Everything the index tables store about the workflow after a step."""
    return CaseSnapshot(
        status=CaseStatus.COMPLETED if workflow.is_completed() else CaseStatus.RUNNING,
        human_tasks=ready_human_tasks(workflow), timers=pending_timers(workflow),
        awaited=awaited_events(workflow), deadlines=deadlines(workflow))


def is_modelled(spec) -> bool:
    """Specs drawn in the model (SpiffWorkflow adds internal ones such as joins)."""
    return bool(getattr(spec, "bpmn_id", None))


# --- what the workflow itself records (for the consistency check) -------------------------------

_STATES = {TaskState.READY: "offen", TaskState.STARTED: "offen",
           TaskState.COMPLETED: "erledigt", TaskState.CANCELLED: "entfallen",
           TaskState.ERROR: "fehlerhaft"}


def waiting_steps(workflow) -> list[str]:
    """Names of the modelled steps that are ready, started or waiting (over the whole tree,
    however deep): a case whose status says completed must have none."""
    return [t.task_spec.bpmn_name or t.task_spec.bpmn_id
            for wf in (workflow, *workflow.subprocesses.values())
            for t in wf.get_tasks(state=TaskState.READY | TaskState.STARTED | TaskState.WAITING)
            if is_modelled(t.task_spec)]


def human_task_states(workflow) -> dict[str, tuple[str, str]]:
    """task id -> (title, offen | erledigt | entfallen | …) for every user and manual task the
    workflow has reached; tasks it only predicts are left out."""
    return {str(t.id): (t.task_spec.bpmn_name or t.task_spec.name, _STATES[t.state])
            for t in workflow.get_tasks(manual=True) if t.state in _STATES}
