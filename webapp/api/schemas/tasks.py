"""Schemas of /tasks: the inbox, a task with its form, completing it (with documents), handing over."""
from __future__ import annotations

import base64
import binascii

import marshmallow as ma
from marshmallow import validate

from workflows.services import ALLOWED_DOCUMENT_TYPES

from .common import PageArgs, _page_of
from .fields import (BASE64, FIELD_NAME, FILE_NAME, Date, DateTime, Dict, Integer, JSONData, JSONObject, List,
                     Nested, QueryBoolean, Schema, String, _d, between, length, one_of, pattern)

class TaskListArgs(PageArgs):
    mine = QueryBoolean(load_default=False, **_d("Nur Aufgaben, die ich übernommen habe"))
    process_id = String(validate=length(200), **_d("Nur Aufgaben dieses Verfahrens"))
    due = String(validate=one_of(("overdue", "soon")), **_d("overdue: überfällig; soon: fällig in soon_days Tagen"))
    soon_days = Integer(load_default=7, validate=between(1, 365), **_d("Tage für due=soon"))
    organisation = String(validate=length(200), **_d("Organisation (nur für Benutzer ohne eigene Organisation)"))
    search = String(validate=length(100), **_d("Suche in Aktenzeichen, Titel, Beteiligten"))


class TaskSchema(Schema):
    task_id = String(required=True)
    instance_id = Integer(required=True)
    business_key = String(required=True, **_d("Aktenzeichen des Vorgangs"))
    process_id = String(required=True)
    spec_name = String(required=True, **_d("Element-ID im Modell"))
    title = String(required=True)
    lane = String(allow_none=True, **_d("Gruppe"))
    organisation = String(allow_none=True, **_d("Zuständige Organisation (leer: gruppenübergreifend)"))
    form = String(allow_none=True)
    created_at = DateTime(required=True)
    deadline_key = String(allow_none=True, **_d("Frist, auf die die Aufgabe hinarbeitet"))
    due_date = Date(allow_none=True, **_d("Letzter Tag dieser Frist"))
    claimed_by = String(allow_none=True, **_d("Wer die Aufgabe übernommen hat"))


class InboxTaskSchema(TaskSchema):
    case_title = String(required=True)
    parties = Dict(keys=String(), values=String(), required=True)
    deadline_title = String(allow_none=True)
    legal_basis = String(allow_none=True)
    shifted_end = Date(allow_none=True)
    deadline_status = String(allow_none=True)


TaskPageSchema = _page_of(InboxTaskSchema, "TaskPageSchema")


class TaskCaseSchema(Schema):
    business_key = String(required=True)
    title = String(required=True)
    parties = Dict(keys=String(), values=String(), required=True)
    process_id = String(required=True)


class TaskViewSchema(Schema):
    task = Nested(TaskSchema, required=True)
    case = Nested(TaskCaseSchema, required=True)
    schema = JSONObject(allow_none=True, required=True, **_d("Formular der Aufgabe (JSON Schema) oder null"))
    data = JSONObject(required=True, **_d("Daten, mit denen das Formular vorbelegt ist"))
    documentation = String(allow_none=True, **_d("Hinweise aus dem Modell"))


class DocumentArgs(Schema):
    field = String(required=True, validate=[length(200), pattern(FIELD_NAME, "Ungültiger Feldname.")],
                   **_d("Formularfeld, zu dem die Datei gehört"))
    name = String(required=True, validate=[length(255), pattern(FILE_NAME, "Ungültiger Dateiname.")],
                  **_d("Dateiname (ohne / und \\)"))
    content_type = String(required=True, validate=one_of(sorted(ALLOWED_DOCUMENT_TYPES)),
                          **_d("MIME-Typ: PDF, PNG, JPEG, Text, Word oder ODT"))
    content_base64 = String(required=True, validate=[length(14_000_000), pattern(BASE64, "Kein gültiges Base64.")],
                            **_d("Inhalt, Base64-kodiert (höchstens 10 MB)"))

    @ma.post_load
    def decode(self, data, **_kwargs):
        try:
            data["content"] = base64.b64decode(data.pop("content_base64"), validate=True)
        except (binascii.Error, ValueError):
            raise ma.ValidationError("Kein gültiges Base64.", "content_base64") from None
        return data


class CompleteArgs(Schema):
    data = JSONData(load_default=dict, **_d("Formulardaten (Feldname → Wert; Textfelder bis zu ihrer "
                                           "maxLength, sonst 10.000 Zeichen; insgesamt bis 1.000.000 Zeichen)"))
    documents = List(Nested(DocumentArgs), load_default=list, validate=validate.Length(
        max=20, error="Höchstens 20 Dateien."), **_d("Dateien für Dateifelder des Formulars"))


class HandOverArgs(Schema):
    username = String(required=True, validate=length(100), **_d("Kollegin oder Kollege derselben Gruppe"))
