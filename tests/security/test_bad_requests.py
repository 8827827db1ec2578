"""Bad requests over pages and API: invalid task form data, oversized requests, wrong
content types, disallowed uploads and unknown ids. Each gets a 4xx with a German message
(HTML on pages, JSON in the API) and leaves instances, audit, documents, comments and
model versions as they were."""
from __future__ import annotations

import io
import re

import pytest

from ..helpers import LVR_CHILD, assert_german, counts, login, token_for

VALID = {"entscheidung": "bewilligt", "entschieden_am": "2026-11-20", "begruendung": "Bedarf belegt."}
#: (what is wrong, form values) for Task_Entscheiden (required: entscheidung, entschieden_am)
INVALID_FORMS = [
    ("missing required", {"begruendung": "ohne Entscheidung"}),
    ("unknown enum value", {**VALID, "entscheidung": "vielleicht"}),
    ("not a date", {**VALID, "entschieden_am": "gestern"}),
    ("impossible date", {**VALID, "entschieden_am": "2026-02-30"}),
    ("out-of-range date", {**VALID, "entschieden_am": "10000-01-01"}),
    ("oversized string", {**VALID, "begruendung": "x" * 4001}),
    ("integer of wrong type", {**VALID, "bewilligte_foerdereinheiten_heilpaedagogisch": "viele"}),
    ("integer out of range", {**VALID, "bewilligte_foerdereinheiten_heilpaedagogisch": "501"}),
    ("negative integer", {**VALID, "bewilligte_foerdereinheiten_heilpaedagogisch": "-1"}),
]


@pytest.fixture
def task_id(shared_app):
    workflows = shared_app.extensions["workflows"]
    [task] = [t for t in workflows.inbox(workflows.actor("sabine.lvr"))
              if t["business_key"] == LVR_CHILD and t["lane"] == "EGH-Sachbearbeitung"]
    return task["task_id"]


def _json_value(value: str):
    return int(value) if value.lstrip("-").isdigit() and len(value) < 6 else value


def test_invalid_task_forms_are_refused_on_the_page_and_in_the_api(shared_app, task_id):
    client = login(shared_app, "sabine.lvr")
    api, headers = shared_app.test_client(), token_for(shared_app, "sabine.lvr")
    before = counts(shared_app)
    for what, values in INVALID_FORMS:
        page = client.post(f"/aufgaben/{task_id}/erledigen", data={**values, "csrf_token": client.csrf})
        assert page.status_code == 422, what
        messages = re.findall(r'class="field-error"[^>]*>([^<]+)<', page.get_data(as_text=True))
        assert messages, what
        for message in messages:
            assert_german(message)
        data = {k: _json_value(v) for k, v in values.items()}
        response = api.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data, "documents": []},
                            headers=headers)
        assert response.status_code == 422, (what, response.get_data(as_text=True))
        body = response.get_json()
        assert body["details"]["fields"], what
        for message in body["details"]["fields"].values():
            assert_german(message)
    for wrong in ({"data": "kein Objekt"}, {"data": {**VALID, "entschieden_am": 20261120}},
                  {"data": VALID, "documents": [{"name": "a.pdf"}]}):
        response = api.post(f"/api/v1/tasks/{task_id}/complete", json=wrong, headers=headers)
        assert response.status_code == 422, wrong
        assert_german(response.get_json()["message"])
    assert counts(shared_app) == before


def test_oversized_requests_are_413_in_german(shared_app):
    client = login(shared_app, "sabine.lvr")
    before = counts(shared_app)
    huge = b"%PDF-1.4 " + b"x" * (17 * 1024 * 1024)
    page = client.post(f"/akten/{LVR_CHILD}/dokumente", content_type="multipart/form-data",
                       data={"csrf_token": client.csrf, "datei": (io.BytesIO(huge), "gross.pdf", "application/pdf")})
    assert page.status_code == 413 and page.mimetype == "text/html"
    assert "Die Anfrage ist zu groß" in page.get_data(as_text=True) and 'lang="de"' in page.get_data(as_text=True)
    api = shared_app.test_client().post(f"/api/v1/cases/{LVR_CHILD}/documents", headers=token_for(shared_app, "sabine.lvr"),
                                        content_type="multipart/form-data",
                                        data={"datei": (io.BytesIO(huge), "gross.pdf", "application/pdf")})
    assert api.status_code == 413 and api.get_json()["code"] == "zu_gross"
    assert_german(api.get_json()["message"])
    just_too_big = b"%PDF-1.4 " + b"x" * (10 * 1024 * 1024)         # fits the request, not the document limit
    page = client.post(f"/akten/{LVR_CHILD}/dokumente", content_type="multipart/form-data", follow_redirects=True,
                       data={"csrf_token": client.csrf, "datei": (io.BytesIO(just_too_big), "b.pdf", "application/pdf")})
    assert "größer als 10 MB" in page.get_data(as_text=True)
    assert counts(shared_app) == before


def test_a_fifteen_megabyte_field_is_refused_in_german_and_nothing_is_stored(shared_app, task_id):
    """Below the 16 MB request limit, but far beyond any field: refused on the page (422,
    the field's maximum) and on every path of the API into a case (422)."""
    client = login(shared_app, "sabine.lvr")
    api, headers = shared_app.test_client(), token_for(shared_app, "sabine.lvr")
    before = counts(shared_app)
    huge = "x" * (15 * 1024 * 1024)
    page = client.post(f"/aufgaben/{task_id}/erledigen", data={**VALID, "begruendung": huge,
                                                                 "csrf_token": client.csrf})
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and "ist zu lang: höchstens 100.000 Zeichen" in text
    assert len(text) < 1024 * 1024                       # the value is not sent back in the form
    attempts = [
        (f"/api/v1/tasks/{task_id}/complete", {"data": {**VALID, "begruendung": huge}}),
        ("/api/v1/cases", {"process_id": "antrag_komplexleistung", "business_key": "LVR-X-1",
                           "data": {"notiz": huge}}),
        (f"/api/v1/cases/{LVR_CHILD}/signals", {"name": "irgendwas", "payload": {"anlage": huge}}),
    ]
    for path, body in attempts:
        response = api.post(path, json=body, headers=headers)
        assert response.status_code == 422, (path, response.get_data(as_text=True)[:300])
        assert "zu lang" in response.get_json()["message"] + str(response.get_json()["details"]), path
        assert_german(response.get_json()["message"])
    assert counts(shared_app) == before


def test_wrong_content_types_and_disallowed_uploads(shared_app):
    headers = token_for(shared_app, "sabine.lvr")
    api = shared_app.test_client()
    before = counts(shared_app)
    for data, content_type in (("text=Hallo", "application/x-www-form-urlencoded"), ("Hallo", "text/plain"),
                               ('{"text": "Hallo"}', "application/xml")):
        response = api.post(f"/api/v1/cases/{LVR_CHILD}/comments", data=data, content_type=content_type,
                            headers=headers)
        assert response.status_code == 415 and response.get_json()["code"] == "falsches_format", content_type
        assert_german(response.get_json()["message"])
    response = api.post(f"/api/v1/cases/{LVR_CHILD}/documents", json={"datei": "x"}, headers=headers)
    assert response.status_code == 415
    client = login(shared_app, "sabine.lvr")
    for name, content_type, content in (("programm.exe", "application/x-msdownload", b"MZ\x90\x00"),
                                        ("seite.html", "text/html", b"<script>alert(1)</script>"),
                                        ("bild.svg", "image/svg+xml", b"<svg onload='alert(1)'/>"),
                                        ("leer.pdf", "application/pdf", b"")):
        response = api.post(f"/api/v1/cases/{LVR_CHILD}/documents", headers=headers, content_type="multipart/form-data",
                            data={"datei": (io.BytesIO(content), name, content_type)})
        assert response.status_code == 422, name
        assert_german(response.get_json()["message"])
        page = client.post(f"/akten/{LVR_CHILD}/dokumente", content_type="multipart/form-data", follow_redirects=True,
                           data={"csrf_token": client.csrf, "datei": (io.BytesIO(content), name, content_type)})
        assert "nicht erlaubt" in page.get_data(as_text=True) or "leer" in page.get_data(as_text=True), name
    assert counts(shared_app) == before


#: names that break line-based formats or hide what they are (U+202E turns "exe.pdf" around)
HOSTILE_NAMES = ["a\r\nContent-Type: text-html.pdf", "zeile\nzwei.pdf", "glocke\x07.pdf", "rechnung\u202efdp.exe.pdf",
                 "trenner\u2028.pdf"]


def test_names_and_titles_with_control_characters_are_refused_in_german(shared_app, task_id):
    """Finding "names with control characters": a document name with CR/LF sent via the API
    made the document impossible to download (500). Refused at entry with a German 422."""
    headers, api = token_for(shared_app, "sabine.lvr"), shared_app.test_client()
    client = login(shared_app, "sabine.lvr")
    before = counts(shared_app)
    for name in HOSTILE_NAMES:
        response = api.post(f"/api/v1/tasks/{task_id}/complete", headers=headers, json={"data": VALID, "documents": [
            {"field": "bescheid", "name": name, "content_type": "application/pdf", "content_base64": "JVBERi0xLjQ="}]})
        assert response.status_code == 422, (name, response.get_data(as_text=True)[:200])
        assert "Formatierungszeichen" in response.get_json()["message"], name
        if "\r" in name or "\n" in name:
            continue                    # a multipart header cannot carry a line break at all
        response = api.post(f"/api/v1/cases/{LVR_CHILD}/documents", headers=headers, content_type="multipart/form-data",
                            data={"datei": (io.BytesIO(b"%PDF-1.4 x"), name, "application/pdf")})
        assert response.status_code == 422, (name, response.get_data(as_text=True)[:200])
        assert "Dateiname" in response.get_json()["message"], name
        page = client.post(f"/akten/{LVR_CHILD}/dokumente", content_type="multipart/form-data", follow_redirects=True,
                           data={"csrf_token": client.csrf, "datei": (io.BytesIO(b"%PDF-1.4 x"), name,
                                                                      "application/pdf")})
        assert "Formatierungszeichen" in page.get_data(as_text=True), name
    for body in ({"title": "Titel\r\nmit Umbruch"}, {"parties": {"egh": "LVR", "krankenkasse": "AOK\nX",
                                                                   "leistungserbringer": "IFF Köln-Süd"}}):
        response = api.post("/api/v1/cases", headers=headers, json={
            "process_id": "antrag_komplexleistung", "business_key": "LVR-NAME-1", "data": {},
            "parties": {"egh": "LVR", "krankenkasse": "AOK Rheinland/Hamburg", "leistungserbringer": "IFF Köln-Süd"},
            **body})
        assert response.status_code == 422, (body, response.get_data(as_text=True)[:300])
        assert_german(response.get_json()["message"])
    response = api.post(f"/api/v1/cases/{LVR_CHILD}/comments", headers=headers, json={"text": "Piep\x07"})
    assert response.status_code == 422
    assert counts(shared_app) == before


def test_a_stored_name_with_a_line_break_still_downloads(app):
    """Documents stored before names were checked keep working: the header is made safe."""
    workflows = app.extensions["workflows"]
    store = workflows.store
    with store.transaction() as conn:
        row = store.instance_by_key(conn, LVR_CHILD)
        document_id = store.add_document(conn, instance_id=row.id, kind="upload", name="alt\r\nX-Evil: 1.pdf",
                                         content_type="application/pdf", content=b"%PDF-1.4 alt",
                                         uploaded_by="sabine.lvr", uploaded_at=workflows.clock.now())
    client = login(app, "sabine.lvr")
    for response in (client.get(f"/akten/{LVR_CHILD}/dokumente/{document_id}"),
                     app.test_client().get(f"/api/v1/cases/{LVR_CHILD}/documents/{document_id}",
                                           headers=token_for(app, "sabine.lvr"))):
        assert response.status_code == 200 and response.get_data() == b"%PDF-1.4 alt"
        assert "X-Evil" not in response.headers and "\n" not in response.headers["Content-Disposition"]


def test_unknown_ids_are_404_in_german(shared_app):
    client = login(shared_app, "paula.prozess")
    sabine = login(shared_app, "sabine.lvr")
    headers = token_for(shared_app, "sabine.lvr")
    api = shared_app.test_client()
    before = counts(shared_app)
    for who, path in [(sabine, "/aufgaben/00000000-0000-0000-0000-000000000000"), (sabine, "/aufgaben/kein-uuid"),
                      (sabine, "/akten/GIBT-ES-NICHT"), (sabine, f"/akten/{LVR_CHILD}/dokumente/999999"),
                      (client, "/modelle/antrag_komplexleistung/999999/modell.bpmn"),
                      (client, "/modelle/gibt_es_nicht/quelle.json"), (client, "/modelle/gibt_es_nicht/testlauf")]:
        response = who.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert response.mimetype == "text/html" and 'lang="de"' in response.get_data(as_text=True)
    for method, path in [("GET", "/api/v1/tasks/00000000-0000-0000-0000-000000000000"),
                         ("POST", "/api/v1/tasks/00000000-0000-0000-0000-000000000000/claim"),
                         ("GET", "/api/v1/cases/GIBT-ES-NICHT"),
                         ("GET", f"/api/v1/cases/{LVR_CHILD}/documents/999999"),
                         ("POST", "/api/v1/cases/GIBT-ES-NICHT/comments")]:
        response = api.open(path, method=method, headers=headers, json={"text": "x"} if method == "POST" else None)
        assert response.status_code == 404, (path, response.status_code)
        assert response.get_json()["code"] == "nicht_gefunden"
        assert_german(response.get_json()["message"])
    response = api.get("/api/v1/me", headers={"Authorization": "Bearer ff_" + "x" * 43})
    assert response.status_code == 401 and "ungültig" in response.get_json()["message"]
    assert counts(shared_app) == before
