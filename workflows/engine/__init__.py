"""The adapter around SpiffWorkflow: the only package that imports it.

Parses and validates BPMN (hardened XML parser, Spiff's XSD validator, our script
check), starts workflows, (de)serializes them, lists ready human tasks, completes
them, delivers signals and messages, fires due timers and reports what the index
tables need. Time inside SpiffWorkflow's timers comes from `workflows.clock`.

Callers use the package (`from workflows import engine; engine.start(...)`), which
re-exports everything they need from its modules:

    patches     SpiffWorkflow patched on import: our clock for its timers, no depth limit
    parsing     untrusted XML, parse_model and its checks, deployment_files, main_process_id
    helpers     the deadline functions scripts may call, reserved names, check of task data
    running     script engine, step budget; start, complete, signals, messages, timer sweep
    waits       pending timers and awaited events, timer value checks, which timers fired
    tasks       ready human tasks, case data, deadlines, snapshot, recorded steps
    serializer  dumps/loads: a case's state without the spec, as plain data
    versions    diff_case and migrate onto a new model version

    bounds      the bounds of one step, read at every use: set `engine.bounds.MAX_STEP_TASKS`
                (a test, a benchmark) to change what the running code enforces
"""
from __future__ import annotations

from . import patches  # noqa: F401  (applied on import)
from .helpers import (DEADLINE_KEY, DEADLINES_KEY, HELPER_NAMES, MAX_DEADLINES, RESERVED_NAMES, check_data,
                      field_name_problem)
from .parsing import (BPMN_NS, MAX_MODEL_BYTES, SPIFF_NS, ProcessModel, deployment_files, main_process_id,
                      parse_model, parse_xml)
from .parsing import XML_PARSER as XML_PARSER
from .running import complete, fire_due_timers, send_message, send_signal, start
from .serializer import dumps, loads
from .serializer import CONFIG as CONFIG
from .tasks import (case_data, deadlines, human_task_states, ready_human_tasks, snapshot, task_data,
                    task_documentation, task_properties, waiting_steps)
from .versions import diff_case, migrate
from .waits import (MIN_CYCLE, TIMER_RANGE, awaited_events, completed_timers, next_timer_due, pending_timers,
                    timer_history, watching_timers)

from . import bounds
from .bounds import MAX_INSTANCES, MAX_STEP_SECONDS, MAX_STEP_TASKS

__all__ = [
    # parsing
    "BPMN_NS", "MAX_MODEL_BYTES", "SPIFF_NS", "ProcessModel", "deployment_files", "main_process_id",
    "parse_model", "parse_xml",
    # helpers
    "DEADLINE_KEY", "DEADLINES_KEY", "HELPER_NAMES", "MAX_DEADLINES", "RESERVED_NAMES", "check_data",
    "field_name_problem",
    # running
    "bounds", "MAX_INSTANCES", "MAX_STEP_SECONDS", "MAX_STEP_TASKS", "complete", "fire_due_timers", "send_message",
    "send_signal", "start",
    # serializer
    "dumps", "loads",
    # tasks
    "case_data", "deadlines", "human_task_states", "ready_human_tasks", "snapshot", "task_data",
    "task_documentation", "task_properties", "waiting_steps",
    # versions
    "diff_case", "migrate",
    # waits
    "MIN_CYCLE", "TIMER_RANGE", "awaited_events", "completed_timers", "next_timer_due", "pending_timers",
    "timer_history", "watching_timers",
]
