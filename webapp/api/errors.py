"""Every error inside /api/v1 as JSON: {"code": "...", "message": "<deutsch>", "details": {...}}.

Never an HTML page, never a stack trace. Errors of the use cases (DomainError) map to
404/403/409/422; HTTP errors (routing, webargs, size limits) get a German message.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, jsonify
from werkzeug.exceptions import HTTPException

from workflows.domain import Conflict, DomainError, Forbidden, InvalidInput, ModelError, NotFound

from .schemas.fields import plain

log = logging.getLogger(__name__)

#: status -> (code, German message) for errors that carry no message of their own
HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: ("ungueltige_anfrage", "Die Anfrage ist ungültig."),
    401: ("nicht_angemeldet", "Bitte melden Sie sich mit einem API-Token an "
                              "(Kopfzeile „Authorization: Bearer <Token>“)."),
    403: ("keine_berechtigung", "Dazu sind Sie nicht berechtigt."),
    404: ("nicht_gefunden", "Diese Adresse gibt es in der API nicht."),
    405: ("methode_nicht_erlaubt", "Diese Methode ist für diese Adresse nicht erlaubt."),
    409: ("konflikt", "Die Anfrage steht im Konflikt mit dem aktuellen Stand."),
    413: ("zu_gross", "Die Anfrage ist zu groß."),
    415: ("falsches_format", "Dieses Format wird hier nicht angenommen."),
    422: ("ungueltige_eingabe", "Bitte prüfen Sie die markierten Angaben."),
    429: ("zu_viele_anfragen", "Zu viele Anfragen. Bitte versuchen Sie es später noch einmal."),
    500: ("interner_fehler", "Ein interner Fehler ist aufgetreten. Es wurde nichts gespeichert."),
}

#: what the OpenAPI document says about each error status
DESCRIPTIONS = {
    400: "Ungültige Anfrage (z. B. kein gültiges JSON)",
    401: "Kein, ein ungültiges oder ein widerrufenes API-Token",
    403: "Keine Berechtigung (Gruppe oder Organisation passt nicht)",
    404: "Nicht gefunden",
    409: "Konflikt: jemand anderes war schneller, oder der Vorgang erwartet das gerade nicht",
    413: "Anfrage zu groß",
    415: "Falscher Content-Type",
    422: "Ungültige Eingabe; `details.fields` nennt die Felder mit deutscher Meldung",
}


def error_response(status: int, code: str | None = None, message: str | None = None,
                   details: dict[str, Any] | None = None, headers: dict[str, str] | None = None):
    default_code, default_message = HTTP_ERRORS.get(status, ("fehler", "Die Anfrage ist fehlgeschlagen."))
    response = jsonify(code=code or default_code, message=message or default_message,
                       details=plain(details or {}))
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def domain_status(err: DomainError) -> int:
    if isinstance(err, NotFound):
        return 404
    if isinstance(err, Forbidden):
        return 403
    if isinstance(err, Conflict):
        return 409
    return 422          # InvalidInput, ModelError, ScriptError and any other refusal


def domain_error(err: DomainError, status: int | None = None, code: str | None = None):
    details = dict(err.details)
    message = err.message
    if isinstance(err, ModelError):
        message = str(err)           # with file, element and line
    if isinstance(err, InvalidInput) or (status or domain_status(err)) == 422:
        fields = details.get("fields") or ({details["field"]: err.message} if details.get("field") else {})
        details["fields"] = {str(k): str(v) for k, v in fields.items()}
    return error_response(status or domain_status(err), code or err.code, message, details)


def http_error(err: HTTPException):
    status = err.code or 500
    data = getattr(err, "data", None) or {}
    messages = data.get("messages")
    if status == 422 and messages:
        return error_response(422, details={"fields": flatten(messages)})
    if status == 400 and messages and "json" in messages:
        return error_response(400, message="Der Inhalt der Anfrage ist kein gültiges JSON.")
    if status == 401:
        return error_response(401, message=data.get("message"), headers={"WWW-Authenticate": 'Bearer realm="api"'})
    if status == 405:
        allowed = ", ".join(sorted(getattr(err, "valid_methods", None) or []))
        return error_response(405, details={"allowed": allowed} if allowed else {},
                              headers={"Allow": allowed} if allowed else {})
    if status == 413:
        return error_response(413, message=data.get("message"))
    if status >= 500:
        return error_response(500)
    return error_response(status, message=data.get("message"))


def unexpected_error(err: Exception):
    original = getattr(err, "original_exception", None) or err
    log.error("unexpected error in the API", exc_info=(type(original), original, original.__traceback__))
    return error_response(500)


def install(blueprint: Blueprint) -> None:
    """JSON errors for every route of `blueprint` (registered before it is registered)."""
    blueprint.register_error_handler(DomainError, domain_error)
    blueprint.register_error_handler(HTTPException, http_error)
    # Flask prefers a handler for the status code, even the app's, to one for the class:
    # so the codes the web pages handle (HTML) are registered here by code, too.
    for status in HTTP_ERRORS:
        if status != 500:
            blueprint.register_error_handler(status, http_error)
    blueprint.register_error_handler(500, unexpected_error)


def flatten(messages: Any, prefix: str = "") -> dict[str, str]:
    """webargs/marshmallow messages ({location: {field: [msg]}}) as {"feld.unterfeld": "Meldung"}."""
    if isinstance(messages, dict):
        if not prefix and set(messages) <= {"json", "query", "files", "form", "headers", "path", "view_args"}:
            result: dict[str, str] = {}
            for inner in messages.values():
                result.update(flatten(inner))
            return result
        result = {}
        for key, value in messages.items():
            name = "body" if key == "_schema" and not prefix else (
                prefix if key == "_schema" else f"{prefix}.{key}" if prefix else str(key))
            result.update(flatten(value, name))
        return result
    if isinstance(messages, (list, tuple)):
        if all(isinstance(m, str) for m in messages):
            return {prefix or "body": " ".join(messages)}
        result = {}
        for m in messages:
            result.update(flatten(m, prefix))
        return result
    return {prefix or "body": str(messages)}
