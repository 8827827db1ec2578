"""The list queries: inbox, deadline board, case list, and the one visibility predicate
(`visibility.visible_cases`) the board, its exports and the case list share. They read the
index tables (and the instances table), never a workflow's JSON."""
from __future__ import annotations

from .board import BoardQueries
from .cases_list import CaseListQueries
from .inbox import InboxQueries
from .visibility import case_visible, tasks_of_organisation, visible_cases

__all__ = ["BoardQueries", "CaseListQueries", "InboxQueries", "Queries", "case_visible", "tasks_of_organisation",
           "visible_cases"]


class Queries(InboxQueries, BoardQueries, CaseListQueries):
    """Every list query as a Store method."""
