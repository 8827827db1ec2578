"""The step every change of a case goes through: lock → load → run → save → index → audit →
timers fired, in one transaction.

`case_step` is the skeleton; the pieces (`transaction`, `load`, `save`, `timers_fired`, …)
are public for the few use cases that need them apart (the timer worker, a retry, the
consistency check, a version move). A case whose stored state cannot be loaded or whose
step fails inside the engine (not the user's input) is marked failed in a transaction of
its own (`CaseFailed`, 409), so one broken case never stops the others.
"""
from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Callable, Iterator

from sqlalchemy.engine import Connection

from .. import clock as clock_module
from .. import engine, notifications, policy
from ..domain import Actor, CaseFailed, CaseRef, CaseStatus, Conflict, DomainError, task_organisation
from ..store import InstanceRow, fingerprint, index_rows, unknown_case
from .context import Context

log = logging.getLogger(__name__)


# --- transactions and failed cases --------------------------------------------------------

@contextmanager
def transaction(ctx: Context, *, read_only: bool = False) -> Iterator[tuple[Connection, datetime]]:
    """One transaction (`read_only`: without the write lock) with the context's clock as the
    source of now. A case that turned out to be broken in it is marked failed afterwards, in a
    transaction of its own."""
    with clock_module.using(ctx.clock):
        try:
            with (ctx.store.read() if read_only else ctx.store.transaction()) as conn:
                yield conn, ctx.clock.now()
        except CaseFailed as failed:
            if not failed.recorded:
                with ctx.store.transaction() as conn:
                    mark_failed(ctx, conn, ctx.store.instance(conn, failed.instance_id), failed.reason,
                                ctx.clock.now())
                failed.recorded = True
            raise


def mark_failed(ctx: Context, conn: Connection, row: InstanceRow, reason: str, now: datetime,
                actor: str = "system") -> None:
    retry_at = ctx.store.mark_failed(conn, row.id, reason, now)
    ctx.store.audit(conn, at=now, actor=actor, action="fehler", instance_id=row.id, business_key=row.business_key,
                    details={"fehler": reason, "erneut_ab": retry_at.isoformat()})


def failure_reason(err: Exception) -> str:
    """The German reason a failed case shows (Leitung, process owners), with the element."""
    if isinstance(err, DomainError):
        return err.message
    text = str(err).strip().splitlines()[0][:300] if str(err).strip() else ""
    return f"Interner Fehler beim Ausführen des Vorgangs ({type(err).__name__}{': ' + text if text else ''})."


# --- models and forms (cached: versions are immutable) ------------------------------------

def model(ctx: Context, conn: Connection, version_id: int) -> engine.ProcessModel:
    if version_id not in ctx.models:
        version = ctx.store.model_version(conn, version_id)
        ctx.models[version_id] = engine.parse_model(bpmn_files(version["files"]), version["process_id"])
    return ctx.models[version_id]


def form(ctx: Context, conn: Connection, version_id: int, name: str) -> dict[str, Any]:
    key = (version_id, name)
    if key not in ctx.forms:
        ctx.forms[key] = json.loads(ctx.store.model_version(conn, version_id)["files"][name])
    return ctx.forms[key]


def bpmn_files(files: dict[str, str]) -> dict[str, str]:
    return {name: text for name, text in files.items() if name.endswith(".bpmn")}


# --- cases ------------------------------------------------------------------------------

def visible_case(ctx: Context, conn: Connection, business_key: str, actor: Actor) -> InstanceRow:
    """The case by Aktenzeichen if the actor may see it; another organisation's case is
    answered exactly like an unknown one (404, same text), so no Aktenzeichen leaks."""
    row = ctx.store.instance_by_key(conn, business_key)
    require_visible(ctx, conn, row, actor)
    return row


def require_visible(ctx: Context, conn: Connection, row: InstanceRow, actor: Actor) -> None:
    if not may_see(ctx, conn, actor, row):
        raise unknown_case(row.business_key)


def may_see(ctx: Context, conn: Connection, actor: Actor, row: InstanceRow) -> bool:
    if actor.is_system or actor.organisation is not None:
        return policy.may_see_case(actor, row.parties, ())
    return policy.may_see_case(actor, row.parties, [t["lane"] for t in ctx.store.open_tasks_of(conn, row.id)])


def load(ctx: Context, conn: Connection, row: InstanceRow):
    """The case's workflow; CaseFailed if the stored state cannot be loaded."""
    try:
        return engine.loads(row.workflow_json, model(ctx, conn, row.model_version_id))
    except DomainError:
        raise
    except Exception as err:
        raise CaseFailed(row.id, row.business_key,
                         "Der gespeicherte Stand lässt sich nicht laden. " + failure_reason(err)) from err


def load_for_step(ctx: Context, conn: Connection, row: InstanceRow):
    """The workflow of a running case; CaseFailed (409) if failed, Conflict if finished."""
    if row.status == CaseStatus.ERROR.value:
        raise CaseFailed(row.id, row.business_key, row.error or "", recorded=True)
    if row.status != CaseStatus.RUNNING.value:
        raise Conflict(f"Der Vorgang {row.business_key} ist abgeschlossen.", business_key=row.business_key)
    return load(ctx, conn, row)


def guarded(row: InstanceRow, run: Callable[[], Any]) -> Any:
    """Run an engine step; an engine defect (not the user's input) fails the case."""
    try:
        return run()
    except DomainError:
        raise
    except Exception as err:
        raise CaseFailed(row.id, row.business_key, failure_reason(err)) from err


def save(ctx: Context, conn: Connection, row: InstanceRow, workflow, now: datetime,
         open_before: list[dict[str, Any]] | None = None) -> CaseRef:
    """Write the workflow under the version check and rewrite the index rows that changed."""
    snap = engine.snapshot(workflow)
    rows, new_fingerprint = index_of(snap, row.parties)
    version = ctx.store.save_instance(conn, row, workflow_json=engine.dumps(workflow), status=snap.status, now=now,
                                      index_fingerprint=new_fingerprint)
    ctx.store.write_index(conn, row, rows, previous=row.index_fingerprint, new=new_fingerprint, now=now,
                          open_before=open_before)
    return CaseRef(row.id, row.business_key, row.process_id, snap.status.value, version,
                   [task_ref(t) for t in snap.human_tasks])


def index_of(snap, parties: dict[str, str]) -> tuple[dict, dict[str, str]]:
    """The case's index rows (tasks with their organisation) and their fingerprint."""
    rows = index_rows(snap, lambda lane: task_organisation(lane, parties))
    return rows, fingerprint(rows)


def task_ref(task) -> dict[str, Any]:
    return {"task_id": task.task_id, "name": task.spec_name, "title": task.title, "lane": task.lane,
            "form": task.form}


def case_step(ctx: Context, conn: Connection, row: InstanceRow, now: datetime, actor: Actor,
              run: Callable[[Any], Any], *, workflow=None, open_before: list[dict[str, Any]] | None = None,
              audit: tuple[str, dict[str, Any]] | Callable[[Any], tuple[str, dict[str, Any]]] | None = None,
              task_id: str | None = None) -> tuple[Any, CaseRef]:
    """One step of a running case inside the caller's transaction (`row` read under its lock):
    load (unless `workflow` is given), `run(workflow)` watching the timers that fall due, save
    with the version check and the index, one audit entry (`audit`: action and details, or a
    function of the run's result giving them), then the fired timers and escalations."""
    workflow = workflow if workflow is not None else load_for_step(ctx, conn, row)
    before = ({t["task_id"] for t in open_before} if open_before is not None
              else {t.task_id for t in engine.ready_human_tasks(workflow)})
    result, fired = guarded(row, lambda: engine.watching_timers(workflow, lambda: run(workflow)))
    ref = save(ctx, conn, row, workflow, now, open_before)
    if audit is not None:
        action, details = audit(result) if callable(audit) else audit
        ctx.store.audit(conn, at=now, actor=actor.username, action=action, instance_id=row.id,
                        business_key=row.business_key, details=details, **({"task_id": task_id} if task_id else {}))
    timers_fired(ctx, conn, row, fired, before, ref, now, during=actor)
    return result, ref


def timers_fired(ctx: Context, conn: Connection, row: InstanceRow, fired: list, open_before: set[str],
                 ref: CaseRef, now: datetime, worker: str = "timer", during: Actor | None = None) -> None:
    """Audit the timers a step fired (the worker's, or one that fell due during the step of
    `during`) and tell the supervisors of escalations that landed with Leitung."""
    if not fired:
        return
    for task in ref.open_tasks:
        if task["lane"] == "Leitung" and task["task_id"] not in open_before:
            queue_escalation(ctx, conn, row, task, now)
    ctx.store.audit(conn, at=now, actor=worker, action="timer_ausgeloest", instance_id=row.id,
                    business_key=row.business_key,
                    details={"timer": [{"name": t.title, "faellig": t.due_at.isoformat()} for t in fired],
                             **({"schritt_von": during.username} if during else {})})


def queue_escalation(ctx: Context, conn: Connection, row: InstanceRow, task: dict[str, Any], now: datetime) -> None:
    """An escalation landed with Leitung: tell the supervisors of the organisation (outbox)."""
    organisation = task_organisation(task["lane"], row.parties)
    if organisation is None:            # nobody's task (no deciding organisation): no mail to anyone
        log.warning("Eskalation in %s ohne zuständige Organisation: keine Mail", row.business_key)
        return
    subject, body = notifications.escalation_mail({**task, "business_key": row.business_key}, row.title)
    for user in ctx.store.users_with_email(conn):
        if "Leitung" in user["groups"] and user["organisation"] == organisation:
            ctx.store.add_notification(conn, dedupe_key=f"eskalation:{task['task_id']}:{user['username']}",
                                       recipient=user["username"], email=user["email"], subject=subject,
                                       body=body, at=now)


def today(ctx: Context):
    with clock_module.using(ctx.clock):
        return clock_module.today()
