"""Schemas of /tasks: the inbox, a task with its form, completing it (with documents), handing over."""
from __future__ import annotations

import base64
import binascii

import marshmallow as ma
from marshmallow import validate

from workflows.services import ALLOWED_DOCUMENT_TYPES

from .common import PageArgs, page_of
from .fields import (BASE64, FIELD_NAME, FILE_NAME, Date, DateTime, Dict, Integer, JSONData, JSONObject, List,
                     Nested, QueryBoolean, Schema, String, described, between, length, one_of, pattern)

class TaskListArgs(PageArgs):
    mine = QueryBoolean(load_default=False, **described("Nur Aufgaben, die ich übernommen habe"))
    process_id = String(validate=length(200), **described("Nur Aufgaben dieses Verfahrens"))
    due = String(validate=one_of(("overdue", "soon")), **described("overdue: überfällig; soon: fällig in soon_days Tagen"))
    soon_days = Integer(load_default=7, validate=between(1, 365), **described("Tage für due=soon"))
    organisation = String(validate=length(200), **described("Organisation (nur für Benutzer ohne eigene Organisation)"))
    search = String(validate=length(100), **described("Suche in Aktenzeichen, Titel, Beteiligten"))


class TaskSchema(Schema):
    task_id = String(required=True)
    instance_id = Integer(required=True)
    business_key = String(required=True, **described("Aktenzeichen des Vorgangs"))
    process_id = String(required=True)
    spec_name = String(required=True, **described("Element-ID im Modell"))
    title = String(required=True)
    lane = String(allow_none=True, **described("Gruppe"))
    organisation = String(allow_none=True, **described("Zuständige Organisation (leer: gruppenübergreifend)"))
    form = String(allow_none=True)
    created_at = DateTime(required=True)
    deadline_key = String(allow_none=True, **described("Frist, auf die die Aufgabe hinarbeitet"))
    due_date = Date(allow_none=True, **described("Letzter Tag dieser Frist"))
    claimed_by = String(allow_none=True, **described("Wer die Aufgabe übernommen hat"))


class InboxTaskSchema(TaskSchema):
    case_title = String(required=True)
    parties = Dict(keys=String(), values=String(), required=True)
    deadline_title = String(allow_none=True)
    legal_basis = String(allow_none=True)
    shifted_end = Date(allow_none=True)
    deadline_status = String(allow_none=True)


TaskPageSchema = page_of(InboxTaskSchema, "TaskPageSchema")


class TaskCaseSchema(Schema):
    business_key = String(required=True)
    title = String(required=True)
    parties = Dict(keys=String(), values=String(), required=True)
    process_id = String(required=True)


class TaskViewSchema(Schema):
    task = Nested(TaskSchema, required=True)
    case = Nested(TaskCaseSchema, required=True)
    schema = JSONObject(allow_none=True, required=True, **described("Formular der Aufgabe (JSON Schema) oder null"))
    data = JSONObject(required=True, **described("Daten, mit denen das Formular vorbelegt ist"))
    documentation = String(allow_none=True, **described("Hinweise aus dem Modell"))


class DocumentArgs(Schema):
    field = String(required=True, validate=[length(200), pattern(FIELD_NAME, "Ungültiger Feldname.")],
                   **described("Formularfeld, zu dem die Datei gehört"))
    name = String(required=True, validate=[length(255), pattern(FILE_NAME, "Ungültiger Dateiname.")],
                  **described("Dateiname (ohne / und \\)"))
    content_type = String(required=True, validate=one_of(sorted(ALLOWED_DOCUMENT_TYPES)),
                          **described("MIME-Typ: PDF, PNG, JPEG, Text, Word oder ODT"))
    content_base64 = String(required=True, validate=[length(14_000_000), pattern(BASE64, "Kein gültiges Base64.")],
                            **described("Inhalt, Base64-kodiert (höchstens 10 MB)"))

    @ma.post_load
    def decode(self, data, **_kwargs):
        try:
            data["content"] = base64.b64decode(data.pop("content_base64"), validate=True)
        except (binascii.Error, ValueError):
            raise ma.ValidationError("Kein gültiges Base64.", "content_base64") from None
        return data


class CompleteArgs(Schema):
    data = JSONData(load_default=dict, **described("Formulardaten (Feldname → Wert; Textfelder bis zu ihrer "
                                           "maxLength, sonst 10.000 Zeichen; insgesamt bis 1.000.000 Zeichen)"))
    documents = List(Nested(DocumentArgs), load_default=list, validate=validate.Length(
        max=20, error="Höchstens 20 Dateien."), **described("Dateien für Dateifelder des Formulars"))


class HandOverArgs(Schema):
    username = String(required=True, validate=length(100), **described("Kollegin oder Kollege derselben Gruppe"))
