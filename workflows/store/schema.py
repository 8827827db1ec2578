"""The schema: every table of the application, as SQLAlchemy Core metadata (no ORM).

What lives where:
  model_versions   deployed BPMN models and forms, immutable (models.py)
  instances        one row per case: its workflow JSON (SpiffWorkflow's serialisation), status,
                   parties (JSON) and an optimistic `version` every write checks (cases.py)
  case_parties     the parties again, one row each, for the lists' visibility (cases.py writes,
                   queries/visibility.py reads)
  open_tasks,      index tables derived from the workflow on every step (index.py): the lists
  pending_timers,  (inbox, board, case list, timer worker) read only these, never the JSON
  awaited_events,
  deadlines
  persons          the child's identity and the guardians' address, nowhere else (persons.py)
  audit_events,    the case file (casefile.py)
  documents,
  comments
  users, …         accounts, API tokens, login attempts (accounts.py), the mail outbox
                   (outbox.py) and settings such as the simulation clock (settings.py)

Alembic (workflows/migrations) compares against `metadata`; a change here needs a revision.
"""
from __future__ import annotations

from datetime import timezone

import sqlalchemy as sa

from ..domain import CaseStatus

__all__ = ["CLOSED_STATUSES", "UTCDateTime", "api_tokens", "audit_events", "awaited_events", "case_parties",
           "comments", "deadlines", "documents", "instances", "login_attempts", "metadata", "model_versions",
           "notifications", "open_tasks", "pending_timers", "persons", "settings", "users"]


class UTCDateTime(sa.types.TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


metadata = sa.MetaData()

model_versions = sa.Table(
    "model_versions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("process_id", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("bpmn_xml", sa.Text, nullable=False),
    sa.Column("files", sa.Text, nullable=False, doc="JSON: file name -> content (BPMN dependencies, forms)"),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("deployed_at", UTCDateTime, nullable=False),
    sa.Column("deployed_by", sa.String(200), nullable=False),
    sa.UniqueConstraint("process_id", "version"),
)

persons = sa.Table(
    "persons", metadata,
    # The only place for a child's identity and the guardians' postal address (pseudonymisation,
    # Art. 4 Nr. 5, Art. 25 DSGVO): workflow JSON, index tables, titles, audit and mails carry at
    # most persons.id. Deleted with the child's last case (see workflows/privacy.py).
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind_vorname", sa.String(100), nullable=False),
    sa.Column("kind_nachname", sa.String(100), nullable=False),
    sa.Column("kind_geburtsdatum", sa.Date, nullable=False),
    sa.Column("erziehungsberechtigte", sa.String(200), doc="name(s) the Bescheid is addressed to"),
    sa.Column("strasse", sa.String(200)),
    sa.Column("plz", sa.String(5)),
    sa.Column("ort", sa.String(100)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

instances = sa.Table(
    "instances", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("business_key", sa.String(100), nullable=False, unique=True),
    sa.Column("process_id", sa.String(200), nullable=False, index=True),
    sa.Column("model_version_id", sa.Integer, sa.ForeignKey("model_versions.id"), nullable=False),
    sa.Column("title", sa.String(300), nullable=False, server_default=""),
    sa.Column("parties", sa.Text, nullable=False, server_default="{}", doc="JSON: party -> organisation"),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("error", sa.Text),
    sa.Column("failed_attempts", sa.Integer, nullable=False, server_default="0",
              doc="failed steps in a row; the timer retry of a failed case backs off with it"),
    sa.Column("retry_at", UTCDateTime, doc="when the worker tries a failed case's due timers again"),
    sa.Column("workflow_json", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("index_fingerprint", sa.Text, nullable=False, server_default="{}",
              doc="JSON: index table -> hash of the rows last written (unchanged ones are skipped)"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("persons.id", name="fk_instances_person_id_persons"),
              index=True, doc="the child of the case; NULL for cases not about a child"),
    sa.Column("closed_at", UTCDateTime, index=True,
              doc="when the case reached a final status; the retention period runs from here"),
)

#: Final statuses: a case in one of them is closed and, after the retention period, deleted.
#: ("cancelled": Leitung ended a failed case, Workflows.close_failed_case.)
CLOSED_STATUSES = (CaseStatus.COMPLETED.value, CaseStatus.CANCELLED.value)


case_parties = sa.Table(
    "case_parties", metadata,
    sa.Column("instance_id", sa.Integer, sa.ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("party", sa.String(50), primary_key=True, doc="egh | krankenkasse | leistungserbringer | …"),
    sa.Column("organisation", sa.String(200), nullable=False),
    sa.Index("ix_case_parties_organisation", "organisation", "instance_id"),
)

open_tasks = sa.Table(
    "open_tasks", metadata,
    sa.Column("task_id", sa.String(36), primary_key=True),
    sa.Column("instance_id", sa.Integer, sa.ForeignKey("instances.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("business_key", sa.String(100), nullable=False, index=True),
    sa.Column("process_id", sa.String(200), nullable=False),
    sa.Column("spec_name", sa.String(200), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("lane", sa.String(100)),
    sa.Column("organisation", sa.String(200)),
    sa.Column("form", sa.String(200)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("deadline_key", sa.String(100), doc="joins deadlines (instance_id, key)"),
    sa.Column("due_date", sa.Date, doc="last day of that deadline (calendar end)"),
    sa.Column("claimed_by", sa.String(200), index=True),
    sa.Index("ix_open_tasks_lane_org_due", "lane", "organisation", "due_date"),
)

pending_timers = sa.Table(
    "pending_timers", metadata,
    sa.Column("task_id", sa.String(36), primary_key=True),
    sa.Column("instance_id", sa.Integer, sa.ForeignKey("instances.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("spec_name", sa.String(200), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("due_at", UTCDateTime, nullable=False, index=True),
)

awaited_events = sa.Table(
    "awaited_events", metadata,
    sa.Column("instance_id", sa.Integer, sa.ForeignKey("instances.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Index("ix_awaited_events_kind_name", "kind", "name"),
)

deadlines = sa.Table(
    "deadlines", metadata,
    sa.Column("instance_id", sa.Integer, sa.ForeignKey("instances.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("business_key", sa.String(100), nullable=False),
    sa.Column("process_id", sa.String(200), nullable=False),
    sa.Column("rule", sa.String(100), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("legal_basis", sa.String(300), nullable=False),
    sa.Column("event_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date, nullable=False),
    sa.Column("shifted_end", sa.Date, nullable=False, index=True),
    sa.Column("explanation", sa.Text, nullable=False),
    sa.Column("reading", sa.String(20)),
    sa.Column("soll", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("met_on", sa.Date),
    sa.Index("ix_deadlines_status_shifted_end", "status", "shifted_end", "instance_id"),   # covers the board
)

audit_events = sa.Table(
    "audit_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("instance_id", sa.Integer, index=True),
    sa.Column("business_key", sa.String(100), index=True),
    sa.Column("task_id", sa.String(36)),
    sa.Column("details", sa.Text, nullable=False, server_default="{}"),
)

documents = sa.Table(
    "documents", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("instance_id", sa.Integer, sa.ForeignKey("instances.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False, doc="upload | bescheid"),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("task_id", sa.String(36)),
    sa.Column("uploaded_by", sa.String(200), nullable=False),
    sa.Column("uploaded_at", UTCDateTime, nullable=False),
)

comments = sa.Table(
    "comments", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("instance_id", sa.Integer, sa.ForeignKey("instances.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("author", sa.String(200), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
)

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(200)),
    sa.Column("password_hash", sa.String(300), nullable=False),
    sa.Column("organisation", sa.String(200)),
    sa.Column("groups", sa.Text, nullable=False, server_default="[]", doc="JSON list of group names"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("session_version", sa.Integer, nullable=False, server_default="0",
              doc="kept in each web session; raising it ends all of them (logout, password, deactivation)"),
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True, doc="sha256 hex of the token"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime),
    sa.Column("revoked_at", UTCDateTime),
)

notifications = sa.Table(
    "notifications", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True,
              doc="one mail per reason and recipient (e.g. digest:user:2026-11-23)"),
    sa.Column("recipient", sa.String(100), nullable=False),
    sa.Column("email", sa.String(200), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime, index=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
)

login_attempts = sa.Table(
    "login_attempts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(100), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("success", sa.Boolean, nullable=False),
    sa.Index("ix_login_attempts_username_at", "username", "at"),
    sa.Index("ix_login_attempts_address_at", "address", "at"),
)

settings = sa.Table(
    "settings", metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
