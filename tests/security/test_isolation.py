"""Children's cases of one organisation never reach another: not in lists, search, the
inbox, the board, its CSV and iCalendar exports, the API, nor as document downloads
(SQLite and PostgreSQL, as the case list searches the parties differently)."""
from __future__ import annotations

import pytest

from ..helpers import LVR_CHILD, LWL_CHILD, login, token_for

#: (page or API address, roles that must see LVR's child there: the positive control)
READS = [
    ("/aufgaben/?suche=FF-2026", {"sabine.lvr"}),
    ("/fristen/", {"lena.leitung"}),
    ("/fristen/export.csv", {"lena.leitung"}),
    ("/fristen/kalender.ics", {"lena.leitung"}),
    ("/api/v1/cases?search=FF-2026&per_page=100", {"sabine.lvr", "lena.leitung"}),
    ("/api/v1/cases?per_page=100", {"sabine.lvr", "kai.aok"}),
    ("/api/v1/tasks?search=FF-2026&per_page=100", {"sabine.lvr"}),
    ("/api/v1/deadlines?per_page=100", {"lena.leitung"}),
]
#: who must never see LVR's child, and whose child they may see instead
OUTSIDERS = {"wilma.lwl": LWL_CHILD, "sven.schlichtung": None}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_app(request, shared_app):
    if request.param == "sqlite":
        return shared_app
    return request.getfixturevalue("postgres_demo_app")


def _get(app, role, path, clients):
    if path.startswith("/api/v1"):
        return app.test_client().get(path, headers=token_for(app, role))
    if role not in clients:
        clients[role] = login(app, role)
    return clients[role].get(path)


def test_lvr_children_stay_invisible_to_lwl_and_non_parties(any_app):
    clients = {}
    for path, seers in READS:
        for role in seers:
            response = _get(any_app, role, path, clients)
            assert response.status_code == 200 and LVR_CHILD in response.get_data(as_text=True), (role, path)
        for role, own in OUTSIDERS.items():
            response = _get(any_app, role, path, clients)
            assert response.status_code in (200, 403), (role, path)
            assert LVR_CHILD not in response.get_data(as_text=True), (role, path)
    text = _get(any_app, "wilma.lwl", "/api/v1/cases?per_page=100", clients).get_data(as_text=True)
    assert LWL_CHILD in text                     # she sees her own organisation's child
    text = _get(any_app, "lena.leitung", "/fristen/export.csv", clients).get_data(as_text=True)
    assert LWL_CHILD not in text                 # and LVR's Leitung not LWL's


def test_documents_only_for_the_parties(any_app):
    workflows = any_app.extensions["workflows"]
    sabine = workflows.actor("sabine.lvr")
    [doc] = [d["id"] for d in workflows.case(LVR_CHILD, sabine)["documents"] if d["name"].startswith("Befund")]
    clients = {}
    for role in OUTSIDERS:
        for path in (f"/akten/{LVR_CHILD}/dokumente/{doc}", f"/api/v1/cases/{LVR_CHILD}/documents/{doc}",
                     f"/akten/{LWL_CHILD}/dokumente/{doc}" if role == "wilma.lwl" else f"/akten/{LVR_CHILD}"):
            response = _get(any_app, role, path, clients)
            assert response.status_code in (403, 404), (role, path, response.status_code)
            assert b"%PDF" not in response.get_data()
    assert _get(any_app, "sabine.lvr", f"/akten/{LVR_CHILD}/dokumente/{doc}", clients).get_data().startswith(b"%PDF")


#: (page or API path with {bk}, method, body) that name a case by its Aktenzeichen
BY_KEY = [
    ("/akten/{bk}", "GET", None),
    ("/akten/{bk}/kommentare", "POST", {"text": "Hallo"}),
    ("/api/v1/cases/{bk}", "GET", None),
    ("/api/v1/cases/{bk}/signals", "POST", {"name": "egal"}),
    ("/api/v1/cases/{bk}/messages", "POST", {"name": "egal"}),
    ("/api/v1/cases/{bk}/comments", "POST", {"text": "Hallo"}),
    ("/api/v1/cases/{bk}/documents/1", "GET", None),
]


def _answer(app, role, method, path, body, clients):
    if path.startswith("/api/v1"):
        client = app.test_client()
        response = client.open(path, method=method, json=body, headers=token_for(app, role))
        return response.status_code, response.get_json()
    if role not in clients:
        clients[role] = login(app, role)
    client = clients[role]
    data = {**body, "csrf_token": client.csrf} if body else None
    response = client.open(path, method=method, data=data)
    text = response.get_data(as_text=True)
    return response.status_code, text[text.find("<main"):]


def test_another_organisations_case_answers_like_an_unknown_one(app):
    """Finding "case existence oracle": 403 for LVR's child and 404 for an unknown Aktenzeichen
    told an LWL caseworker which Aktenzeichen exist. Both must give the same answer."""
    clients = {}
    for path, method, body in BY_KEY:
        hidden = _answer(app, "wilma.lwl", method, path.format(bk=LVR_CHILD), body, clients)
        unknown = _answer(app, "wilma.lwl", method, path.format(bk="LVR-FF-2026-9999"), body, clients)
        assert hidden[0] == unknown[0] == 404, (path, hidden[0], unknown[0])
        assert str(hidden[1]).replace(LVR_CHILD, "X") == str(unknown[1]).replace("LVR-FF-2026-9999", "X"), path


def test_a_case_started_through_the_api_without_parties_stays_with_its_organisation(app):
    """Finding "cases without parties leak": a case started without `parties` (the API's
    default) put its tasks into every organisation's inbox. Now the start takes the starting
    user's organisation for their own party and refuses a case whose other lanes have none."""
    api = app.test_client()
    sabine, wilma = token_for(app, "sabine.lvr"), token_for(app, "wilma.lwl")
    refused = api.post("/api/v1/cases", headers=sabine, json={"process_id": "fortschreibung",
                                                               "business_key": "LVR-OHNE-1", "data": {}})
    assert refused.status_code == 422, refused.get_json()
    assert "es fehlt: Leistungserbringer" in refused.get_json()["message"]
    assert api.get("/api/v1/cases/LVR-OHNE-1", headers=sabine).status_code == 404      # nothing stored
    started = api.post("/api/v1/cases", headers=sabine, json={
        "process_id": "fortschreibung", "business_key": "LVR-OHNE-2", "data": {},
        "parties": {"leistungserbringer": "IFF Köln-Süd"}})
    assert started.status_code == 201, started.get_json()
    case = api.get("/api/v1/cases/LVR-OHNE-2", headers=sabine).get_json()
    assert case["parties"] == {"egh": "LVR", "leistungserbringer": "IFF Köln-Süd"}
    [task] = [t for t in case["open_tasks"]]
    sabines = api.get("/api/v1/tasks?per_page=100&search=LVR-OHNE", headers=sabine).get_json()["items"]
    wilmas = api.get("/api/v1/tasks?per_page=100&search=LVR-OHNE", headers=wilma).get_json()["items"]
    assert [t["business_key"] for t in sabines] == ["LVR-OHNE-2"] and wilmas == []
    assert api.get(f"/api/v1/tasks/{task['task_id']}", headers=wilma).status_code in (403, 404)
    response = api.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=wilma, json={"data": {}})
    assert response.status_code in (403, 404)
    foreign = api.post("/api/v1/cases", headers=wilma, json={
        "process_id": "fortschreibung", "business_key": "LWL-FREMD-1", "data": {},
        "parties": {"egh": "LVR", "leistungserbringer": "IFF Köln-Süd"}})
    assert foreign.status_code == 422 and "Sie arbeiten für LWL" in foreign.get_json()["message"]
