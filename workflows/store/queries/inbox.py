"""The inbox: open tasks with their case and deadline, from the index tables only."""
from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...domain import InboxQuery
from ..schema import deadlines, instances, open_tasks
from .visibility import tasks_of_organisation


class InboxQueries:
    """The inbox page and the plain open-task list (digest mails, the API)."""

    def inbox(self, conn: Connection, query: InboxQuery) -> tuple[list[dict[str, Any]], int]:
        """The inbox: open tasks with their case and deadline, filtered, sorted by due
        day (none last), then age; and the total count for paging. Index tables only."""
        deadline = sa.and_(deadlines.c.instance_id == open_tasks.c.instance_id,
                           deadlines.c.key == open_tasks.c.deadline_key)
        source = (open_tasks.join(instances, instances.c.id == open_tasks.c.instance_id)
                  .outerjoin(deadlines, deadline))
        conditions = []
        if query.claimed_by is not None:
            conditions.append(open_tasks.c.claimed_by == query.claimed_by)
        if query.lanes is not None:
            conditions.append(open_tasks.c.lane.in_(query.lanes))
        if query.organisation is not None:
            conditions.append(tasks_of_organisation(query.organisation))
        if query.process_id:
            conditions.append(open_tasks.c.process_id == query.process_id)
        if query.overdue_before is not None:
            conditions.append(open_tasks.c.due_date < query.overdue_before)
        if query.due_until is not None:
            conditions.append(open_tasks.c.due_date <= query.due_until)
        if query.search:
            pattern = f"%{query.search.lower()}%"
            conditions.append(sa.or_(sa.func.lower(open_tasks.c.business_key).like(pattern),
                                     sa.func.lower(instances.c.title).like(pattern),
                                     sa.func.lower(instances.c.parties).like(pattern)))
        columns = [*open_tasks.c, instances.c.title.label("case_title"), instances.c.parties,
                   deadlines.c.title.label("deadline_title"), deadlines.c.legal_basis,
                   deadlines.c.shifted_end, deadlines.c.status.label("deadline_status")]
        rows = conn.execute(
            sa.select(*columns).select_from(source).where(*conditions)
            .order_by(open_tasks.c.due_date.is_(None), open_tasks.c.due_date, open_tasks.c.created_at,
                      open_tasks.c.task_id)
            .limit(query.limit).offset(query.offset))
        total = conn.execute(sa.select(sa.func.count()).select_from(source).where(*conditions)).scalar()
        return [{**dict(r._mapping), "parties": json.loads(r.parties or "{}")} for r in rows], total

    def list_open_tasks(self, conn: Connection, *, lanes: list[str] | None = None,
                        organisation: str | None = None, claimed_by: str | None = None,
                        limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        """The inbox query: index only, sorted by due date (none last), then age."""
        query = sa.select(open_tasks)
        if lanes is not None:
            query = query.where(open_tasks.c.lane.in_(lanes))
        if organisation is not None:
            query = query.where(tasks_of_organisation(organisation))
        if claimed_by is not None:
            query = query.where(open_tasks.c.claimed_by == claimed_by)
        query = query.order_by(open_tasks.c.due_date.is_(None), open_tasks.c.due_date,
                               open_tasks.c.created_at).limit(limit).offset(offset)
        return [dict(r._mapping) for r in conn.execute(query)]
