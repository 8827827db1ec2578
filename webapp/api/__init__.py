"""The REST API under /api/v1 (flask-smorest, OpenAPI 3), for other systems and scripts.

Authentication only with personal API tokens (`Authorization: Bearer …`, created with
`flask --app webapp tokens create`); the web session never authenticates an API call, so
the API needs no CSRF token. Every endpoint calls the use cases of workflows.services,
with the same group and organisation rules as the web pages. Errors are JSON with a
German message. The OpenAPI document is at /api/v1/openapi.json, its documentation page
(Swagger UI from node_modules, no CDN) at /api/v1/docs. Both are public on purpose (review
issue 13, README „Betrieb“): they describe the API and hold no case data, and integrators read
them before they have a token; tests/security/test_headers.py pins that.
"""
from __future__ import annotations

from pathlib import Path

import flask_smorest
from flask import Blueprint, Flask, current_app, jsonify, render_template, request, send_from_directory
from werkzeug.routing import RequestRedirect

from . import cases, clock, deadlines, errors, models, system, tasks
from .common import PREFIX
from .schemas import ErrorSchema, openapi_attributes

DESCRIPTION = """\
Programmierschnittstelle des Verfahrensmanagements Frühförderung NRW: Vorgänge anlegen und lesen,
Aufgaben bearbeiten, Signale und Nachrichten senden, Dokumente austauschen, Fristen überwachen und
Modelle bereitstellen – mit denselben Rechten (Gruppen und Organisation) wie in der Anwendung.

**Anmeldung:** persönliches API-Token in der Kopfzeile `Authorization: Bearer <Token>`. Tokens legt der
Betrieb an (`flask --app webapp tokens create BENUTZER --name "Zweck"`), sie werden nur einmal
angezeigt und können widerrufen werden. Ohne, mit ungültigem oder widerrufenem Token: 401.

**Fehler** sind immer JSON: `{"code": "…", "message": "<deutsche Meldung>", "details": {…}}`.
Codes: `nicht_angemeldet` (401), `keine_berechtigung` (403), `nicht_gefunden` (404), `konflikt` (409:
jemand anderes war schneller oder der Vorgang erwartet das gerade nicht – es wurde nichts gespeichert),
`ungueltige_eingabe`, `modell_ungueltig` bzw. `skriptfehler` (422; `details.fields` nennt Feld → Meldung),
`ungueltige_anfrage` (400), `methode_nicht_erlaubt` (405, mit `Allow`), `zu_gross` (413, Anfragen bis 16 MB),
`falsches_format` (415), `interner_fehler` (500). Eine Aufgabe, die beim Erledigen nicht mehr offen ist,
ergibt 409 (`konflikt`), nicht 404: Ihre Eingaben wurden nicht gespeichert.
"""

bp = Blueprint("api", __name__, url_prefix=PREFIX, static_folder="static", static_url_path="/static",
               template_folder="templates")
errors.install(bp)

VENDOR = Path(__file__).resolve().parents[2] / "node_modules"
#: the files of swagger-ui-dist the documentation page needs (nothing else is served)
VENDOR_FILES = {
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "favicon-32x32.png": "swagger-ui-dist/favicon-32x32.png",
}
RESOURCES = (system.bp, cases.bp, tasks.bp, deadlines.bp, models.bp)


class Api(flask_smorest.Api):
    """flask-smorest with our error schema, our error handling (JSON only under /api/v1, the
    web pages keep theirs) and the OpenAPI document served by our blueprint."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None       # every operation lists its error statuses itself

    def _register_error_handlers(self):
        pass

    def _register_doc_blueprint(self):
        pass

    def register_blueprint(self, blp, *, parameters=None, **options):
        """As flask-smorest's, but the tag is the blueprint's German name."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        blp.register_views_in_doc(self, self._app, self.spec, name=name, parameters=parameters)
        self.spec.tag({"name": blp.tag, "description": blp.description})


def init_api(app: Flask, csrf) -> Api:
    """Register the API on the app; the simulation clock routes only with the simulation clock."""
    api = Api(app, spec_kwargs={
        "title": "Frühförderung NRW – Verfahrens-API", "version": "1.0.0", "openapi_version": "3.1.0",
        "info": {"description": DESCRIPTION}, "security": [{"bearerAuth": []}]})
    api.ma_plugin.converter.add_attribute_function(openapi_attributes)
    api.spec.components.security_scheme("bearerAuth", {
        "type": "http", "scheme": "bearer",
        "description": "Persönliches API-Token (`flask --app webapp tokens create BENUTZER --name …`)"})
    resources = RESOURCES + ((clock.bp,) if app.config["CLOCK"] == "simulation" else ())
    for blueprint in resources:
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)
    app.register_blueprint(bp)
    csrf.exempt(bp)
    app.before_request(routing_errors)
    app.extensions["api_v1"] = api
    return api


@bp.route("/")
def index():
    return jsonify(openapi=f"{PREFIX}/openapi.json", docs=f"{PREFIX}/docs")


@bp.route("/openapi.json")
def openapi_json():
    """The OpenAPI 3 document (public: it describes the API, it holds no data)."""
    return jsonify(current_app.extensions["api_v1"].spec.to_dict())


@bp.route("/docs")
def docs():
    """Swagger UI, served from node_modules; its initializer is a static file (CSP: no inline script).
    Public like the OpenAPI document (see the module docstring)."""
    return render_template("api/docs.html")


@bp.route("/vendor/<path:name>")
def vendor(name: str):
    if name not in VENDOR_FILES:
        return errors.error_response(404)
    target = VENDOR / VENDOR_FILES[name]
    return send_from_directory(target.parent, target.name, max_age=3600)


def routing_errors():
    """Unknown addresses and methods under /api/v1 answer as JSON, too (404, 405 with Allow).

    Flask raises routing errors only after the before_request functions, and outside any
    blueprint, so the web pages' HTML handlers would answer them otherwise."""
    err = request.routing_exception
    if err is None or isinstance(err, RequestRedirect):
        return None
    if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
        return errors.http_error(err)
    return None
