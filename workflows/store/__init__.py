"""Persistence: one row per case with its workflow JSON, small index tables, the audit.

SQL runs only in this package; the rest of the application calls `Store` methods (and the
board its query functions) and gets plain values back. Every use case runs in one transaction
(`Store.transaction()`); a case is written with `UPDATE … WHERE id = ? AND version = ?`, so a
second writer finds zero rows and gets a Conflict instead of overwriting. Lists (inbox, board,
case list, scheduler) read only the index tables, never the workflow JSON. Works on SQLite
(embedded default) and PostgreSQL.

  schema.py      metadata, UTCDateTime, every table
  db.py          engine, transaction()/read()/snapshot_read(), dialect, Alembic, dispose
  models.py      deployed model versions
  cases.py       the case row: insert, optimistic save, lock, failed state, parties, deletion
  index.py       index tables: index_rows, fingerprint, write_index, open tasks and claims
  timers.py      due timers (claim with SKIP LOCKED), retries, awaited events
  casefile.py    documents, comments, audit
  persons.py     the child's identity and the guardians' address
  accounts.py    users, API tokens, login attempts, session version
  outbox.py      queued mails
  settings.py    the simulation clock's state
  queries/       inbox, board, case list, and the visibility predicate they share

`Store` is composed of one mixin per area, so `store.<method>(conn, …)` reaches all of them.
"""
from __future__ import annotations

from .accounts import AccountRows
from .casefile import CaseFileRows
from .cases import RETRY_FIRST, RETRY_MAX, CaseRows, InstanceRow, unknown_case
from .db import MIGRATIONS, DbMixin, alembic_config, create_engine, engine_options, upgrade
from .index import INDEX_TABLES, IndexRows, fingerprint, index_rows
from .models import ModelRows
from .outbox import OutboxRows
from .persons import PersonRows
from .queries import Queries, case_visible, tasks_of_organisation, visible_cases
from .schema import (CLOSED_STATUSES, UTCDateTime, api_tokens, audit_events, awaited_events, case_parties, comments,
                     deadlines, documents, instances, login_attempts, metadata, model_versions, notifications,
                     open_tasks, pending_timers, persons, settings, users)
from .settings import SettingRows
from .timers import TimerRows

__all__ = [
    "CLOSED_STATUSES", "INDEX_TABLES", "MIGRATIONS", "RETRY_FIRST", "RETRY_MAX", "InstanceRow", "Store",
    "UTCDateTime", "alembic_config", "api_tokens", "audit_events", "awaited_events", "case_parties",
    "case_visible", "comments", "create_engine", "engine_options", "deadlines", "documents", "fingerprint", "index_rows", "instances",
    "login_attempts", "metadata", "model_versions", "notifications", "open_tasks", "pending_timers", "persons",
    "settings", "tasks_of_organisation", "unknown_case", "upgrade", "users", "visible_cases",
]


class Store(DbMixin, ModelRows, CaseRows, IndexRows, TimerRows, CaseFileRows, PersonRows, AccountRows, OutboxRows,
            SettingRows, Queries):
    """Owns the database engine; hands out transactions and does the row work."""
