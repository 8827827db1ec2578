"""What every resource blueprint of the API shares: token check, body type check, size
limit, JSON errors and the documentation of error responses."""
from __future__ import annotations

import json

import flask_smorest
import marshmallow as ma
from flask import current_app, g, request
from webargs.flaskparser import FlaskParser

from workflows.domain import Actor
from workflows.services import Workflows

from . import errors, tokens
from .schemas import ErrorSchema

PREFIX = "/api/v1"
#: largest request body: a 10 MB document Base64-encoded in JSON, with room to spare
MAX_REQUEST_BYTES = 16 * 1024 * 1024


def services() -> Workflows:
    return current_app.extensions["workflows"]


def actor() -> Actor:
    return g.api_actor


def public(func):
    """The route needs no token (health check)."""
    func._api_public = True
    return func


def accepts(kind: str):
    """The route takes a body of this kind: "json" or "multipart" (else 415)."""
    def decorator(func):
        func._api_accepts = kind
        return func
    return decorator


def before_request():
    request.max_content_length = MAX_REQUEST_BYTES
    view = current_app.view_functions.get(request.endpoint)
    if not getattr(view, "_api_public", False):
        g.api_actor, g.api_token = tokens.authenticate(services(), request.headers.get("Authorization"))
    if any(isinstance(v, str) and "\x00" in v for v in (request.view_args or {}).values()):
        flask_smorest.abort(404, message="Diese Adresse gibt es in der API nicht.")
    kind = getattr(view, "_api_accepts", None)
    if kind == "json" and not request.is_json:
        flask_smorest.abort(415, message="Bitte senden Sie JSON (Content-Type: application/json).")
    if kind == "multipart" and request.mimetype != "multipart/form-data":
        flask_smorest.abort(415, message="Bitte senden Sie die Dateien als multipart/form-data.")


class _Parser(FlaskParser):
    """Deeply nested JSON is invalid JSON (400), not a RecursionError (500)."""

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            raise json.JSONDecodeError("zu tief verschachtelt", "", 0) from None


class ApiBlueprint(flask_smorest.Blueprint):
    """A resource of the API: its routes carry its (German) tag, need a token unless
    `@public`, and answer every error as JSON."""

    ARGUMENTS_PARSER = _Parser()

    def __init__(self, name: str, import_name: str, *, tag: str, description: str, url_prefix: str = ""):
        super().__init__(name, import_name, url_prefix=PREFIX + url_prefix, description=description)
        self.tag = tag
        errors.install(self)
        self.before_request(before_request)

    def route(self, rule, *, parameters=None, tags=None, **options):
        return super().route(rule, parameters=parameters, tags=tags or [self.tag], **options)

    def query(self, schema):
        """Query parameters of this schema; unknown parameters are refused (422)."""
        return self.arguments(schema, location="query", unknown=ma.RAISE)

    def errors(self, *statuses: int):
        """Document these error responses (all with the error schema)."""
        def decorator(func):
            for status in statuses:
                func = self.alt_response(status, schema=ErrorSchema, description=errors.DESCRIPTIONS[status])(func)
            return func
        return decorator
