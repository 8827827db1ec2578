"""Fixtures of the API tests: the app with the users of helpers.API_USERS (simulation clock at
helpers.API_NOW), on a copied SQLite file and on PostgreSQL when the Makefile's server runs,
API clients per user and the test models deployed."""
from __future__ import annotations

import pytest

from webapp.api import tokens

from ..helpers import API_APP, Api, read


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request) -> str:
    return request.param


@pytest.fixture
def app_content() -> tuple:
    return API_APP


@pytest.fixture
def api_as(app):
    """api_as("sabine.lvr") -> a client with a fresh token of that user."""
    def _api(username: str | None) -> Api:
        if username is None:
            return Api(app, None)
        _token_id, token = tokens.create(app.extensions["workflows"], username, "Test")
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
