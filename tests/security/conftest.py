"""Fixtures of the security tests: the demo (every role, cases of LVR and LWL) loaded once
into a SQLite file that each test copies, logged-in page clients and API tokens per role,
and row counts of the tables that bad input must leave untouched."""
from __future__ import annotations

import re
import shutil
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from webapp import create_app
from webapp.api import tokens
from webapp.auth import hash_password
from webapp.demo import DEMO_PASSWORD, USERS
from workflows import store as tables
from workflows.clock import BERLIN, SimulationState
from workflows.domain import Actor
from workflows.services import NewDocument

NOW = datetime(2026, 11, 23, 9, tzinfo=BERLIN)
CONFIG = {"ENV_NAME": "test", "CLOCK": "simulation", "SECRET_KEY": "sicherheitstest"}
#: every demo user and the anonymous visitor
ROLES = ["anonym"] + [username for username, *_rest in USERS]
LVR_CHILD = "LVR-FF-2026-0104"     # parties: LVR, AOK Rheinland/Hamburg, IFF Köln-Süd
LWL_CHILD = "LWL-FF-2026-0201"     # parties: LWL, AOK Rheinland/Hamburg, IFF Köln-Süd
#: the tables bad input must not write to
WATCHED = ("instances", "audit_events", "documents", "comments", "model_versions", "open_tasks")


def _app(path) -> "Flask":  # noqa: F821
    return create_app({**CONFIG, "DATABASE_URL": f"sqlite:///{path}"})


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory, sqlite_template):
    """A migrated SQLite file with the demo loaded at NOW (loading takes seconds: once)."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copy(sqlite_template, path)
    app = _app(path)
    store = app.extensions["workflows"].store
    store.save_simulation(SimulationState(NOW, datetime.now(timezone.utc), True))
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    _add_documents(app)                          # a document in each child's case
    store.dispose()
    return path


def _copy_app(demo_file, directory):
    path = directory / "app.db"
    shutil.copy(demo_file, path)
    return _app(path)


@pytest.fixture
def app(demo_file, tmp_path):
    """A fresh copy of the demo for tests that write."""
    app = _copy_app(demo_file, tmp_path)
    yield app
    app.extensions["workflows"].store.dispose()


@pytest.fixture(scope="module")
def postgres_demo_app(postgres_store):
    """The demo on PostgreSQL (once per module; the server is shared, the database ours)."""
    from ..conftest import _empty
    _empty(postgres_store)
    app = create_app({**CONFIG, "DATABASE_URL": postgres_store.url})
    app.extensions["workflows"].store.save_simulation(SimulationState(NOW, datetime.now(timezone.utc), True))
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    _add_documents(app)
    yield app
    app.extensions["workflows"].store.dispose()


def _add_documents(app) -> None:
    workflows = app.extensions["workflows"]
    for key in (LVR_CHILD, LWL_CHILD):
        workflows.add_document(key, NewDocument(f"Befund {key}.pdf", "application/pdf", b"%PDF-1.4 " + key.encode()),
                               Actor.system("test"))


@pytest.fixture(scope="module")
def users_app(sqlite_template, tmp_path_factory):
    """The demo users without cases or models (one per module): for input that must be refused."""
    path = tmp_path_factory.mktemp("users") / "users.db"
    shutil.copy(sqlite_template, path)
    app = _app(path)
    store = app.extensions["workflows"].store
    with store.transaction() as conn:
        for username, name, organisation, groups in USERS:
            store.add_user(conn, username=username, display_name=name, organisation=organisation,
                           groups=groups, password_hash=hash_password(DEMO_PASSWORD))
    yield app
    store.dispose()


@pytest.fixture(scope="module")
def shared_app(demo_file, tmp_path_factory):
    """One copy of the demo per module, for tests that only read (or are refused)."""
    app = _copy_app(demo_file, tmp_path_factory.mktemp("shared"))
    yield app
    app.extensions["workflows"].store.dispose()


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page).group(1)


def login(app, username: str):
    """A test client logged in as `username` (None: anonymous) with its CSRF token."""
    client = app.test_client()
    client.csrf = csrf_token(client.get("/anmelden").get_data(as_text=True))
    if username not in (None, "anonym"):
        response = client.post("/anmelden", data={"csrf_token": client.csrf, "username": username,
                                                  "password": DEMO_PASSWORD})
        assert response.status_code == 302, username
        client.csrf = csrf_token(client.get("/aufgaben/").get_data(as_text=True))
    return client


def token_for(app, username: str | None) -> dict[str, str]:
    """Authorization header with a fresh API token of `username` (None/anonym: none)."""
    if username in (None, "anonym"):
        return {}
    _id, token = tokens.create(app.extensions["workflows"].store, username, "Sicherheitstest")
    return {"Authorization": f"Bearer {token}"}


#: audit entries of reading (opening a case file is recorded, § 35 SGB I): not a change
READ_ACTIONS = ("akte_eingesehen", "akte_gelesen", "dokument_gelesen")


def counts(app) -> dict[str, int]:
    """Rows per watched table (audit entries without those of reading)."""
    store = app.extensions["workflows"].store
    result = {}
    with store.read() as conn:
        for name in WATCHED:
            table = getattr(tables, name)
            query = sa.select(sa.func.count()).select_from(table)
            if name == "audit_events":
                query = query.where(table.c.action.not_in(READ_ACTIONS))
            result[name] = conn.execute(query).scalar()
    return result


def dump(app) -> str:
    """Everything the database holds, as text (to look for leaked file content)."""
    store = app.extensions["workflows"].store
    parts = []
    with store.read() as conn:
        for table in tables.metadata.sorted_tables:
            try:
                rows = conn.execute(sa.select(table)).all()
            except sa.exc.DBAPIError:          # a table of a migration not applied here
                continue
            parts.extend(repr(tuple(r)) for r in rows)
    return "\n".join(parts)


GERMAN = re.compile(r"(?i)\b(nicht|kein|bitte|ungültig|fehlt|zu groß|zu tief|erlaubt|gibt es|ist|sind|der|die|das|muss|höchstens|mindestens|angeben|eine?)\b")


def assert_german(text: str) -> None:
    """A message a German reader understands (not a bare English library message)."""
    assert GERMAN.search(text), text
    assert "Traceback" not in text and "Internal Server Error" not in text, text
