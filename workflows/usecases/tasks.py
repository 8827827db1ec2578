"""Tasks: the inbox, a task page, claim / release / hand over, and completing a task.

A task belongs to its lane and the organisation of its case (policy.may_work_task). Claims
lock the case row, so a step in flight cannot overwrite them. Completing validates the
submission against the task's form once, here, and runs the case on through the kernel.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from .. import bescheid, engine, forms, policy, privacy

from .. import documents as document_rules
from .. import clock as clock_module
from ..domain import Actor, CaseRef, Conflict, InboxQuery, InvalidInput, NewDocument
from . import kernel
from .context import Context


def inbox_page(ctx: Context, actor: Actor, *, mine: bool = False, process_id: str | None = None,
               due: str | None = None, soon_days: int = 7, organisation: str | None = None,
               search: str | None = None, page: int = 1, per_page: int = 25) -> tuple[list[dict], int]:
    """One page of the inbox and the number of all matching tasks (index only)."""
    today = kernel.today(ctx)
    page, per_page = max(1, page), min(max(1, per_page), 100)
    query = InboxQuery(
        lanes=None if mine else sorted(actor.groups),
        organisation=None if mine else (organisation if actor.organisation is None else actor.organisation),
        claimed_by=actor.username if mine else None, process_id=process_id or None,
        overdue_before=today if due == "overdue" else None,
        due_until=today + timedelta(days=soon_days) if due == "soon" else None,
        search=(search or "").strip()[:100] or None, limit=per_page, offset=(page - 1) * per_page)
    with ctx.store.read() as conn:
        return ctx.store.inbox(conn, query)


def inbox(ctx: Context, actor: Actor, *, mine: bool = False, limit: int = 50, offset: int = 0) -> list[dict]:
    """Open tasks the actor may work (index only)."""
    with ctx.store.read() as conn:
        if mine:
            return ctx.store.list_open_tasks(conn, claimed_by=actor.username, limit=limit, offset=offset)
        return ctx.store.list_open_tasks(conn, lanes=sorted(actor.groups), organisation=actor.organisation,
                                         limit=limit, offset=offset)


def task_view(ctx: Context, task_id: str, actor: Actor) -> dict[str, Any]:
    """What a task page shows: the task, its form (JSON Schema) and the data to prefill."""
    with ctx.store.read() as conn:
        task = _workable(ctx, conn, task_id, actor)
        row = ctx.store.instance(conn, task["instance_id"])
        workflow = kernel.load_for_step(ctx, conn, row)
        schema = kernel.form(ctx, conn, row.model_version_id, task["form"]) if task["form"] else None
        return {"task": task, "case": {"business_key": row.business_key, "title": row.title,
                                       "parties": row.parties, "process_id": row.process_id},
                "schema": schema, "data": engine.task_data(workflow, task_id),
                "documentation": engine.task_documentation(workflow, task_id)}


def task_form(ctx: Context, task_id: str, actor: Actor) -> dict[str, Any]:
    """The task and its form from the index row and the form cache, without loading the
    workflow (what a submission needs before `complete_task` loads it once)."""
    with ctx.store.read() as conn:
        task = _workable(ctx, conn, task_id, actor)
        row = ctx.store.instance(conn, task["instance_id"])
        schema = kernel.form(ctx, conn, row.model_version_id, task["form"]) if task["form"] else None
        return {"task": task, "case": {"business_key": row.business_key, "title": row.title,
                                       "parties": row.parties, "process_id": row.process_id}, "schema": schema}


def colleagues(ctx: Context, task_id: str, actor: Actor) -> list[dict[str, Any]]:
    """Who else may work this task (same group and organisation)."""
    with ctx.store.read() as conn:
        task = _workable(ctx, conn, task_id, actor)
        return [u for u in ctx.store.colleagues(conn, task["lane"], task["organisation"])
                if u["username"] != actor.username]


def claim_task(ctx: Context, task_id: str, actor: Actor) -> None:
    with kernel.transaction(ctx) as (conn, now):
        task = _locked(ctx, conn, task_id, actor)
        if task["claimed_by"] == actor.username:
            return
        ctx.store.set_claim(conn, task_id, actor.username, expected=None)
        _audit(ctx, conn, now, actor, "aufgabe_uebernommen", task)


def release_task(ctx: Context, task_id: str, actor: Actor) -> None:
    with kernel.transaction(ctx) as (conn, now):
        task = _locked(ctx, conn, task_id, actor)
        policy.require(task["claimed_by"] == actor.username, "Nur wer die Aufgabe übernommen hat, kann sie zurückgeben.")
        ctx.store.set_claim(conn, task_id, None, expected=actor.username)
        _audit(ctx, conn, now, actor, "aufgabe_zurueckgegeben", task)


def hand_over_task(ctx: Context, task_id: str, actor: Actor, colleague: Actor) -> None:
    """Give a task to a colleague who may work it (same group and organisation)."""
    with kernel.transaction(ctx) as (conn, now):
        task = _locked(ctx, conn, task_id, actor)
        policy.require(policy.may_work_task(colleague, task["lane"], task["organisation"]),
                       f"{colleague.username} darf diese Aufgabe nicht bearbeiten.")
        ctx.store.set_claim(conn, task_id, colleague.username, expected=task["claimed_by"])
        _audit(ctx, conn, now, actor, "aufgabe_uebergeben", task, {"an": colleague.username})


def complete_task(ctx: Context, task_id: str, data: dict[str, Any], actor: Actor,
                  documents: list[NewDocument] | tuple = ()) -> CaseRef:
    """Complete a task with the submitted data (and files); the case runs on to its next wait.

    If someone else completed or changed the case first, Conflict; nothing is stored."""
    data = engine.check_data(dict(data))
    privacy.refuse_identity_in_data(data)
    for document in documents:
        document_rules.check_document(document.name, document.content_type, document.content, document.field)
    # Load the case and render a letter (PDF, slow) before the write lock; the step below reuses
    # both unless another step changed the case meanwhile (then they are made again, under it).
    with kernel.transaction(ctx, read_only=True) as (conn, now):
        seen = ctx.store.instance(conn, _workable(ctx, conn, task_id, actor)["instance_id"])
        seen_workflow = kernel.load_for_step(ctx, conn, seen)
        seen_letter = _letter_for(ctx, conn, seen_workflow, task_id, data, seen, now)
    with kernel.transaction(ctx) as (conn, now):
        row = ctx.store.instance(conn, seen.id, for_update=True)
        # read under the lock: a claim committed meanwhile must be kept (and respected)
        open_before = ctx.store.open_tasks_of_case_of(conn, task_id)
        task = _may_work(actor, next(t for t in open_before if t["task_id"] == task_id))
        if task["claimed_by"] not in (None, actor.username):
            raise Conflict(f"Die Aufgabe ist von {task['claimed_by']} übernommen.", task_id=task_id)
        if task["form"]:
            schema = kernel.form(ctx, conn, row.model_version_id, task["form"])
            errors = forms.validate(schema, data, {d.field for d in documents if d.field})
            if errors:
                raise InvalidInput("Bitte prüfen Sie die markierten Angaben.", fields=errors, field=next(iter(errors)))
        for document in documents:
            document_id = ctx.store.add_document(
                conn, instance_id=row.id, kind="upload", name=document.name, content_type=document.content_type,
                content=document.content, uploaded_by=actor.username, uploaded_at=now, task_id=task_id)
            if document.field:
                data[document.field] = {"dokument_id": document_id, "name": document.name}
        if row.version == seen.version:
            workflow, letter = seen_workflow, seen_letter
        else:
            workflow = kernel.load_for_step(ctx, conn, row)
            letter = _letter_for(ctx, conn, workflow, task_id, data, row, now)
        _, ref = kernel.case_step(ctx, conn, row, now, actor, lambda wf: engine.complete(wf, task_id, data),
                                  workflow=workflow, open_before=open_before, task_id=task_id,
                                  audit=("aufgabe_erledigt", {"aufgabe": task["title"], "data": data}))
        if letter is not None:
            name, pdf = letter
            ctx.store.add_document(conn, instance_id=row.id, kind="bescheid", name=name,
                                   content_type="application/pdf", content=pdf, uploaded_by=actor.username,
                                   uploaded_at=now, task_id=task_id)
        return ref


def _letter_for(ctx: Context, conn, workflow, task_id: str, data: dict[str, Any], row, now) -> tuple[str, bytes] | None:
    """The PDF a task produces (property `dokument`), from the case as it will be after the
    submission; refused while it would still be incomplete (e.g. without the guardians'
    address, which only the person record holds)."""
    if engine.task_properties(workflow, task_id).get("dokument") != "bescheid":
        return None
    case = {"business_key": row.business_key, "title": row.title, "parties": row.parties,
            "person": ctx.store.person(conn, row.person_id),
            "data": {**engine.task_data(workflow, task_id), **data},
            "deadlines": engine.deadlines(workflow), "today": now.astimezone(clock_module.BERLIN).date()}
    gaps = bescheid.bescheid_luecken(case)
    if gaps:
        raise InvalidInput("Der Bescheid kann so nicht erstellt werden: " + "; ".join(gaps) + ".")
    return f"Bescheid {row.business_key} {case['today'].strftime('%d.%m.%Y')}.pdf", bescheid.bescheid_pdf(case)


def _may_work(actor: Actor, task: dict[str, Any]) -> dict[str, Any]:
    policy.require(policy.may_work_task(actor, task["lane"], task["organisation"]),
                   "Diese Aufgabe gehört nicht zu Ihren Gruppen oder Ihrer Organisation.")
    return task


def _workable(ctx: Context, conn, task_id: str, actor: Actor) -> dict[str, Any]:
    return _may_work(actor, ctx.store.open_task(conn, task_id))


def _locked(ctx: Context, conn, task_id: str, actor: Actor) -> dict[str, Any]:
    """The open task, read after locking its case: a claim then waits for a step of the case in
    flight (which rewrites its open tasks) instead of being overwritten by it."""
    ctx.store.lock_instance(conn, ctx.store.open_task(conn, task_id)["instance_id"])
    return _workable(ctx, conn, task_id, actor)


def _audit(ctx: Context, conn, now, actor: Actor, action: str, task: dict[str, Any],
           details: dict[str, Any] | None = None) -> None:
    ctx.store.audit(conn, at=now, actor=actor.username, action=action, instance_id=task["instance_id"],
                    business_key=task["business_key"], task_id=task["task_id"],
                    details={"aufgabe": task["title"], **(details or {})})
