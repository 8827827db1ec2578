"""Running a workflow: the script engine, the step budget and the operations that advance a case.

Every script and condition runs through `CaseScriptEngine`: checked against the allow-list and
rewritten under the guards (`scripting`), within the limits of `script_limits`, with the
deadline helpers bound to its task (`helpers`) and timer values checked as they are computed
(`waits`). Every step (start, completion, event, timer sweep, migration) runs inside `run_step`,
which bounds it as a whole (`_StepBudget`) and turns SpiffWorkflow's errors into a ScriptError
naming the element.

The step bounds MAX_STEP_SECONDS, MAX_STEP_TASKS and MAX_INSTANCES live in `bounds` and are
read from there at every use, so that setting `engine.bounds.MAX_STEP_TASKS` (as a test does)
changes what is enforced.
"""
from __future__ import annotations

import contextvars
import time
from typing import Any, Callable

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition, SignalEventDefinition

from .. import script_limits, scripting
from . import bounds
from ..domain import AwaitedEvent, PendingTimer, ScriptError
from .helpers import script_helpers
from .parsing import ProcessModel, first_line
from .tasks import ready_human_task
from .waits import check_timer_value, timer_definitions, awaited_events, watching_timers


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


class CaseScriptEngine(PythonScriptEngine):
    """Adds the deadline helpers, bound to the task that runs the script."""

    def __init__(self):
        super().__init__(environment=_CheckedEnvironment())

    def evaluate(self, task, expression, external_context=None):
        value = super().evaluate(task, expression, {**script_helpers(task), **(external_context or {})})
        if expression == getattr(task.task_spec, "cardinality", None) and \
                (not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= bounds.MAX_INSTANCES):
            raise ScriptError(f"Die Anzahl der Instanzen von Element {task.task_spec.bpmn_id} muss eine Zahl "
                              f"von 0 bis {bounds.MAX_INSTANCES} sein, nicht {str(value)[:20]}.",
                              element_id=task.task_spec.bpmn_id)
        timer = next((d for d in timer_definitions(task.task_spec) if d.expression == expression), None)
        if timer is not None:
            check_timer_value(timer, value, getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name)
        return value

    def execute(self, task, script, external_context=None):
        return super().execute(task, script, {**script_helpers(task), **(external_context or {})})


# --- the step budget ---------------------------------------------------------------------
# MAX_STEP_SECONDS, MAX_STEP_TASKS and MAX_INSTANCES are read as `engine.…` (the package, which
# defines them) at every use, so that a test or benchmark setting them there takes effect.

class _StepBudget:
    def __init__(self) -> None:
        self.deadline = time.monotonic() + bounds.MAX_STEP_SECONDS
        self.tasks = 0

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def task_done(self, _task=None) -> None:
        self.tasks += 1
        if self.tasks > bounds.MAX_STEP_TASKS:
            raise ScriptError(f"Der Schritt wurde nach {bounds.MAX_STEP_TASKS:,} ausgeführten Elementen abgebrochen "
                              "(Schleife ohne wartenden Schritt?).".replace(",", "."))
        if self.remaining() <= 0:
            raise ScriptError(f"Der Schritt wurde nach {bounds.MAX_STEP_SECONDS:g} Sekunden abgebrochen (Zeitgrenze).")


_BUDGET: contextvars.ContextVar[_StepBudget | None] = contextvars.ContextVar("step_budget", default=None)


def _script_seconds() -> float:
    """What a script may still use: its own limit, or less if the step is nearly out of time."""
    budget = _BUDGET.get()
    seconds = script_limits.MAX_SECONDS if budget is None else min(script_limits.MAX_SECONDS, budget.remaining())
    if seconds <= 0:
        raise ScriptError(f"Der Schritt wurde nach {bounds.MAX_STEP_SECONDS:g} Sekunden abgebrochen (Zeitgrenze).")
    return seconds


def run_engine(workflow: BpmnWorkflow) -> None:
    def steps():
        workflow.refresh_timers()
        budget = _BUDGET.get()
        workflow.do_engine_steps(will_complete_task=budget.task_done if budget else None)
    run_step(steps)


def run_step(step: Callable[[], Any]) -> None:
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
        raise ScriptError(f"Fehler im Modell bei Element {element}: {first_line(err)}",
                          element_id=element) from None


# --- steps: start, complete, events, timers ------------------------------------------------

def start(model: ProcessModel, data: dict[str, Any] | None = None) -> BpmnWorkflow:
    """Create a workflow with `data` as its initial data and run it to its first wait."""
    workflow = BpmnWorkflow(model.spec, model.subprocess_specs, script_engine=CaseScriptEngine())
    workflow.task_tree.data.update(data or {})
    run_engine(workflow)
    return workflow


def complete(workflow: BpmnWorkflow, task_id: str, data: dict[str, Any]) -> None:
    """Complete a ready human task with the submitted data and run on to the next wait."""
    task = ready_human_task(workflow, task_id)
    task.data.update(data)
    run_step(lambda: task.run())
    run_engine(workflow)


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
    run_step(lambda: workflow.send_event(BpmnEvent(definition, payload=payload or {})))
    run_engine(workflow)
    return True


def fire_due_timers(workflow: BpmnWorkflow) -> list[PendingTimer]:
    """Fire every timer due by the clock's now; returns the timers that fired."""
    return watching_timers(workflow, lambda: run_engine(workflow))[1]
