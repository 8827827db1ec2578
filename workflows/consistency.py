"""Does every case agree with itself? Workflow JSON, index tables and audit trail.

Each step writes the case row, its index rows and an audit event in one transaction, so
after any crash, race or retry the three must still tell the same story. This module
recomputes what the index should hold from the stored workflow (the same functions the
services use when they write it) and compares; it checks the audit trail against the
workflow's own record of completed tasks and fired timers. Only what the code guarantees
is checked, so a clean database never raises a false alarm.

Run it with `flask --app webapp check`; the reliability tests run it after every race.
"""
from __future__ import annotations

import json
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import sqlalchemy as sa

from . import engine
from .domain import CaseStatus, task_organisation
from .store import InstanceRow, Store, awaited_events, deadlines, fingerprint, index_rows, open_tasks, pending_timers
from .usecases import kernel
from .usecases.context import Context


#: German names of the index tables, for the messages
TABLE_NAMES = {open_tasks: "offene Aufgaben", pending_timers: "Timer", awaited_events: "erwartete Ereignisse",
               deadlines: "Fristen"}
#: the claim each audit action leaves a task with (None: released)
CLAIM_ACTIONS = ("aufgabe_uebernommen", "aufgabe_zurueckgegeben", "aufgabe_uebergeben")


@dataclass(frozen=True)
class Problem:
    """One disagreement in one case, in German, with the Aktenzeichen."""

    business_key: str
    message: str

    def __str__(self) -> str:
        return f"{self.business_key}: {self.message}"


def check_all(ctx: Context) -> list[Problem]:
    """Check every case, each in its own consistent read (the system may keep running)."""
    with ctx.store.read() as conn:
        ids = ctx.store.instance_ids(conn)
    problems: list[Problem] = []
    for instance_id in ids:
        with snapshot_read(ctx.store) as conn:
            row = ctx.store.find_instance(conn, instance_id)
            if row is not None:                       # deleted meanwhile (retention)
                problems += check_case(ctx, conn, row)
    return problems


@contextmanager
def snapshot_read(store: Store) -> Iterator[sa.Connection]:
    """A read transaction that sees one committed state for all its queries: PostgreSQL's
    default (read committed) would let a step commit between the case row and its index."""
    with store.snapshot_read() as conn:
        yield conn


def check_case(ctx: Context, conn: sa.Connection, row: InstanceRow) -> list[Problem]:
    """Everything that disagrees in one case (empty list: consistent)."""
    problems: list[str] = []
    try:
        workflow = engine.loads(row.workflow_json, kernel.model(ctx, conn, row.model_version_id))
        snap = engine.snapshot(workflow)
    except Exception as err:                          # unreadable state is itself the finding
        return [Problem(row.business_key, f"Der gespeicherte Workflow lässt sich nicht laden: {err}")]
    expected = index_rows(snap, lambda lane: task_organisation(lane, row.parties))
    if row.status in (CaseStatus.RUNNING.value, CaseStatus.COMPLETED.value):
        if row.status != snap.status.value:
            problems.append(f"Zustand ist „{row.status}“, laut Workflow aber „{snap.status.value}“.")
        waiting = engine.waiting_steps(workflow) if row.status == CaseStatus.COMPLETED.value else []
        if waiting:
            problems.append("Der Vorgang gilt als abgeschlossen, wartet aber noch auf: " + ", ".join(waiting) + ".")
        if row.index_fingerprint != fingerprint(expected):
            problems.append("Die Prüfsumme der Indextabellen (index_fingerprint) passt nicht zum Workflow.")
        problems += _index_problems(ctx.store, conn, row, expected)
    elif row.status == CaseStatus.ERROR.value:
        # a failed case keeps the index of its last good step; before revision 0005 it lost its timers
        problems += min(_index_problems(ctx.store, conn, row, expected),
                        _index_problems(ctx.store, conn, row, {**expected, pending_timers: []}), key=len)
    elif row.status == CaseStatus.CANCELLED.value:
        problems += _index_problems(ctx.store, conn, row,
                                    {**expected, open_tasks: [], pending_timers: [], awaited_events: []})
    history = ctx.store.history(conn, row.id)
    problems += _audit_problems(history, workflow)
    problems += _claim_problems(ctx.store, conn, row, history)
    return [Problem(row.business_key, p) for p in problems]


# --- index tables -------------------------------------------------------------------------

def _index_problems(store: Store, conn: sa.Connection, row: InstanceRow,
                    expected: dict[sa.Table, list[dict]]) -> list[str]:
    problems = []
    for table, rows in expected.items():
        columns = _comparable(table)
        actual = store.index_rows_of(conn, table, row.id)
        want = Counter(_key(r, columns) for r in rows)
        have = Counter(_key(r, columns) for r in actual)
        for key in (want - have):
            problems.append(f"Index {TABLE_NAMES[table]}: es fehlt {_describe(dict(key))}.")
        for key in (have - want):
            problems.append(f"Index {TABLE_NAMES[table]}: überzählig oder abweichend {_describe(dict(key))}.")
        for other in actual:
            for column in ("business_key", "process_id"):
                if column in other and other[column] != getattr(row, column):
                    problems.append(f"Index {TABLE_NAMES[table]}: {column} ist „{other[column]}“.")
    return problems


def _comparable(table: sa.Table) -> list[str]:
    """The columns index_rows fills (case columns, creation time and claim are added later)."""
    return [c.name for c in table.c if c.name not in ("instance_id", "business_key", "process_id",
                                                       "created_at", "claimed_by")]


def _key(values: dict[str, Any], columns: list[str]) -> tuple:
    return tuple((c, values.get(c)) for c in columns)


def _describe(values: dict[str, Any]) -> str:
    label = values.get("title") or values.get("name") or values.get("key")
    ident = values.get("task_id") or values.get("key") or values.get("kind")
    return f"„{label}“ ({ident})" if ident != label else f"„{label}“"


# --- audit trail ------------------------------------------------------------------------------

def _audit_problems(history: list[dict[str, Any]], workflow) -> list[str]:
    problems = []
    created = sum(1 for h in history if h["action"] == "vorgang_angelegt")
    if created != 1:
        problems.append(f"Der Verlauf enthält {created} statt genau einem Eintrag „Vorgang angelegt“.")
    states = engine.human_task_states(workflow)
    done = Counter(h["task_id"] for h in history if h["action"] == "aufgabe_erledigt")
    for task_id, (title, state) in states.items():
        if state == "erledigt" and done[task_id] != 1:
            problems.append(f"Aufgabe „{title}“ ({task_id}) ist erledigt, der Verlauf vermerkt das "
                            f"{done[task_id]}-mal statt genau einmal.")
    for task_id, count in done.items():
        title, state = states.get(task_id, ("?", "unbekannt"))
        if state == "offen":
            problems.append(f"Aufgabe „{title}“ ({task_id}) ist laut Verlauf erledigt, im Workflow aber noch offen.")
        elif state != "erledigt":
            problems.append(f"Der Verlauf vermerkt die Aufgabe {task_id} als erledigt, der Workflow "
                            f"kennt sie so nicht (Zustand: {state}).")
    fired = Counter((t["name"], t["faellig"]) for h in history if h["action"] == "timer_ausgeloest"
                    for t in _details(h).get("timer", []))
    known = Counter((t.title, t.due_at.isoformat()) for t in engine.timer_history(workflow))
    for (name, due), count in fired.items():
        if count > known[(name, due)]:
            problems.append(f"Timer „{name}“ (fällig {due}) ist laut Verlauf {count}-mal ausgelöst, "
                            f"der Workflow hatte ihn nur {known[(name, due)]}-mal.")
    return problems


def _claim_problems(store: Store, conn: sa.Connection, row: InstanceRow, history: list[dict[str, Any]]) -> list[str]:
    """Who holds an open task must be who the last claim, release or hand-over named."""
    last: dict[str, str | None] = {}
    for h in history:
        if h["action"] in CLAIM_ACTIONS and h["task_id"]:
            last[h["task_id"]] = (h["actor"] if h["action"] == "aufgabe_uebernommen" else
                                  None if h["action"] == "aufgabe_zurueckgegeben" else _details(h).get("an"))
    problems = []
    for task in store.index_rows_of(conn, open_tasks, row.id):
        if task["claimed_by"] != last.get(task["task_id"]):
            problems.append(f"Aufgabe „{task['title']}“ ({task['task_id']}) ist von „{task['claimed_by'] or 'niemandem'}“ "
                            f"übernommen, laut Verlauf von „{last.get(task['task_id']) or 'niemandem'}“.")
    return problems


def _details(event: dict[str, Any]) -> dict[str, Any]:
    details = event["details"]
    return json.loads(details) if isinstance(details, str) else details
