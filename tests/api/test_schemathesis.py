"""Property-based tests of the whole API against its own OpenAPI document (schemathesis).

Runs on the demo data with the token of a user who has every group and no organisation
(so every case is visible): no request may end in a 5xx, every response must be documented
(status code, content type, body schema), invalid requests must be refused and valid ones
accepted, and every protected operation must refuse requests without a token. Deterministic
(derandomized generation, no example database) and bounded (MAX_EXAMPLES per operation).
"""
from __future__ import annotations

import zlib
from datetime import datetime, timezone

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, settings

from webapp.api import tokens
from webapp.auth import hash_password
from workflows import store as tables
from workflows.domain import GROUPS

from ..helpers import DEMO_TODAY, PASSWORD, new_app

MAX_EXAMPLES = 25
#: made here, stored (hashed) by the fixture: schemathesis builds some cases at collection time
TOKEN = tokens.new_token()
STATS: dict = {"operations": set(), "calls": 0, "statuses": {}}

#: Operations whose request bodies are checked against things no OpenAPI schema can express:
#: a BPMN model's content, a task's own form (JSON Schema of the model), the start data and
#: scripts of a procedure. A schema-valid request may get a (documented) 422 there.
SEMANTIC_422 = [("POST", "/api/v1/models"), ("POST", "/api/v1/tasks/{task_id}/complete"),
                ("POST", "/api/v1/cases")]


def openapi_document() -> dict:
    """The API's OpenAPI document, from an app that has not touched a database yet."""
    app = new_app("sqlite://")
    return app.extensions["api_v1"].spec.to_dict()


# The schema is loaded at import from the document and the requests go to the demo app of
# the fixture (schemathesis.pytest.from_fixture fails with pytest 9.2: it sets
# Function._nodeid, which pytest no longer has).
schema = schemathesis.openapi.from_dict(openapi_document(), config=schemathesis.Config.from_dict({
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    "operations": [{"include-method": method, "include-path": path, "checks": {"positive_data_acceptance": {
        "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]}}} for method, path in SEMANTIC_422],
}))


@schema.auth()
class DemoToken:
    """The token of the fixture's user; schemathesis leaves it out where it tests missing auth."""

    def get(self, case, context):
        return TOKEN

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


#: resources of the demo data, so that generated requests also reach real cases, tasks, documents
REAL: dict[str, list] = {"keys": [], "tasks": [], "documents": []}


def map_case(context, case):
    """Point two of three positive cases at resources that exist (chosen from the generated
    values, so deterministically); negative cases stay as generated."""
    params = case.path_parameters
    if not params or not REAL["keys"] or case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    pick = zlib.crc32(repr(sorted(params.items())).encode())
    if pick % 3 == 0:
        return case
    if "document_id" in params and REAL["documents"]:
        params["business_key"], params["document_id"] = REAL["documents"][pick % len(REAL["documents"])]
    elif "business_key" in params:
        params["business_key"] = REAL["keys"][pick % len(REAL["keys"])]
    if "task_id" in params and REAL["tasks"]:
        params["task_id"] = REAL["tasks"][pick % len(REAL["tasks"])]
    return case


def user_with_every_group(app) -> None:
    """The user api.alles (every group, no organisation) with the API token TOKEN."""
    store = app.extensions["workflows"].store
    with store.transaction() as conn:
        store.add_user(conn, username="api.alles", display_name="API mit allen Rechten", organisation=None,
                       groups=list(GROUPS), password_hash=hash_password(PASSWORD))
        store.add_api_token(conn, username="api.alles", name="schemathesis", token_hash=tokens.token_hash(TOKEN),
                            now=datetime.now(timezone.utc))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def demo_app(request, tmp_path_factory, app_templates):
    """The demo data (flask demo load) on SQLite, and on PostgreSQL when the server runs."""
    postgres = request.getfixturevalue("postgres_store") if request.param == "postgresql" else None
    app = app_templates.app((*DEMO_TODAY, user_with_every_group), tmp_path_factory.mktemp("schemathesis"), postgres)
    store = app.extensions["workflows"].store
    with store.read() as conn:
        REAL["keys"] = list(conn.execute(sa.select(tables.instances.c.business_key)
                                         .order_by(tables.instances.c.id)).scalars())
        REAL["tasks"] = list(conn.execute(sa.select(tables.open_tasks.c.task_id)
                                          .order_by(tables.open_tasks.c.task_id)).scalars())
        REAL["documents"] = [tuple(r) for r in conn.execute(
            sa.select(tables.instances.c.business_key, tables.documents.c.id)
            .join(tables.instances, tables.instances.c.id == tables.documents.c.instance_id)
            .order_by(tables.documents.c.id))]
    assert REAL["keys"] and REAL["tasks"] and REAL["documents"]
    yield app
    store.dispose()


@schema.hooks.apply(map_case)
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case, demo_app):
    case.operation.schema.app = demo_app        # also for the probes of the checks (e.g. without token)
    response = case.call_and_validate(app=demo_app)
    STATS["operations"].add(f"{case.operation.method.upper()} {case.operation.path}")
    STATS["calls"] += 1
    STATS["statuses"][response.status_code] = STATS["statuses"].get(response.status_code, 0) + 1


def test_every_operation_was_exercised():
    """Runs after the test above (same module): it really reached every documented operation."""
    document = openapi_document()
    operations = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item
                  if method != "parameters"}
    assert STATS["operations"] == operations
    assert STATS["calls"] >= 10 * len(operations)
    print(f"\nschemathesis: {len(operations)} Operationen, {STATS['calls']} Anfragen, Status {sorted(STATS['statuses'].items())}")
