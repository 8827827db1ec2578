"""The supervisors' deadline board: every legal deadline with its state, from the index.

States (FRISTEN.md: warn on the calendar end, judge on the end after § 26 Abs. 3 SGB X):
  laufend              running, calendar end more than `soon_days` away
  bald_faellig         running, calendar end within `soon_days` (or passed, shifted end not yet)
  ueberfaellig         running, shifted end passed
  erfuellt             met on or before the shifted end
  verspaetet_erfuellt  met after the shifted end
  entfallen            no longer applies
Queries read only the index tables (deadlines, instances, open_tasks); never a workflow. Their SQL
is workflows/store/queries/board.py; the rules of the states and the figures are here.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from .domain import BoardQuery, DeadlineStatus
from .fristen import Kalender
from .store.queries import board as board_sql

STATES = {
    "laufend": "läuft",
    "bald_faellig": "bald fällig",
    "ueberfaellig": "überfällig",
    "erfuellt": "erfüllt",
    "verspaetet_erfuellt": "verspätet erfüllt",
    "entfallen": "entfallen",
}
OPEN_STATES = ("ueberfaellig", "bald_faellig", "laufend")


def state_of(status: str, end: date, shifted_end: date, met_on: date | None, today: date,
             soon_days: int = 14) -> str:
    """The board state of one deadline on `today` (the same rules as `board_sql.state_condition`)."""
    if status == DeadlineStatus.CANCELLED.value:
        return "entfallen"
    if status == DeadlineStatus.MET.value:
        return "erfuellt" if met_on is not None and met_on <= shifted_end else "verspaetet_erfuellt"
    if shifted_end < today:
        return "ueberfaellig"
    if end <= today + timedelta(days=soon_days):
        return "bald_faellig"
    return "laufend"


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
    page, total = board_sql.deadline_page(conn, query, today, visible_to=visible_to,
                                          open_only=all(s in OPEN_STATES for s in states))
    return _rows(conn, page, today, query.soon_days, kalender or Kalender()), total


def _rows(conn: Connection, page, today: date, soon_days: int, kalender: Kalender) -> list[dict[str, Any]]:
    """The board rows of the page, in the page's order, with responsibility and escalation."""
    if not page:
        return []
    ids = sorted({instance_id for instance_id, _key in page})
    found = board_sql.deadline_rows(conn, ids)
    tasks = board_sql.responsible_tasks(conn, ids)
    responsible = {}
    for t in tasks:
        responsible.setdefault((t.instance_id, t.deadline_key), t)
    escalated = {t.instance_id for t in tasks if t.lane == "Leitung"}
    return [_row(found[key], responsible.get(key), key[0] in escalated, today, soon_days, kalender) for key in page]


def _row(found: dict[str, Any], task, escalated: bool, today: date, soon_days: int,
         kalender: Kalender) -> dict[str, Any]:
    data = dict(found)
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
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    durations: dict[tuple[str, str], list[int]] = defaultdict(list)
    for r in board_sql.deadline_outcomes(conn, visible_to=visible_to):
        key = (r.process_id, r.rule)
        group = groups.setdefault(key, {"process_id": r.process_id, "rule": r.rule,
                                        "title": r.title, "legal_basis": r.legal_basis, "in_time": 0,
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
    buckets: dict[date, list[int]] = {}
    month = start
    while month <= today:
        buckets[month] = [0, 0]
        month = (month + timedelta(days=32)).replace(day=1)
    for r in board_sql.deadline_outcomes(conn, visible_to=visible_to, process_id=process_id,
                                         without_cancelled=True):
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
