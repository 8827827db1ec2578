"""Hostile BPMN through every way a model gets in: Workflows.deploy_model/validate_model,
the editor's validate and deploy routes and the API's model deploy. Each is refused with a
German message, stores nothing, reads no file, opens no connection, and finishes quickly
without blowing up memory."""
from __future__ import annotations

import http.server
import io
import json
import resource
import threading
import time

import pytest
from lxml import etree

from workflows.domain import ModelError

from ..helpers import OWNER, assert_german, counts, dump, login, token_for
from . import hostile

SECRET = "GEHEIM-INHALT-4711-aus-der-Datei"
#: generous bounds for a 2-core machine: a billion laughs would take minutes and gigabytes
MAX_SECONDS = 3.0
MAX_EXTRA_RSS_KB = 150 * 1024


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("geheim") / "geheim.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def loopback():
    """An HTTP server on 127.0.0.1 that records every request (a parser must never call it)."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):          # noqa: N802 (http.server's naming)
            hits.append(self.path)
            body = f'<!ENTITY x "{SECRET}">'.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def corpus(secret_file, loopback):
    return hostile.models(secret_file, loopback[0])


MODEL_KINDS = list(hostile.models(__import__("pathlib").Path("/x"), "http://x"))
FORM_KINDS = list(hostile.broken_forms())


class Bounded:
    """Time and peak memory of a block, checked against the bounds above."""

    def __enter__(self):
        self.start, self.rss = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return self

    def __exit__(self, *exc):
        elapsed = time.perf_counter() - self.start
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - self.rss
        assert elapsed < MAX_SECONDS, f"took {elapsed:.1f} s"
        assert grown < MAX_EXTRA_RSS_KB, f"peak memory grew by {grown // 1024} MB"
        return False


def test_the_corpus_is_real(corpus, secret_file):
    """Control: an XML parser with entity resolution does read the file through these inputs,
    so the refusals below are the safe parser's doing."""
    unsafe = etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=True)
    for kind in ("external_entity_file", "doctype_after_4k", "utf16_external_entity", "utf7_external_entity"):
        root = etree.fromstring(corpus[kind], unsafe)
        assert SECRET in etree.tostring(root, encoding="unicode"), kind


def _files(corpus, kind):
    return {hostile.MAIN: corpus[kind], hostile.FORM: hostile.read(hostile.FORM)}


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_services_refuse_hostile_models(services, corpus, loopback, kind):
    before = services.model_versions()
    with Bounded(), pytest.raises(ModelError) as refused:
        services.deploy_model(_files(corpus, kind), OWNER, main=hostile.MAIN)
    assert_german(refused.value.message)
    assert SECRET not in str(refused.value) + json.dumps(refused.value.details, default=str)
    with Bounded():
        try:
            problems = services.validate_model(_files(corpus, kind), hostile.MAIN, OWNER)
        except ModelError as err:              # bytes that are not text at all
            problems = [{"severity": "fehler", "message": err.message}]
    assert any(p["severity"] == "fehler" for p in problems), problems
    assert_german(problems[0]["message"])
    assert SECRET not in json.dumps(problems)
    assert services.model_versions() == before
    assert loopback[1] == []


@pytest.mark.parametrize("kind", FORM_KINDS)
def test_services_refuse_broken_forms(services, kind):
    files = {hostile.MAIN: hostile.VALID, hostile.FORM: hostile.broken_forms()[kind]}
    with Bounded(), pytest.raises(ModelError) as refused:
        services.deploy_model(files, OWNER, main=hostile.MAIN)
    assert_german(refused.value.message)
    problems = services.validate_model(files, hostile.MAIN, OWNER)
    assert any(p["severity"] == "fehler" and "Formular" in p["message"] for p in problems), problems
    assert services.model_versions() == []


@pytest.mark.parametrize("name", list(hostile.unsupported()))
def test_services_refuse_unsupported_elements(services, name):
    with pytest.raises(ModelError) as refused:
        services.deploy_model(hostile.unsupported()[name], OWNER, main=name)
    assert_german(str(refused.value))
    assert services.model_versions() == []


def test_a_schema_location_hint_is_never_fetched(services, loopback):
    version = services.deploy_model({hostile.MAIN: hostile.schema_location_hint(loopback[0]),
                                     hostile.FORM: hostile.read(hostile.FORM)}, OWNER, main=hostile.MAIN)
    assert version["version"] == 1
    assert loopback[1] == []


def _editor_payload(corpus, kind):
    """What the editor posts: file texts as JSON strings (None for bytes that are no UTF-8:
    those cannot be sent that way, the API test sends them)."""
    try:
        text = corpus[kind].decode("utf-8")
    except UnicodeDecodeError:
        return None
    return {"files": {hostile.MAIN: text, hostile.FORM: hostile.read(hostile.FORM)}, "main": hostile.MAIN}


def _editor(app):
    client = login(app, "paula.prozess")
    return client, {"X-CSRFToken": client.csrf}


def _no_trace(app, response, loopback):
    text = response.get_data(as_text=True)
    assert SECRET not in text and "Traceback" not in text
    assert loopback[1] == []


def test_editor_refuses_hostile_models(users_app, corpus, loopback):
    client, headers = _editor(users_app)
    before, stored = counts(users_app), dump(users_app)
    for kind in MODEL_KINDS:
        payload = _editor_payload(corpus, kind)
        if payload is None:
            continue
        with Bounded():
            checked = client.post("/modelle/pruefen", json=payload, headers=headers)
        assert checked.status_code == 200, kind
        problems = checked.get_json()["problems"]
        assert any(p["severity"] == "fehler" for p in problems), kind
        assert_german(problems[0]["message"])
        with Bounded():
            deployed = client.post("/modelle/bereitstellen", json=payload, headers=headers)
        assert deployed.status_code in (413, 422), (kind, deployed.status_code)
        if deployed.status_code == 422:
            assert_german(deployed.get_json()["problems"][0]["message"])
        for response in (checked, deployed):
            _no_trace(users_app, response, loopback)
    assert counts(users_app) == before
    assert SECRET not in dump(users_app) and dump(users_app).count("Sicherheitstest") == stored.count("Sicherheitstest")


def test_editor_refuses_broken_forms_and_malformed_requests(users_app, loopback):
    client, headers = _editor(users_app)
    before = counts(users_app)
    for kind, form in hostile.broken_forms().items():
        if kind == "form_wrong_encoding":
            continue            # a lone surrogate cannot be sent as JSON text from a browser
        payload = {"files": {hostile.MAIN: hostile.VALID, hostile.FORM: form}, "main": hostile.MAIN}
        response = client.post("/modelle/bereitstellen", json=payload, headers=headers)
        assert response.status_code == 422, kind
        assert_german(response.get_json()["problems"][0]["message"])
    deep_body = "[" * 100_000 + "]" * 100_000
    for body, content_type, status in [
            (deep_body, "application/json", 400), ("{kaputt", "application/json", 400),
            ('{"files": [], "main": 1}', "application/json", 400),
            ("files=x", "application/x-www-form-urlencoded", 415), ("hallo", "text/plain", 415),
            (json.dumps({"files": {"../../etc/passwd.bpmn": "<x/>"}, "main": "x"}), "application/json", 200),
            (json.dumps({"files": {hostile.MAIN: hostile.VALID}, "main": "fehlt.bpmn"}), "application/json", 422)]:
        for route in ("/modelle/pruefen", "/modelle/bereitstellen"):
            response = client.post(route, data=body, content_type=content_type, headers=headers)
            expected = status if not (route.endswith("pruefen") and status == 422) else 200
            if route.endswith("bereitstellen") and status == 200:
                expected = 422                       # the bad file name is a problem, never deployed
            assert response.status_code == expected, (route, body[:40], response.status_code)
            text = response.get_data(as_text=True)
            assert_german(text)
    assert counts(users_app) == before


def test_api_refuses_hostile_models(users_app, corpus, loopback):
    headers = token_for(users_app, "paula.prozess")
    client = users_app.test_client()
    before = counts(users_app)
    for kind in MODEL_KINDS:
        data = {"dateien": [(io.BytesIO(corpus[kind]), hostile.MAIN, "application/octet-stream"),
                            (io.BytesIO(hostile.read(hostile.FORM).encode()), hostile.FORM, "application/json")]}
        with Bounded():
            response = client.post("/api/v1/models", data=data, headers=headers, content_type="multipart/form-data")
        assert response.status_code in (413, 422), (kind, response.status_code)
        body = response.get_json()
        assert body["code"] in ("modell_ungueltig", "zu_gross"), (kind, body)
        assert_german(body["message"])
        _no_trace(users_app, response, loopback)
    for kind, form in hostile.broken_forms().items():
        data = {"dateien": [(io.BytesIO(hostile.VALID.encode()), hostile.MAIN, "application/octet-stream"),
                            (io.BytesIO(form.encode("utf-8", "surrogateescape")), hostile.FORM, "application/json")]}
        response = client.post("/api/v1/models", data=data, headers=headers, content_type="multipart/form-data")
        assert response.status_code == 422, (kind, response.get_data(as_text=True))
        assert_german(response.get_json()["message"])
    assert counts(users_app) == before
    assert SECRET not in dump(users_app)
