"""Fixtures of the security tests: the demo (every role, cases of LVR and LWL, a document in
each child's case: helpers.SECURITY_DEMO) for tests that write (`app`, a fresh copy each), for
tests that only read (`shared_app`, one copy per module) and on PostgreSQL, and the demo users
alone (`users_app`). The helpers (login, token_for, counts, ...) are in tests/helpers.py."""
from __future__ import annotations

import pytest

from ..helpers import DEMO_USERS, SECURITY_DEMO, dispose


@pytest.fixture
def app_content() -> tuple:
    return SECURITY_DEMO


@pytest.fixture(scope="module")
def shared_app(app_templates, tmp_path_factory):
    """One copy of the demo per module, for tests that only read (or are refused)."""
    app = app_templates.app(SECURITY_DEMO, tmp_path_factory.mktemp("shared"))
    yield app
    dispose(app)


@pytest.fixture(scope="module")
def postgres_demo_app(app_templates, postgres_store):
    """The demo on PostgreSQL (once per module; the server is shared, the database ours)."""
    app = app_templates.app(SECURITY_DEMO, None, postgres_store)
    yield app
    dispose(app)


@pytest.fixture(scope="module")
def users_app(app_templates, tmp_path_factory):
    """The demo users without cases or models (one per module): for input that must be refused."""
    app = app_templates.app(DEMO_USERS, tmp_path_factory.mktemp("users"))
    yield app
    dispose(app)
