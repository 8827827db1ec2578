"""Fixtures of the API tests: the app on a copied migrated SQLite file (and on PostgreSQL
when the Makefile's server runs), users of every role and their API tokens."""
from __future__ import annotations

import shutil
from datetime import datetime, timezone

import pytest

from webapp import create_app
from webapp.api import tokens
from webapp.auth import hash_password
from workflows.clock import BERLIN, SimulationState
from workflows.domain import PROCESS_OWNERS

from ..conftest import PARTIES_LVR, _empty, read

#: username -> (organisation, groups)
USERS = {
    "sabine.lvr": ("LVR", ["EGH-Sachbearbeitung"]),
    "karl.lvr": ("LVR", ["EGH-Sachbearbeitung"]),
    "wilma.lwl": ("LWL", ["EGH-Sachbearbeitung"]),
    "lena.leitung": ("LVR", ["Leitung"]),
    "ines.iff": ("IFF Köln-Süd", ["Leistungserbringer"]),
    "paula.prozess": (None, [PROCESS_OWNERS]),
}

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)
CONFIG = {"ENV_NAME": "test", "CLOCK": "simulation", "SECRET_KEY": "api-test"}


def make_app(request, tmp_path, sqlite_template, **config):
    if getattr(request, "param", "sqlite") == "postgresql":
        store = request.getfixturevalue("postgres_store")
        _empty(store)
        url = store.url
    else:
        path = tmp_path / "api.db"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
    return create_app({**CONFIG, "DATABASE_URL": url, **config})


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app(request, tmp_path, sqlite_template):
    """The app in test configuration with the users above; the simulation clock stands at NOW."""
    app = make_app(request, tmp_path, sqlite_template)
    store = app.extensions["workflows"].store
    store.save_simulation(SimulationState(NOW, datetime.now(timezone.utc), frozen=True))
    with store.transaction() as conn:
        for username, (organisation, groups) in USERS.items():
            store.add_user(conn, username=username, display_name=username, organisation=organisation,
                           groups=groups, password_hash=hash_password("richtig-langes-passwort"))
    yield app
    store.dispose()


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


@pytest.fixture
def api_as(app):
    """api_as("sabine.lvr") -> a client with a fresh token of that user."""
    def _api(username: str | None) -> Api:
        if username is None:
            return Api(app, None)
        _token_id, token = tokens.create(app.extensions["workflows"].store, username, "Test")
        return Api(app, token)
    return _api


@pytest.fixture
def deployed(app):
    """The test models deployed: fristpruefung (with its form) and vertrag_warten."""
    workflows = app.extensions["workflows"]
    owner = workflows.actor("paula.prozess")
    workflows.deploy_model({"fristpruefung.bpmn": read("fristpruefung.bpmn"), "pruefen.json": read("pruefen.json")},
                           owner)
    workflows.deploy_model({"vertrag_warten.bpmn": read("vertrag_warten.bpmn")}, owner)
    return workflows


def start_payload(key="LVR-2026-0001", process="fristpruefung", **extra):
    return {"process_id": process, "business_key": key, "data": {"eingang_am": "2026-01-05"},
            "parties": PARTIES_LVR, **extra}


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

