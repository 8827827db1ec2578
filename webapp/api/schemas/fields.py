"""Field classes of the REST API with German error messages, and the shared helpers.

Every field class here has German error messages, so the 422 responses of request
validation (webargs) speak German like the rest of the application. Also here: the `Schema`
base class, the patterns the OpenAPI document shows (NO_NUL, FIELD_NAME, …), the validators
`length`, `one_of`, `between`, `pattern`, `openapi_attributes` for apispec and `described`, the
description metadata the other modules of this package use.
"""
from __future__ import annotations

import re
from datetime import date, datetime

import marshmallow as ma
from flask_smorest.fields import Upload as _Upload
from marshmallow import validate

from workflows.engine import RESERVED_NAMES


_BASE = {"required": "Diese Angabe fehlt.", "null": "Diese Angabe darf nicht leer (null) sein.",
         "validator_failed": "Ungültiger Wert."}

#: what every text of the API may not contain (no database stores NUL characters)
NO_NUL = "^[^\\u0000]*$"
#: names of data fields: what scripts in models can use (engine.field_name_problem, ASCII only)
FIELD_NAME = "^[A-Za-z][A-Za-z0-9_]*$"
#: an Aktenzeichen: a visible character first, no control characters, nothing that ends a path segment
BUSINESS_KEY = "^\\s*[^\\s\\u0000-\\u001f\\u007f/\\\\?#%][^\\u0000-\\u001f\\u007f/\\\\?#%]*$"
#: a moment between 2000 and 2099 as JJJJ-MM-TTTHH:MM[:SS[.ffffff]][Z|±HH:MM], existing days only
MOMENT = ("^20([0-9]{2}-(0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|[0-9]{2}-(0[469]|11)-(0[1-9]|[12][0-9]|30)"
          "|[0-9]{2}-02-(0[1-9]|1[0-9]|2[0-8])|([02468][048]|[13579][26])-02-29)"
          "T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$")
#: standard Base64 of at least one byte
BASE64 = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$"
FILE_NAME = "^[^/\\\\\\u0000]+$"


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ma.ValidationError("NUL-Zeichen sind nicht erlaubt.")


def pattern(regex: str, message: str):
    return validate.Regexp(regex, error=message)


class String(ma.fields.String):
    """Text; never with a NUL character (the OpenAPI document says so with a pattern)."""

    default_error_messages = {**_BASE, "invalid": "Bitte einen Text angeben.",
                              "invalid_utf8": "Kein gültiger UTF-8-Text."}

    def __init__(self, *args, **kwargs):
        kwargs["validate"] = [_no_nul, *_as_list(kwargs.get("validate"))]
        super().__init__(*args, **kwargs)


class Integer(ma.fields.Integer):
    """A whole number; from a query string only as plain digits (no "+5", " 5", "٥")."""

    default_error_messages = {**_BASE, "invalid": "Bitte eine ganze Zahl angeben.",
                              "too_large": "Die Zahl ist zu groß."}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or (isinstance(value, str) and not re.fullmatch(r"-?[0-9]+", value, re.ASCII)):
            raise self.make_error("invalid")
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Boolean(ma.fields.Boolean):
    """true or false, as JSON literals only (no 0/1, no strings)."""

    default_error_messages = {**_BASE, "invalid": "Bitte true oder false angeben."}

    def _deserialize(self, value, attr, data, **kwargs):
        if value is True or value is False:
            return value
        raise self.make_error("invalid")


class QueryBoolean(Boolean):
    """true or false in a query string: exactly "true" or "false"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value in ("true", "false") and isinstance(value, str):
            return value == "true"
        raise self.make_error("invalid")


class Date(ma.fields.Date):
    default_error_messages = {**_BASE, "invalid": "Bitte ein Datum im Format JJJJ-MM-TT angeben.",
                              "format": "Das Datum lässt sich nicht darstellen."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class DateTime(ma.fields.DateTime):
    default_error_messages = {**_BASE, "invalid": "Bitte einen Zeitpunkt (ISO 8601) angeben.",
                              "invalid_awareness": "Bitte einen Zeitpunkt mit Zeitzone angeben.",
                              "format": "Der Zeitpunkt lässt sich nicht darstellen."}


class Dict(ma.fields.Dict):
    default_error_messages = {**_BASE, "invalid": "Bitte ein JSON-Objekt angeben."}


class JSONObject(Dict):
    """Free JSON data in responses (case data, audit details, form schemas); dates that
    scripts produced are given as ISO strings."""

    def _serialize(self, value, attr, obj, **kwargs):
        return plain(value)


class JSONData(Dict):
    """Free JSON data sent to a case (start data, task data, payloads): an object whose keys
    are field names scripts can use – ASCII letters, digits and _, a letter first, none of the
    names reserved for script functions (the OpenAPI document says so with propertyNames).
    Its size is checked where every path meets, workflows.casedata.check_submission: texts up
    to 100.000 characters (form fields: their maxLength, else 10.000), 1.000.000 in all."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        for key in value:
            if not re.fullmatch(FIELD_NAME, key, re.ASCII):
                raise ma.ValidationError(f"Ungültiger Feldname {key!r}: nur Buchstaben (a–z, A–Z), Ziffern "
                                         "und _, am Anfang ein Buchstabe.")
            if key in RESERVED_NAMES:
                raise ma.ValidationError(f"Der Feldname „{key}“ ist für Skriptfunktionen reserviert.")
        return value


class List(ma.fields.List):
    default_error_messages = {**_BASE, "invalid": "Bitte eine Liste angeben."}


class Nested(ma.fields.Nested):
    default_error_messages = {**_BASE, "type": "Bitte ein JSON-Objekt angeben."}


class Upload(_Upload):
    default_error_messages = {**_BASE}


def openapi_attributes(self, field, **_kwargs) -> dict:
    """What apispec cannot derive from our fields: the NUL rule of texts, the key rule of data."""
    if isinstance(field, String) and not any(isinstance(v, validate.Regexp) for v in field.validators):
        return {"pattern": NO_NUL}
    if isinstance(field, JSONData):
        return {"propertyNames": {"pattern": FIELD_NAME, "not": {"enum": sorted(RESERVED_NAMES)}}}
    return {}


class Schema(ma.Schema):
    error_messages = {"unknown": "Unbekanntes Feld.", "type": "Bitte ein JSON-Objekt senden."}


def _as_list(validators) -> list:
    if validators is None:
        return []
    return list(validators) if isinstance(validators, (list, tuple)) else [validators]


def plain(value):
    """A value as JSON can carry it (dates ISO 8601), for responses and error details."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def length(max_: int, min_: int = 1):
    return validate.Length(min=min_, max=max_, error=f"Bitte {min_} bis {max_} Zeichen angeben."
                           if min_ else f"Höchstens {max_} Zeichen.")


def one_of(choices):
    return validate.OneOf(choices, error="Erlaubt sind: " + ", ".join(choices) + ".")


def between(low: int, high: int):
    return validate.Range(min=low, max=high, error=f"Bitte eine Zahl von {low} bis {high} angeben.")


def described(text: str, **extra) -> dict:
    return {"metadata": {"description": text, **extra}}
