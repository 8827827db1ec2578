"""The access matrix of the security tests: every page and every API endpoint (method and
url_map rule) with its concrete address on the demo, the roles that succeed and what a
state-changing request sends (test_access_matrix checks it; test_session_and_auth sends
every state-changing page request without its CSRF token)."""
from __future__ import annotations

from dataclasses import dataclass, field

from webapp.demo import USERS as DEMO_USERS

from ..helpers import LVR_CHILD
from . import hostile

#: every demo user and the anonymous visitor
ROLES = ["anonym"] + [username for username, *_rest in DEMO_USERS]
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
    ("GET", "/modelle/<process_id>/umstellung"): Entry("/modelle/{pid}/umstellung", OWNER),
    ("POST", "/modelle/<process_id>/umstellung"): Entry("/modelle/{pid}/umstellung", OWNER, ok=(302,),
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


def fill(value, ids: dict, role: str):
    """The value (an address or a body; a function of the role) with the {names} of `ids` filled in."""
    if callable(value):
        value = value(role)
    if isinstance(value, str):
        for name, filled in ids.items():
            value = value.replace("{" + name + "}", str(filled))
        return value
    if isinstance(value, dict):
        return {k: fill(v, ids, role) for k, v in value.items()}
    return value
