"""The adapter around SpiffWorkflow: the only module that imports it.

Parses and validates BPMN (hardened XML parser, Spiff's XSD validator, our script
check), starts workflows, (de)serializes them, lists ready human tasks, completes
them, delivers signals and messages, fires due timers and reports what the index
tables need. Time inside SpiffWorkflow's timers comes from `workflows.clock`.
"""
from __future__ import annotations

import contextvars
import sys
import time
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (BpmnEventConverter, BpmnSubWorkflowConverter,
                                                             BpmnWorkflowConverter, TaskConverter,
                                                             WorkflowConverter)
from SpiffWorkflow.bpmn.specs.event_definitions import MessageEventDefinition as BpmnMessage
from SpiffWorkflow.bpmn.specs.event_definitions import SignalEventDefinition as BpmnSignal
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition, SignalEventDefinition
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskIterator, TaskState

from . import casedata, clock, fristen, script_limits, scripting
from .domain import (AwaitedEvent, CaseSnapshot, CaseStatus, Conflict, Deadline, DeadlineStatus,
                     HumanTask, InvalidInput, ModelError, NotFound, PendingTimer, ScriptError)


# --- time: the one patch point -------------------------------------------------------

class _ClockDatetime(datetime):
    """SpiffWorkflow's timer module calls datetime.now(timezone.utc); answer from our clock."""

    @classmethod
    def now(cls, tz=None):
        moment = clock.now()
        return moment.astimezone(tz) if tz else moment.astimezone().replace(tzinfo=None)


spiff_timer.datetime = _ClockDatetime


# --- task iteration: no depth limit ----------------------------------------------------------

def _lift_depth_limit(iterator_class) -> None:
    """SpiffWorkflow iterates a task tree only to depth 1,000 by default: after ~500 turns of a
    loop the waiting task is invisible and the workflow reports itself completed although no
    path reached an end. Every iteration (ours and the engine's own) goes without that limit."""
    names = iterator_class.__init__.__code__.co_varnames[1:iterator_class.__init__.__code__.co_argcount]
    defaults = list(iterator_class.__init__.__defaults__)
    defaults[names[-len(defaults):].index("max_depth")] = sys.maxsize
    iterator_class.__init__.__defaults__ = tuple(defaults)


_lift_depth_limit(TaskIterator)
_lift_depth_limit(BpmnTaskIterator)


# --- scripts ---------------------------------------------------------------------------

class _CheckedEnvironment(TaskDataEnvironment):
    """Runs only code that passes the allow-list, rewritten under the guards, with the safe
    builtins and within the limits of steps, time and memory."""

    def __init__(self):
        super().__init__(environment_globals=scripting.safe_globals())

    def evaluate(self, expression, context, external_context=None):
        code = scripting.compile_expression(expression)
        self.globals = scripting.safe_globals()
        with script_limits.limits(seconds=_script_seconds()):
            return super().evaluate(code, context, external_context)

    def execute(self, script, context, external_context=None):
        code = scripting.compile_script(script)
        self.globals = scripting.safe_globals()
        with script_limits.limits(seconds=_script_seconds()):
            return super().execute(code, context, external_context)


class _CaseScriptEngine(PythonScriptEngine):
    """Adds the deadline helpers, bound to the task that runs the script."""

    def __init__(self):
        super().__init__(environment=_CheckedEnvironment())

    def evaluate(self, task, expression, external_context=None):
        value = super().evaluate(task, expression, {**_helpers(task), **(external_context or {})})
        if expression == getattr(task.task_spec, "cardinality", None) and \
                (not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_INSTANCES):
            raise ScriptError(f"Die Anzahl der Instanzen von Element {task.task_spec.bpmn_id} muss eine Zahl "
                              f"von 0 bis {MAX_INSTANCES} sein, nicht {str(value)[:20]}.",
                              element_id=task.task_spec.bpmn_id)
        timer = next((d for d in _timer_definitions(task.task_spec) if d.expression == expression), None)
        if timer is not None:
            _check_timer_value(timer, value, getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name)
        return value

    def execute(self, task, script, external_context=None):
        return super().execute(task, script, {**_helpers(task), **(external_context or {})})


DEADLINES_KEY = "fristen"
#: Deadlines one case may record: more is a runaway script, not a procedure (it would flood the board).
MAX_DEADLINES = 200
#: A deadline's key is an identifier: it names timers and lands in the board, CSV and iCalendar.
DEADLINE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,59}\Z")
HELPER_NAMES = ("frist", "frist_erfuellt", "frist_entfaellt", "heute")
#: Names task data must not use: a variable named like a helper or builtin hides it from
#: every later script of the case (SpiffWorkflow refuses to run them).
RESERVED_NAMES = frozenset(HELPER_NAMES) | frozenset(scripting.SAFE_BUILTINS) | {DEADLINES_KEY}


def _helpers(task) -> dict[str, Callable]:
    """Functions scripts may call. Deadlines are recorded in the workflow's data so the
    index (and the case file) can list them without running the model."""
    registry = task.workflow.top_workflow.data.setdefault(DEADLINES_KEY, {})

    def frist(key: str, rule: str, event: str, **options: Any) -> dict:
        """Compute a legal deadline, record it under `key` and return it with the
        timer values: `timer` (end of the calendar end, § 188 BGB) and, with
        `warnung_tage`, `warnung` (that many days before)."""
        warn_days = options.pop("warnung_tage", None)
        for name, value in list(options.items()):
            if isinstance(value, str) and len(value) == 10 and value[4] == "-":
                options[name] = date.fromisoformat(value)
        result = fristen.berechne(rule, date.fromisoformat(str(event)[:10]), **options)
        entry = {**result.to_dict(), "status": DeadlineStatus.RUNNING.value, "met_on": None,
                 "timer": clock.end_of_day(result.end).isoformat()}
        if warn_days is not None:
            entry["warnung"] = clock.start_of_day(result.end - timedelta(days=int(warn_days))).isoformat()
        if key not in registry and len(registry) >= MAX_DEADLINES:
            raise ScriptError(f"Ein Vorgang kann höchstens {MAX_DEADLINES} Fristen haben "
                              f"(neue Frist „{str(key)[:40]}“).")
        if not isinstance(key, str) or not DEADLINE_KEY.match(key):
            raise ScriptError("Der Schlüssel einer Frist besteht aus Buchstaben, Ziffern und _ "
                              "(höchstens 60 Zeichen), z. B. frist(\"entscheidung\", …).")
        registry[key] = entry
        return dict(entry)

    def frist_erfuellt(key: str, am: str | None = None) -> None:
        """Mark a recorded deadline as met (on `am`, default today)."""
        if key not in registry:
            raise ScriptError(f"Unbekannte Frist „{key}“.")
        registry[key]["status"] = DeadlineStatus.MET.value
        registry[key]["met_on"] = str(am)[:10] if am else clock.today().isoformat()

    def frist_entfaellt(key: str) -> None:
        if key in registry:
            registry[key]["status"] = DeadlineStatus.CANCELLED.value

    def heute() -> str:
        return clock.today().isoformat()

    return {"frist": frist, "frist_erfuellt": frist_erfuellt, "frist_entfaellt": frist_entfaellt,
            "heute": heute}


# --- models -------------------------------------------------------------------------------

#: XML parser for untrusted BPMN: no entities, no network, no DTD, bounded size and depth
#: (libxml2 refuses more than 256 levels without huge_tree). The only parser of the code
#: base: tests/security/test_xml_parse_sites.py fails on any other parse call.
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                              huge_tree=False, remove_comments=False)
MAX_MODEL_BYTES = 5 * 1024 * 1024
#: Encodings in which every ASCII character is its own byte, so the byte checks for
#: "<!DOCTYPE" and "<!ENTITY" below see what the parser will see (UTF-16, UTF-7 or
#: EBCDIC would hide them). The MIWG reference models declare ISO-8859-1.
_ASCII_COMPATIBLE = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1",
                     "iso-8859-15", "windows-1252", "cp1252"}
_DECLARATION = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)[\"']")
#: libxml2's messages for limits it enforces -> German
_LIMITS = [("Excessive depth", "Das XML ist zu tief verschachtelt (höchstens 256 Ebenen)."),
           ("amplification", "Das XML vervielfacht sich beim Lesen (Entitäten) und wird abgelehnt.")]


@dataclass
class ProcessModel:
    """A parsed, validated process ready to start workflows from."""

    process_id: str
    name: str
    spec: Any
    subprocess_specs: dict
    sha256: str
    lanes: list[str] = field(default_factory=list)
    forms: dict[str, str] = field(default_factory=dict)   # task spec name -> form file name


def parse_xml(content: bytes | str, file_name: str = "model.bpmn"):
    """Parse untrusted XML safely; ModelError with the line for malformed input.

    Refuses before parsing what could smuggle a DTD past the checks (other encodings,
    NUL bytes), and after parsing any DTD that got through (defence in depth)."""
    data = content.encode() if isinstance(content, str) else content
    if len(data) > MAX_MODEL_BYTES:
        raise ModelError(f"Die Datei ist größer als {MAX_MODEL_BYTES // (1024 * 1024)} MB.",
                         file_name=file_name)
    if not data.strip():
        raise ModelError("Die Datei ist leer.", file_name=file_name)
    start = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    if b"\x00" in data or not start.startswith(b"<"):
        raise ModelError("Die Datei ist kein XML in UTF-8 (Binärdaten, UTF-16 oder ein anderes Format).",
                         file_name=file_name)
    declared = _DECLARATION.match(start)
    if declared and declared.group(1).decode("ascii", "replace").lower() not in _ASCII_COMPATIBLE:
        raise ModelError(f"Die Zeichenkodierung „{declared.group(1).decode('ascii', 'replace')}“ wird "
                         "nicht unterstützt; bitte als UTF-8 speichern.", file_name=file_name)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ModelError("DTDs und Entitäten sind in BPMN-Dateien nicht erlaubt.", file_name=file_name)
    try:
        root = etree.fromstring(data, parser=_XML_PARSER)
    except etree.XMLSyntaxError as err:
        message = next((german for marker, german in _LIMITS if marker in (err.msg or "")),
                       f"Kein wohlgeformtes XML: {err.msg}")
        raise ModelError(message, line=err.lineno, file_name=file_name) from None
    if root.getroottree().docinfo.internalDTD is not None or root.getroottree().docinfo.doctype:
        raise ModelError("DTDs und Entitäten sind in BPMN-Dateien nicht erlaubt.", file_name=file_name)
    include = next(root.iter("{http://www.w3.org/2001/XInclude}*"), None)
    if include is not None:         # never expanded here; refused so no later step expands it
        raise ModelError("XInclude ist in BPMN-Dateien nicht erlaubt.", line=include.sourceline,
                         file_name=file_name)
    return root


#: SpiffWorkflow's parser messages (English) -> what a process owner reads.
_UNSUPPORTED = [
    (re.compile(r"Data Store with name (.+?) has no implementation", re.S),
     "Der Datenspeicher „{0}“ wird nicht unterstützt (keine Implementierung hinterlegt)."),
    (re.compile(r"A Service Task must have an operator"),
     "Serviceaufgaben ohne hinterlegten Dienst (operator) werden nicht unterstützt."),
    (re.compile(r"Exactly one start event is required in a SubWorkflow Task; found (\d+)"),
     "Ein Teilprozess braucht genau ein Startereignis (gefunden: {0})."),
    (re.compile(r"Cannot resolve (dataInputAssociation|dataOutputAssociation)"),
     "Die Datenzuordnung ({0}) verweist auf ein unbekanntes Datenobjekt."),
    (re.compile(r"A multiinstance task must specify a cardinality or a loop input data reference"),
     "Eine Mehrfachinstanz-Aktivität braucht eine Anzahl (loopCardinality) oder eine Eingabeliste."),
    (re.compile(r"No start event found|at least one start event", re.I),
     "Der Prozess braucht ein Startereignis."),
]


def _model_error(err: Exception, file_name: str | None) -> ModelError:
    """A ModelError in German naming the element (id and name) and the line."""
    raw = " ".join(str(err).split())
    raw = re.sub(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-f]+>", r"\1", raw).rstrip(". ")
    message = next((text.format(*m.groups()) for pattern, text in _UNSUPPORTED
                    for m in [pattern.search(raw)] if m), None)
    element_id = getattr(err, "id", None) or None
    name = getattr(err, "name", None)
    tag = getattr(err, "tag", None)
    if message is None:
        message = f"Ungültiges BPMN: {raw}"
    else:
        message = f"{message} Meldung der Engine: {raw}."
    if tag and element_id:
        message += f" Betroffen: {tag} „{name or element_id}“."
    return ModelError(message, element_id=element_id, line=_int(getattr(err, "line_number", None)),
                      file_name=getattr(err, "file_name", None) or file_name)


def _no_single_process(root_files: dict[str, bytes], executable: list[str]) -> ModelError:
    found = []
    for name, data in root_files.items():
        for proc in parse_xml(data, name).iter(f"{{{BPMN_NS}}}process"):
            flag = "nicht ausführbar" if proc.get("isExecutable") == "false" else "ausführbar"
            found.append(f"„{proc.get('name') or proc.get('id')}“ ({flag})")
    if not executable:
        return ModelError("Die Datei enthält keinen ausführbaren Prozess (isExecutable=\"false\"). "
                          f"Gefunden: {', '.join(found) or 'kein Prozess'}.")
    return ModelError(f"Die Datei enthält mehrere ausführbare Prozesse ({', '.join(found)}); "
                      "bitte genau einen als ausführbar kennzeichnen, die übrigen mit isExecutable=\"false\".")


def parse_model(files: dict[str, bytes | str], process_id: str | None = None) -> ProcessModel:
    """Parse BPMN files (the main one plus those its call activities need) into a model.

    Without `process_id` the file must hold exactly one executable process.
    Raises ModelError naming the element and line for anything that cannot run.
    """
    parser = SpiffBpmnParser(validator=VALIDATOR)
    digest = hashlib.sha256()
    for name, content in sorted(files.items()):
        data = content.encode() if isinstance(content, str) else content
        digest.update(data)
        try:
            parser.add_bpmn_xml(parse_xml(data, name), filename=name)
        except SpiffWorkflowException as err:
            raise _model_error(err, name) from None
    executable = parser.get_process_ids()
    if process_id is None:
        if len(executable) != 1:
            raise _no_single_process({n: c if isinstance(c, bytes) else c.encode() for n, c in files.items()},
                                     executable)
        process_id = executable[0]
    try:
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except SpiffWorkflowException as err:
        raise _model_error(err, None) from None
    except (KeyError, ValueError, AttributeError, TypeError) as err:
        raise ModelError(f"Das Modell kann nicht ausgeführt werden: {_first_line(err)}") from None
    model = ProcessModel(process_id=process_id, name=spec.description or process_id, spec=spec,
                         subprocess_specs=subprocess_specs, sha256=digest.hexdigest())
    _refuse_recursive_calls(model)
    for task_spec in _all_task_specs(model):
        _check_task_spec_scripts(task_spec)
        lane = getattr(task_spec, "lane", None)
        if lane and lane not in model.lanes:
            model.lanes.append(lane)
        form = _form_of(task_spec)
        if form:
            model.forms[task_spec.name] = form
    return model


def _refuse_recursive_calls(model: ProcessModel) -> None:
    """A call activity that calls its own process (directly or through others) would nest
    without end: refused at deploy, naming the element."""
    specs = {model.process_id: model.spec, **model.subprocess_specs}

    def calls(process_id: str):
        for task_spec in specs[process_id].task_specs.values():
            called = getattr(task_spec, "spec", None)
            if isinstance(called, str) and called in specs and hasattr(task_spec, "bpmn_id"):
                yield task_spec, called

    def visit(process_id: str, path: tuple[str, ...]) -> None:
        for task_spec, called in calls(process_id):
            if called in path:
                raise ModelError(f"Die Aufrufaktivität „{task_spec.bpmn_name or task_spec.bpmn_id}“ ruft den "
                                 f"Prozess „{called}“ auf, der sie selbst (mittelbar) aufruft; rekursive "
                                 "Aufrufe sind nicht erlaubt.", element_id=task_spec.bpmn_id)
            visit(called, path + (called,))

    visit(model.process_id, (model.process_id,))


def _all_task_specs(model: ProcessModel):
    yield from model.spec.task_specs.values()
    for sub in model.subprocess_specs.values():
        yield from sub.task_specs.values()


def _check_task_spec_scripts(task_spec) -> None:
    """Run the script allow-list over everything of a task that will be evaluated."""
    checks: list[tuple[str, Callable[[str], None]]] = []
    if getattr(task_spec, "script", None):
        checks.append((task_spec.script, scripting.check_script))
    for condition, _target in getattr(task_spec, "cond_task_specs", []) or []:
        expression = getattr(condition, "args", [None])[0] if condition is not None else None
        if isinstance(expression, str):
            checks.append((expression, scripting.check_expression))
    event_definition = getattr(task_spec, "event_definition", None)
    expression = getattr(event_definition, "expression", None)
    if isinstance(expression, str) and expression:
        checks.append((expression, scripting.check_expression))
    for attr in ("prescript", "postscript"):
        if getattr(task_spec, attr, None):
            checks.append((getattr(task_spec, attr), scripting.check_script))
    for source, check in checks:
        try:
            check(source)
        except ScriptError as err:
            raise ModelError(f"Skript nicht erlaubt: {err.message}",
                             element_id=getattr(task_spec, "bpmn_id", None) or task_spec.name) from None


def _form_of(task_spec) -> str | None:
    properties = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
    return properties.get("formJsonSchemaFilename")


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- running workflows --------------------------------------------------------------------

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


_CONFIG = {**DEFAULT_CONFIG, BpmnWorkflow: _StateOnlyConverter, BpmnSubWorkflow: _PlainSubWorkflowConverter,
           SpiffTask: _PlainTaskConverter, BpmnEvent: _PlainEventConverter}
_REGISTRY = BpmnWorkflowSerializer.configure(_CONFIG)
_SERIALIZER = BpmnWorkflowSerializer(_REGISTRY)


def start(model: ProcessModel, data: dict[str, Any] | None = None) -> BpmnWorkflow:
    """Create a workflow with `data` as its initial data and run it to its first wait."""
    workflow = BpmnWorkflow(model.spec, model.subprocess_specs, script_engine=_CaseScriptEngine())
    workflow.task_tree.data.update(data or {})
    _run_engine(workflow)
    return workflow


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
    workflow.script_engine = _CaseScriptEngine()
    return workflow


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
    return dict(_ready_human_task(workflow, task_id).data)


def task_properties(workflow: BpmnWorkflow, task_id: str) -> dict[str, str]:
    """The spiffworkflow:properties of a ready task (form, deadline key, document to produce)."""
    spec = _ready_human_task(workflow, task_id).task_spec
    return dict((getattr(spec, "extensions", None) or {}).get("properties", {}))


def task_documentation(workflow: BpmnWorkflow, task_id: str) -> str | None:
    """The element's documentation (it cites the rule the step comes from)."""
    return getattr(_ready_human_task(workflow, task_id).task_spec, "documentation", None)


def complete(workflow: BpmnWorkflow, task_id: str, data: dict[str, Any]) -> None:
    """Complete a ready human task with the submitted data and run on to the next wait."""
    task = _ready_human_task(workflow, task_id)
    task.data.update(data)
    _run(lambda: task.run())
    _run_engine(workflow)


def _ready_human_task(workflow: BpmnWorkflow, task_id: str):
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


def send_signal(workflow: BpmnWorkflow, name: str, payload: dict[str, Any] | None = None) -> bool:
    """Deliver a signal; False if the workflow is not waiting for it."""
    return _deliver(workflow, SignalEventDefinition(name), payload)


def send_message(workflow: BpmnWorkflow, name: str, payload: dict[str, Any] | None = None) -> bool:
    """Deliver a message (correlated by our business key, not BPMN correlations)."""
    return _deliver(workflow, MessageEventDefinition(name), payload)


def _deliver(workflow: BpmnWorkflow, definition, payload) -> bool:
    kind = "signal" if isinstance(definition, SignalEventDefinition) else "message"
    if AwaitedEvent(kind, definition.name) not in awaited_events(workflow):
        return False
    _run(lambda: workflow.send_event(BpmnEvent(definition, payload=payload or {})))
    _run_engine(workflow)
    return True


def fire_due_timers(workflow: BpmnWorkflow) -> list[PendingTimer]:
    """Fire every timer due by the clock's now; returns the timers that fired."""
    return watching_timers(workflow, lambda: _run_engine(workflow))[1]


def watching_timers(workflow: BpmnWorkflow, step: Callable[[], Any]) -> tuple[Any, list[PendingTimer]]:
    """Run `step`; its result and the timers that fired in it, so the audit names each fire once:
    a waiting timer whose task completed (or, inside a call activity that has ended, is gone),
    a cycle that moved on, and a timer created already due (a late entry) that fired at once.
    A timer cancelled in the step (its activity ended, another event won) did not fire."""
    before = {t.task_id: t for t in pending_timers(workflow)}
    done_before = _completed_timer_tasks(workflow)
    result = step()
    after = {t.task_id: t for t in pending_timers(workflow)}
    done_after = _completed_timer_tasks(workflow)
    moment = clock.now()
    fired = []
    for task_id, timer in before.items():
        if timer.due_at > moment:
            continue
        if task_id in after:
            if after[task_id].due_at > timer.due_at:            # a cycle fired and waits again
                fired.append(timer)
        elif task_id in done_after or _task_or_none(workflow, task_id) is None:
            fired.append(timer)
    for task_id, task in done_after.items():
        if task_id not in done_before and task_id not in before:
            fired.append(_timer_of(task, moment))
    return result, fired


def completed_timers(workflow: BpmnWorkflow) -> list[PendingTimer]:
    """The timers that have fired so far (for a new case: those due already at its start)."""
    moment = clock.now()
    return [_timer_of(task, moment) for task in _completed_timer_tasks(workflow).values()]


def _completed_timer_tasks(workflow: BpmnWorkflow) -> dict[str, Any]:
    found = {}
    for wf in (workflow, *workflow.subprocesses.values()):
        for task in wf.get_tasks(state=TaskState.COMPLETED):
            if _timer_definition(task.task_spec) is not None:
                found[str(task.id)] = task
    return found


def _timer_definitions(spec) -> list:
    definition = getattr(spec, "event_definition", None)
    parts = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
    return [part for part in parts if isinstance(part, TimerEventDefinition)]


def _timer_definition(spec):
    return next(iter(_timer_definitions(spec)), None)


#: The shortest interval of a cycle timer (validation refuses shorter ones at deploy, this at
#: run time for cycles computed from data): a zero or tiny interval would fire without pause.
MIN_CYCLE = timedelta(hours=1)
#: Timer moments must lie in this range (a timer in the year 9999 or 1 is a model defect).
TIMER_RANGE = (datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2200, 1, 1, tzinfo=timezone.utc))


def _check_timer_value(definition, value, element: str) -> None:
    """A timer's evaluated value must be an ISO text that gives a moment in TIMER_RANGE (and,
    for a cycle, an interval of at least MIN_CYCLE); ScriptError naming the element otherwise."""
    def refuse(why: str):
        raise ScriptError(f"Der Timer von Element {element} ist ungültig: {why}", element_id=element)
    if not isinstance(value, str):
        refuse(f"er ergibt „{type(value).__name__}“ statt eines Textes (Datum oder Dauer nach ISO 8601).")
    try:
        if isinstance(definition, CycleTimerEventDefinition):
            _cycles, start, interval = TimerEventDefinition.parse_iso_recurring_interval(value)
            if interval < MIN_CYCLE:
                refuse(f"„{value[:40]}“ wiederholt sich öfter als einmal pro Stunde (Mindestabstand 1 Stunde).")
            moment = start
        else:
            parsed = TimerEventDefinition.parse_time_or_duration(value)
            moment = parsed if isinstance(parsed, datetime) else clock.now() + \
                TimerEventDefinition.get_timedelta_from_start(parsed)
    except ScriptError:
        raise
    except Exception:
        refuse(f"„{value[:40]}“ ist kein Datum und keine Dauer nach ISO 8601.")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    if not TIMER_RANGE[0] <= moment < TIMER_RANGE[1]:
        refuse(f"„{value[:40]}“ liegt außerhalb der Jahre 2000 bis 2199.")


def _timer_of(task, moment: datetime) -> PendingTimer:
    definition = _timer_definition(task.task_spec)
    try:
        due = TimerEventDefinition.parse_time_or_duration(definition.details(task).value)
    except Exception:                     # the audit entry must not fail on an odd expression
        due = None
    return PendingTimer(task_id=str(task.id), spec_name=task.task_spec.name,
                        title=definition.name or task.task_spec.bpmn_name or task.task_spec.name,
                        due_at=(due if isinstance(due, datetime) else moment).astimezone(timezone.utc))


def _task_or_none(workflow: BpmnWorkflow, task_id: str):
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except Exception:
        return None


#: One step (a completion, an event, a timer sweep of a case) may run at most this long in
#: all and execute at most this many engine tasks: a gateway loop of scripts, each within its
#: own limits, must not hold a worker either. Each script gets what is left of the step.
MAX_STEP_SECONDS = 15.0
MAX_STEP_TASKS = 5_000
#: Instances one multi-instance activity may create.
MAX_INSTANCES = 500


class _StepBudget:
    def __init__(self) -> None:
        self.deadline = time.monotonic() + MAX_STEP_SECONDS
        self.tasks = 0

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def task_done(self, _task=None) -> None:
        self.tasks += 1
        if self.tasks > MAX_STEP_TASKS:
            raise ScriptError(f"Der Schritt wurde nach {MAX_STEP_TASKS:,} ausgeführten Elementen abgebrochen "
                              "(Schleife ohne wartenden Schritt?).".replace(",", "."))
        if self.remaining() <= 0:
            raise ScriptError(f"Der Schritt wurde nach {MAX_STEP_SECONDS:g} Sekunden abgebrochen (Zeitgrenze).")


_BUDGET: contextvars.ContextVar[_StepBudget | None] = contextvars.ContextVar("step_budget", default=None)


def _script_seconds() -> float:
    """What a script may still use: its own limit, or less if the step is nearly out of time."""
    budget = _BUDGET.get()
    seconds = script_limits.MAX_SECONDS if budget is None else min(script_limits.MAX_SECONDS, budget.remaining())
    if seconds <= 0:
        raise ScriptError(f"Der Schritt wurde nach {MAX_STEP_SECONDS:g} Sekunden abgebrochen (Zeitgrenze).")
    return seconds


def _run_engine(workflow: BpmnWorkflow) -> None:
    def steps():
        workflow.refresh_timers()
        budget = _BUDGET.get()
        workflow.do_engine_steps(will_complete_task=budget.task_done if budget else None)
    _run(steps)


def _run(step: Callable[[], Any]) -> None:
    """Run an engine step within the step budget, turning model errors into a ScriptError with
    the element."""
    token = _BUDGET.set(_StepBudget()) if _BUDGET.get() is None else None
    try:
        _run_step(step)
    finally:
        if token is not None:
            _BUDGET.reset(token)


def _run_step(step: Callable[[], Any]) -> None:
    try:
        step()
    except ScriptError:
        raise
    except RecursionError:
        raise ScriptError("Das Modell läuft in eine Schleife ohne wartenden Schritt "
                          "(z. B. ein Rücksprung ohne Gateway).") from None
    except SpiffWorkflowException as err:
        element = getattr(getattr(err, "task_spec", None), "bpmn_id", None) or getattr(
            getattr(getattr(err, "task", None), "task_spec", None), "bpmn_id", None)
        cause = getattr(err, "exception", None) or err.__cause__ or err.__context__
        if isinstance(cause, ScriptError):
            raise ScriptError(f"{cause.message} (Element {element})", element_id=element) from None
        if isinstance(cause, NameError):
            raise ScriptError(f"Unbekannter Name „{cause.name}“ im Skript (Element {element}): weder Feld "
                              "des Vorgangs noch erlaubte Funktion.", element_id=element) from None
        raise ScriptError(f"Fehler im Modell bei Element {element}: {_first_line(err)}",
                          element_id=element) from None


def _waits(workflow: BpmnWorkflow):
    """(task, event definition) for everything the workflow waits for; an event-based
    gateway or multiple event holds several definitions on one task."""
    for task in workflow.event_manager.tasks.values():
        definition = task.task_spec.event_definition
        parts = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
        for part in parts:
            yield task, part


def pending_timers(workflow: BpmnWorkflow) -> list[PendingTimer]:
    timers = []
    for task, definition in _waits(workflow):
        if not isinstance(definition, TimerEventDefinition):
            continue
        value = definition.details(task).value
        if value is None:
            continue
        if isinstance(value, dict):          # a cycle that has run out
            continue
        due = TimerEventDefinition.parse_time_or_duration(value)
        if isinstance(due, datetime) and not any(t.task_id == str(task.id) and t.due_at <= due for t in timers):
            timers = [t for t in timers if t.task_id != str(task.id)]      # earliest per waiting task
            timers.append(PendingTimer(task_id=str(task.id), spec_name=task.task_spec.name,
                                       title=definition.name or task.task_spec.bpmn_name or task.task_spec.name,
                                       due_at=due.astimezone(timezone.utc)))
    return timers


def next_timer_due(workflow: BpmnWorkflow) -> datetime | None:
    return min((t.due_at for t in pending_timers(workflow)), default=None)


def awaited_events(workflow: BpmnWorkflow) -> list[AwaitedEvent]:
    events = []
    for _task, definition in _waits(workflow):
        if isinstance(definition, BpmnSignal):
            events.append(AwaitedEvent("signal", definition.name))
        elif isinstance(definition, BpmnMessage):
            events.append(AwaitedEvent("message", definition.name))
    return list(dict.fromkeys(events))


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


def check_data(data: Any) -> dict[str, Any]:
    """Task data must be a JSON object of plain values with names scripts can use."""
    if not isinstance(data, dict):
        raise InvalidInput("Die Daten müssen ein Objekt (Schlüssel → Wert) sein.")
    for key in data:
        problem = field_name_problem(key)
        if problem:
            raise InvalidInput(problem, field=str(key))
    casedata.check_submission(data)
    return data


def field_name_problem(name: Any) -> str | None:
    """Why `name` cannot be a task data field (German), or None."""
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        return f"Ungültiger Feldname: {name!r} (nur Buchstaben, Ziffern und _, nicht am Anfang)."
    if name in RESERVED_NAMES:
        return f"Der Feldname „{name}“ ist für Skriptfunktionen reserviert."
    return None


BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def deployment_files(directory, main: str) -> dict[str, str]:
    """What deploying `main` from a model directory needs: the file, the files defining the
    processes its call activities name (recursively) and every form those files use."""
    from pathlib import Path
    directory = Path(directory)
    defined = {}
    for path in sorted(directory.glob("*.bpmn")):
        for proc in parse_xml(path.read_bytes(), path.name).iter(f"{{{BPMN_NS}}}process"):
            defined.setdefault(proc.get("id"), path.name)
    files, pending = {}, [main]
    while pending:
        name = pending.pop()
        if name in files:
            continue
        files[name] = (directory / name).read_text(encoding="utf-8")
        root = parse_xml(files[name].encode(), name)
        for prop in root.iter(f"{{{SPIFF_NS}}}property"):
            if prop.get("name") == "formJsonSchemaFilename" and (directory / prop.get("value")).exists():
                files[prop.get("value")] = (directory / prop.get("value")).read_text(encoding="utf-8")
        for call in root.iter(f"{{{BPMN_NS}}}callActivity"):
            if call.get("calledElement") in defined:
                pending.append(defined[call.get("calledElement")])
    return files


def main_process_id(content: bytes, file_name: str) -> str:
    """The one executable process a deployed file must define (others may be pools
    of partners that are only drawn)."""
    executable = [p.get("id") for p in parse_xml(content, file_name).iter(f"{{{BPMN_NS}}}process")
                  if p.get("isExecutable") != "false"]      # unset counts as executable, as in Spiff
    if len(executable) != 1:
        raise _no_single_process({file_name: content}, executable)
    return executable[0]



# --- model versions: diff and migration of running cases (process owners) ----------------

_OPEN = {TaskState.READY: "bereit", TaskState.STARTED: "begonnen", TaskState.WAITING: "wartet"}
_PASSED = TaskState.COMPLETED | TaskState.ERROR | TaskState.CANCELLED


def _task_label(spec) -> dict[str, Any]:
    return {"id": getattr(spec, "bpmn_id", None) or spec.name,
            "name": getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name}


def _modelled(spec) -> bool:
    """Specs drawn in the model (SpiffWorkflow adds internal ones such as joins)."""
    return bool(getattr(spec, "bpmn_id", None))


def _diffs(workflow: BpmnWorkflow, new_model: ProcessModel):
    from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff
    spec_diff = SpecDiff(_REGISTRY, workflow.spec, new_model.spec)
    parts = [(workflow, spec_diff, WorkflowDiff(workflow, spec_diff))]
    missing = []
    for subprocess in workflow.subprocesses.values():
        new_spec = new_model.subprocess_specs.get(subprocess.spec.name)
        if new_spec is None:
            missing.append(subprocess)
            continue
        sub_spec_diff = SpecDiff(_REGISTRY, subprocess.spec, new_spec)
        parts.append((subprocess, sub_spec_diff, WorkflowDiff(subprocess, sub_spec_diff)))
    return parts, missing


def diff_case(workflow: BpmnWorkflow, new_model: ProcessModel) -> dict[str, Any]:
    """What changes for a running case if it moves to `new_model`: `added`, `changed` and
    `removed` elements of the model, and `blocking`: removed elements the case stands on
    (ready, started, waiting) or has passed, which make a migration unsafe."""
    parts, missing = _diffs(workflow, new_model)
    added, changed, removed, blocking = [], [], [], []
    for _wf, spec_diff, wf_diff in parts:
        added += [_task_label(s) for s in spec_diff.added if _modelled(s)]
        changed += [{**_task_label(s), "attributes": sorted(a)} for s, a in spec_diff.changed.items()
                    if _modelled(s)]
        removed += [_task_label(s) for s in spec_diff.removed if _modelled(s)]
        for task in wf_diff.removed:
            if task.state in _OPEN:
                blocking.append({**_task_label(task.task_spec), "state": _OPEN[task.state]})
            elif task.state & _PASSED and _modelled(task.task_spec):
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
        _run(lambda: migrate_workflow(wf_diff, wf, new_spec))
    workflow.subprocess_specs = new_model.subprocess_specs
    try:
        migrated = loads(dumps(workflow), new_model)
        safe = _all_specs_known(migrated)
    except (SpiffWorkflowException, KeyError, AttributeError, TypeError):
        safe = False
    if not safe:
        raise Conflict("Der Vorgang kann nicht umgestellt werden: sein Zustand verweist auf Elemente, "
                       "die die neue Version nicht mehr enthält.")
    _run_engine(migrated)
    return migrated


def _all_specs_known(workflow: BpmnWorkflow) -> bool:
    for wf in (workflow, *workflow.subprocesses.values()):
        if any(task.task_spec is None for task in wf.tasks.values()):
            return False
    return True


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
            if _modelled(t.task_spec)]


def human_task_states(workflow) -> dict[str, tuple[str, str]]:
    """task id -> (title, offen | erledigt | entfallen | …) for every user and manual task the
    workflow has reached; tasks it only predicts are left out."""
    return {str(t.id): (t.task_spec.bpmn_name or t.task_spec.name, _STATES[t.state])
            for t in workflow.get_tasks(manual=True) if t.state in _STATES}


def timer_history(workflow) -> list[PendingTimer]:
    """Every timer any task of the workflow waited for (pending, fired or cancelled), named
    and dated as the timer index and the audit name them. A timer can fire at most once per
    entry here, which bounds the audit's `timer_ausgeloest` entries."""
    timers = []
    for task in workflow.get_tasks():
        definition = getattr(task.task_spec, "event_definition", None)
        parts = (definition.event_definitions if isinstance(definition, MultipleEventDefinition)
                 else [definition])
        for part in parts:
            if not isinstance(part, TimerEventDefinition):
                continue
            value = part.details(task).value
            if not isinstance(value, str):
                continue
            due = TimerEventDefinition.parse_time_or_duration(value)
            if hasattr(due, "astimezone"):
                timers.append(PendingTimer(
                    task_id=str(task.id), spec_name=task.task_spec.name,
                    title=part.name or task.task_spec.bpmn_name or task.task_spec.name,
                    due_at=due.astimezone(timezone.utc)))
    return timers
