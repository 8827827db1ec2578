"""Shared fixtures: databases (SQLite and PostgreSQL), a controllable clock, and the app.

`make test` starts a PostgreSQL server and sets TEST_POSTGRES_URL and REQUIRE_POSTGRES=1,
so the PostgreSQL variants always run there; a bare `pytest` without a server skips them.

The app's database is a copy of a SQLite file migrated, and filled with its content (the
demo, users, ...), once per session (helpers.Templates). The helpers the tests share are in
tests/helpers.py.
"""
from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from workflows.clock import BERLIN, FixedClock
from workflows.services import Workflows
from workflows.store import Store

from .helpers import EMPTY, OWNER, Templates, dispose, empty_database, postgres_url, read


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
        empty_database(store)
        yield store


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN))


@pytest.fixture
def services(store, clock) -> Workflows:
    return Workflows(store, clock)


@pytest.fixture
def deploy(services):
    """Deploy a fixture model from tests/data (plus the forms it names)."""
    def _deploy(name: str, *extra: str):
        files = {name: read(name), **{e: read(e) for e in extra}}
        return services.deploy_model(files, OWNER)
    return _deploy


# --- the app -----------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def app_templates(tmp_path_factory, sqlite_template) -> Templates:
    """The database contents of the apps, each built once per session into a SQLite file."""
    return Templates(tmp_path_factory.mktemp("contents"), sqlite_template)


@pytest.fixture
def make_app(request, tmp_path, app_templates):
    """make_app(*content, backend="sqlite", **config) -> the app in test configuration
    (helpers.TEST_CONFIG with `config`'s overrides) on a fresh database holding `content`
    (steps of helpers, e.g. *helpers.DEMO); backend "postgresql" empties and fills the test
    server's database instead. Every app made is disposed after the test."""
    made = []

    def _make(*content, backend: str = "sqlite", **config):
        postgres = request.getfixturevalue("postgres_store") if backend == "postgresql" else None
        directory = tmp_path / f"app{len(made)}"
        directory.mkdir()
        app = app_templates.app(content, directory, postgres, **config)
        made.append(app)
        return app
    yield _make
    for app in made:
        dispose(app)


@pytest.fixture
def app_content() -> tuple:
    """What the `app` fixture's database holds (a content of helpers: EMPTY, DEMO, ...); a
    directory's conftest or a test module overrides it: the API tests' users, the security
    tests' demo, the board pages' demo, ..."""
    return EMPTY


@pytest.fixture
def backend() -> str:
    """The database of the `app` fixture; tests/api overrides it with SQLite and PostgreSQL."""
    return "sqlite"


@pytest.fixture
def app(make_app, app_content, backend):
    """The app in test configuration on a fresh database with `app_content`."""
    return make_app(*app_content, backend=backend)
