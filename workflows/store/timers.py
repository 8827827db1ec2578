"""What the timer worker and the event delivery read: due timers, awaited events.

`claim_due_instances` picks the cases with a timer due; on PostgreSQL their rows are locked
with FOR UPDATE SKIP LOCKED, so concurrent workers take disjoint sets (SQLite has one writer
anyway). A failed case takes part again once its retry is due (`instances.retry_at`, set by
`CaseRows.mark_failed`). `next_timer_due`/`next_retry_due` tell the worker how long to sleep.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain import CaseStatus
from .schema import awaited_events, instances, pending_timers


def _RUNS_AT(now):
    """Cases whose timers the worker fires at `now`: running ones, and failed ones whose retry is due."""
    return sa.or_(instances.c.status == CaseStatus.RUNNING.value,
                  sa.and_(instances.c.status == CaseStatus.ERROR.value, instances.c.retry_at <= now))


class TimerRows:
    """Due timers, retries of failed cases, cases awaiting a signal or message."""

    def claim_due_instances(self, conn: Connection, now: datetime, limit: int,
                            skip: set[int] | frozenset = frozenset()) -> list[int]:
        """Cases with a timer due before `now` (SpiffWorkflow fires strictly after). On PostgreSQL their rows are locked with SKIP LOCKED, so
        concurrent workers take disjoint sets; on SQLite the single writer serializes them."""
        due = (sa.select(pending_timers.c.instance_id)
               .where(pending_timers.c.due_at < now).distinct().scalar_subquery())
        query = (sa.select(instances.c.id)
                 .where(instances.c.id.in_(due), _RUNS_AT(now),
                        instances.c.id.not_in(sorted(skip)) if skip else sa.true())
                 .order_by(instances.c.id).limit(limit))
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return list(conn.execute(query).scalars())

    def has_due_timer(self, conn: Connection, instance_id: int, now: datetime) -> bool:
        return conn.execute(sa.select(pending_timers.c.task_id).where(
            pending_timers.c.instance_id == instance_id, pending_timers.c.due_at < now).limit(1)).first() is not None

    def next_timer_due(self, conn: Connection) -> datetime | None:
        return conn.execute(
            sa.select(sa.func.min(pending_timers.c.due_at)).select_from(
                pending_timers.join(instances, instances.c.id == pending_timers.c.instance_id))
            .where(instances.c.status == CaseStatus.RUNNING.value)).scalar()

    def next_retry_due(self, conn: Connection) -> datetime | None:
        return conn.execute(sa.select(sa.func.min(instances.c.retry_at))
                            .where(instances.c.status == CaseStatus.ERROR.value)).scalar()

    def instances_awaiting(self, conn: Connection, kind: str, name: str,
                           process_id: str | None = None) -> list[int]:
        query = (sa.select(awaited_events.c.instance_id)
                 .where(awaited_events.c.kind == kind, awaited_events.c.name == name))
        if process_id:
            query = query.join(instances, instances.c.id == awaited_events.c.instance_id).where(
                instances.c.process_id == process_id)
        return list(conn.execute(query.order_by(awaited_events.c.instance_id)).scalars())
