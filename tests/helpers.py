"""What the test modules share besides fixtures (those live in the conftest files): paths and
test data, actors, the app's test configuration and the database contents an app starts from,
logging in, API tokens, row counts, and the checks of error answers.

The web layer (webapp) is imported inside the functions that need it, so that the tests of
workflows/ collect without it.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from workflows.clock import BERLIN, SimulationState
from workflows.domain import PROCESS_OWNERS, Actor, DomainError
from workflows.store import Store, metadata

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
BPMN_DIR = TESTS.parent / "bpmn"


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


# --- actors and parties ------------------------------------------------------------------------------

OWNER = Actor("paula.prozess", frozenset({PROCESS_OWNERS}), None)
SACHBEARBEITUNG_LVR = Actor("sabine.lvr", frozenset({"EGH-Sachbearbeitung"}), "LVR")
KOLLEGE_LVR = Actor("karl.lvr", frozenset({"EGH-Sachbearbeitung"}), "LVR")
SACHBEARBEITUNG_LWL = Actor("wilma.lwl", frozenset({"EGH-Sachbearbeitung"}), "LWL")
LEITUNG_LVR = Actor("lena.leitung", frozenset({"Leitung"}), "LVR")
ANBIETER = Actor("ines.iff", frozenset({"Leistungserbringer"}), "IFF Köln-Süd")
SYSTEM = Actor.system()

PARTIES_LVR = {"egh": "LVR", "krankenkasse": "AOK Rheinland/Hamburg", "leistungserbringer": "IFF Köln-Süd"}


# --- databases -------------------------------------------------------------------------------------------

def postgres_url() -> str | None:
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url and os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail("REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set")
    return url


def empty_database(store: Store) -> None:
    """Remove every row (the PostgreSQL server is shared by the tests, its schema migrated once)."""
    names = ", ".join(t.name for t in reversed(metadata.sorted_tables))
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


def count_rows(store: Store, table: sa.Table, **where) -> int:
    with store.read() as conn:
        query = sa.select(sa.func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        return conn.execute(query).scalar()


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


# --- the app and what its database starts with ------------------------------------------------------------

#: the app's configuration in the tests (make_app(**config) overrides single keys)
TEST_CONFIG = {"ENV_NAME": "test", "CLOCK": "simulation", "SECRET_KEY": "test-geheimnis"}
#: the simulation clock of the demo the page and security tests use (a Monday)
DEMO_NOW = datetime(2026, 11, 23, 9, tzinfo=BERLIN)
#: the simulation clock of the API tests
API_NOW = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)
#: the users of the API tests: username -> (organisation, groups); password PASSWORD
API_USERS = {
    "sabine.lvr": ("LVR", ["EGH-Sachbearbeitung"]),
    "karl.lvr": ("LVR", ["EGH-Sachbearbeitung"]),
    "wilma.lwl": ("LWL", ["EGH-Sachbearbeitung"]),
    "lena.leitung": ("LVR", ["Leitung"]),
    "ines.iff": ("IFF Köln-Süd", ["Leistungserbringer"]),
    "paula.prozess": (None, [PROCESS_OWNERS]),
}
PASSWORD = "richtig-langes-passwort"
#: children's cases of the demo with a document each in SECURITY_DEMO
LVR_CHILD = "LVR-FF-2026-0104"     # parties: LVR, AOK Rheinland/Hamburg, IFF Köln-Süd
LWL_CHILD = "LWL-FF-2026-0201"     # parties: LWL, AOK Rheinland/Hamburg, IFF Köln-Süd


def new_app(url: str, **config):
    """The app in test configuration (with `config`'s overrides) on the database at `url`."""
    from webapp import create_app
    return create_app({**TEST_CONFIG, "DATABASE_URL": url, **config})


def dispose(app) -> None:
    app.extensions["workflows"].store.dispose()


def set_clock(app, now: datetime) -> None:
    """Freeze the app's simulation clock at `now`."""
    app.extensions["workflows"].store.save_simulation(SimulationState(now, datetime.now(timezone.utc), True))


def add_users(app, users, password: str) -> None:
    """users: (username, display name, organisation, groups) each."""
    from webapp.auth import hash_password
    store = app.extensions["workflows"].store
    with store.transaction() as conn:
        for username, name, organisation, groups in users:
            store.add_user(conn, username=username, display_name=name, organisation=organisation,
                           groups=groups, password_hash=hash_password(password))


# Steps that fill a new database. A content is a tuple of steps; on SQLite each content is built
# once per session into a migrated file that every app of that content copies (see Templates).

def load_demo(app) -> None:
    """`flask demo load` at the app's clock (without a simulation state: the system time)."""
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output


def frozen_demo(app) -> None:
    """The demo loaded with the simulation clock frozen at DEMO_NOW."""
    set_clock(app, DEMO_NOW)
    load_demo(app)


def demo_documents(app) -> None:
    """A document in the case of each child (LVR_CHILD, LWL_CHILD)."""
    from workflows.services import NewDocument
    workflows = app.extensions["workflows"]
    for key in (LVR_CHILD, LWL_CHILD):
        workflows.add_document(key, NewDocument(f"Befund {key}.pdf", "application/pdf", b"%PDF-1.4 " + key.encode()),
                               Actor.system("test"))


def demo_users(app) -> None:
    """The demo's users (every role) without models or cases."""
    from webapp.demo import DEMO_PASSWORD, USERS
    add_users(app, USERS, DEMO_PASSWORD)


def api_users(app) -> None:
    """API_USERS (password PASSWORD), the simulation clock frozen at API_NOW."""
    set_clock(app, API_NOW)
    add_users(app, [(username, username, organisation, groups)
                    for username, (organisation, groups) in API_USERS.items()], PASSWORD)


def one_caseworker(app) -> None:
    """The user "sabine" (EGH-Sachbearbeitung of LVR, password PASSWORD)."""
    add_users(app, [("sabine", "Sabine Sachbearbeiterin", "LVR", ["EGH-Sachbearbeitung"])], PASSWORD)


EMPTY: tuple = ()
#: the demo at DEMO_NOW (frozen)
DEMO = (frozen_demo,)
#: the demo at DEMO_NOW with a document in each child's case (the security tests)
SECURITY_DEMO = (frozen_demo, demo_documents)
#: the demo loaded at today's date, the clock running (browser tests, test runs, schemathesis)
DEMO_TODAY = (load_demo,)
DEMO_USERS = (demo_users,)
API_APP = (api_users,)
CASEWORKER = (one_caseworker,)


class Templates:
    """Database contents built once per session into migrated SQLite files (on first use), each
    from the file of its content without the last step; an app gets a copy of its content's file."""

    def __init__(self, directory: Path, migrated: Path):
        self.directory, self.files = directory, {EMPTY: migrated}

    def file(self, content: tuple) -> Path:
        content = tuple(content)
        if content not in self.files:
            base = self.file(content[:-1])
            path = self.directory / f"content{len(self.files)}.db"
            shutil.copy(base, path)
            app = new_app(f"sqlite:///{path}")
            try:
                content[-1](app)
            finally:
                dispose(app)
            self.files[content] = path
        return self.files[content]

    def app(self, content: tuple, directory: Path, postgres: Store | None = None, **config):
        """An app on a copy of the content in `directory`, or on the emptied PostgreSQL database of
        `postgres` (one server for all tests: there the steps run anew)."""
        if postgres is None:
            path = directory / "app.db"
            shutil.copy(self.file(content), path)
            return new_app(f"sqlite:///{path}", **config)
        empty_database(postgres)
        app = new_app(postgres.url, **config)
        for step in content:
            step(app)
        return app


# --- logging in, tokens, page clients --------------------------------------------------------------------

def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page).group(1)


def client_for(app, username: str):
    """A test client logged in as the demo user `username`."""
    from webapp.demo import DEMO_PASSWORD
    client = app.test_client()
    token = csrf_token(client.get("/anmelden").get_data(as_text=True))
    response = client.post("/anmelden", data={"csrf_token": token, "username": username,
                                              "password": DEMO_PASSWORD})
    assert response.status_code == 302
    return client


def login(app, username: str | None):
    """A test client logged in as the demo user `username` (None or "anonym": anonymous), with
    the CSRF token of its session as `client.csrf`."""
    from webapp.demo import DEMO_PASSWORD
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
    from webapp.api import tokens
    if username in (None, "anonym"):
        return {}
    _id, token = tokens.create(app.extensions["workflows"], username, "Sicherheitstest")
    return {"Authorization": f"Bearer {token}"}


class Api:
    """A test client speaking to /api/v1 with one user's token."""

    def __init__(self, app, token: str | None):
        self.app, self.token, self.client = app, token, app.test_client()

    def headers(self, extra=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    def get(self, path, **kwargs):
        return self.client.get("/api/v1" + path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path, **kwargs):
        return self.client.post("/api/v1" + path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def put(self, path, **kwargs):
        return self.client.put("/api/v1" + path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def delete(self, path, **kwargs):
        return self.client.delete("/api/v1" + path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)


def start_payload(key="LVR-2026-0001", process="fristpruefung", **extra):
    return {"process_id": process, "business_key": key, "data": {"eingang_am": "2026-01-05"},
            "parties": PARTIES_LVR, **extra}


# --- the browser tests ----------------------------------------------------------------------------------

#: Debian's headless Chromium (installed by `make test`; Playwright downloads no browser)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: where the browser tests leave their screenshots to be looked at
SHOTS = TESTS.parent / "var" / "screenshots"


def browser_login(page, username: str) -> None:
    """Log the Playwright page in as the demo user `username`."""
    from webapp.demo import DEMO_PASSWORD
    page.goto("/anmelden")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()


def browser_logout(page) -> None:
    page.get_by_role("button", name="Abmelden").click()


def screenshot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    target = SHOTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000        # a rendered page, not a blank one
    return target


# --- checks of answers and of what the database holds -------------------------------------------------

def assert_error(response, status: int, code: str, text: str | None = None) -> dict:
    """A JSON error in our shape with a German message (and the given part of it)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"code", "message", "details"} and body["code"] == code
    assert isinstance(body["details"], dict) and body["message"]
    if text is not None:
        assert text in body["message"], body["message"]
    return body


GERMAN = re.compile(r"(?i)\b(nicht|kein|bitte|ungültig|fehlt|zu groß|zu tief|erlaubt|gibt es|ist|sind|der|die|das|muss|höchstens|mindestens|angeben|eine?)\b")


def assert_german(text: str) -> None:
    """A message a German reader understands (not a bare English library message)."""
    assert GERMAN.search(text), text
    assert "Traceback" not in text and "Internal Server Error" not in text, text


#: the tables bad input must not write to
WATCHED = ("instances", "audit_events", "documents", "comments", "model_versions", "open_tasks")
#: audit entries of reading (opening a case file is recorded, § 35 SGB I): not a change
READ_ACTIONS = ("akte_eingesehen", "akte_gelesen", "dokument_gelesen")


def counts(app) -> dict[str, int]:
    """Rows per watched table (audit entries without those of reading)."""
    from workflows import store as tables
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
        for table in metadata.sorted_tables:
            try:
                rows = conn.execute(sa.select(table)).all()
            except sa.exc.DBAPIError:          # a table of a migration not applied here
                continue
            parts.extend(repr(tuple(r)) for r in rows)
    return "\n".join(parts)


# --- models and people of the workflow tests ---------------------------------------------------------------

#: the BPMN MIWG reference models (CC BY 3.0, see shared/conformance/miwg/README.md); shared/ lies
#: beside the repository (CI and developers' machines)
MIWG = next((p / "shared" / "conformance" / "miwg" for p in TESTS.parents
             if (p / "shared" / "conformance" / "miwg").is_dir()), Path("shared/conformance/miwg"))
MIWG_FILES = sorted(MIWG.glob("*.bpmn"))
#: files the MIWG models import (C.9.0 and C.9.2 call processes of C.9.1)
IMPORTS = {"C.9.0.bpmn": ["C.9.1.bpmn"], "C.9.2.bpmn": ["C.9.1.bpmn"]}


def script_model(script: str, process: str = "skript_daten") -> str:
    script = script.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://example.org/t">
  <bpmn:process id="{process}" name="Skriptdaten" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="EGH-Sachbearbeitung">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>erfassen</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>rechnen</bpmn:flowNodeRef><bpmn:flowNodeRef>pruefen</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="erfassen" name="Erfassen"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing></bpmn:userTask>
    <bpmn:scriptTask id="rechnen" name="Rechnen"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="pruefen" name="Prüfen"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="erfassen"/>
    <bpmn:sequenceFlow id="f1" sourceRef="erfassen" targetRef="rechnen"/>
    <bpmn:sequenceFlow id="f2" sourceRef="rechnen" targetRef="pruefen"/>
    <bpmn:sequenceFlow id="f3" sourceRef="pruefen" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


#: a child and the guardians' address (fictitious) for the privacy tests: names that appear
#: nowhere else in the code base or the models
KIND = {"kind_vorname": "Xaveria", "kind_nachname": "Quellenreuther", "kind_geburtsdatum": "2023-06-01",
        "erziehungsberechtigte": "Ottokar Quellenreuther", "strasse": "Zypressenpfad 17", "plz": "50733",
        "ort": "Köln-Nippes"}


def finish(services, key, actor=SACHBEARBEITUNG_LVR):
    """Complete every task of a fuenf_schritte case (all in the EGH lane)."""
    while True:
        tasks = [t for t in services.inbox(actor) if t["business_key"] == key]
        if not tasks:
            return
        services.complete_task(tasks[0]["task_id"], {}, actor)


# --- races and consistency (reliability tests) -----------------------------------------------------------

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
    from workflows.store import audit_events
    with store.read() as conn:
        query = sa.select(sa.func.count()).select_from(audit_events).where(audit_events.c.action == action)
        for column, value in where.items():
            query = query.where(audit_events.c[column] == value)
        return conn.execute(query).scalar()


def assert_consistent(services) -> None:
    from workflows import consistency
    problems = consistency.check_all(services)
    assert not problems, "\n".join(map(str, problems))


def task_states(services) -> dict[str, str]:
    """task id -> offen | erledigt | entfallen, for every human task of every case, from the
    stored workflows themselves (not the index)."""
    from workflows import engine
    from workflows.store import instances
    from workflows.usecases import kernel
    states = {}
    with services.store.read() as conn:
        for row in conn.execute(sa.select(instances.c.workflow_json, instances.c.model_version_id)).all():
            workflow = engine.loads(row.workflow_json, kernel.model(services, conn, row.model_version_id))
            states.update({tid: state for tid, (_t, state) in engine.human_task_states(workflow).items()})
    return states
