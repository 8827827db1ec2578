"""Schemas of /cases: starting, listing and reading cases, the person, events, comments, uploads."""
from __future__ import annotations

from marshmallow import validate

from .common import PageArgs, _page_of
from .fields import (BUSINESS_KEY, Boolean, Date, DateTime, Dict, Integer, JSONData, JSONObject, List, Nested,
                     Schema, String, Upload, _d, length, one_of, pattern)

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
