"""Helpers of the reliability tests: racers (separate service instances on one database),
a start line for threads, and databases of their own for the processes the tests start."""
from __future__ import annotations

import threading
from typing import Any, Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from workflows import consistency, engine
from workflows.domain import DomainError
from workflows.services import Workflows
from workflows.store import Store, audit_events, instances

from ..conftest import postgres_url


@pytest.fixture
def racers(store, clock):
    """racers(n) -> n Workflows, each with its own Store (connection pool) on the test's database,
    as n web or timer processes would have."""
    made: list[Store] = []

    def _racers(n: int) -> list[Workflows]:
        stores = [Store(store.url) for _ in range(n)]
        made.extend(stores)
        return [Workflows(s, clock) for s in stores]
    yield _racers
    for s in made:
        s.dispose()


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released together; each result is the return value or the
    DomainError raised (anything else fails the test)."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    crashed: list[BaseException] = []

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = calls[i]()
        except DomainError as err:
            results[i] = err
        except BaseException as err:          # reported below, in the test's thread
            crashed.append(err)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive(), "ein Wettläufer hängt"
    if crashed:
        raise crashed[0]
    return results


def audit_count(store: Store, action: str, **where) -> int:
    with store.read() as conn:
        query = sa.select(sa.func.count()).select_from(audit_events).where(audit_events.c.action == action)
        for column, value in where.items():
            query = query.where(audit_events.c[column] == value)
        return conn.execute(query).scalar()


def assert_consistent(services: Workflows) -> None:
    problems = consistency.check_all(services)
    assert not problems, "\n".join(map(str, problems))


def own_database(name: str) -> str:
    """The URL of a database of this name on the test PostgreSQL server, created if missing
    and emptied, so the processes a test starts never touch the postgres_store fixture's."""
    base = postgres_url()
    if not base:
        pytest.skip("no PostgreSQL server (TEST_POSTGRES_URL unset); `make test` provides one")
    url = make_url(base)
    db_name = f"{url.database}_{name}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": db_name}).first():
                conn.exec_driver_sql(f'CREATE DATABASE "{db_name}"')
    finally:
        admin.dispose()
    target = url.set(database=db_name).render_as_string(hide_password=False)
    engine = sa.create_engine(target)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        engine.dispose()
    return target


def task_states(services: Workflows) -> dict[str, str]:
    """task id -> offen | erledigt | entfallen, for every human task of every case, from the
    stored workflows themselves (not the index)."""
    states = {}
    with services.store.read() as conn:
        for row in conn.execute(sa.select(instances.c.workflow_json, instances.c.model_version_id)).all():
            workflow = engine.loads(row.workflow_json, services._model(conn, row.model_version_id))
            states.update({tid: state for tid, (_t, state) in engine.human_task_states(workflow).items()})
    return states
