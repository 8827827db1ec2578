"""The database connection: engine, units of work, dialect, Alembic.

Every use case runs in one transaction (`Store.transaction()`), lists and reports in a
read-only one (`Store.read()`), the consistency check in one snapshot (`snapshot_read()`).
SQLite (the embedded default) gets WAL, a busy timeout, foreign keys and `BEGIN IMMEDIATE`
for writers; PostgreSQL a modest pool. The schema is brought up to date by Alembic
(workflows/migrations), never by `metadata.create_all` outside the tests.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).parent.parent / "migrations"


def engine_options(url: str) -> dict:
    """How an engine for `url` is made: SQLite may be used from several threads (the web
    workers) and waits for a lock; PostgreSQL gets a modest pool (also Flask-SQLAlchemy's
    SQLALCHEMY_ENGINE_OPTIONS in the web app)."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_size": 5, "max_overflow": 10, "pool_pre_ping": True}


def create_engine(url: str, echo: bool = False) -> Engine:
    return configure(sa.create_engine(url, echo=echo, **engine_options(url)))


def configure(engine: Engine) -> Engine:
    """SQLite gets WAL, foreign keys and `BEGIN IMMEDIATE` for writers, whoever made the engine
    (this module, or Flask-SQLAlchemy in the web app)."""
    if engine.dialect.name != "sqlite" or getattr(engine, "_workflows_configured", False):
        return engine

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
        # Writers take the write lock up front (IMMEDIATE): no deadlock between two readers
        # that both want to upgrade, and read-then-write stays consistent.
        readonly = conn.get_execution_options().get("readonly")
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    engine._workflows_configured = True
    return engine


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


class DbMixin:
    """Owns the database engine and hands out units of work."""

    def __init__(self, url_or_engine: str | Engine, *, echo: bool = False):
        """A URL (CLI-free use, tests, the test-run sandbox) or an engine made elsewhere (the web
        app's Flask-SQLAlchemy)."""
        if isinstance(url_or_engine, Engine):
            self.engine: Engine = configure(url_or_engine)
            self.url = url_or_engine.url.render_as_string(hide_password=True)
        else:
            self.url = url_or_engine
            self.engine = create_engine(url_or_engine, echo=echo)

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

    @contextmanager
    def snapshot_read(self) -> Iterator[Connection]:
        """A read transaction that sees one committed state for all its queries: PostgreSQL's
        default (read committed) would let a step commit between the case row and its index."""
        if self.dialect != "postgresql":
            with self.read() as conn:
                yield conn
            return
        with self.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            with conn.begin():
                yield conn

    def ping(self) -> None:
        """Raise unless the database answers (the health check of load balancers)."""
        with self.read() as conn:
            conn.exec_driver_sql("SELECT 1")

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
