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
from dataclasses import dataclass, field

import pytest

from . import hostile
from .conftest import LVR_CHILD, ROLES, counts, login, token_for

USERS = frozenset(ROLES) - {"anonym"}
PUBLIC = frozenset(ROLES)
NOBODY: frozenset = frozenset()
#: the parties of the LVR child's case: LVR (caseworkers and Leitung), AOK, IFF
LVR_PARTIES = frozenset({"sabine.lvr", "karl.lvr", "lena.leitung", "kai.aok", "ines.iff"})
#: the open EGH task of the LVR child (Task_Entscheiden): LVR's caseworkers
LVR_EGH = frozenset({"sabine.lvr", "karl.lvr"})
ADMIN = frozenset({"dora.datenschutz"})
BOARD = frozenset({"lena.leitung", "paula.prozess"}) | ADMIN
CLOCK = frozenset({"paula.prozess"}) | ADMIN
OWNER = frozenset({"paula.prozess"})
#: groups that appear in the lanes of antrag_komplexleistung may start one
STARTERS = frozenset({"sabine.lvr", "karl.lvr", "wilma.lwl", "lena.leitung", "kai.aok", "ines.iff"})
#: a complete, valid person record (the check of the values comes before the access check)
PERSON = {"kind_vorname": "Mia", "kind_nachname": "Beispiel", "kind_geburtsdatum": "2023-05-04",
          "erziehungsberechtigte": "Eva Beispiel", "strasse": "Domplatz 1", "plz": "50667", "ort": "Köln"}
DECISION = {"entscheidung": "bewilligt", "entschieden_am": "2026-11-20", "begruendung": "Bedarf belegt."}


@dataclass(frozen=True)
class Entry:
    """One route: the concrete address ({bk}, {task}, {doc}, {pid}, {vid} are filled in),
    who succeeds, with which statuses, and what a state-changing request sends."""

    path: str
    allowed: frozenset
    ok: tuple = (200,)
    body: object = None                # dict (form or JSON), or a function role -> dict
    json: bool = False
    files: bool = False                # multipart upload
    setup: str | None = None           # "claim": sabine.lvr has claimed the task first
    extra: dict = field(default_factory=dict)


# (method, url_map rule) -> Entry. Pages: denied is 403, anonymous is sent to the login page.
PAGES = {
    ("GET", "/"): Entry("/", USERS, ok=(302,)),
    ("GET", "/health"): Entry("/health", PUBLIC),
    ("GET", "/static/<path:filename>"): Entry("/static/app.css", PUBLIC),
    ("GET", "/anmelden"): Entry("/anmelden", PUBLIC, ok=(200, 302)),
    ("POST", "/anmelden"): Entry("/anmelden", PUBLIC, ok=(302, 401), body={"username": "x", "password": "y"}),
    ("POST", "/abmelden"): Entry("/abmelden", USERS, ok=(302,), body={}),
    ("GET", "/vendor/<path:name>"): Entry("/vendor/bpmn-js/bpmn-js.css", USERS),
    ("GET", "/aufgaben/"): Entry("/aufgaben/", USERS),
    ("GET", "/aufgaben/<task_id>"): Entry("/aufgaben/{task}", LVR_EGH),
    ("POST", "/aufgaben/<task_id>/uebernehmen"): Entry("/aufgaben/{task}/uebernehmen", LVR_EGH, ok=(302, 409), body={}),
    ("POST", "/aufgaben/<task_id>/zurueckgeben"): Entry("/aufgaben/{task}/zurueckgeben", frozenset({"sabine.lvr"}),
                                                        ok=(302,), body={}, setup="claim"),
    ("POST", "/aufgaben/<task_id>/uebergeben"): Entry("/aufgaben/{task}/uebergeben", LVR_EGH, ok=(302,),
                                                      body={"kollege": "karl.lvr"}),
    ("POST", "/aufgaben/<task_id>/erledigen"): Entry("/aufgaben/{task}/erledigen", LVR_EGH, ok=(302,), body=DECISION),
    ("GET", "/akten/<business_key>"): Entry("/akten/{bk}", LVR_PARTIES),
    ("GET", "/akten/<business_key>/diagramm.bpmn"): Entry("/akten/{bk}/diagramm.bpmn", LVR_PARTIES),
    ("GET", "/akten/<business_key>/dokumente/<int:document_id>"): Entry("/akten/{bk}/dokumente/{doc}", LVR_PARTIES),
    ("POST", "/akten/<business_key>/erneut-anstossen"): Entry("/akten/{bk}/erneut-anstossen", OWNER, ok=(302,),
                                                              body={}),
    ("POST", "/akten/<business_key>/beteiligte"): Entry("/akten/{bk}/beteiligte", OWNER, ok=(302,),
                                                        body={"egh": "LVR"}),
    ("POST", "/akten/<business_key>/beenden"): Entry("/akten/{bk}/beenden", frozenset({"lena.leitung"}), ok=(302,),
                                                     body={"begruendung": "Modellfehler, neu angelegt"}),
    ("POST", "/akten/<business_key>/kommentare"): Entry("/akten/{bk}/kommentare", LVR_PARTIES, ok=(302,),
                                                        body={"text": "Rückruf vereinbart."}),
    ("POST", "/akten/<business_key>/dokumente"): Entry("/akten/{bk}/dokumente", LVR_PARTIES, ok=(302,), files=True),
    ("POST", "/akten/<business_key>/person"): Entry("/akten/{bk}/person", LVR_PARTIES, ok=(302,),
                                                    body={**PERSON, "strasse": "Domstraße 2"}),
    ("GET", "/datenschutz/"): Entry("/datenschutz/", ADMIN),
    ("POST", "/datenschutz/auskunft"): Entry("/datenschutz/auskunft", ADMIN, body={"aktenzeichen": LVR_CHILD}),
    ("GET", "/fristen/"): Entry("/fristen/", BOARD),
    ("GET", "/fristen/export.csv"): Entry("/fristen/export.csv", BOARD),
    ("GET", "/fristen/kalender.ics"): Entry("/fristen/kalender.ics", BOARD),
    ("GET", "/fristen/kennzahlen"): Entry("/fristen/kennzahlen", BOARD),
    ("GET", "/modelle/"): Entry("/modelle/", OWNER),
    ("GET", "/modelle/editor/"): Entry("/modelle/editor/", OWNER),
    ("GET", "/modelle/<process_id>/editor"): Entry("/modelle/{pid}/editor", OWNER),
    ("GET", "/modelle/<process_id>/quelle.json"): Entry("/modelle/{pid}/quelle.json", OWNER),
    ("GET", "/modelle/neu/quelle.json"): Entry("/modelle/neu/quelle.json", OWNER),
    ("GET", "/modelle/<process_id>/<int:version_id>/modell.bpmn"): Entry("/modelle/{pid}/{vid}/modell.bpmn", OWNER),
    ("GET", "/modelle/vendor/<path:name>"): Entry("/modelle/vendor/bpmn-js/bpmn-js.css", USERS),
    ("GET", "/modelle/<process_id>/migration"): Entry("/modelle/{pid}/migration", OWNER),
    ("POST", "/modelle/<process_id>/migration"): Entry("/modelle/{pid}/migration", OWNER, ok=(302,),
                                                       body={"vorgang": LVR_CHILD, "version_id": "{vid}"}),
    ("GET", "/modelle/<process_id>/testlauf"): Entry("/modelle/{pid}/testlauf", OWNER),
    ("POST", "/modelle/<process_id>/testlauf"): Entry("/modelle/{pid}/testlauf", OWNER,
                                                      body={"daten": "{}", "tage": "30"}),
    ("POST", "/modelle/pruefen"): Entry("/modelle/pruefen", OWNER, json=True,
                                        body={"files": {hostile.MAIN: hostile.VALID, hostile.FORM: hostile.read(hostile.FORM)},
                                              "main": hostile.MAIN}),
    ("POST", "/modelle/bereitstellen"): Entry("/modelle/bereitstellen", OWNER, json=True,
                                              body={"files": {hostile.MAIN: hostile.VALID,
                                                              hostile.FORM: hostile.read(hostile.FORM)},
                                                    "main": hostile.MAIN}),
}

C = "/api/v1/cases/<string(maxlength=100):business_key>"
T = "/api/v1/tasks/<string(maxlength=36):task_id>"
# API: denied is 403, anonymous 401 (unless public)
API = {
    ("GET", "/api/v1/"): Entry("/api/v1/", PUBLIC),
    ("GET", "/api/v1/openapi.json"): Entry("/api/v1/openapi.json", PUBLIC),
    ("GET", "/api/v1/docs"): Entry("/api/v1/docs", PUBLIC),
    ("GET", "/api/v1/vendor/<path:name>"): Entry("/api/v1/vendor/swagger-ui.css", PUBLIC),
    ("GET", "/api/v1/static/<path:filename>"): Entry("/api/v1/static/docs.css", PUBLIC),
    ("GET", "/api/v1/health"): Entry("/api/v1/health", PUBLIC),
    ("GET", "/api/v1/me"): Entry("/api/v1/me", USERS),
    ("GET", "/api/v1/cases"): Entry("/api/v1/cases", USERS),
    ("POST", "/api/v1/cases"): Entry("/api/v1/cases", STARTERS, ok=(201,), json=True, body=lambda role: {
        "process_id": "antrag_komplexleistung", "business_key": f"NEU-{role}", "data": {},
        "parties": {"egh": "LWL" if role == "wilma.lwl" else "LVR", "krankenkasse": "AOK Rheinland/Hamburg",
                    "leistungserbringer": "IFF Köln-Süd"}}),
    ("GET", C): Entry("/api/v1/cases/{bk}", LVR_PARTIES),
    ("POST", C + "/signals"): Entry("/api/v1/cases/{bk}/signals", LVR_PARTIES, ok=(200, 409), json=True,
                                    body={"name": "gibt_es_nicht", "payload": {}}),
    ("POST", C + "/messages"): Entry("/api/v1/cases/{bk}/messages", LVR_PARTIES, ok=(200, 409), json=True,
                                     body={"name": "gibt_es_nicht", "payload": {}}),
    ("POST", C + "/comments"): Entry("/api/v1/cases/{bk}/comments", LVR_PARTIES, ok=(204,), json=True,
                                     body={"text": "Rückruf vereinbart."}),
    ("POST", C + "/documents"): Entry("/api/v1/cases/{bk}/documents", LVR_PARTIES, ok=(201,), files=True),
    ("GET", C + "/documents/<int(max=2147483647):document_id>"): Entry("/api/v1/cases/{bk}/documents/{doc}",
                                                                        LVR_PARTIES),
    ("GET", "/api/v1/tasks"): Entry("/api/v1/tasks", USERS),
    ("GET", T): Entry("/api/v1/tasks/{task}", LVR_EGH),
    ("POST", T + "/claim"): Entry("/api/v1/tasks/{task}/claim", LVR_EGH, ok=(200, 409)),
    ("POST", T + "/release"): Entry("/api/v1/tasks/{task}/release", frozenset({"sabine.lvr"}), setup="claim"),
    ("POST", T + "/handover"): Entry("/api/v1/tasks/{task}/handover", LVR_EGH, json=True,
                                     body={"username": "karl.lvr"}),
    ("POST", T + "/complete"): Entry("/api/v1/tasks/{task}/complete", LVR_EGH, ok=(200, 409), json=True,
                                     body={"data": DECISION, "documents": []}),
    ("GET", "/api/v1/deadlines"): Entry("/api/v1/deadlines", BOARD),
    ("GET", "/api/v1/models"): Entry("/api/v1/models", USERS),
    ("POST", "/api/v1/models"): Entry("/api/v1/models", OWNER, ok=(201,), files=True),
    ("GET", "/api/v1/clock"): Entry("/api/v1/clock", USERS),
    ("PUT", "/api/v1/clock"): Entry("/api/v1/clock", CLOCK, json=True, body={"now": "2026-11-24T09:00", "frozen": True}),
    ("DELETE", "/api/v1/clock"): Entry("/api/v1/clock", CLOCK),
}
MATRIX = {**PAGES, **API}
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


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


def _fill(value, ids, role):
    if callable(value):
        value = value(role)
    if isinstance(value, str):
        for name, filled in ids.items():
            value = value.replace("{" + name + "}", str(filled))
        return value
    if isinstance(value, dict):
        return {k: _fill(v, ids, role) for k, v in value.items()}
    return value


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
        path, body = _fill(entry.path, ids, role), _fill(entry.body, ids, role)
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
