"""The case list (API `GET /cases`): one page of the cases an actor may see.

Reads the instances table (and, for who may see what, the index tables through
`visibility.visible_cases`), never the workflow JSON.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..schema import instances
from .visibility import case_visible

_COLUMNS = [instances.c.id, instances.c.business_key, instances.c.process_id, instances.c.title,
            instances.c.parties, instances.c.status, instances.c.error, instances.c.version,
            instances.c.model_version_id, instances.c.created_at, instances.c.updated_at]


class CaseListQueries:
    """The paged, filtered case list."""

    def cases_page(self, conn: Connection, *, organisation: str | None = None, lanes: Iterable[str] | None = None,
                   process_id: str | None = None, status: str | None = None, search: str | None = None,
                   limit: int = 25, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Cases most recently changed first (`limit`, `offset`), and the number of all matching.

        Who: `organisation` sees the cases it is a party to; with `organisation=None`, `lanes`
        (a body without an organisation) those where one of its lanes has an open task; neither
        (the system): all. `search` (trimmed, at most 100 characters, case-insensitive) looks in
        the Aktenzeichen, the title and the parties."""
        conditions = case_visible(instances.c.id, organisation, lanes)
        if process_id:
            conditions.append(instances.c.process_id == process_id)
        if status:
            conditions.append(instances.c.status == status)
        search = (search or "").strip()[:100].lower()
        if search:
            escaped = json.dumps(search)[1:-1]        # as non-ASCII characters appear in parties
            conditions.append(sa.or_(
                sa.func.lower(instances.c.business_key).contains(search, autoescape=True),
                sa.func.lower(instances.c.title).contains(search, autoescape=True),
                sa.func.lower(instances.c.parties).contains(search, autoescape=True),
                sa.func.lower(instances.c.parties).contains(escaped, autoescape=True)))
        rows = conn.execute(sa.select(*_COLUMNS).where(*conditions)
                            .order_by(instances.c.updated_at.desc(), instances.c.id.desc())
                            .limit(limit).offset(offset))
        items = [{**dict(r._mapping), "parties": json.loads(r.parties or "{}")} for r in rows]
        total = conn.execute(sa.select(sa.func.count()).select_from(instances).where(*conditions)).scalar()
        return items, total
