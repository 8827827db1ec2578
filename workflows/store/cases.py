"""The case rows: one row per case in `instances`, with its workflow JSON and a version.

A case is written with `UPDATE … WHERE id = ? AND version = ?` (`save_instance`), so a second
writer finds zero rows and gets a Conflict instead of overwriting; every other change of the
row raises the version too. On PostgreSQL a step locks the row first (`instance(…,
for_update=True)`, `lock_instance`); SQLite serialises writers with BEGIN IMMEDIATE. A case
that fails is marked here (`mark_failed`) and its timers retried with back-off. The parties of
a case are kept twice: as JSON on the row and as the index `case_parties` (for the lists).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain import LANES, CaseStatus, Conflict, NotFound
from .schema import (CLOSED_STATUSES, audit_events, awaited_events, case_parties, comments, deadlines, documents,
                     instances, open_tasks, pending_timers)

RETRY_FIRST = timedelta(minutes=5)      #: first retry of a failed case's timers; doubled per failure
RETRY_MAX = timedelta(days=1)


@dataclass(frozen=True)
class InstanceRow:
    id: int
    business_key: str
    process_id: str
    model_version_id: int
    title: str
    parties: dict[str, str]
    status: str
    error: str | None
    workflow_json: str
    version: int
    index_fingerprint: dict[str, str]
    created_at: datetime
    updated_at: datetime
    person_id: int | None = None
    closed_at: datetime | None = None
    failed_attempts: int = 0
    retry_at: datetime | None = None

    @classmethod
    def from_row(cls, row) -> "InstanceRow":
        data = dict(row._mapping)
        data["parties"] = json.loads(data["parties"] or "{}")
        data["index_fingerprint"] = json.loads(data["index_fingerprint"] or "{}")
        return cls(**data)


def unknown_case(business_key: str) -> NotFound:
    """The one answer for an Aktenzeichen that does not exist or that the caller may not see."""
    return NotFound(f"Einen Vorgang mit dem Aktenzeichen {business_key} gibt es nicht.", business_key=business_key)


# Hot-path statements, built once: SQLAlchemy then reuses their compiled form.
_INSTANCE_BY_ID = sa.select(instances).where(instances.c.id == sa.bindparam("p_id"))
_INSTANCE_BY_ID_LOCKED = _INSTANCE_BY_ID.with_for_update()
_LOCK_INSTANCE = sa.select(instances.c.id).where(instances.c.id == sa.bindparam("p_id")).with_for_update()
_SAVE_INSTANCE = (instances.update()
                  .where(instances.c.id == sa.bindparam("p_id"), instances.c.version == sa.bindparam("p_version"))
                  .values(workflow_json=sa.bindparam("p_json"), status=sa.bindparam("p_status"),
                          error=sa.bindparam("p_error"), index_fingerprint=sa.bindparam("p_fingerprint"),
                          version=instances.c.version + 1, updated_at=sa.bindparam("p_now"),
                          closed_at=sa.bindparam("p_closed"), failed_attempts=0, retry_at=None))
#: what hangs off a case and goes with it (the audit stays, see `delete_instance`)
_CASE_TABLES = (documents, comments, case_parties, open_tasks, pending_timers, awaited_events, deadlines)


class CaseRows:
    """Insert, read, lock and save case rows; failed cases; parties; deleting a case."""

    def insert_instance(self, conn: Connection, *, business_key: str, process_id: str,
                        model_version_id: int, title: str, parties: dict[str, str],
                        workflow_json: str, status: CaseStatus, now: datetime,
                        index_fingerprint: dict[str, str], person_id: int | None = None) -> InstanceRow:
        exists = conn.execute(sa.select(instances.c.id).where(instances.c.business_key == business_key)).first()
        if exists:
            raise Conflict(f"Das Aktenzeichen {business_key} ist bereits vergeben.", business_key=business_key)
        try:
            new_id = conn.execute(instances.insert().values(
                business_key=business_key, process_id=process_id, model_version_id=model_version_id,
                title=title, parties=json.dumps(parties), status=status.value, workflow_json=workflow_json,
                version=1, index_fingerprint=json.dumps(index_fingerprint), created_at=now,
                updated_at=now, person_id=person_id,
                closed_at=now if status.value in CLOSED_STATUSES else None)).inserted_primary_key[0]
            if parties:
                conn.execute(case_parties.insert(), [dict(instance_id=new_id, party=party, organisation=org)
                                                     for party, org in parties.items() if org])
        except sa.exc.IntegrityError:
            raise Conflict(f"Das Aktenzeichen {business_key} ist bereits vergeben.",
                           business_key=business_key) from None
        return self.instance(conn, new_id)

    def instance(self, conn: Connection, instance_id: int, *, for_update: bool = False) -> InstanceRow:
        locked = for_update and self.dialect == "postgresql"
        row = conn.execute(_INSTANCE_BY_ID_LOCKED if locked else _INSTANCE_BY_ID, {"p_id": instance_id}).first()
        if row is None:
            raise NotFound("Diesen Vorgang gibt es nicht.", instance_id=instance_id)
        return InstanceRow.from_row(row)

    def find_instance(self, conn: Connection, instance_id: int) -> InstanceRow | None:
        """The case, or None if there is none (any more): for readers that walk all cases."""
        row = conn.execute(_INSTANCE_BY_ID, {"p_id": instance_id}).first()
        return None if row is None else InstanceRow.from_row(row)

    def lock_instance(self, conn: Connection, instance_id: int) -> None:
        """Wait for any step of the case in flight (PostgreSQL; SQLite writers are serialised
        by BEGIN IMMEDIATE anyway) without loading its workflow JSON."""
        if self.dialect == "postgresql":
            conn.execute(_LOCK_INSTANCE, {"p_id": instance_id})

    def instance_by_key(self, conn: Connection, business_key: str) -> InstanceRow:
        row = conn.execute(sa.select(instances).where(instances.c.business_key == business_key)).first()
        if row is None:
            raise unknown_case(business_key)
        return InstanceRow.from_row(row)

    def instance_ids(self, conn: Connection) -> list[int]:
        """The ids of all cases, ascending."""
        return list(conn.execute(sa.select(instances.c.id).order_by(instances.c.id)).scalars())

    def count_instances(self, conn: Connection) -> int:
        return conn.execute(sa.select(sa.func.count()).select_from(instances)).scalar()

    def save_instance(self, conn: Connection, row: InstanceRow, *, workflow_json: str,
                      status: CaseStatus, now: datetime, index_fingerprint: dict[str, str] | None = None,
                      error: str | None = None) -> int:
        """Write the case if nobody else did since `row` was read; returns the new version.
        Reaching a final status sets `closed_at` once (the retention period runs from there)."""
        closed = (row.closed_at or now) if status.value in CLOSED_STATUSES else None
        result = conn.execute(_SAVE_INSTANCE, {
            "p_closed": closed,
            "p_id": row.id, "p_version": row.version, "p_json": workflow_json, "p_status": status.value,
            "p_error": error, "p_fingerprint": json.dumps(index_fingerprint if index_fingerprint is not None
                                                     else row.index_fingerprint), "p_now": now})
        if result.rowcount != 1:
            raise Conflict("Der Vorgang wurde inzwischen von jemand anderem geändert. "
                           "Bitte laden Sie ihn neu.", business_key=row.business_key)
        return row.version + 1

    def set_model_version(self, conn: Connection, instance_id: int, model_version_id: int) -> None:
        """Point the case at another version of its model (after `save_instance` wrote the
        migrated workflow under the version check; workflows/usecases/umstellung.py)."""
        conn.execute(instances.update().where(instances.c.id == instance_id)
                     .values(model_version_id=model_version_id))

    # -- failed cases

    def mark_failed(self, conn: Connection, instance_id: int, error: str, now: datetime) -> datetime:
        """Mark a case as failed with its German reason; its timers stay, and the worker tries
        them again at the returned time, backing off with every failure in a row (5 minutes,
        doubled each time, at most a day), so a broken case never runs in a hot loop."""
        attempts = (conn.execute(sa.select(instances.c.failed_attempts).where(instances.c.id == instance_id))
                    .scalar() or 0) + 1
        retry_at = now + RETRY_FIRST * min(2 ** (attempts - 1), RETRY_MAX / RETRY_FIRST)
        conn.execute(instances.update().where(instances.c.id == instance_id)
                     .values(status=CaseStatus.ERROR.value, error=error[:2000], failed_attempts=attempts,
                             retry_at=retry_at, version=instances.c.version + 1, updated_at=now))
        return retry_at

    def reopen_failed(self, conn: Connection, instance_id: int, now: datetime) -> None:
        """A failed case runs again (a process owner's retry): its timers are due as they are."""
        conn.execute(instances.update().where(instances.c.id == instance_id,
                                              instances.c.status == CaseStatus.ERROR.value)
                     .values(status=CaseStatus.RUNNING.value, retry_at=None, updated_at=now,
                             version=instances.c.version + 1))

    def close_failed(self, conn: Connection, instance_id: int, now: datetime) -> None:
        """End a failed case for good (Leitung): closed, nothing open or waiting any more."""
        conn.execute(instances.update().where(instances.c.id == instance_id)
                     .values(status=CaseStatus.CANCELLED.value, retry_at=None, closed_at=now, updated_at=now,
                             version=instances.c.version + 1, index_fingerprint="{}"))
        for table in (open_tasks, pending_timers, awaited_events):
            conn.execute(table.delete().where(table.c.instance_id == instance_id))

    def failed_cases(self, conn: Connection) -> list[dict[str, Any]]:
        """Failed cases for Leitung and process owners, newest failure first."""
        query = (sa.select(instances.c.id, instances.c.business_key, instances.c.process_id, instances.c.title,
                           instances.c.error, instances.c.failed_attempts, instances.c.retry_at,
                           instances.c.updated_at, instances.c.parties, instances.c.model_version_id)
                 .where(instances.c.status == CaseStatus.ERROR.value).order_by(instances.c.updated_at.desc()))
        return [{**dict(r._mapping), "parties": json.loads(r.parties or "{}")} for r in conn.execute(query)]

    # -- parties

    def add_parties(self, conn: Connection, instance_id: int, added: dict[str, str]) -> None:
        """Name organisations a case lacked: its parties, and its open tasks in their lanes that
        had none (such a task is nobody's until then)."""
        current = json.loads(conn.execute(sa.select(instances.c.parties).where(instances.c.id == instance_id))
                             .scalar() or "{}")
        conn.execute(instances.update().where(instances.c.id == instance_id)
                     .values(parties=json.dumps({**current, **added}), version=instances.c.version + 1))
        conn.execute(case_parties.insert(), [dict(instance_id=instance_id, party=party, organisation=organisation)
                                             for party, organisation in added.items()])
        for party, organisation in added.items():
            lanes = [lane for lane, p in LANES.items() if p.value == party]
            conn.execute(open_tasks.update().where(open_tasks.c.instance_id == instance_id,
                                                   open_tasks.c.organisation.is_(None), open_tasks.c.lane.in_(lanes))
                         .values(organisation=organisation))

    # -- retention (workflows/privacy.py)

    def instance_ids_of_person(self, conn: Connection, person_id: int) -> list[int]:
        """The ids of the cases about one person (child), ascending."""
        return list(conn.execute(sa.select(instances.c.id).where(instances.c.person_id == person_id)
                                 .order_by(instances.c.id)).scalars())

    def closed_before(self, conn: Connection, cutoff: datetime) -> list[tuple[int, str]]:
        """(id, Aktenzeichen) of the cases closed before `cutoff`, the longest closed first."""
        rows = conn.execute(sa.select(instances.c.id, instances.c.business_key)
                            .where(instances.c.status.in_(CLOSED_STATUSES), instances.c.closed_at < cutoff)
                            .order_by(instances.c.closed_at, instances.c.id)).all()
        return [(r.id, r.business_key) for r in rows]

    def delete_instance(self, conn: Connection, instance_id: int, *, audit_details: dict[str, Any]) -> None:
        """Delete a case with its documents, comments and index rows. Its audit rows stay, with
        `audit_details` instead of what they recorded and without the instance id (SQLite may
        hand a deleted row's id to the next new case). The person record is the caller's."""
        for table in _CASE_TABLES:
            conn.execute(table.delete().where(table.c.instance_id == instance_id))
        conn.execute(instances.delete().where(instances.c.id == instance_id))
        conn.execute(audit_events.update().where(audit_events.c.instance_id == instance_id)
                     .values(details=json.dumps(audit_details), instance_id=None))
