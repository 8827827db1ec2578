"""Cases: start one, read one (the case file), list them, and handle failed ones.

A start names every party its lanes need (`domain.parties_of_new_case`); reading a case is
allowed only to its parties (policy.may_see_case) and is logged for a child's case
(§ 35 SGB I). A failed case (a step broke, see kernel) is shown to Leitung and process
owners; owners retry it or name the organisations it lacks, Leitung ends it with a reason.
"""
from __future__ import annotations

from typing import Any

from .. import engine, policy, privacy, texts
from ..domain import (LANES, PARTY_LABELS, Actor, CaseFailed, CaseRef, CaseStatus, Conflict, DomainError,
                      InvalidInput, Party, parties_of_new_case)
from . import kernel
from .context import Context


def start_case(ctx: Context, process_id: str, business_key: str, data: dict[str, Any], actor: Actor, *,
               title: str = "", parties: dict[str, str] | None = None,
               person: dict[str, Any] | None = None, same_person_as: str | None = None) -> CaseRef:
    """Start a case of the newest version of a procedure under an Aktenzeichen.

    A child's case gets the child and the guardians' address as `person` (stored apart from
    the case, workflows.privacy), or the person of an earlier case the actor may see
    (`same_person_as`, its Aktenzeichen)."""
    business_key = (business_key or "").strip()
    if not business_key or len(business_key) > 100:
        raise InvalidInput("Bitte geben Sie ein Aktenzeichen (höchstens 100 Zeichen) an.", field="business_key")
    texts.check_name(business_key, "business_key", "Aktenzeichen")
    texts.check_name(title or "", "title", "Titel")
    for party, organisation in (parties or {}).items():
        texts.check_name(str(organisation), "parties", f"Beteiligte Organisation ({party})")
    data = engine.check_data(dict(data))
    privacy.refuse_identity_in_data(data)
    if person is not None and same_person_as:
        raise InvalidInput("Bitte entweder Personendaten angeben oder einen früheren Vorgang nennen.", field="person")
    person = privacy.check_person(person, kernel.today(ctx)) if person is not None else None
    with kernel.transaction(ctx) as (conn, now):
        person_id = ctx.store.add_person(conn, person, now) if person is not None else None
        if same_person_as:
            earlier = kernel.visible_case(ctx, conn, same_person_as.strip(), actor)
            if earlier.person_id is None:
                raise InvalidInput(f"Zum Vorgang {earlier.business_key} sind keine Personendaten gespeichert.",
                                   field="same_person_as")
            person_id = earlier.person_id
        version_id, version_number = ctx.store.latest_model_version_id(conn, process_id)
        model = kernel.model(ctx, conn, version_id)
        policy.require(policy.may_start(actor, model.lanes), "Sie dürfen Vorgänge dieses Verfahrens nicht anlegen.")
        parties = parties_of_new_case(model.lanes, parties, actor)
        workflow = engine.start(model, {**data, "aktenzeichen": business_key})
        snap = engine.snapshot(workflow)
        rows, new_fingerprint = kernel.index_of(snap, parties)
        row = ctx.store.insert_instance(
            conn, business_key=business_key, process_id=process_id, model_version_id=version_id,
            title=title or model.name, parties=parties, workflow_json=engine.dumps(workflow), status=snap.status,
            now=now, index_fingerprint=new_fingerprint, person_id=person_id)
        ctx.store.write_index(conn, row, rows, previous={}, new=new_fingerprint, now=now)
        ctx.store.audit(conn, at=now, actor=actor.username, action="vorgang_angelegt", instance_id=row.id,
                        business_key=business_key,
                        details={"process_id": process_id, "version": version_number, "data": data,
                                 **({"person_id": person_id} if person_id else {})})
        ref = CaseRef(row.id, business_key, process_id, snap.status.value, row.version,
                      [kernel.task_ref(t) for t in snap.human_tasks])
        kernel.timers_fired(ctx, conn, row, engine.completed_timers(workflow), set(), ref, now, during=actor)
        return ref


def case(ctx: Context, business_key: str, actor: Actor) -> dict[str, Any]:
    """A case with its current data, person, open tasks, deadlines and history.

    Opening a child's case file is logged in the same transaction (§ 35 SGB I; readings by
    the system itself, e.g. the demo loader, are not accesses)."""
    with kernel.transaction(ctx) as (conn, now):
        row = kernel.visible_case(ctx, conn, business_key, actor)
        if row.person_id is not None and not actor.is_system:
            ctx.store.audit(conn, at=now, actor=actor.username, action="akte_eingesehen", instance_id=row.id,
                            business_key=row.business_key)
        try:
            workflow = kernel.load(ctx, conn, row)
        except CaseFailed as failed:         # the case file still opens, with the reason
            workflow, broken = None, failed
        if workflow is None and row.status == CaseStatus.RUNNING.value:
            kernel.mark_failed(ctx, conn, row, broken.reason, now)
            row = ctx.store.instance_by_key(conn, business_key)
        history = ctx.store.history(conn, row.id)
        return {"id": row.id, "business_key": row.business_key, "process_id": row.process_id,
                "title": row.title, "status": row.status, "error": row.error, "version": row.version,
                "parties": row.parties, "data": engine.case_data(workflow) if workflow else {},
                "open_tasks": [kernel.task_ref(t) for t in engine.ready_human_tasks(workflow)] if workflow else [],
                "deadlines": engine.deadlines(workflow) if workflow else [],
                "failed_attempts": row.failed_attempts, "retry_at": row.retry_at,
                "documents": ctx.store.documents_of(conn, row.id),
                "comments": ctx.store.comments_of(conn, row.id),
                "model_version_id": row.model_version_id,
                "person": privacy.public(ctx.store.person(conn, row.person_id)),
                "closed_at": row.closed_at,
                "history": history, "accesses": privacy.split_history(history)[1]}


def case_model_xml(ctx: Context, business_key: str, actor: Actor) -> str:
    """The BPMN of a case's model version, for the diagram (no case data, not an access)."""
    with ctx.store.read() as conn:
        row = kernel.visible_case(ctx, conn, business_key, actor)
        return ctx.store.model_version(conn, row.model_version_id)["bpmn_xml"]


def cases_page(ctx: Context, actor: Actor, *, process_id: str | None = None, status: str | None = None,
               search: str | None = None, page: int = 1, per_page: int = 25) -> tuple[list[dict[str, Any]], int]:
    """One page of the cases the actor may see (as `case` decides), most recently changed
    first, and the number of all matching cases (index tables only)."""
    page, per_page = max(1, page), min(max(1, per_page), 100)
    with ctx.store.read() as conn:
        return ctx.store.cases_page(conn, organisation=None if actor.is_system else actor.organisation,
                                    lanes=None if actor.is_system else sorted(actor.groups),
                                    process_id=process_id, status=status, search=search,
                                    limit=per_page, offset=(page - 1) * per_page)


# --- failed cases -------------------------------------------------------------------------

def failed_cases(ctx: Context, actor: Actor) -> list[dict[str, Any]]:
    """Failed cases with their reasons, for Leitung (of their organisation) and process owners."""
    policy.require(policy.may_see_board(actor), "Nur Leitung und Prozessverantwortliche sehen angehaltene Vorgänge.")
    with ctx.store.read() as conn:
        cases = ctx.store.failed_cases(conn)
        for item in cases:
            item["missing_parties"] = _missing(ctx, conn, item["model_version_id"], item["parties"])
    if actor.is_system or policy.may_retry_failed(actor) or actor.organisation is None:
        return cases
    return [c for c in cases if actor.organisation in c["parties"].values()]


def missing_parties(ctx: Context, conn, row) -> list[str]:
    """The parties the case's lanes need but the case does not name (as `Party` values)."""
    return _missing(ctx, conn, row.model_version_id, row.parties)


def _missing(ctx: Context, conn, version_id: int, parties: dict[str, str]) -> list[str]:
    lanes = kernel.model(ctx, conn, version_id).lanes
    return [party.value for party in PARTY_LABELS
            if party.value not in parties and any(LANES.get(lane) == party for lane in lanes)]


def complete_parties(ctx: Context, business_key: str, parties: dict[str, str], actor: Actor) -> None:
    """A process owner names the organisations a case lacks (cases started without them before
    every start had to name them, see migration 0007). Only missing parties are filled: a
    case never moves from one organisation to another this way."""
    policy.require(policy.may_retry_failed(actor), "Nur Prozessverantwortliche ergänzen Beteiligte.")
    with kernel.transaction(ctx) as (conn, now):
        row = ctx.store.instance(conn, ctx.store.instance_by_key(conn, business_key).id, for_update=True)
        missing = missing_parties(ctx, conn, row)
        added = {}
        for party, organisation in (parties or {}).items():
            organisation = texts.check_name((organisation or "").strip(), party, "Organisation")[:200]
            if not organisation:
                continue
            if party not in missing:
                label = next((text for p, text in PARTY_LABELS.items() if p.value == party), party)
                raise InvalidInput(f"Für „{label}“ ist keine Organisation zu ergänzen.", field=party)
            added[party] = organisation
        if not added:
            raise InvalidInput("Bitte geben Sie mindestens eine fehlende Organisation an.",
                               field=next(iter(missing), "parties"))
        ctx.store.add_parties(conn, row.id, added)
        ctx.store.audit(conn, at=now, actor=actor.username, action="beteiligte_ergaenzt", instance_id=row.id,
                        business_key=row.business_key, details={"beteiligte": added})


def retry_failed_case(ctx: Context, business_key: str, actor: Actor) -> str:
    """A process owner runs a failed case again (after a model fix or a version move): it is
    loaded, its due timers fire and it is saved; if it fails again it stays failed with the
    new reason. Returns the case's status afterwards."""
    policy.require(policy.may_retry_failed(actor),
                   "Nur Prozessverantwortliche können einen angehaltenen Vorgang erneut anstoßen.")
    with kernel.transaction(ctx) as (conn, now):
        row = ctx.store.instance(conn, ctx.store.instance_by_key(conn, business_key).id, for_update=True)
        if row.status != CaseStatus.ERROR.value:
            raise Conflict(f"Der Vorgang {row.business_key} ist nicht angehalten.", business_key=row.business_key)
        missing = missing_parties(ctx, conn, row)
        if missing:
            raise Conflict("Bitte ergänzen Sie zuerst die zuständigen Organisationen ("
                           + ", ".join(PARTY_LABELS[Party(p)] for p in missing) + ").", business_key=row.business_key)
        ctx.store.audit(conn, at=now, actor=actor.username, action="vorgang_erneut_angestossen", instance_id=row.id,
                        business_key=row.business_key, details={"fehler": row.error})
        try:
            with conn.begin_nested():
                ctx.store.reopen_failed(conn, row.id, now)
                row = ctx.store.instance(conn, row.id)
                workflow = kernel.load(ctx, conn, row)
                open_before = {t.task_id for t in engine.ready_human_tasks(workflow)}
                fired = kernel.guarded(row, lambda: engine.fire_due_timers(workflow))
                ref = kernel.save(ctx, conn, row, workflow, now)
                kernel.timers_fired(ctx, conn, row, fired, open_before, ref, now, during=actor)
                return ref.status
        except DomainError as err:
            reason = err.reason if isinstance(err, CaseFailed) else err.message
            kernel.mark_failed(ctx, conn, ctx.store.instance(conn, row.id), reason, now)
            return CaseStatus.ERROR.value


def close_failed_case(ctx: Context, business_key: str, reason: str, actor: Actor) -> None:
    """Leitung ends a failed case for good, with a reason (audited); nothing stays open."""
    policy.require(policy.may_close_failed(actor), "Nur die Leitung kann einen angehaltenen Vorgang beenden.")
    reason = " ".join((reason or "").split())
    if not 5 <= len(reason) <= 1000:
        raise InvalidInput("Bitte begründen Sie das Beenden (5 bis 1.000 Zeichen).", field="begruendung")
    with kernel.transaction(ctx) as (conn, now):
        row = ctx.store.instance(conn, ctx.store.instance_by_key(conn, business_key).id, for_update=True)
        kernel.require_visible(ctx, conn, row, actor)
        if row.status != CaseStatus.ERROR.value:
            raise Conflict(f"Der Vorgang {row.business_key} ist nicht angehalten.", business_key=row.business_key)
        ctx.store.close_failed(conn, row.id, now)
        ctx.store.audit(conn, at=now, actor=actor.username, action="vorgang_beendet", instance_id=row.id,
                        business_key=row.business_key, details={"begruendung": reason, "fehler": row.error})
