"""Persistence: one row per case with its workflow JSON, small index tables, the audit.

Every use case runs in one transaction (`Store.transaction()`); a case is written with
`UPDATE … WHERE id = ? AND version = ?`, so a second writer finds zero rows and gets a
Conflict instead of overwriting. Lists (inbox, board, scheduler) read only the index
tables, never the workflow JSON. Works on SQLite (embedded default) and PostgreSQL.
"""
from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .clock import SimulationState
from .domain import CROSS_ORGANISATION, LANES, CaseSnapshot, CaseStatus, Conflict, InboxQuery, NotFound

# --- schema -----------------------------------------------------------------------------


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
    sa.Column("index_digest", sa.Text, nullable=False, server_default="{}",
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
RETRY_FIRST = timedelta(minutes=5)      #: first retry of a failed case's timers; doubled per failure
RETRY_MAX = timedelta(days=1)


def _RUNS_AT(now):
    """Cases whose timers the worker fires at `now`: running ones, and failed ones whose retry is due."""
    return sa.or_(instances.c.status == CaseStatus.RUNNING.value,
                  sa.and_(instances.c.status == CaseStatus.ERROR.value, instances.c.retry_at <= now))

def unknown_case(business_key: str) -> NotFound:
    """The one answer for an Aktenzeichen that does not exist or that the caller may not see."""
    return NotFound(f"Einen Vorgang mit dem Aktenzeichen {business_key} gibt es nicht.", business_key=business_key)


def _of_organisation(organisation: str):
    """Open tasks an organisation works: its own, and those of bodies without one (Schlichtung,
    Gemeinsame Kommission). A task of another lane without an organisation is nobody's."""
    cross = sorted(lane for lane, party in LANES.items() if party in CROSS_ORGANISATION)
    return sa.or_(open_tasks.c.organisation == organisation,
                  sa.and_(open_tasks.c.organisation.is_(None), open_tasks.c.lane.in_(cross)))


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


# --- records ------------------------------------------------------------------------------

@dataclass(frozen=True)
class InstanceRow:
    id: int
    business_key: str
    process_id: str
    model_version_id: int
    title: str
    parties: dict[str, str]
    status: str
    error: str | None
    workflow_json: str
    version: int
    index_digest: dict[str, str]
    created_at: datetime
    updated_at: datetime
    person_id: int | None = None
    closed_at: datetime | None = None
    failed_attempts: int = 0
    retry_at: datetime | None = None

    @classmethod
    def from_row(cls, row) -> "InstanceRow":
        data = dict(row._mapping)
        data["parties"] = json.loads(data["parties"] or "{}")
        data["index_digest"] = json.loads(data["index_digest"] or "{}")
        return cls(**data)


def index_rows(snap: CaseSnapshot, organisation_of) -> dict[sa.Table, list[dict]]:
    """What the index tables should hold for a case, without the columns that are the
    same for every row of the case (added by `write_index`) and, for open tasks,
    without creation time and claim (kept from before)."""
    return {
        open_tasks: [dict(task_id=t.task_id, spec_name=t.spec_name, title=t.title, lane=t.lane,
                          organisation=organisation_of(t.lane), form=t.form, deadline_key=t.deadline_key,
                          due_date=t.due_date)
                     for t in snap.human_tasks],
        pending_timers: [dict(task_id=t.task_id, spec_name=t.spec_name, title=t.title, due_at=t.due_at)
                         for t in snap.timers],
        awaited_events: [dict(kind=e.kind, name=e.name) for e in snap.awaited],
        deadlines: [dict(key=d.key, rule=d.frist.rule, title=d.frist.title, legal_basis=d.frist.legal_basis,
                         event_date=d.frist.event, end_date=d.frist.end, shifted_end=d.frist.shifted_end,
                         explanation=d.frist.explanation, reading=d.frist.reading, soll=d.frist.soll,
                         status=d.status.value, met_on=d.met_on) for d in snap.deadlines],
    }


def digest(rows: dict[sa.Table, list[dict]]) -> dict[str, str]:
    """A hash per index table of the rows it should hold for the case."""
    return {table.name: hashlib.sha1(repr(values).encode()).hexdigest() for table, values in rows.items()}


# Hot-path statements, built once: SQLAlchemy then reuses their compiled form.
_INSTANCE_BY_ID = sa.select(instances).where(instances.c.id == sa.bindparam("p_id"))
_INSTANCE_BY_ID_LOCKED = _INSTANCE_BY_ID.with_for_update()
_LOCK_INSTANCE = sa.select(instances.c.id).where(instances.c.id == sa.bindparam("p_id")).with_for_update()
_SAVE_INSTANCE = (instances.update()
                  .where(instances.c.id == sa.bindparam("p_id"), instances.c.version == sa.bindparam("p_version"))
                  .values(workflow_json=sa.bindparam("p_json"), status=sa.bindparam("p_status"),
                          error=sa.bindparam("p_error"), index_digest=sa.bindparam("p_digest"),
                          version=instances.c.version + 1, updated_at=sa.bindparam("p_now"),
                          closed_at=sa.bindparam("p_closed"), failed_attempts=0, retry_at=None))
_OPEN_TASK = sa.select(open_tasks).where(open_tasks.c.task_id == sa.bindparam("p_task"))
_OPEN_TASKS_OF_CASE_OF_TASK = sa.select(open_tasks).where(open_tasks.c.instance_id.in_(
    sa.select(open_tasks.c.instance_id).where(open_tasks.c.task_id == sa.bindparam("p_task")).scalar_subquery()))
_LATEST_VERSION = (sa.select(model_versions.c.id, model_versions.c.version)
                   .where(model_versions.c.process_id == sa.bindparam("p_process"))
                   .order_by(model_versions.c.version.desc()).limit(1))
_KEPT_TASKS = (sa.select(open_tasks.c.task_id, open_tasks.c.created_at, open_tasks.c.claimed_by)
               .where(open_tasks.c.instance_id == sa.bindparam("p_id")))
_DELETE_INDEX = {table: table.delete().where(table.c.instance_id == sa.bindparam("p_id"))
                 for table in (open_tasks, pending_timers, awaited_events, deadlines)}
_INSERT = {table: table.insert() for table in (open_tasks, pending_timers, awaited_events, deadlines,
                                               audit_events)}


# --- the store --------------------------------------------------------------------------------

class Store:
    """Owns the database engine; hands out transactions and does the row work."""

    def __init__(self, url: str, *, echo: bool = False):
        self.url = url
        self.engine: Engine = create_engine(url, echo=echo)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One atomic unit of work: commits on success, rolls back on any exception."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only unit (lists, reports): on SQLite it does not take the write lock."""
        with self.engine.connect().execution_options(readonly=True) as conn:
            with conn.begin():
                yield conn

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    # -- model versions

    def add_model_version(self, conn: Connection, *, process_id: str, name: str, bpmn_xml: str,
                          files: dict[str, str], sha256: str, deployed_at: datetime,
                          deployed_by: str) -> dict[str, Any]:
        latest = conn.execute(sa.select(sa.func.max(model_versions.c.version))
                              .where(model_versions.c.process_id == process_id)).scalar()
        version = (latest or 0) + 1
        new_id = conn.execute(model_versions.insert().values(
            process_id=process_id, version=version, name=name, bpmn_xml=bpmn_xml,
            files=json.dumps(files), sha256=sha256, deployed_at=deployed_at,
            deployed_by=deployed_by)).inserted_primary_key[0]
        return self.model_version(conn, new_id)

    def model_version(self, conn: Connection, version_id: int) -> dict[str, Any]:
        row = conn.execute(sa.select(model_versions).where(model_versions.c.id == version_id)).first()
        if row is None:
            raise NotFound("Diese Modellversion gibt es nicht.", model_version_id=version_id)
        return _model_dict(row)

    def latest_model_version_id(self, conn: Connection, process_id: str) -> tuple[int, int]:
        """(id, version) of the newest version of a process, without loading its files."""
        row = conn.execute(_LATEST_VERSION, {"p_process": process_id}).first()
        if row is None:
            raise NotFound(f"Für „{process_id}“ ist kein Modell bereitgestellt.", process_id=process_id)
        return row.id, row.version

    def latest_model_version(self, conn: Connection, process_id: str) -> dict[str, Any]:
        row = conn.execute(sa.select(model_versions).where(model_versions.c.process_id == process_id)
                           .order_by(model_versions.c.version.desc()).limit(1)).first()
        if row is None:
            raise NotFound(f"Für „{process_id}“ ist kein Modell bereitgestellt.", process_id=process_id)
        return _model_dict(row)

    def procedures(self, conn: Connection) -> list[dict[str, Any]]:
        """Process id, name and number of each procedure's newest version, by name (model
        versions only: this runs on every inbox and board page)."""
        newest = (sa.select(model_versions.c.process_id, sa.func.max(model_versions.c.version).label("version"))
                  .group_by(model_versions.c.process_id).subquery())
        rows = conn.execute(sa.select(model_versions.c.process_id, model_versions.c.name, model_versions.c.version)
                            .join(newest, sa.and_(newest.c.process_id == model_versions.c.process_id,
                                                  newest.c.version == model_versions.c.version))
                            .order_by(model_versions.c.name))
        return [dict(r._mapping) for r in rows]

    def model_versions(self, conn: Connection) -> list[dict[str, Any]]:
        running = (sa.select(instances.c.model_version_id, sa.func.count().label("n"))
                   .where(instances.c.status == CaseStatus.RUNNING.value)
                   .group_by(instances.c.model_version_id).subquery())
        rows = conn.execute(
            sa.select(model_versions.c.id, model_versions.c.process_id, model_versions.c.version,
                      model_versions.c.name, model_versions.c.sha256, model_versions.c.deployed_at,
                      model_versions.c.deployed_by, sa.func.coalesce(running.c.n, 0).label("running"))
            .outerjoin(running, running.c.model_version_id == model_versions.c.id)
            .order_by(model_versions.c.process_id, model_versions.c.version))
        return [dict(r._mapping) for r in rows]

    # -- instances

    def insert_instance(self, conn: Connection, *, business_key: str, process_id: str,
                        model_version_id: int, title: str, parties: dict[str, str],
                        workflow_json: str, status: CaseStatus, now: datetime,
                        index_digest: dict[str, str], person_id: int | None = None) -> InstanceRow:
        exists = conn.execute(sa.select(instances.c.id).where(instances.c.business_key == business_key)).first()
        if exists:
            raise Conflict(f"Das Aktenzeichen {business_key} ist bereits vergeben.", business_key=business_key)
        try:
            new_id = conn.execute(instances.insert().values(
                business_key=business_key, process_id=process_id, model_version_id=model_version_id,
                title=title, parties=json.dumps(parties), status=status.value, workflow_json=workflow_json,
                version=1, index_digest=json.dumps(index_digest), created_at=now,
                updated_at=now, person_id=person_id,
                closed_at=now if status.value in CLOSED_STATUSES else None)).inserted_primary_key[0]
            if parties:
                conn.execute(case_parties.insert(), [dict(instance_id=new_id, party=party, organisation=org)
                                                     for party, org in parties.items() if org])
        except sa.exc.IntegrityError:
            raise Conflict(f"Das Aktenzeichen {business_key} ist bereits vergeben.",
                           business_key=business_key) from None
        return self.instance(conn, new_id)

    def instance(self, conn: Connection, instance_id: int, *, for_update: bool = False) -> InstanceRow:
        locked = for_update and self.dialect == "postgresql"
        row = conn.execute(_INSTANCE_BY_ID_LOCKED if locked else _INSTANCE_BY_ID, {"p_id": instance_id}).first()
        if row is None:
            raise NotFound("Diesen Vorgang gibt es nicht.", instance_id=instance_id)
        return InstanceRow.from_row(row)

    def lock_instance(self, conn: Connection, instance_id: int) -> None:
        """Wait for any step of the case in flight (PostgreSQL; SQLite writers are serialised
        by BEGIN IMMEDIATE anyway) without loading its workflow JSON."""
        if self.dialect == "postgresql":
            conn.execute(_LOCK_INSTANCE, {"p_id": instance_id})

    def instance_by_key(self, conn: Connection, business_key: str) -> InstanceRow:
        row = conn.execute(sa.select(instances).where(instances.c.business_key == business_key)).first()
        if row is None:
            raise unknown_case(business_key)
        return InstanceRow.from_row(row)

    def instance_of_task(self, conn: Connection, task_id: str) -> int:
        found = conn.execute(sa.select(open_tasks.c.instance_id).where(open_tasks.c.task_id == task_id)).scalar()
        if found is None:
            raise NotFound("Diese Aufgabe ist nicht mehr offen – sie wurde bereits erledigt oder ist durch eine Frist oder ein Ereignis entfallen.",
                           task_id=task_id)
        return found

    def save_instance(self, conn: Connection, row: InstanceRow, *, workflow_json: str,
                      status: CaseStatus, now: datetime, index_digest: dict[str, str] | None = None,
                      error: str | None = None) -> int:
        """Write the case if nobody else did since `row` was read; returns the new version.
        Reaching a final status sets `closed_at` once (the retention period runs from there)."""
        closed = (row.closed_at or now) if status.value in CLOSED_STATUSES else None
        result = conn.execute(_SAVE_INSTANCE, {
            "p_closed": closed,
            "p_id": row.id, "p_version": row.version, "p_json": workflow_json, "p_status": status.value,
            "p_error": error, "p_digest": json.dumps(index_digest if index_digest is not None
                                                     else row.index_digest), "p_now": now})
        if result.rowcount != 1:
            raise Conflict("Der Vorgang wurde inzwischen von jemand anderem geändert. "
                           "Bitte laden Sie ihn neu.", business_key=row.business_key)
        return row.version + 1

    def mark_failed(self, conn: Connection, instance_id: int, error: str, now: datetime) -> datetime:
        """Mark a case as failed with its German reason; its timers stay, and the worker tries
        them again at the returned time, backing off with every failure in a row (5 minutes,
        doubled each time, at most a day), so a broken case never runs in a hot loop."""
        attempts = (conn.execute(sa.select(instances.c.failed_attempts).where(instances.c.id == instance_id))
                    .scalar() or 0) + 1
        retry_at = now + RETRY_FIRST * min(2 ** (attempts - 1), RETRY_MAX / RETRY_FIRST)
        conn.execute(instances.update().where(instances.c.id == instance_id)
                     .values(status=CaseStatus.ERROR.value, error=error[:2000], failed_attempts=attempts,
                             retry_at=retry_at, version=instances.c.version + 1, updated_at=now))
        return retry_at

    def reopen_failed(self, conn: Connection, instance_id: int, now: datetime) -> None:
        """A failed case runs again (a process owner's retry): its timers are due as they are."""
        conn.execute(instances.update().where(instances.c.id == instance_id,
                                              instances.c.status == CaseStatus.ERROR.value)
                     .values(status=CaseStatus.RUNNING.value, retry_at=None, updated_at=now,
                             version=instances.c.version + 1))

    def close_failed(self, conn: Connection, instance_id: int, now: datetime) -> None:
        """End a failed case for good (Leitung): closed, nothing open or waiting any more."""
        conn.execute(instances.update().where(instances.c.id == instance_id)
                     .values(status=CaseStatus.CANCELLED.value, retry_at=None, closed_at=now, updated_at=now,
                             version=instances.c.version + 1, index_digest="{}"))
        for table in (open_tasks, pending_timers, awaited_events):
            conn.execute(table.delete().where(table.c.instance_id == instance_id))

    def add_parties(self, conn: Connection, instance_id: int, added: dict[str, str]) -> None:
        """Name organisations a case lacked: its parties, and its open tasks in their lanes that
        had none (such a task is nobody's until then)."""
        current = json.loads(conn.execute(sa.select(instances.c.parties).where(instances.c.id == instance_id))
                             .scalar() or "{}")
        conn.execute(instances.update().where(instances.c.id == instance_id)
                     .values(parties=json.dumps({**current, **added}), version=instances.c.version + 1))
        conn.execute(case_parties.insert(), [dict(instance_id=instance_id, party=party, organisation=organisation)
                                             for party, organisation in added.items()])
        for party, organisation in added.items():
            lanes = [lane for lane, p in LANES.items() if p.value == party]
            conn.execute(open_tasks.update().where(open_tasks.c.instance_id == instance_id,
                                                   open_tasks.c.organisation.is_(None), open_tasks.c.lane.in_(lanes))
                         .values(organisation=organisation))

    def failed_cases(self, conn: Connection) -> list[dict[str, Any]]:
        """Failed cases for Leitung and process owners, newest failure first."""
        query = (sa.select(instances.c.id, instances.c.business_key, instances.c.process_id, instances.c.title,
                           instances.c.error, instances.c.failed_attempts, instances.c.retry_at,
                           instances.c.updated_at, instances.c.parties)
                 .where(instances.c.status == CaseStatus.ERROR.value).order_by(instances.c.updated_at.desc()))
        return [{**dict(r._mapping), "parties": json.loads(r.parties or "{}")} for r in conn.execute(query)]

    # -- index tables

    def write_index(self, conn: Connection, row: InstanceRow, rows: dict[sa.Table, list[dict]], *,
                    previous: dict[str, str], new: dict[str, str], now: datetime,
                    open_before: list[dict[str, Any]] | None = None) -> None:
        """Make the case's index rows what `rows` says, rewriting only the tables whose
        digest changed (`previous`: what was last written, {} for a new case).

        Open tasks that stay open keep their creation time and claim (`open_before`: the
        case's open-task rows if the caller has already read them)."""
        case_columns = {"instance_id": row.id, "business_key": row.business_key, "process_id": row.process_id}
        for table, values in rows.items():
            if previous.get(table.name) == new[table.name]:
                continue
            same = {k: v for k, v in case_columns.items() if k in table.c}
            values = [{**same, **v} for v in values]
            if table is open_tasks:
                before = open_before if open_before is not None else [
                    dict(r._mapping) for r in conn.execute(_KEPT_TASKS, {"p_id": row.id})]
                kept = {r["task_id"]: r for r in before}
                values = [{**v, "created_at": kept[v["task_id"]]["created_at"] if v["task_id"] in kept else now,
                           "claimed_by": kept[v["task_id"]]["claimed_by"] if v["task_id"] in kept else None}
                          for v in values]
            conn.execute(_DELETE_INDEX[table], {"p_id": row.id})
            if values:
                conn.execute(_INSERT[table], values)

    def open_task(self, conn: Connection, task_id: str) -> dict[str, Any]:
        row = conn.execute(_OPEN_TASK, {"p_task": task_id}).first()
        if row is None:
            raise NotFound("Diese Aufgabe ist nicht mehr offen – sie wurde bereits erledigt oder ist durch eine Frist oder ein Ereignis entfallen.",
                           task_id=task_id)
        return dict(row._mapping)

    def open_tasks_of(self, conn: Connection, instance_id: int) -> list[dict[str, Any]]:
        return [dict(r._mapping) for r in conn.execute(_KEPT_TASKS.add_columns(open_tasks.c.lane),
                                                       {"p_id": instance_id})]

    def open_tasks_of_case_of(self, conn: Connection, task_id: str) -> list[dict[str, Any]]:
        """All open tasks of the case the given open task belongs to (one query)."""
        rows = [dict(r._mapping) for r in conn.execute(_OPEN_TASKS_OF_CASE_OF_TASK, {"p_task": task_id})]
        if not any(r["task_id"] == task_id for r in rows):
            raise NotFound("Diese Aufgabe ist nicht mehr offen – sie wurde bereits erledigt oder ist durch eine Frist oder ein Ereignis entfallen.",
                           task_id=task_id)
        return rows

    def set_claim(self, conn: Connection, task_id: str, claimed_by: str | None,
                  expected: str | None) -> None:
        """Claim or release a task, only if its claim is still `expected` (compare-and-set)."""
        claimed = open_tasks.c.claimed_by
        result = conn.execute(open_tasks.update().where(
            open_tasks.c.task_id == task_id, claimed.is_(None) if expected is None else claimed == expected)
            .values(claimed_by=claimed_by))
        if result.rowcount != 1:
            raise Conflict("Die Aufgabe wurde inzwischen von jemand anderem übernommen oder erledigt.",
                           task_id=task_id)

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
            conditions.append(_of_organisation(query.organisation))
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
            query = query.where(_of_organisation(organisation))
        if claimed_by is not None:
            query = query.where(open_tasks.c.claimed_by == claimed_by)
        query = query.order_by(open_tasks.c.due_date.is_(None), open_tasks.c.due_date,
                               open_tasks.c.created_at).limit(limit).offset(offset)
        return [dict(r._mapping) for r in conn.execute(query)]

    # -- timers

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

    # -- documents and comments

    def add_document(self, conn: Connection, *, instance_id: int, kind: str, name: str,
                     content_type: str, content: bytes, uploaded_by: str, uploaded_at: datetime,
                     task_id: str | None = None) -> int:
        return conn.execute(documents.insert().values(
            instance_id=instance_id, kind=kind, name=name, content_type=content_type, size=len(content),
            sha256=hashlib.sha256(content).hexdigest(), content=content, task_id=task_id,
            uploaded_by=uploaded_by, uploaded_at=uploaded_at)).inserted_primary_key[0]

    def documents_of(self, conn: Connection, instance_id: int) -> list[dict[str, Any]]:
        """Document metadata of a case (without the content)."""
        rows = conn.execute(sa.select(*[c for c in documents.c if c.name != "content"])
                            .where(documents.c.instance_id == instance_id).order_by(documents.c.id))
        return [dict(r._mapping) for r in rows]

    def document(self, conn: Connection, instance_id: int, document_id: int) -> dict[str, Any]:
        row = conn.execute(sa.select(documents).where(documents.c.id == document_id,
                                                      documents.c.instance_id == instance_id)).first()
        if row is None:
            raise NotFound("Dieses Dokument gibt es in diesem Vorgang nicht.", document_id=document_id)
        return dict(row._mapping)

    def add_comment(self, conn: Connection, *, instance_id: int, author: str, at: datetime, text: str) -> None:
        conn.execute(comments.insert().values(instance_id=instance_id, author=author, at=at, text=text))

    def comments_of(self, conn: Connection, instance_id: int) -> list[dict[str, Any]]:
        rows = conn.execute(sa.select(comments).where(comments.c.instance_id == instance_id)
                            .order_by(comments.c.id))
        return [dict(r._mapping) for r in rows]

    # -- persons (the child and the guardians' address; see the persons table)

    def add_person(self, conn: Connection, values: dict[str, Any], now: datetime) -> int:
        return conn.execute(persons.insert().values(**values, created_at=now, updated_at=now)
                            ).inserted_primary_key[0]

    def person(self, conn: Connection, person_id: int | None) -> dict[str, Any] | None:
        if person_id is None:
            return None
        row = conn.execute(sa.select(persons).where(persons.c.id == person_id)).first()
        return None if row is None else dict(row._mapping)

    def update_person(self, conn: Connection, person_id: int, values: dict[str, Any], now: datetime) -> None:
        conn.execute(persons.update().where(persons.c.id == person_id).values(**values, updated_at=now))

    def link_person(self, conn: Connection, instance_id: int, person_id: int) -> None:
        conn.execute(instances.update().where(instances.c.id == instance_id).values(person_id=person_id))

    # -- audit

    def audit(self, conn: Connection, *, at: datetime, actor: str, action: str,
              instance_id: int | None = None, business_key: str | None = None,
              task_id: str | None = None, details: dict[str, Any] | None = None) -> None:
        conn.execute(_INSERT[audit_events], dict(
            at=at, actor=actor, action=action, instance_id=instance_id, business_key=business_key,
            task_id=task_id, details=json.dumps(details or {}, ensure_ascii=False, default=str)))

    def history(self, conn: Connection, instance_id: int) -> list[dict[str, Any]]:
        rows = conn.execute(sa.select(audit_events).where(audit_events.c.instance_id == instance_id)
                            .order_by(audit_events.c.id))
        return [{**dict(r._mapping), "details": json.loads(r.details)} for r in rows]

    # -- users

    def add_user(self, conn: Connection, *, username: str, display_name: str, password_hash: str,
                 organisation: str | None, groups: list[str], email: str | None = None) -> None:
        if conn.execute(sa.select(users.c.id).where(users.c.username == username)).first():
            raise Conflict(f"Den Benutzer {username} gibt es bereits.", username=username)
        conn.execute(users.insert().values(
            username=username, display_name=display_name, password_hash=password_hash,
            organisation=organisation, groups=json.dumps(groups), email=email))

    def colleagues(self, conn: Connection, group: str, organisation: str | None) -> list[dict[str, Any]]:
        """Active users of a group (and organisation), for handing a task over."""
        rows = conn.execute(sa.select(users.c.username, users.c.display_name, users.c.organisation,
                                      users.c.groups).where(users.c.active.is_(True))
                            .order_by(users.c.display_name))
        return [{**dict(r._mapping), "groups": json.loads(r.groups)} for r in rows
                if group in json.loads(r.groups) and (organisation is None or r.organisation == organisation)]

    def user(self, conn: Connection, username: str) -> dict[str, Any] | None:
        row = conn.execute(sa.select(users).where(users.c.username == username)).first()
        if row is None:
            return None
        return {**dict(row._mapping), "groups": json.loads(row.groups)}

    def end_sessions(self, conn: Connection, username: str, **changes: Any) -> None:
        """Raise the user's session version: every web session issued before, on any device,
        stops working. `changes` (password_hash, active) are written in the same UPDATE."""
        result = conn.execute(users.update().where(users.c.username == username)
                              .values(**changes, session_version=users.c.session_version + 1))
        if result.rowcount == 0:
            raise NotFound(f"Den Benutzer {username} gibt es nicht.", username=username)

    # -- API tokens (personal access tokens; only their sha256 is stored)

    def add_api_token(self, conn: Connection, *, username: str, name: str, token_hash: str,
                      now: datetime) -> int:
        user_id = conn.execute(sa.select(users.c.id).where(users.c.username == username,
                                                           users.c.active.is_(True))).scalar()
        if user_id is None:
            raise NotFound(f"Den Benutzer {username} gibt es nicht.", username=username)
        return conn.execute(api_tokens.insert().values(user_id=user_id, name=name, token_hash=token_hash,
                                                       created_at=now)).inserted_primary_key[0]

    def api_token(self, conn: Connection, token_hash: str) -> dict[str, Any] | None:
        """The token with its user's name, groups, organisation and state (revoked ones too)."""
        row = conn.execute(
            sa.select(api_tokens.c.id, api_tokens.c.name, api_tokens.c.last_used_at, api_tokens.c.revoked_at,
                      users.c.username, users.c.organisation, users.c.groups, users.c.active)
            .select_from(api_tokens.join(users, users.c.id == api_tokens.c.user_id))
            .where(api_tokens.c.token_hash == token_hash)).first()
        return None if row is None else {**dict(row._mapping), "groups": json.loads(row.groups)}

    def touch_api_token(self, conn: Connection, token_id: int, now: datetime) -> None:
        conn.execute(api_tokens.update().where(api_tokens.c.id == token_id).values(last_used_at=now))

    def api_tokens(self, conn: Connection) -> list[dict[str, Any]]:
        rows = conn.execute(
            sa.select(api_tokens.c.id, api_tokens.c.name, api_tokens.c.created_at, api_tokens.c.last_used_at,
                      api_tokens.c.revoked_at, users.c.username)
            .select_from(api_tokens.join(users, users.c.id == api_tokens.c.user_id)).order_by(api_tokens.c.id))
        return [dict(r._mapping) for r in rows]

    def revoke_api_token(self, conn: Connection, token_id: int, now: datetime) -> bool:
        """Revoke a token; False if it was already revoked."""
        if conn.execute(sa.select(api_tokens.c.id).where(api_tokens.c.id == token_id)).first() is None:
            raise NotFound(f"Ein API-Token mit der Nummer {token_id} gibt es nicht.", token_id=token_id)
        result = conn.execute(api_tokens.update().where(api_tokens.c.id == token_id,
                                                        api_tokens.c.revoked_at.is_(None)).values(revoked_at=now))
        return result.rowcount == 1

    # -- notifications (outbox)

    def add_notification(self, conn: Connection, *, dedupe_key: str, recipient: str, email: str,
                         subject: str, body: str, at: datetime) -> bool:
        """Queue a mail unless one with the same key exists; True if queued."""
        exists = conn.execute(sa.select(notifications.c.id).where(notifications.c.dedupe_key == dedupe_key)).first()
        if exists:
            return False
        conn.execute(notifications.insert().values(dedupe_key=dedupe_key, recipient=recipient, email=email,
                                                   subject=subject, body=body, created_at=at))
        return True

    def pending_notifications(self, conn: Connection, limit: int, max_attempts: int = 5) -> list[dict[str, Any]]:
        rows = conn.execute(sa.select(notifications).where(notifications.c.sent_at.is_(None),
                                                           notifications.c.attempts < max_attempts)
                            .order_by(notifications.c.id).limit(limit))
        return [dict(r._mapping) for r in rows]

    def mark_notification(self, conn: Connection, notification_id: int, *, sent_at: datetime | None,
                          error: str | None = None) -> None:
        conn.execute(notifications.update().where(notifications.c.id == notification_id)
                     .values(sent_at=sent_at, last_error=error, attempts=notifications.c.attempts + 1))

    def users_with_email(self, conn: Connection) -> list[dict[str, Any]]:
        rows = conn.execute(sa.select(users.c.username, users.c.display_name, users.c.email, users.c.groups,
                                      users.c.organisation)
                            .where(users.c.active.is_(True), users.c.email.is_not(None), users.c.email != ""))
        return [{**dict(r._mapping), "groups": json.loads(r.groups)} for r in rows]

    # -- login attempts (rate limiting)

    def record_login(self, conn: Connection, *, username: str, address: str, at: datetime, success: bool) -> None:
        conn.execute(login_attempts.insert().values(username=username[:100], address=address[:64], at=at,
                                                    success=success))

    def failed_logins(self, conn: Connection, *, username: str, address: str, since: datetime) -> dict[str, Any]:
        """Failed attempts since `since`: of this name from this address (`pair`), from this
        address for any name (`address`), of this name from anywhere (`user`, the latest at
        `last_user_failure`)."""
        failed = sa.and_(login_attempts.c.at >= since, login_attempts.c.success.is_(False))
        username, address = username[:100], address[:64]
        by_address = conn.execute(sa.select(sa.func.count()).where(failed, login_attempts.c.address == address)).scalar()
        by_user, last, by_pair = conn.execute(sa.select(
            sa.func.count(), sa.func.max(login_attempts.c.at),
            sa.func.coalesce(sa.func.sum(sa.case((login_attempts.c.address == address, 1), else_=0)), 0))
            .where(failed, login_attempts.c.username == username)).one()
        return {"pair": by_pair, "address": by_address, "user": by_user, "last_user_failure": last}

    def clear_failed_logins(self, conn: Connection, username: str) -> int:
        """Forget the failed attempts of a name (Administration unlocks it); how many there were."""
        return conn.execute(login_attempts.delete().where(login_attempts.c.username == username[:100],
                                                          login_attempts.c.success.is_(False))).rowcount

    # -- simulation clock

    def load_simulation(self) -> SimulationState | None:
        with self.read() as conn:
            raw = conn.execute(sa.select(settings.c.value).where(settings.c.key == "simulation_clock")).scalar()
        if raw is None:
            return None
        data = json.loads(raw)
        return SimulationState(simulated=datetime.fromisoformat(data["simulated"]),
                               real=datetime.fromisoformat(data["real"]), frozen=data["frozen"])

    def save_simulation(self, state: SimulationState | None) -> None:
        with self.transaction() as conn:
            conn.execute(settings.delete().where(settings.c.key == "simulation_clock"))
            if state is not None:
                conn.execute(settings.insert().values(key="simulation_clock", value=json.dumps({
                    "simulated": state.simulated.isoformat(), "real": state.real.isoformat(),
                    "frozen": state.frozen})))


def _model_dict(row) -> dict[str, Any]:
    data = dict(row._mapping)
    data["files"] = json.loads(data["files"])
    return data


def create_engine(url: str, echo: bool = False) -> Engine:
    """SQLite gets WAL, a busy timeout and foreign keys; PostgreSQL a modest pool."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            dbapi_conn.isolation_level = None      # we issue BEGIN ourselves (below)
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Writers take the write lock up front (IMMEDIATE): no deadlock between two
            # readers that both want to upgrade, and read-then-write stays consistent.
            readonly = conn.get_execution_options().get("readonly")
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")
        return engine
    return sa.create_engine(url, echo=echo, pool_size=5, max_overflow=10, pool_pre_ping=True)


MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine_or_url):
    from alembic.config import Config
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine_or_url if isinstance(engine_or_url, Engine) else None
    config.set_main_option("sqlalchemy.url", engine_or_url if isinstance(engine_or_url, str)
                           else engine_or_url.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command
    command.upgrade(alembic_config(engine), revision)
