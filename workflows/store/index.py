"""The index tables of a case: open tasks, pending timers, awaited events, deadlines.

They are derived from the workflow on every step (`index_rows`) and written in the same
transaction as the case row (`write_index`); only tables whose rows changed are rewritten,
judged by a hash per table kept on the case row (`fingerprint`, `instances.index_fingerprint`). Lists
(inbox, board, case list, timer worker) read only these tables, never the workflow JSON.
Open tasks keep their creation time and claim across rewrites; claims are compare-and-set.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain import CaseSnapshot, Conflict, NotFound
from .schema import awaited_events, deadlines, open_tasks, pending_timers

if TYPE_CHECKING:
    from .cases import InstanceRow

#: the tables `index_rows` fills, in the order they are written
INDEX_TABLES = (open_tasks, pending_timers, awaited_events, deadlines)
_TASK_GONE = ("Diese Aufgabe ist nicht mehr offen – sie wurde bereits erledigt oder ist durch eine Frist oder "
              "ein Ereignis entfallen.")


def index_rows(snap: CaseSnapshot, organisation_of) -> dict[sa.Table, list[dict]]:
    """What the index tables should hold for a case, without the columns that are the
    same for every row of the case (added by `write_index`) and, for open tasks,
    without creation time and claim (kept from before)."""
    return {
        open_tasks: [dict(task_id=t.task_id, spec_name=t.spec_name, title=t.title, lane=t.lane,
                          organisation=organisation_of(t.lane), form=t.form, deadline_key=t.deadline_key,
                          due_date=t.due_date)
                     for t in snap.human_tasks],
        pending_timers: [dict(task_id=t.task_id, spec_name=t.spec_name, title=t.title, due_at=t.due_at)
                         for t in snap.timers],
        awaited_events: [dict(kind=e.kind, name=e.name) for e in snap.awaited],
        deadlines: [dict(key=d.key, rule=d.frist.rule, title=d.frist.title, legal_basis=d.frist.legal_basis,
                         event_date=d.frist.event, end_date=d.frist.end, shifted_end=d.frist.shifted_end,
                         explanation=d.frist.explanation, reading=d.frist.reading, soll=d.frist.soll,
                         status=d.status.value, met_on=d.met_on) for d in snap.deadlines],
    }


def fingerprint(rows: dict[sa.Table, list[dict]]) -> dict[str, str]:
    """A hash per index table of the rows it should hold for the case."""
    return {table.name: hashlib.sha1(repr(values).encode()).hexdigest() for table, values in rows.items()}


# Hot-path statements, built once: SQLAlchemy then reuses their compiled form.
_OPEN_TASK = sa.select(open_tasks).where(open_tasks.c.task_id == sa.bindparam("p_task"))
_OPEN_TASKS_OF_CASE_OF_TASK = sa.select(open_tasks).where(open_tasks.c.instance_id.in_(
    sa.select(open_tasks.c.instance_id).where(open_tasks.c.task_id == sa.bindparam("p_task")).scalar_subquery()))
_KEPT_TASKS = (sa.select(open_tasks.c.task_id, open_tasks.c.created_at, open_tasks.c.claimed_by)
               .where(open_tasks.c.instance_id == sa.bindparam("p_id")))
_DELETE_INDEX = {table: table.delete().where(table.c.instance_id == sa.bindparam("p_id")) for table in INDEX_TABLES}
_INSERT_INDEX = {table: table.insert() for table in INDEX_TABLES}


class IndexRows:
    """Write a case's index rows; read and claim its open tasks."""

    def write_index(self, conn: Connection, row: "InstanceRow", rows: dict[sa.Table, list[dict]], *,
                    previous: dict[str, str], new: dict[str, str], now: datetime,
                    open_before: list[dict[str, Any]] | None = None) -> None:
        """Make the case's index rows what `rows` says, rewriting only the tables whose
        fingerprint changed (`previous`: what was last written, {} for a new case).

        Open tasks that stay open keep their creation time and claim (`open_before`: the
        case's open-task rows if the caller has already read them)."""
        case_columns = {"instance_id": row.id, "business_key": row.business_key, "process_id": row.process_id}
        for table, values in rows.items():
            if previous.get(table.name) == new[table.name]:
                continue
            same = {k: v for k, v in case_columns.items() if k in table.c}
            values = [{**same, **v} for v in values]
            if table is open_tasks:
                before = open_before if open_before is not None else [
                    dict(r._mapping) for r in conn.execute(_KEPT_TASKS, {"p_id": row.id})]
                kept = {r["task_id"]: r for r in before}
                values = [{**v, "created_at": kept[v["task_id"]]["created_at"] if v["task_id"] in kept else now,
                           "claimed_by": kept[v["task_id"]]["claimed_by"] if v["task_id"] in kept else None}
                          for v in values]
            conn.execute(_DELETE_INDEX[table], {"p_id": row.id})
            if values:
                conn.execute(_INSERT_INDEX[table], values)

    def index_rows_of(self, conn: Connection, table: sa.Table, instance_id: int) -> list[dict[str, Any]]:
        """Every stored row of one index table for a case, all columns (the consistency check)."""
        if table not in INDEX_TABLES:
            raise ValueError(f"{table.name} is not an index table")
        return [dict(r._mapping) for r in conn.execute(sa.select(table).where(table.c.instance_id == instance_id))]

    def instance_of_task(self, conn: Connection, task_id: str) -> int:
        found = conn.execute(sa.select(open_tasks.c.instance_id).where(open_tasks.c.task_id == task_id)).scalar()
        if found is None:
            raise NotFound(_TASK_GONE, task_id=task_id)
        return found

    def open_task(self, conn: Connection, task_id: str) -> dict[str, Any]:
        row = conn.execute(_OPEN_TASK, {"p_task": task_id}).first()
        if row is None:
            raise NotFound(_TASK_GONE, task_id=task_id)
        return dict(row._mapping)

    def open_tasks_of(self, conn: Connection, instance_id: int) -> list[dict[str, Any]]:
        return [dict(r._mapping) for r in conn.execute(_KEPT_TASKS.add_columns(open_tasks.c.lane),
                                                       {"p_id": instance_id})]

    def open_tasks_of_case_of(self, conn: Connection, task_id: str) -> list[dict[str, Any]]:
        """All open tasks of the case the given open task belongs to (one query)."""
        rows = [dict(r._mapping) for r in conn.execute(_OPEN_TASKS_OF_CASE_OF_TASK, {"p_task": task_id})]
        if not any(r["task_id"] == task_id for r in rows):
            raise NotFound(_TASK_GONE, task_id=task_id)
        return rows

    def set_claim(self, conn: Connection, task_id: str, claimed_by: str | None,
                  expected: str | None) -> None:
        """Claim or release a task, only if its claim is still `expected` (compare-and-set)."""
        claimed = open_tasks.c.claimed_by
        result = conn.execute(open_tasks.update().where(
            open_tasks.c.task_id == task_id, claimed.is_(None) if expected is None else claimed == expected)
            .values(claimed_by=claimed_by))
        if result.rowcount != 1:
            raise Conflict("Die Aufgabe wurde inzwischen von jemand anderem übernommen oder erledigt.",
                           task_id=task_id)
