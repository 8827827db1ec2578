"""Shared fixtures: databases (SQLite and PostgreSQL), a controllable clock, actors.

`make test` starts a PostgreSQL server and sets TEST_POSTGRES_URL and REQUIRE_POSTGRES=1,
so the PostgreSQL variants always run there; a bare `pytest` without a server skips them.
"""
from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from workflows.clock import BERLIN, FixedClock
from workflows.domain import PROCESS_OWNERS, Actor
from workflows.services import Workflows
from workflows.store import Store, metadata

DATA = Path(__file__).parent / "data"
BPMN_DIR = Path(__file__).parent.parent / "bpmn"


def postgres_url() -> str | None:
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url and os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail("REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set")
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once is faster)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    store.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_store():
    url = postgres_url()
    if not url:
        pytest.skip("no PostgreSQL server (TEST_POSTGRES_URL unset); `make test` provides one")
    store = Store(url)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    store.migrate()
    yield store
    store.dispose()


def _empty(store: Store) -> None:
    names = ", ".join(t.name for t in reversed(metadata.sorted_tables))
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, tmp_path, sqlite_template):
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(sqlite_template, path)
        store = Store(f"sqlite:///{path}")
        yield store
        store.dispose()
    else:
        store = request.getfixturevalue("postgres_store")
        _empty(store)
        yield store


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN))


@pytest.fixture
def services(store, clock) -> Workflows:
    return Workflows(store, clock)


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


@pytest.fixture
def deploy(services):
    """Deploy a fixture model from tests/data (plus the forms it names)."""
    def _deploy(name: str, *extra: str):
        files = {name: read(name), **{e: read(e) for e in extra}}
        return services.deploy_model(files, OWNER)
    return _deploy


OWNER = Actor("paula.prozess", frozenset({PROCESS_OWNERS}), None)
SACHBEARBEITUNG_LVR = Actor("sabine.lvr", frozenset({"EGH-Sachbearbeitung"}), "LVR")
KOLLEGE_LVR = Actor("karl.lvr", frozenset({"EGH-Sachbearbeitung"}), "LVR")
SACHBEARBEITUNG_LWL = Actor("wilma.lwl", frozenset({"EGH-Sachbearbeitung"}), "LWL")
LEITUNG_LVR = Actor("lena.leitung", frozenset({"Leitung"}), "LVR")
ANBIETER = Actor("ines.iff", frozenset({"Leistungserbringer"}), "IFF Köln-Süd")
SYSTEM = Actor.system()

PARTIES_LVR = {"egh": "LVR", "krankenkasse": "AOK Rheinland/Hamburg", "leistungserbringer": "IFF Köln-Süd"}


def count_rows(store: Store, table: sa.Table, **where) -> int:
    with store.read() as conn:
        query = sa.select(sa.func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        return conn.execute(query).scalar()
