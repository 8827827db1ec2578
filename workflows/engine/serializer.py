"""(De)serialization of a workflow's state: plain data only, without the process spec.

Model versions are immutable and every case is pinned to one, so a case's JSON holds its state
and not its spec (`_StateOnlyConverter`); `loads` takes the spec from the parsed model. Task
data, workflow data and event payloads never pass SpiffWorkflow's converter registry, which
would revive any dict with a `typename` key as an object: `casedata` checks and escapes them on
the way in and reads them back as plain values.
"""
from __future__ import annotations

import contextvars
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (BpmnEventConverter, BpmnSubWorkflowConverter,
                                                             BpmnWorkflowConverter, TaskConverter,
                                                             WorkflowConverter)
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.deep_merge import DeepMerge

from .. import casedata
from .parsing import ProcessModel
from .running import CaseScriptEngine


_LOADING: contextvars.ContextVar[ProcessModel] = contextvars.ContextVar("loading")


class _StateOnlyConverter(BpmnWorkflowConverter):
    """Serializes a workflow's state without its process spec.

    Model versions are immutable and every case is pinned to one, so the spec is
    taken from the parsed model instead of being stored (and parsed) with every step:
    half the bytes per case and a faster load. Its data is plain data (casedata)."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["data"] = casedata.dump(workflow.data, workflow.spec.name)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        model = _LOADING.get()
        workflow = self.target_class(model.spec, model.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        data = dct.pop("data", {})
        self.set_default_attributes(workflow, dct)
        workflow.data = casedata.load(data)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class _PlainSubWorkflowConverter(BpmnSubWorkflowConverter):
    """A call activity's workflow: its data is plain data too."""

    def to_dict(self, workflow):
        dct = super().to_dict(workflow)
        dct["data"] = casedata.dump(workflow.data, workflow.spec.name)
        return dct

    def set_default_attributes(self, workflow, dct):
        data = dct.pop("data", {})
        super().set_default_attributes(workflow, dct)
        workflow.data = casedata.load(data)


class _PlainTaskConverter(TaskConverter):
    """Task data never passes SpiffWorkflow's converter registry, which would revive any dict
    with a `typename` key as an object: it is checked and escaped by casedata on the way
    into the JSON and read back as plain values. Engine-internal data (timer values, event
    payloads) keeps the registry for its datetimes, with user-made keys escaped."""

    def to_dict(self, task):
        element = getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name
        dct = super().to_dict(task)
        dct["internal_data"] = casedata.escape_keys(dct["internal_data"])
        if task.parent is None:
            dct["data"] = casedata.dump(task.data, element)
        else:
            dct["delta"]["updates"] = casedata.dump(dct["delta"]["updates"], element)
        return dct

    def from_dict(self, dct, workflow):
        delta = dct.pop("delta", None)
        data = dct.pop("data", {})
        dct["data"], dct["delta"] = {}, None
        task = super().from_dict(dct, workflow)
        task.internal_data = casedata.load(task.internal_data)
        if delta and task.parent is not None:
            merged = DeepMerge.merge({}, task.parent.data)
            merged.update(casedata.load(delta.get("updates", {})))
            for key in delta.get("deletions", []):
                merged.pop(key, None)
            task.data = merged
        else:
            task.data = casedata.load(data)
        return task


class _PlainEventConverter(BpmnEventConverter):
    """A pending event's payload (message or signal data) is plain data."""

    def to_dict(self, event):
        dct = super().to_dict(event)
        dct["payload"] = casedata.dump(event.payload, "Ereignis")
        return dct

    def from_dict(self, dct):
        payload = casedata.load(dct.pop("payload", None))
        dct["payload"] = None
        event = super().from_dict(dct)
        event.payload = payload
        return event


CONFIG = {**DEFAULT_CONFIG, BpmnWorkflow: _StateOnlyConverter, BpmnSubWorkflow: _PlainSubWorkflowConverter,
           SpiffTask: _PlainTaskConverter, BpmnEvent: _PlainEventConverter}
REGISTRY = BpmnWorkflowSerializer.configure(CONFIG)
_SERIALIZER = BpmnWorkflowSerializer(REGISTRY)


def dumps(workflow: BpmnWorkflow) -> str:
    """The workflow's state as JSON (without the spec: see _StateOnlyConverter)."""
    return _SERIALIZER.serialize_json(workflow)


def loads(serialized: str, model: ProcessModel) -> BpmnWorkflow:
    """Restore a workflow of `model` (the version the case is pinned to)."""
    token = _LOADING.set(model)
    try:
        workflow = _SERIALIZER.deserialize_json(serialized)
    finally:
        _LOADING.reset(token)
    workflow.script_engine = CaseScriptEngine()
    return workflow
