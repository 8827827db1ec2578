"""Data protection use cases: the export about one person (Art. 15 DSGVO, § 83 SGB X) and
the deletion run for closed cases after the retention period (Art. 17 DSGVO, § 84 SGB X).
The rules (person fields, what counts as an access) are workflows.privacy."""
from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .. import engine, policy
from ..domain import Actor, InvalidInput, NotFound
from ..privacy import DELETED_MARKER, public
from ..store import CLOSED_STATUSES
from . import kernel
from .context import Context


def require_admin(actor: Actor) -> None:
    policy.require(policy.may_export_person(actor), "Nur die Administration darf Auskünfte über gespeicherte "
                   "Personendaten erstellen (Art. 15 DSGVO).")


def person_of_case(ctx: Context, business_key: str, actor: Actor) -> int:
    """The person id of a case, to find whose data to export (Administration only)."""
    require_admin(actor)
    with ctx.store.read() as conn:
        row = ctx.store.instance_by_key(conn, business_key)
    if row.person_id is None:
        raise NotFound(f"Zum Vorgang {business_key} sind keine Personendaten gespeichert.",
                       business_key=business_key)
    return row.person_id


def export_person(ctx: Context, person_id: int, actor: Actor) -> dict[str, Any]:
    """Everything stored about one person: the record, each of their cases with data, deadlines,
    comments, documents (base64) and audit events. The export is audited in every case."""
    require_admin(actor)
    store = ctx.store
    with kernel.transaction(ctx) as (conn, now):
        person = store.person(conn, person_id)
        if person is None:
            raise NotFound("Diese Person gibt es nicht (mehr).", person_id=person_id)
        ids = store.instance_ids_of_person(conn, person_id)
        cases = []
        for instance_id in ids:
            row = store.instance(conn, instance_id)
            store.audit(conn, at=now, actor=actor.username, action="daten_exportiert", instance_id=row.id,
                        business_key=row.business_key, details={"person_id": person_id})
            cases.append(_case_export(ctx, conn, row))
    return {"auskunft": "Auskunft über gespeicherte Sozialdaten (Art. 15 DSGVO, § 83 SGB X)",
            "erstellt_am": now.isoformat(), "erstellt_von": actor.username,
            "person": {**public(person), "angelegt_am": person["created_at"].isoformat(),
                       "geaendert_am": person["updated_at"].isoformat()},
            "vorgaenge": cases}


def _case_export(ctx: Context, conn, row) -> dict[str, Any]:
    store = ctx.store
    workflow = engine.loads(row.workflow_json, kernel.model(ctx, conn, row.model_version_id))
    docs = []
    for meta in store.documents_of(conn, row.id):
        content = store.document(conn, row.id, meta["id"])["content"]
        docs.append({**meta, "inhalt_base64": base64.b64encode(content).decode("ascii")})
    return {"aktenzeichen": row.business_key, "verfahren": row.process_id, "titel": row.title,
            "beteiligte": row.parties, "status": row.status, "angelegt_am": row.created_at,
            "geaendert_am": row.updated_at, "abgeschlossen_am": row.closed_at,
            "daten": engine.case_data(workflow),
            "fristen": [{"key": d.key, **asdict(d.frist), "status": d.status.value, "met_on": d.met_on}
                        for d in engine.deadlines(workflow)],
            "kommentare": store.comments_of(conn, row.id),
            "dokumente": docs,
            "verlauf": store.history(conn, row.id)}




# --- deletion run (Art. 17 DSGVO, § 84 SGB X) ---------------------------------------------

@dataclass
class PurgeResult:
    cutoff: datetime
    dry_run: bool
    cases: list[str] = field(default_factory=list)       # Aktenzeichen deleted (or due, in a dry run)
    persons: int = 0                                     # person records deleted with their last case


def due_for_deletion(ctx: Context, retention_days: int) -> tuple[datetime, list[tuple[int, str]]]:
    """(cutoff, [(id, Aktenzeichen)]) of closed cases whose retention period has run out."""
    if retention_days < 1:
        raise InvalidInput("Die Aufbewahrungsfrist muss mindestens einen Tag betragen.")
    cutoff = ctx.clock.now() - timedelta(days=retention_days)
    with ctx.store.read() as conn:
        return cutoff, ctx.store.closed_before(conn, cutoff)


def purge(ctx: Context, retention_days: int, *, dry_run: bool = False,
          actor: str = "loeschlauf") -> PurgeResult:
    """Delete closed cases older than the retention period, each in its own transaction (all of
    a case or nothing of it); several workers may run this at once."""
    cutoff, due = due_for_deletion(ctx, retention_days)
    result = PurgeResult(cutoff=cutoff, dry_run=dry_run)
    if dry_run:
        result.cases = [key for _id, key in due]
        return result
    for instance_id, _key in due:
        with kernel.transaction(ctx) as (conn, now):
            deleted = _delete_case(ctx, conn, instance_id, cutoff, retention_days, now, actor)
        if deleted is not None:
            result.cases.append(deleted[0])
            result.persons += deleted[1]
    return result


def _delete_case(ctx: Context, conn, instance_id: int, cutoff: datetime, retention_days: int,
                 now: datetime, actor: str) -> tuple[str, int] | None:
    store = ctx.store
    try:
        row = store.instance(conn, instance_id, for_update=True)
    except NotFound:                                  # another worker was first
        return None
    if row.status not in CLOSED_STATUSES or row.closed_at is None or row.closed_at >= cutoff:
        return None
    # Keep action, actor, time and Aktenzeichen; drop what was recorded (data, texts, names).
    store.delete_instance(conn, row.id, audit_details=DELETED_MARKER)
    person_gone = 0
    if row.person_id is not None and store.delete_person_if_unused(conn, row.person_id):
        person_gone = 1
    store.audit(conn, at=now, actor=actor, action="vorgang_geloescht", business_key=row.business_key,
                details={"abgeschlossen_am": row.closed_at.date().isoformat(),
                         "aufbewahrungsfrist_tage": retention_days,
                         "rechtsgrundlage": "Art. 17 DSGVO, § 84 SGB X"})
    return row.business_key, person_gone
