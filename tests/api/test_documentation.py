"""The OpenAPI document and its documentation page (Swagger UI from node_modules, no CDN)."""
import re
import threading

import pytest
from marshmallow import fields as mf, validate
from werkzeug.serving import make_server

from webapp.api import schemas

from ..helpers import CHROMIUM, assert_error

ENDPOINTS = {
    ("post", "/api/v1/cases"), ("get", "/api/v1/cases"), ("get", "/api/v1/cases/{business_key}"),
    ("get", "/api/v1/tasks"), ("get", "/api/v1/tasks/{task_id}"), ("post", "/api/v1/tasks/{task_id}/claim"),
    ("post", "/api/v1/tasks/{task_id}/release"), ("post", "/api/v1/tasks/{task_id}/complete"),
    ("post", "/api/v1/cases/{business_key}/signals"), ("post", "/api/v1/cases/{business_key}/messages"),
    ("post", "/api/v1/cases/{business_key}/documents"),
    ("get", "/api/v1/cases/{business_key}/documents/{document_id}"), ("get", "/api/v1/deadlines"),
    ("get", "/api/v1/models"), ("post", "/api/v1/models"), ("get", "/api/v1/health"), ("get", "/api/v1/clock"),
    ("put", "/api/v1/clock"),
}


def test_openapi_document(app):
    response = app.test_client().get("/api/v1/openapi.json")          # public: no data in it
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"] == "3.1.0" and "Frühförderung" in document["info"]["title"]
    assert "Authorization: Bearer" in document["info"]["description"]
    operations = {(method, path) for path, item in document["paths"].items() for method in item
                  if method != "parameters"}
    assert ENDPOINTS <= operations
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"]
        ["bearerAuth"]["description"]}
    assert document["security"] == [{"bearerAuth": []}]
    assert document["paths"]["/api/v1/health"]["get"]["security"] == []
    assert set(document["components"]["schemas"]["Error"]["required"]) == {"code", "message", "details"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert operation["summary"] and operation["description"], (method, path)
            words = set(re.findall(r"\w+", operation["description"].lower()))
            assert words & {"der", "die", "das", "und", "mit", "nur", "wenn", "oder", "nicht"}, (method, path)
            if path != "/api/v1/health":
                assert "401" in operation["responses"], (method, path)
    complete = document["paths"]["/api/v1/tasks/{task_id}/complete"]["post"]
    assert {"409", "422"} <= set(complete["responses"]) and "409 statt 404" in complete["description"]
    data = document["components"]["schemas"]["StartCaseArgs"]["properties"]["data"]
    assert data["propertyNames"]["pattern"] == "^[A-Za-z][A-Za-z0-9_]*$" and "heute" in data["propertyNames"]["not"]["enum"]


def test_documentation_page_is_served_locally_under_the_csp(app):
    client = app.test_client()
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all('src="/api/v1/' in attrs and body.strip() == "" for attrs, body in scripts)
    assert "http" not in re.sub(r"<noscript>.*?</noscript>", "", page, flags=re.S)        # no CDN
    assert " style=" not in page
    for url, mimetype in [("/api/v1/vendor/swagger-ui-bundle.js", "text/javascript"),
                          ("/api/v1/vendor/swagger-ui.css", "text/css"),
                          ("/api/v1/static/swagger-initializer.js", "text/javascript")]:
        asset = client.get(url)
        assert asset.status_code == 200 and asset.mimetype == mimetype and len(asset.data) > 100, url
    assert_error(client.get("/api/v1/vendor/index.html"), 404, "nicht_gefunden")         # allow-list only
    assert_error(client.get("/api/v1/vendor/../package.json"), 404, "nicht_gefunden")
    assert_error(client.get("/api/v1/vendor/swagger-ui-dist/package.json"), 404, "nicht_gefunden")


@pytest.fixture
def live_api(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def _look_at_the_docs(base_url: str) -> dict:
    """Open the documentation page in Debian's headless Chromium; what it shows and what went wrong."""
    from playwright.sync_api import sync_playwright
    seen: dict = {"problems": [], "foreign": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        try:
            page = browser.new_page(locale="de-DE")
            page.on("console", lambda m: seen["problems"].append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: seen["problems"].append(str(e)))
            page.on("request", lambda r: None if r.url.startswith(base_url) else seen["foreign"].append(r.url))
            page.goto(base_url + "/api/v1/docs")
            page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
            seen["title"] = page.locator(".swagger-ui .info .title").inner_text()
            seen["tags"] = " ".join(page.locator(".opblock-tag").all_inner_texts())
            seen["operations"] = page.locator(".opblock").count()
        finally:
            browser.close()
    return seen


@pytest.mark.parametrize("backend", ["sqlite"])
def test_swagger_ui_renders_in_chromium_without_csp_violations(live_api):
    # in a thread of its own: the browser tests' session may hold a sync Playwright in this one
    result: dict = {}

    def run():
        try:
            result.update(_look_at_the_docs(live_api))
        except Exception as err:        # reported below, in the test's thread
            result["error"] = err
    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=120)
    if "error" in result:
        raise result["error"]
    assert "Frühförderung NRW – Verfahrens-API" in result["title"]
    for tag in ("Vorgänge", "Aufgaben", "Fristen", "Modelle", "Simulationsuhr"):
        assert tag in result["tags"]
    assert result["operations"] >= len(ENDPOINTS)
    assert result["problems"] == [] and result["foreign"] == []              # no CSP violation, no CDN


def _request_strings(schema_class, path=""):
    """(where, field) of every text a request can carry, nested schemas included."""
    for name, field in schema_class().fields.items():
        where = f"{path}{name}"
        while isinstance(field, mf.List):
            field = field.inner
        if isinstance(field, mf.Nested):
            yield from _request_strings(type(field.schema), f"{where}.")
        elif isinstance(field, mf.Dict) and not isinstance(field, schemas.JSONData):
            for part in (field.key_field, field.value_field):
                if isinstance(part, mf.String):
                    yield f"{where}[…]", part
        elif isinstance(field, mf.String):
            yield where, field


def test_every_request_string_has_a_documented_maximum(app):
    """Issue "untrusted data": every API string has a maximum (free case data: see JSONData,
    checked in workflows.casedata.check_submission) and the OpenAPI document shows it."""
    request_schemas = [cls for name, cls in vars(schemas).items()
                       if name.endswith("Args") and isinstance(cls, type) and issubclass(cls, schemas.Schema)]
    assert len(request_schemas) >= 10
    unbounded = [f"{cls.__name__}.{where}" for cls in request_schemas for where, field in _request_strings(cls)
                 if not any(isinstance(v, (validate.Length, validate.OneOf)) for v in field.validators)]
    assert unbounded == []
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    start = document["components"]["schemas"]["StartCaseArgs"]["properties"]
    assert start["business_key"]["maxLength"] == 100
    assert "100.000 Zeichen" in start["data"]["description"]
