"""The deadline board's SQL: pages of deadlines by state, and what each row shows.

The states themselves (laufend, bald_faellig, …) and their rules are workflows/board.py;
`state_condition` is the same rule as a WHERE clause, so the database filters and counts.
A board scoped to an organisation shows the cases it may see (`visibility.visible_cases`).
Reads the index tables only (deadlines, instances, open_tasks, case_parties).

These are plain functions of a connection (workflows/board.py gets one, not a Store); the
`BoardQueries` mixin offers them as Store methods too.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...domain import DeadlineStatus
from ..schema import deadlines, instances, open_tasks
from .visibility import case_visible

from ...domain import BoardQuery


@dataclass(frozen=True, slots=True)
class ResponsibleTask:
    """An open task of a board row's case: who works it, for which deadline."""

    instance_id: int
    deadline_key: str | None
    lane: str | None
    claimed_by: str | None
    organisation: str | None


@dataclass(frozen=True, slots=True)
class DeadlineOutcome:
    """A deadline as the figures count it."""

    process_id: str
    rule: str
    title: str
    legal_basis: str
    status: str
    event_date: date
    shifted_end: date
    met_on: date | None


_ROW_COLUMNS = [deadlines.c.instance_id, deadlines.c.business_key, deadlines.c.process_id,
                instances.c.title.label("case_title"), instances.c.parties, deadlines.c.key, deadlines.c.rule,
                deadlines.c.title, deadlines.c.legal_basis, deadlines.c.event_date, deadlines.c.end_date,
                deadlines.c.shifted_end, deadlines.c.explanation, deadlines.c.reading, deadlines.c.soll,
                deadlines.c.status, deadlines.c.met_on]


def state_condition(state: str, today: date, soon_days: int):
    """The deadlines in one board state on `today` (as workflows.board.state_of decides)."""
    running = deadlines.c.status == DeadlineStatus.RUNNING.value
    soon = today + timedelta(days=soon_days)
    return {
        "ueberfaellig": sa.and_(running, deadlines.c.shifted_end < today),
        "bald_faellig": sa.and_(running, deadlines.c.shifted_end >= today, deadlines.c.end_date <= soon),
        "laufend": sa.and_(running, deadlines.c.shifted_end >= today, deadlines.c.end_date > soon),
        "erfuellt": sa.and_(deadlines.c.status == DeadlineStatus.MET.value,
                            deadlines.c.met_on <= deadlines.c.shifted_end),
        "verspaetet_erfuellt": sa.and_(deadlines.c.status == DeadlineStatus.MET.value,
                                       deadlines.c.met_on > deadlines.c.shifted_end),
        "entfallen": deadlines.c.status == DeadlineStatus.CANCELLED.value,
    }[state]


def _visible(*organisations: str | None) -> list:
    """Only cases each given organisation may see (a filter, a scope; None or "" adds nothing)."""
    return [c for o in organisations if o for c in case_visible(deadlines.c.instance_id, o)]


def deadline_page(conn: Connection, query: "BoardQuery", today: date, *, visible_to: str | None,
                  open_only: bool) -> tuple[list[tuple[int, str]], int]:
    """(instance id, key) of one page of deadlines, and the number of all matching.

    `query.state=None` means all open deadlines; sorted by shifted end, closed ones after the
    open ones unless `open_only` (the state asked for is an open one). The page comes from the
    index on (status, shifted_end); `deadline_rows` then reads what the rows show."""
    conditions = [state_condition(query.state, today, query.soon_days) if query.state
                  else deadlines.c.status == DeadlineStatus.RUNNING.value]       # all open = all running
    if query.process_id:
        conditions.append(deadlines.c.process_id == query.process_id)
    if query.due_from:
        conditions.append(deadlines.c.shifted_end >= query.due_from)
    if query.due_to:
        conditions.append(deadlines.c.shifted_end <= query.due_to)
    conditions += _visible(query.organisation, visible_to)
    order = ([deadlines.c.shifted_end] if open_only else
             [sa.case((deadlines.c.status == DeadlineStatus.RUNNING.value, 0), else_=1), deadlines.c.shifted_end])
    page = conn.execute(sa.select(deadlines.c.instance_id, deadlines.c.key).where(*conditions)
                        .order_by(*order, deadlines.c.business_key, deadlines.c.key)
                        .limit(query.limit).offset(query.offset)).all()
    total = conn.execute(sa.select(sa.func.count()).select_from(deadlines).where(*conditions)).scalar()
    return [(r.instance_id, r.key) for r in page], total


def deadline_rows(conn: Connection, instance_ids: list[int]) -> dict[tuple[int, str], dict[str, Any]]:
    """Every deadline of these cases with its case's title and parties, by (instance id, key)."""
    rows = conn.execute(sa.select(*_ROW_COLUMNS)
                        .select_from(deadlines.join(instances, instances.c.id == deadlines.c.instance_id))
                        .where(deadlines.c.instance_id.in_(instance_ids)))
    return {(r.instance_id, r.key): {**dict(r._mapping), "parties": json.loads(r.parties or "{}")} for r in rows}


def responsible_tasks(conn: Connection, instance_ids: list[int]) -> list[ResponsibleTask]:
    """The open tasks of these cases, oldest first."""
    rows = conn.execute(sa.select(open_tasks.c.instance_id, open_tasks.c.deadline_key, open_tasks.c.lane,
                                  open_tasks.c.claimed_by, open_tasks.c.organisation)
                        .where(open_tasks.c.instance_id.in_(instance_ids)).order_by(open_tasks.c.created_at))
    return [ResponsibleTask(*r) for r in rows]


def deadline_outcomes(conn: Connection, *, visible_to: str | None = None, process_id: str | None = None,
                      without_cancelled: bool = False) -> list[DeadlineOutcome]:
    """Every deadline (of the cases `visible_to` may see; of one procedure; not cancelled ones)."""
    query = sa.select(deadlines.c.process_id, deadlines.c.rule, deadlines.c.title, deadlines.c.legal_basis,
                      deadlines.c.status, deadlines.c.event_date, deadlines.c.shifted_end, deadlines.c.met_on)
    if without_cancelled:
        query = query.where(deadlines.c.status != DeadlineStatus.CANCELLED.value)
    query = query.where(*_visible(visible_to))
    if process_id:
        query = query.where(deadlines.c.process_id == process_id)
    return [DeadlineOutcome(*r) for r in conn.execute(query)]


class BoardQueries:
    """The board's queries as Store methods (`store.deadline_page(conn, …)`)."""

    deadline_page = staticmethod(deadline_page)
    deadline_rows = staticmethod(deadline_rows)
    responsible_tasks = staticmethod(responsible_tasks)
    deadline_outcomes = staticmethod(deadline_outcomes)
