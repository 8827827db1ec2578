"""Thin Flask layer over workflows.services: pages, CLI, error mapping."""
from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFError, CSRFProtect

from workflows import policy
from workflows.clock import SimulationClock, SystemClock
from workflows.domain import DomainError, Forbidden, NotFound
from workflows.services import Workflows
from workflows.store import Store, engine_options, metadata

from . import config as config_module
from .formatting import register_filters

csrf = CSRFProtect()
#: the web app's database engine (Flask-SQLAlchemy: config keys, engine options, teardown);
#: the tables are workflows.store's, the schema is Alembic's (`flask db upgrade`)
db = SQLAlchemy(metadata=metadata)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Bitte melden Sie sich an."


class _JSONProvider(DefaultJSONProvider):
    """Deeply nested JSON in a request is the client's error (400), not a RecursionError (500)."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("Das JSON ist zu tief verschachtelt.") from None


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.json = _JSONProvider(app)
    app.config.update(config_module.load(test_config))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("spiff", "alembic.runtime.plugins"):     # a line per task state change otherwise
        logging.getLogger(noisy).setLevel(logging.WARNING)

    app.config.setdefault("SQLALCHEMY_DATABASE_URI", app.config["DATABASE_URL"])
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config["SQLALCHEMY_DATABASE_URI"]))
    db.init_app(app)
    with app.app_context():
        store = Store(db.engine)       # Flask-SQLAlchemy owns the engine; the store runs the SQL
    clock = SimulationClock(store.load_simulation) if app.config["CLOCK"] == "simulation" else SystemClock()
    app.extensions["workflows"] = Workflows(store, clock)

    csrf.init_app(app)
    login_manager.init_app(app)
    register_filters(app)

    from .auth import bp as auth_bp
    from .board import bp as board_bp
    from .cases import bp as cases_bp
    from .home import bp as home_bp
    from .inbox import bp as inbox_bp
    from .models import bp as models_bp
    from .privacy import bp as privacy_bp
    for blueprint in (auth_bp, home_bp, inbox_bp, cases_bp, board_bp, models_bp, privacy_bp):
        app.register_blueprint(blueprint)
    from .api import init_api
    init_api(app, csrf)        # /api/v1: token authentication only, hence exempt from CSRF

    from .cli import register_cli
    register_cli(app)
    _register_error_pages(app)
    _register_security_headers(app)
    _register_policy(app)
    return app


def _register_policy(app: Flask) -> None:
    """Templates ask workflows.policy, e.g. `{% if may('see_board') %}`: the same predicates
    the use cases enforce, so a link is shown exactly when following it is allowed."""
    from flask_login import current_user

    def may(name: str, *args) -> bool:
        return bool(current_user.is_authenticated and policy.PREDICATES["may_" + name](current_user.actor, *args))

    app.context_processor(lambda: {"may": may})


def services() -> Workflows:
    from flask import current_app
    return current_app.extensions["workflows"]


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(err: DomainError):
        status = 404 if isinstance(err, NotFound) else 403 if isinstance(err, Forbidden) else (
            409 if err.code == "konflikt" else 422)
        return render_template("error.html", message=err.message, status=status), status

    @app.errorhandler(CSRFError)
    def csrf_error(_err):
        return render_template("error.html", status=400, message="Das Formular ist abgelaufen oder "
                               "unvollständig (Sicherheitsmerkmal fehlt). Bitte laden Sie die Seite neu "
                               "und versuchen Sie es noch einmal."), 400

    @app.errorhandler(400)
    def bad_request(_err):
        return render_template("error.html", message="Die Anfrage ist ungültig.", status=400), 400

    @app.errorhandler(405)
    def wrong_method(_err):
        return render_template("error.html", message="Diese Aktion ist so nicht möglich.", status=405), 405

    @app.errorhandler(413)
    def too_large(_err):
        limit = (app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
        return render_template("error.html", status=413, message=f"Die Anfrage ist zu groß (höchstens {limit} MB, "
                               "Dateien bis 10 MB). Es wurde nichts gespeichert."), 413

    @app.errorhandler(415)
    def wrong_type(_err):
        return render_template("error.html", status=415, message="Dieses Format wird hier nicht angenommen."), 415

    @app.errorhandler(404)
    def not_found(_err):
        return render_template("error.html", message="Diese Seite gibt es nicht.", status=404), 404

    @app.errorhandler(500)
    def server_error(_err):
        return render_template("error.html", message="Ein interner Fehler ist aufgetreten. "
                               "Es wurde nichts gespeichert.", status=500), 500


#: no framing (clickjacking), no plugins, forms and <base> only to this site
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; object-src 'none'; "
                           "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
#: HTTPS only, for a year and on subdomains too (RFC 6797); sent with config HSTS (production)
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"
#: the endpoints that serve the application's own files (CSS, scripts, icons): no case data,
#: so they keep their caching; a new endpoint is not in here and so is never stored (fails safe)
STATIC_ENDPOINTS = frozenset({"static", "api.static", "api.vendor", "cases.vendor", "models.vendor"})


def _register_security_headers(app: Flask) -> None:
    """Headers on every answer. Pages, exports and API answers carry children's case and
    person data (Sozialdaten, § 35 SGB I): no browser, proxy or shared office PC may keep a
    copy (Cache-Control: no-store; Pragma for HTTP/1.0 caches), also not of error pages and
    the login form, so the rule needs no knowledge of who is logged in. Only static files
    are cached."""
    @app.after_request
    def headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if app.config["HSTS"]:
            response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
        if request.endpoint not in STATIC_ENDPOINTS:
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response
