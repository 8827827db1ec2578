"""What a workflow waits for: timers, signals and messages, and which timers fired in a step.

Timer values are checked as a script or expression computes them (`check_timer_value`, called
by the script engine): an ISO text giving a moment in TIMER_RANGE, a cycle no shorter than
MIN_CYCLE. `watching_timers`, `completed_timers` and `timer_history` name the timers for the
audit and the timer index.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions import MessageEventDefinition as BpmnMessage
from SpiffWorkflow.bpmn.specs.event_definitions import SignalEventDefinition as BpmnSignal
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from .. import clock
from ..domain import AwaitedEvent, PendingTimer, ScriptError


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


# --- timers in a step: which fired, and their values ---------------------------------------

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


def timer_definitions(spec) -> list:
    definition = getattr(spec, "event_definition", None)
    parts = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
    return [part for part in parts if isinstance(part, TimerEventDefinition)]


def _timer_definition(spec):
    return next(iter(timer_definitions(spec)), None)


#: The shortest interval of a cycle timer (validation refuses shorter ones at deploy, this at
#: run time for cycles computed from data): a zero or tiny interval would fire without pause.
MIN_CYCLE = timedelta(hours=1)
#: Timer moments must lie in this range (a timer in the year 9999 or 1 is a model defect).
TIMER_RANGE = (datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2200, 1, 1, tzinfo=timezone.utc))


def check_timer_value(definition, value, element: str) -> None:
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
