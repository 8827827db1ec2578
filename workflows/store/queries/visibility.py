"""Which cases an organisation may see: the one visibility predicate of the lists.

Children's data only for the people working the case (§ 35 SGB I):
  * a member of an organisation sees the cases that organisation is a party to (the index
    `case_parties`, kept with `instances.parties`);
  * a body without an organisation (Schlichtungskommission, Gemeinsame Kommission) sees a
    case only while one of its lanes has an open task in it.
This is the SQL twin of `workflows.policy.may_see_case`, which decides it for one loaded case;
the board, its exports (CSV, iCal, figures, chart) and the case list ask it here, for many.

`tasks_of_organisation` is the inbox's different question: which open tasks an organisation
works (its own, and those of bodies without one).
"""
from __future__ import annotations

from typing import Iterable

import sqlalchemy as sa

from ...domain import CROSS_ORGANISATION, LANES
from ..schema import case_parties, open_tasks


def visible_cases(organisation: str | None = None, lanes: Iterable[str] | None = None) -> sa.Select | None:
    """The ids of the cases `organisation` may see (a SELECT of instance ids), or, for a body
    without an organisation (`organisation=None`), of the cases where one of `lanes` has an open
    task. None when neither is given: no restriction (the system, an unscoped board)."""
    if organisation is not None:
        return sa.select(case_parties.c.instance_id).where(case_parties.c.organisation == organisation)
    if lanes is not None:
        return sa.select(open_tasks.c.instance_id).where(open_tasks.c.lane.in_(sorted(lanes)))
    return None


def case_visible(instance_id, organisation: str | None = None,
                 lanes: Iterable[str] | None = None) -> list[sa.ColumnElement[bool]]:
    """`visible_cases` as WHERE conditions on a column of instance ids (`[]`: no restriction)."""
    ids = visible_cases(organisation, lanes)
    return [] if ids is None else [instance_id.in_(ids)]


def tasks_of_organisation(organisation: str) -> sa.ColumnElement[bool]:
    """Open tasks an organisation works: its own, and those of bodies without one (Schlichtung,
    Gemeinsame Kommission). A task of another lane without an organisation is nobody's."""
    cross = sorted(lane for lane, party in LANES.items() if party in CROSS_ORGANISATION)
    return sa.or_(open_tasks.c.organisation == organisation,
                  sa.and_(open_tasks.c.organisation.is_(None), open_tasks.c.lane.in_(cross)))
