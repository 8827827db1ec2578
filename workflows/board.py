"""The supervisors' deadline board: every legal deadline with its state, from the index.

States (FRISTEN.md: warn on the calendar end, judge on the end after § 26 Abs. 3 SGB X):
  laufend              running, calendar end more than `soon_days` away
  bald_faellig         running, calendar end within `soon_days` (or passed, shifted end not yet)
  ueberfaellig         running, shifted end passed
  erfuellt             met on or before the shifted end
  verspaetet_erfuellt  met after the shifted end
  entfallen            no longer applies
Queries read only the index tables (deadlines, instances, open_tasks); never a workflow.
"""
from __future__ import annotations

import json
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .domain import DeadlineStatus
from .fristen import Kalender
from .store import case_parties, deadlines, instances, open_tasks

STATES = {
    "laufend": "läuft",
    "bald_faellig": "bald fällig",
    "ueberfaellig": "überfällig",
    "erfuellt": "erfüllt",
    "verspaetet_erfuellt": "verspätet erfüllt",
    "entfallen": "entfallen",
}
OPEN_STATES = ("ueberfaellig", "bald_faellig", "laufend")


@dataclass(frozen=True)
class BoardQuery:
    """Filters of the board; `state=None` means all open deadlines."""

    process_id: str | None = None
    organisation: str | None = None
    state: str | None = None
    due_from: date | None = None       # shifted end on or after
    due_to: date | None = None         # shifted end on or before
    soon_days: int = 14
    limit: int = 50
    offset: int = 0


def state_of(status: str, end: date, shifted_end: date, met_on: date | None, today: date,
             soon_days: int = 14) -> str:
    """The board state of one deadline on `today` (the same rules as the SQL below)."""
    if status == DeadlineStatus.CANCELLED.value:
        return "entfallen"
    if status == DeadlineStatus.MET.value:
        return "erfuellt" if met_on is not None and met_on <= shifted_end else "verspaetet_erfuellt"
    if shifted_end < today:
        return "ueberfaellig"
    if end <= today + timedelta(days=soon_days):
        return "bald_faellig"
    return "laufend"


def _state_condition(state: str, today: date, soon_days: int):
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


def _party_condition(organisation: str):
    """The deadline's case has `organisation` among its parties (index case_parties)."""
    return deadlines.c.instance_id.in_(
        sa.select(case_parties.c.instance_id).where(case_parties.c.organisation == organisation))


def board(conn: Connection, query: BoardQuery, today: date, *, visible_to: str | None = None,
          kalender: Kalender | None = None) -> tuple[list[dict[str, Any]], int]:
    """One page of deadlines sorted by urgency (open before closed, then shifted end), and the
    total. `visible_to`: only cases where this organisation is a party (None: all).

    Two steps keep it fast on large boards: the page's deadlines come from the index on
    (status, shifted_end); who is responsible and whether Leitung has an escalation is then
    looked up for those rows only."""
    if query.state is not None and query.state not in STATES:
        raise ValueError(f"Unbekannter Fristenstand „{query.state}“.")
    states = [query.state] if query.state else list(OPEN_STATES)
    conditions = [_state_condition(query.state, today, query.soon_days) if query.state
                  else deadlines.c.status == DeadlineStatus.RUNNING.value]       # all open = all running
    if query.process_id:
        conditions.append(deadlines.c.process_id == query.process_id)
    if query.due_from:
        conditions.append(deadlines.c.shifted_end >= query.due_from)
    if query.due_to:
        conditions.append(deadlines.c.shifted_end <= query.due_to)
    conditions += [_party_condition(o) for o in (query.organisation, visible_to) if o]
    source = deadlines
    only_open = all(s in OPEN_STATES for s in states)
    order = ([deadlines.c.shifted_end] if only_open else
             [sa.case((deadlines.c.status == DeadlineStatus.RUNNING.value, 0), else_=1), deadlines.c.shifted_end])
    page = conn.execute(sa.select(deadlines.c.instance_id, deadlines.c.key).select_from(source).where(*conditions)
                        .order_by(*order, deadlines.c.business_key, deadlines.c.key)
                        .limit(query.limit).offset(query.offset)).all()
    total = conn.execute(sa.select(sa.func.count()).select_from(source).where(*conditions)).scalar()
    return _rows(conn, page, today, query.soon_days, kalender or Kalender()), total


def _rows(conn: Connection, page, today: date, soon_days: int, kalender: Kalender) -> list[dict[str, Any]]:
    """The board rows of the page, in the page's order, with responsibility and escalation."""
    if not page:
        return []
    ids = sorted({instance_id for instance_id, _key in page})
    columns = [deadlines.c.instance_id, deadlines.c.business_key, deadlines.c.process_id,
               instances.c.title.label("case_title"), instances.c.parties, deadlines.c.key, deadlines.c.rule,
               deadlines.c.title, deadlines.c.legal_basis, deadlines.c.event_date, deadlines.c.end_date,
               deadlines.c.shifted_end, deadlines.c.explanation, deadlines.c.reading, deadlines.c.soll,
               deadlines.c.status, deadlines.c.met_on]
    found = {(r.instance_id, r.key): r for r in conn.execute(
        sa.select(*columns).select_from(deadlines.join(instances, instances.c.id == deadlines.c.instance_id))
        .where(deadlines.c.instance_id.in_(ids)))}
    tasks = conn.execute(sa.select(open_tasks.c.instance_id, open_tasks.c.deadline_key, open_tasks.c.lane,
                                   open_tasks.c.claimed_by, open_tasks.c.organisation)
                         .where(open_tasks.c.instance_id.in_(ids)).order_by(open_tasks.c.created_at)).all()
    responsible = {}
    for t in tasks:
        responsible.setdefault((t.instance_id, t.deadline_key), t)
    escalated = {t.instance_id for t in tasks if t.lane == "Leitung"}
    return [_row(found[key], responsible.get(key), key[0] in escalated, today, soon_days, kalender) for key in page]


def _row(r, task, escalated: bool, today: date, soon_days: int, kalender: Kalender) -> dict[str, Any]:
    data = dict(r._mapping)
    data["parties"] = json.loads(data["parties"] or "{}")
    data["lane"] = task.lane if task else None
    data["claimed_by"] = task.claimed_by if task else None
    data["organisation"] = (task.organisation if task else None) or data["parties"].get("egh")
    data["state"] = state_of(data["status"], data["end_date"], data["shifted_end"], data["met_on"], today, soon_days)
    data["days_left"] = (data["shifted_end"] - today).days
    data["working_days_left"] = kalender.working_days_between(today, data["shifted_end"])
    data["escalated"] = escalated
    return data


def figures(conn: Connection, today: date, *, visible_to: str | None = None) -> list[dict[str, Any]]:
    """Per procedure and rule: how many deadlines were met in time, late, missed (overdue),
    the share in time, and the median days from event to fulfilment."""
    query = sa.select(deadlines.c.process_id, deadlines.c.rule, deadlines.c.title.label("frist"),
                      deadlines.c.legal_basis, deadlines.c.status, deadlines.c.event_date, deadlines.c.shifted_end,
                      deadlines.c.met_on)
    if visible_to:
        query = query.where(_party_condition(visible_to))
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    durations: dict[tuple[str, str], list[int]] = defaultdict(list)
    for r in conn.execute(query):
        key = (r.process_id, r.rule)
        group = groups.setdefault(key, {"process_id": r.process_id, "rule": r.rule,
                                        "title": r.frist, "legal_basis": r.legal_basis, "in_time": 0,
                                        "late": 0, "missed": 0, "running": 0})
        state = state_of(r.status, r.shifted_end, r.shifted_end, r.met_on, today, soon_days=0)
        if state == "erfuellt":
            group["in_time"] += 1
        elif state == "verspaetet_erfuellt":
            group["late"] += 1
        elif state == "ueberfaellig":
            group["missed"] += 1
        elif state != "entfallen":
            group["running"] += 1
        if r.met_on is not None:
            durations[key].append((r.met_on - r.event_date).days)
    result = []
    for key, group in groups.items():
        decided = group["in_time"] + group["late"] + group["missed"]
        group["share_in_time"] = group["in_time"] / decided if decided else None
        group["median_days"] = statistics.median(durations[key]) if durations[key] else None
        result.append(group)
    return result


def monthly_share(conn: Connection, *, months: int, today: date, visible_to: str | None = None,
                  process_id: str | None = None) -> list[dict[str, Any]]:
    """Per month (by the day a deadline was met or its shifted end passed): decided deadlines
    and the share met in time, oldest month first, for the chart."""
    start = (today.replace(day=1) - timedelta(days=31 * (months - 1))).replace(day=1)
    query = (sa.select(deadlines.c.status, deadlines.c.shifted_end, deadlines.c.met_on)
             .where(deadlines.c.status != DeadlineStatus.CANCELLED.value))
    if visible_to:
        query = query.where(_party_condition(visible_to))
    if process_id:
        query = query.where(deadlines.c.process_id == process_id)
    buckets: dict[date, list[int]] = {}
    month = start
    while month <= today:
        buckets[month] = [0, 0]
        month = (month + timedelta(days=32)).replace(day=1)
    for r in conn.execute(query):
        if r.status == DeadlineStatus.MET.value:
            decided_on, in_time = r.met_on, r.met_on <= r.shifted_end
        elif r.shifted_end < today:
            decided_on, in_time = r.shifted_end + timedelta(days=1), False
        else:
            continue
        bucket = decided_on.replace(day=1)
        if bucket in buckets:
            buckets[bucket][0] += 1
            buckets[bucket][1] += int(in_time)
    return [{"month": m, "decided": d, "in_time": t, "share": (t / d if d else None)} for m, (d, t) in buckets.items()]
