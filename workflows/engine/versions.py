"""Model versions: what changes for a running case on a new version, and its migration.

Uses SpiffWorkflow's spec and workflow diffs (with the serializer's registry). A migration is
refused (Conflict) whenever the case stands on or has passed an element the new version lacks,
and the migrated case is read back through the new model before it is accepted.
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from ..domain import Conflict
from .parsing import ProcessModel
from .running import run_step, run_engine
from .serializer import REGISTRY, dumps, loads
from .tasks import is_modelled


# --- model versions: diff and migration of running cases (process owners) ----------------

_OPEN = {TaskState.READY: "bereit", TaskState.STARTED: "begonnen", TaskState.WAITING: "wartet"}
_PASSED = TaskState.COMPLETED | TaskState.ERROR | TaskState.CANCELLED


def _task_label(spec) -> dict[str, Any]:
    return {"id": getattr(spec, "bpmn_id", None) or spec.name,
            "name": getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name}


def _diffs(workflow: BpmnWorkflow, new_model: ProcessModel):
    from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff
    spec_diff = SpecDiff(REGISTRY, workflow.spec, new_model.spec)
    parts = [(workflow, spec_diff, WorkflowDiff(workflow, spec_diff))]
    missing = []
    for subprocess in workflow.subprocesses.values():
        new_spec = new_model.subprocess_specs.get(subprocess.spec.name)
        if new_spec is None:
            missing.append(subprocess)
            continue
        sub_spec_diff = SpecDiff(REGISTRY, subprocess.spec, new_spec)
        parts.append((subprocess, sub_spec_diff, WorkflowDiff(subprocess, sub_spec_diff)))
    return parts, missing


def diff_case(workflow: BpmnWorkflow, new_model: ProcessModel) -> dict[str, Any]:
    """What changes for a running case if it moves to `new_model`: `added`, `changed` and
    `removed` elements of the model, and `blocking`: removed elements the case stands on
    (ready, started, waiting) or has passed, which make a migration unsafe."""
    parts, missing = _diffs(workflow, new_model)
    added, changed, removed, blocking = [], [], [], []
    for _wf, spec_diff, wf_diff in parts:
        added += [_task_label(s) for s in spec_diff.added if is_modelled(s)]
        changed += [{**_task_label(s), "attributes": sorted(a)} for s, a in spec_diff.changed.items()
                    if is_modelled(s)]
        removed += [_task_label(s) for s in spec_diff.removed if is_modelled(s)]
        for task in wf_diff.removed:
            if task.state in _OPEN:
                blocking.append({**_task_label(task.task_spec), "state": _OPEN[task.state]})
            elif task.state & _PASSED and is_modelled(task.task_spec):
                blocking.append({**_task_label(task.task_spec), "state": "im Verlauf erledigt"})
    for subprocess in missing:
        if not subprocess.is_completed():
            blocking.append({"id": subprocess.spec.name, "name": subprocess.spec.description or subprocess.spec.name,
                             "state": "Teilprozess fehlt in der neuen Version"})
    return {"added": added, "changed": changed, "removed": removed, "blocking": blocking}


def migrate(workflow: BpmnWorkflow, new_model: ProcessModel) -> BpmnWorkflow:
    """Move a running case onto `new_model` (SpiffWorkflow's migrate_workflow); refuses with
    Conflict (German reason) if that is unsafe. Returns the migrated workflow as read back
    through the new model, i.e. exactly what later steps will load."""
    from SpiffWorkflow.bpmn.util.diff import migrate_workflow
    diff = diff_case(workflow, new_model)
    if diff["blocking"]:
        names = ", ".join(f"„{b['name']}“ ({b['state']})" for b in diff["blocking"])
        raise Conflict("Der Vorgang kann nicht umgestellt werden: die neue Version enthält diese Schritte "
                       f"nicht mehr: {names}.")
    parts, _missing = _diffs(workflow, new_model)
    for wf, _spec_diff, wf_diff in parts:
        new_spec = new_model.spec if wf is workflow else new_model.subprocess_specs[wf.spec.name]
        run_step(lambda: migrate_workflow(wf_diff, wf, new_spec))
    workflow.subprocess_specs = new_model.subprocess_specs
    try:
        migrated = loads(dumps(workflow), new_model)
        safe = _all_specs_known(migrated)
    except (SpiffWorkflowException, KeyError, AttributeError, TypeError):
        safe = False
    if not safe:
        raise Conflict("Der Vorgang kann nicht umgestellt werden: sein Zustand verweist auf Elemente, "
                       "die die neue Version nicht mehr enthält.")
    run_engine(migrated)
    return migrated


def _all_specs_known(workflow: BpmnWorkflow) -> bool:
    for wf in (workflow, *workflow.subprocesses.values()):
        if any(task.task_spec is None for task in wf.tasks.values()):
            return False
    return True
