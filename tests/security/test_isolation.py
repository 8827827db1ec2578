"""Children's cases of one organisation never reach another: not in lists, search, the
inbox, the board, its CSV and iCalendar exports, the API, nor as document downloads
(SQLite and PostgreSQL, as the case list searches the parties differently)."""
from __future__ import annotations

import pytest

from .conftest import LVR_CHILD, LWL_CHILD, login, token_for

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
