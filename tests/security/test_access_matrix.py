"""Who may do what: every page and every API endpoint × every demo role (and anonymous),
on the demo data. The routes come from the app's url_map and the OpenAPI document, so a
new route without an entry in MATRIX fails `test_every_route_has_an_entry` (one line each).
Denied requests change nothing; the allowed roles succeed on a fresh copy of the demo.
Children's cases of LVR stay invisible to LWL and to bodies that are not parties, also in
lists, search, board, exports and document downloads."""
from __future__ import annotations

import io
import json
import re

import pytest

from ..helpers import LVR_CHILD, counts, login, token_for
from . import hostile
from . import matrix
from .matrix import API, MATRIX, METHODS, PUBLIC, ROLES, Entry, fill


def _routes(app) -> set[tuple[str, str]]:
    return {(method, str(rule)) for rule in app.url_map.iter_rules() for method in rule.methods & METHODS}


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule)


def test_every_route_has_an_entry(shared_app):
    """A new page or endpoint needs its line in MATRIX (who may use it) before this passes."""
    routes = _routes(shared_app)
    assert sorted(routes - set(MATRIX)) == [], "Routen ohne Eintrag in der Zugriffsmatrix"
    assert sorted(set(MATRIX) - routes) == [], "Einträge ohne Route"


def test_every_documented_operation_has_an_entry(shared_app):
    spec = shared_app.test_client().get("/api/v1/openapi.json").get_json()
    documented = {(method.upper(), path) for path, operations in spec["paths"].items()
                  for method in operations if method.upper() in METHODS}
    covered = {(method, _openapi_path(rule)) for method, rule in API}
    assert documented and sorted(documented - covered) == []
    assert len(documented) >= 20


@pytest.fixture(scope="module")
def ids(shared_app):
    """The concrete ids the paths use (the same in every copy of the demo)."""
    workflows = shared_app.extensions["workflows"]
    [task] = [t for t in workflows.inbox(workflows.actor("sabine.lvr"))
              if t["business_key"] == LVR_CHILD and t["lane"] == "EGH-Sachbearbeitung"]
    latest = next(m for m in workflows.model_overview(workflows.actor("paula.prozess"))
                  if m["process_id"] == "antrag_komplexleistung")["latest"]
    [document] = [d for d in workflows.case(LVR_CHILD, workflows.actor("sabine.lvr"))["documents"]
                  if d["name"] == f"Befund {LVR_CHILD}.pdf"]
    return {"bk": LVR_CHILD, "task": task["task_id"], "doc": document["id"], "pid": "antrag_komplexleistung",
            "vid": latest["id"]}


class Caller:
    """Sends one matrix request as one role: pages with the session (and CSRF token),
    the API with the role's token."""

    def __init__(self, app):
        self.app, self.pages, self.tokens = app, {}, {}

    def __call__(self, method: str, rule: str, entry: Entry, role: str, ids: dict):
        api = rule.startswith("/api/v1")
        if api:
            if role not in self.tokens:
                self.tokens[role] = token_for(self.app, role)
            client, headers = self.app.test_client(), dict(self.tokens[role])
        else:
            if role not in self.pages:
                self.pages[role] = login(self.app, role)
            client = self.pages[role]
            headers = {"X-CSRFToken": client.csrf} if method != "GET" else {}
        path, body = fill(entry.path, ids, role), fill(entry.body, ids, role)
        kwargs = {}
        if entry.files:
            name = "dateien" if rule.endswith("/models") else "datei"
            content = [(io.BytesIO(hostile.VALID.encode()), hostile.MAIN, "application/octet-stream"),
                       (io.BytesIO(hostile.read(hostile.FORM).encode()), hostile.FORM, "application/json")] \
                if name == "dateien" else (io.BytesIO(b"%PDF-1.4 Bericht"), "bericht.pdf", "application/pdf")
            kwargs = {"data": {name: content, **({} if api else {"csrf_token": client.csrf})},
                      "content_type": "multipart/form-data"}
        elif entry.json:
            kwargs = {"data": json.dumps(body), "content_type": "application/json"}
        elif method != "GET":
            kwargs = {"data": {**(body or {}), **({} if api else {"csrf_token": client.csrf})}}
        return client.open(path, method=method, headers=headers, **kwargs)


#: routes naming a case whose refusal is about the role, not about seeing the case
ROLE_BOUND_CASE_ROUTES = ("/erneut-anstossen", "/beenden", "/beteiligte")


def _denied_status(rule: str, role: str) -> int:
    if role == "anonym":
        return 401 if rule.startswith("/api/v1") else 302
    if "business_key>" in rule and not rule.endswith(ROLE_BOUND_CASE_ROUTES):
        return 404      # another organisation's case reads like an unknown Aktenzeichen (no oracle)
    return 403


def test_denied_combinations_are_refused_and_change_nothing(shared_app, ids):
    call, wrong, refused = Caller(shared_app), [], 0
    for role in ROLES:
        call.pages.pop(role, None)
        call.tokens[role] = token_for(shared_app, role)
    before = counts(shared_app)
    for (method, rule), entry in MATRIX.items():
        for role in sorted(PUBLIC - entry.allowed):
            response = call(method, rule, entry, role, ids)
            refused += 1
            expected = _denied_status(rule, role)
            if response.status_code != expected:
                wrong.append(f"{role} {method} {rule}: {response.status_code} (erwartet {expected})")
            elif expected == 302:
                assert "/anmelden" in response.headers["Location"]
            elif rule.startswith("/api/v1"):
                assert response.get_json()["code"] in ("keine_berechtigung", "nicht_angemeldet", "nicht_gefunden")
    assert wrong == []
    assert counts(shared_app) == before
    assert refused > 150


def _setup(app, entry: Entry, ids: dict) -> None:
    if entry.setup == "claim":
        workflows = app.extensions["workflows"]
        workflows.claim_task(ids["task"], workflows.actor("sabine.lvr"))


@pytest.mark.parametrize("key", sorted(k for k in MATRIX if k[0] != "GET"), ids=lambda k: f"{k[0]} {k[1]}")
def test_allowed_roles_may_change_state(app, ids, key):
    """Each state-changing route on a fresh demo copy, its allowed roles one after another
    (a 409 only where an earlier allowed role already took the one chance, e.g. a claim)."""
    method, rule = key
    entry = MATRIX[key]
    _setup(app, entry, ids)
    call = Caller(app)
    for role in sorted(entry.allowed):
        response = call(method, rule, entry, role, ids)
        assert response.status_code in entry.ok, (role, response.status_code, response.get_data(as_text=True)[:300])


def test_allowed_roles_may_read(shared_app, ids):
    call, wrong, allowed = Caller(shared_app), [], 0
    for (method, rule), entry in MATRIX.items():
        if method != "GET":
            continue
        for role in sorted(entry.allowed):
            response = call(method, rule, entry, role, ids)
            allowed += 1
            if response.status_code not in entry.ok:
                wrong.append(f"{role} {rule}: {response.status_code}")
    assert wrong == []
    assert allowed > 100


def test_the_matrix_roles_are_what_the_policy_grants():
    """The matrix's role sets and workflows.policy agree (one access policy): for each demo
    user, the predicate behind a set grants exactly the users the matrix lists."""
    from webapp.demo import USERS as DEMO_USERS
    from workflows import policy
    from workflows.domain import Actor

    actors = {name: Actor(name, frozenset(groups), organisation) for name, _d, organisation, groups in DEMO_USERS}

    def granted(predicate) -> frozenset:
        return frozenset(name for name, actor in actors.items() if predicate(actor))

    assert granted(policy.may_deploy) == matrix.OWNER
    assert granted(policy.may_see_board) == matrix.BOARD
    assert granted(policy.may_set_clock) == matrix.CLOCK
    assert granted(policy.may_export_person) == matrix.ADMIN
    lvr_child = {"egh": "LVR", "krankenkasse": "AOK Rheinland/Hamburg", "leistungserbringer": "IFF Köln-Süd"}
    assert granted(lambda a: policy.may_see_case(a, lvr_child, ["EGH-Sachbearbeitung"])) == matrix.LVR_PARTIES
    assert granted(lambda a: policy.may_work_task(a, "EGH-Sachbearbeitung", "LVR")) == matrix.LVR_EGH
