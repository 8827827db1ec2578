"""Marshmallow schemas of the REST API: what requests carry and what responses return.

Every field class here has German error messages, so the 422 responses of request
validation (webargs) speak German like the rest of the application.
"""
from __future__ import annotations

import base64
import binascii
import re
from datetime import date, datetime

import marshmallow as ma
from flask_smorest.fields import Upload as _Upload
from marshmallow import validate

from workflows.engine import RESERVED_NAMES
from workflows.services import ALLOWED_DOCUMENT_TYPES


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
        return _plain(value)


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


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
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


def _d(text: str, **extra) -> dict:
    return {"metadata": {"description": text, **extra}}


# --- errors ---------------------------------------------------------------------------

class ErrorSchema(Schema):
    code = String(required=True, **_d("Maschinenlesbarer Fehlercode, z. B. nicht_gefunden, konflikt, "
                                      "ungueltige_eingabe, keine_berechtigung, nicht_angemeldet"))
    message = String(required=True, **_d("Meldung auf Deutsch, für Menschen"))
    details = Dict(required=True, **_d("Weitere Angaben; bei 422 `fields`: Feldname → deutsche Meldung"))


# --- paging -----------------------------------------------------------------------------

class PageArgs(Schema):
    page = Integer(load_default=1, validate=between(1, 100000), **_d("Seite (ab 1)"))
    per_page = Integer(load_default=25, validate=between(1, 100), **_d("Einträge je Seite (höchstens 100)"))


def _page_of(item_schema, name: str):
    return type(name, (Schema,), {
        "items": List(Nested(item_schema), required=True, **_d("Die Einträge dieser Seite")),
        "total": Integer(required=True, **_d("Anzahl aller passenden Einträge")),
        "page": Integer(required=True, **_d("Diese Seite")),
        "per_page": Integer(required=True, **_d("Einträge je Seite")),
    })


# --- cases ------------------------------------------------------------------------------

CASE_STATUSES = ("running", "completed", "error", "cancelled")


class PartiesSchema(Schema):
    egh = String(validate=length(200), **_d("Träger der Eingliederungshilfe (LVR oder LWL)"))
    krankenkasse = String(validate=length(200), **_d("Krankenkasse"))
    leistungserbringer = String(validate=length(200), **_d("Leistungserbringer (IFF, SPZ)"))


class PersonArgs(Schema):
    """The child and the guardians' postal address; stored apart from the case data (only the
    people working the case see them, § 35 SGB I)."""

    kind_vorname = String(required=True, validate=length(100), **_d("Vorname des Kindes"))
    kind_nachname = String(required=True, validate=length(100), **_d("Nachname des Kindes"))
    kind_geburtsdatum = Date(required=True, **_d("Geburtsdatum des Kindes"))
    erziehungsberechtigte = String(allow_none=True, validate=length(200), **_d(
        "Name(n) der Erziehungsberechtigten, an die der Bescheid geht (Anschrift: alle vier Felder oder keines)"))
    strasse = String(allow_none=True, validate=length(200), **_d("Straße und Hausnummer"))
    plz = String(allow_none=True, validate=[validate.Length(max=5, error="Bitte fünf Ziffern angeben."),
                                            pattern("^[0-9]{5}$", "Bitte fünf Ziffern angeben.")],
                 **_d("Postleitzahl"))
    ort = String(allow_none=True, validate=length(100), **_d("Ort"))


class PersonSchema(PersonArgs):
    id = Integer(required=True, **_d("Nummer der Person (Pseudonym)"))


class StartCaseArgs(Schema):
    process_id = String(required=True, validate=length(200), **_d("Verfahren (process_id des Modells)"))
    business_key = String(required=True, validate=[length(100), pattern(
        BUSINESS_KEY, "Das Aktenzeichen braucht ein sichtbares Zeichen und darf keine Steuerzeichen und "
                      "keines der Zeichen / \\ ? # % enthalten (es ist Teil von Adressen der API).")],
                          **_d("Aktenzeichen, unter dem der Vorgang geführt wird (eindeutig)"))
    data = JSONData(load_default=dict, **_d("Startdaten des Vorgangs (Feldname → Wert; Texte bis 100.000 Zeichen, "
                                           "insgesamt bis 1.000.000 Zeichen)"))
    title = String(load_default="", validate=length(300, 0), **_d("Titel (sonst der Name des Verfahrens)"))
    parties = Nested(PartiesSchema, load_default=dict, **_d("Beteiligte Organisationen"))
    person = Nested(PersonArgs, load_default=None, **_d(
        "Kind und Anschrift der Erziehungsberechtigten (nur bei Vorgängen über ein Kind)"))


class TaskRefSchema(Schema):
    task_id = String(required=True, **_d("ID der Aufgabe"))
    name = String(required=True, **_d("Element-ID im Modell"))
    title = String(required=True, **_d("Bezeichnung"))
    lane = String(allow_none=True, **_d("Gruppe (Lane), die sie bearbeitet"))
    form = String(allow_none=True, **_d("Formular (JSON Schema) der Aufgabe"))


class CaseRefSchema(Schema):
    id = Integer(required=True)
    business_key = String(required=True, **_d("Aktenzeichen"))
    process_id = String(required=True, **_d("Verfahren"))
    status = String(required=True, **_d("Zustand des Vorgangs: running, completed oder error"))
    version = Integer(required=True, **_d("Versionszähler des Vorgangs"))
    open_tasks = List(Nested(TaskRefSchema), required=True, **_d("Aufgaben, die jetzt anstehen"))


class CaseListArgs(PageArgs):
    process_id = String(validate=length(200), **_d("Nur Vorgänge dieses Verfahrens"))
    status = String(validate=one_of(CASE_STATUSES), **_d("Nur Vorgänge in diesem Zustand"))
    search = String(validate=length(100), **_d("Suche in Aktenzeichen, Titel und Beteiligten"))


class CaseSummarySchema(Schema):
    id = Integer(required=True)
    business_key = String(required=True, **_d("Aktenzeichen"))
    process_id = String(required=True)
    title = String(required=True)
    parties = Dict(keys=String(), values=String(), required=True, **_d("Beteiligte Organisationen"))
    status = String(required=True, **_d("running, completed oder error"))
    error = String(allow_none=True, **_d("Fehlermeldung, wenn der Vorgang im Fehlerzustand ist"))
    version = Integer(required=True)
    model_version_id = Integer(required=True, **_d("Modellversion, nach der der Vorgang läuft"))
    created_at = DateTime(required=True)
    updated_at = DateTime(required=True)


CasePageSchema = _page_of(CaseSummarySchema, "CasePageSchema")


class DeadlineSchema(Schema):
    key = String(required=True, **_d("Schlüssel der Frist im Vorgang"))
    rule = String(required=True, **_d("Fristregel (siehe `fristen --list`)"))
    title = String(required=True)
    legal_basis = String(required=True, **_d("Rechtsgrundlage"))
    event = Date(required=True, **_d("Ereignistag, ab dem die Frist läuft"))
    end = Date(required=True, **_d("Kalendarisches Fristende"))
    shifted_end = Date(required=True, **_d("Fristende nach § 26 Abs. 3 SGB X / § 193 BGB"))
    explanation = String(required=True, **_d("Erläuterung der Berechnung"))
    reading = String(allow_none=True, **_d("Gewählte Lesart bei unsicherer Rechtslage"))
    soll = Boolean(required=True, **_d("Soll-Frist (nicht zwingend)"))
    status = String(required=True, **_d("laufend, erfuellt oder entfallen"))
    met_on = Date(allow_none=True, **_d("Tag, an dem die Frist erfüllt wurde"))


class DocumentSchema(Schema):
    id = Integer(required=True)
    name = String(required=True, **_d("Dateiname"))
    kind = String(required=True, **_d("upload oder bescheid"))
    content_type = String(required=True)
    size = Integer(required=True, **_d("Größe in Bytes"))
    sha256 = String(required=True)
    task_id = String(allow_none=True, **_d("Aufgabe, mit der das Dokument kam"))
    uploaded_by = String(required=True)
    uploaded_at = DateTime(required=True)


class CommentSchema(Schema):
    id = Integer(required=True)
    author = String(required=True)
    at = DateTime(required=True)
    text = String(required=True)


class HistorySchema(Schema):
    id = Integer(required=True)
    at = DateTime(required=True)
    actor = String(required=True, **_d("Wer (Benutzer, Timer-Worker, System)"))
    action = String(required=True, **_d("Art des Eintrags, z. B. aufgabe_erledigt"))
    action_label = String(required=True, **_d("Art des Eintrags auf Deutsch"))
    task_id = String(allow_none=True)
    details = JSONObject(required=True)


class CaseSchema(CaseRefSchema):
    title = String(required=True)
    error = String(allow_none=True)
    parties = Dict(keys=String(), values=String(), required=True)
    model_version_id = Integer(required=True)
    data = JSONObject(required=True, **_d("Aktuelle Daten des Vorgangs"))
    deadlines = List(Nested(DeadlineSchema), required=True, **_d("Alle Fristen des Vorgangs"))
    documents = List(Nested(DocumentSchema), required=True, **_d("Dokumente (nur Metadaten)"))
    comments = List(Nested(CommentSchema), required=True)
    history = List(Nested(HistorySchema), required=True, **_d("Vollständiger Verlauf"))
    person = Nested(PersonSchema, allow_none=True, required=True, **_d(
        "Kind und Erziehungsberechtigte (null bei Vorgängen, die kein Kind betreffen); das Lesen wird protokolliert"))
    accesses = List(Nested(HistorySchema), required=True, **_d(
        "Zugriffe auf die Akte (Einsicht, Dokumente, Auskunft), auch im Verlauf enthalten"))
    closed_at = DateTime(allow_none=True, required=True, **_d("Abschluss; ab hier läuft die Aufbewahrungsfrist"))


class EventArgs(Schema):
    name = String(required=True, validate=length(200), **_d("Name des Signals bzw. der Nachricht im Modell"))
    payload = JSONData(load_default=dict, **_d("Daten, die der Vorgang übernimmt (Feldname → Wert; Texte bis "
                                              "100.000 Zeichen, insgesamt bis 1.000.000 Zeichen)"))


class CommentArgs(Schema):
    text = String(required=True, validate=length(5000), **_d("Kommentar (höchstens 5000 Zeichen)"))


class UploadArgs(Schema):
    datei = Upload(required=True, **_d("Die Datei (PDF, PNG, JPEG, Text, Word, ODT; höchstens 10 MB); "
                                       "ihr Typ kommt aus dem Content-Type des Dateiteils", minLength=1))


# --- tasks -----------------------------------------------------------------------------

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


# --- models ------------------------------------------------------------------------------

class ModelListItemSchema(Schema):
    id = Integer(required=True)
    process_id = String(required=True)
    version = Integer(required=True)
    name = String(required=True)
    sha256 = String(required=True)
    deployed_at = DateTime(required=True)
    deployed_by = String(required=True)
    running = Integer(required=True, **_d("Laufende Vorgänge dieser Version"))


class DeployedModelSchema(Schema):
    id = Integer(required=True)
    process_id = String(required=True)
    version = Integer(required=True)
    name = String(required=True)
    sha256 = String(required=True)
    deployed_at = DateTime(required=True)
    deployed_by = String(required=True)


class DeployQueryArgs(Schema):
    main = String(validate=length(255), **_d("Die bereitzustellende BPMN-Datei, wenn mehrere hochgeladen werden"))


class DeployFilesArgs(Schema):
    dateien = List(Upload(), required=True, validate=validate.Length(min=1, error="Bitte mindestens eine Datei."),
                   **_d("BPMN-Datei(en) und die JSON-Formulare ihrer Aufgaben"))


# --- deadlines --------------------------------------------------------------------------

BOARD_STATES = ("laufend", "bald_faellig", "ueberfaellig", "erfuellt", "verspaetet_erfuellt", "entfallen")


class DeadlineListArgs(PageArgs):
    process_id = String(validate=length(200), **_d("Nur Fristen dieses Verfahrens"))
    organisation = String(validate=length(200), **_d("Nur Vorgänge, an denen diese Organisation beteiligt ist"))
    state = String(validate=one_of(BOARD_STATES), **_d("Stand der Frist (ohne: alle offenen)"))
    due_from = Date(**_d("Verschobenes Fristende frühestens an diesem Tag"))
    due_to = Date(**_d("Verschobenes Fristende spätestens an diesem Tag"))
    soon_days = Integer(load_default=14, validate=between(0, 365), **_d("Tage, ab denen eine Frist „bald fällig“ ist"))
    per_page = Integer(load_default=50, validate=between(1, 100), **_d("Einträge je Seite (höchstens 100)"))


class BoardRowSchema(Schema):
    business_key = String(required=True)
    process_id = String(required=True)
    case_title = String(required=True)
    key = String(required=True)
    rule = String(required=True)
    title = String(required=True)
    legal_basis = String(required=True)
    event_date = Date(required=True)
    end_date = Date(required=True, **_d("Kalendarisches Fristende"))
    shifted_end = Date(required=True, **_d("Verschobenes Fristende (§ 26 Abs. 3 SGB X)"))
    explanation = String(required=True)
    reading = String(allow_none=True)
    soll = Boolean(required=True)
    status = String(required=True, **_d("laufend, erfuellt oder entfallen (gespeicherter Stand)"))
    met_on = Date(allow_none=True)
    state = String(required=True, **_d("Stand heute: " + ", ".join(BOARD_STATES)))
    days_left = Integer(required=True, **_d("Kalendertage bis zum verschobenen Fristende"))
    working_days_left = Integer(required=True, **_d("Arbeitstage (NRW) bis zum verschobenen Fristende"))
    lane = String(allow_none=True, **_d("Gruppe der Aufgabe, die auf die Frist hinarbeitet"))
    organisation = String(allow_none=True, **_d("Zuständige Organisation"))
    claimed_by = String(allow_none=True)
    escalated = Boolean(**_d("Bei der Leitung eskaliert"))
    parties = Dict(keys=String(), values=String())


BoardPageSchema = _page_of(BoardRowSchema, "BoardPageSchema")


# --- clock and system ---------------------------------------------------------------------

class ClockSchema(Schema):
    now = DateTime(required=True, **_d("Jetzt (simuliert oder echt), UTC"))
    simulated = Boolean(required=True, **_d("Ob die Simulationsuhr gestellt ist"))
    frozen = Boolean(required=True, **_d("Ob die simulierte Zeit angehalten ist"))


class ClockArgs(Schema):
    # years outside 2000–2099 would overflow deadline arithmetic and mean nothing here
    now = String(required=True, validate=[length(40), pattern(MOMENT, "Bitte einen Zeitpunkt von 2000 bis 2099 "
                                                              "im Format JJJJ-MM-TTTHH:MM[:SS][Z|±HH:MM] angeben.")],
                 **_d("Neuer Zeitpunkt (2000–2099), z. B. 2027-03-01T09:00; ohne Zeitzone gilt deutsche Zeit"))
    frozen = Boolean(load_default=False, **_d("Zeit anhalten (true) oder ab dort weiterlaufen lassen"))


class HealthSchema(Schema):
    status = String(required=True, **_d("ok"))


class MeSchema(Schema):
    username = String(required=True)
    groups = List(String(), required=True)
    organisation = String(allow_none=True)
