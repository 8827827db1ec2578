"""Production headers (security review, issue 13, finding 6): HSTS in production, no copy
of a page or API answer with case or person data in a browser or proxy cache, static files
still cached, and the public API documentation as a pinned decision."""
from __future__ import annotations

import pytest

from webapp.config import load
from webapp.demo import PERSONS

from ..helpers import LVR_CHILD, LWL_CHILD, TEST_CONFIG, login, token_for

HSTS = "max-age=31536000; includeSubDomains"


def test_hsts_is_on_in_production_and_off_in_test():
    assert load({"ENV_NAME": "production", "CLOCK": "system", "SECRET_KEY": "geheim"})["HSTS"] is True
    assert load(TEST_CONFIG)["HSTS"] is False                  # plain http on localhost stays usable
    assert load({**TEST_CONFIG, "HSTS": True})["HSTS"] is True


def test_hsts_header_is_sent_when_configured(make_app, shared_app):
    client = make_app(HSTS=True).test_client()
    for url in ("/anmelden", "/static/app.css", "/api/v1/health", "/api/v1/cases"):
        assert client.get(url).headers.get("Strict-Transport-Security") == HSTS, url
    assert "Strict-Transport-Security" not in shared_app.test_client().get("/anmelden").headers


@pytest.fixture(scope="module")
def ids(shared_app):
    workflows = shared_app.extensions["workflows"]
    sabine = workflows.actor("sabine.lvr")
    [task] = [t for t in workflows.inbox(sabine) if t["business_key"] == LVR_CHILD]
    [doc] = [d for d in workflows.case(LVR_CHILD, sabine)["documents"] if d["name"].startswith("Befund")]
    return {"bk": LVR_CHILD, "task": task["task_id"], "doc": doc["id"]}


#: (who, address): every answer with case or person data
PRIVATE = [
    ("sabine.lvr", "/akten/{bk}"),
    ("sabine.lvr", "/aufgaben/"),
    ("sabine.lvr", "/aufgaben/{task}"),
    ("sabine.lvr", "/akten/{bk}/dokumente/{doc}"),
    ("lena.leitung", "/fristen/"),
    ("lena.leitung", "/fristen/export.csv"),
    ("lena.leitung", "/fristen/kalender.ics"),
    ("sabine.lvr", "/api/v1/cases/{bk}"),
    ("sabine.lvr", "/api/v1/cases/{bk}/documents/{doc}"),
    ("lena.leitung", "/api/v1/deadlines"),
]


def test_pages_and_api_answers_with_case_data_are_not_stored(shared_app, ids):
    clients = {}
    for who, address in PRIVATE:
        url = address.format(**ids)
        if url.startswith("/api/"):
            response = shared_app.test_client().get(url, headers=token_for(shared_app, who))
        else:
            client = clients.get(who) or clients.setdefault(who, login(shared_app, who))
            response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers.get("Cache-Control") == "no-store", url
        assert response.headers.get("Pragma") == "no-cache", url
    # an error page for a logged-in user and an API error name the Aktenzeichen asked for
    response = clients["sabine.lvr"].get(f"/akten/{LWL_CHILD}")
    assert response.status_code in (403, 404) and response.headers.get("Cache-Control") == "no-store"
    response = shared_app.test_client().get(f"/api/v1/cases/{LVR_CHILD}")
    assert response.status_code == 401 and response.headers.get("Cache-Control") == "no-store"


def test_static_files_keep_their_caching(shared_app):
    client = login(shared_app, "paula.prozess")
    for url in ("/static/app.css", "/api/v1/static/swagger-initializer.js", "/api/v1/vendor/swagger-ui.css",
                "/vendor/bpmn-js/bpmn-js.css"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" not in response.headers.get("Cache-Control", ""), url
        assert "Pragma" not in response.headers, url
    assert "max-age=3600" in client.get("/api/v1/vendor/swagger-ui.css").headers["Cache-Control"]


def test_api_documentation_stays_public_and_holds_no_case_data(shared_app):
    """Decision (README, „Betrieb“): /api/v1/docs and /api/v1/openapi.json need no login. They
    describe the API and hold no data, and integrators read them before they have a token;
    every endpoint with data still needs one."""
    client = shared_app.test_client()
    page = client.get("/api/v1/docs")
    spec = client.get("/api/v1/openapi.json")
    assert page.status_code == 200 and spec.status_code == 200
    text = spec.get_data(as_text=True) + page.get_data(as_text=True)
    for key, person in PERSONS.items():
        assert key not in text and person["kind_nachname"] not in text, key
    assert client.get("/api/v1/cases").status_code == 401
    assert client.get(f"/api/v1/cases/{LVR_CHILD}").status_code == 401
