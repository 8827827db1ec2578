"""Schemas of /cases: starting, listing and reading cases, the person, events, comments, uploads."""
from __future__ import annotations

from marshmallow import validate

from .common import PageArgs, page_of
from .fields import (BUSINESS_KEY, Boolean, Date, DateTime, Dict, Integer, JSONData, JSONObject, List, Nested,
                     Schema, String, Upload, described, length, one_of, pattern)

CASE_STATUSES = ("running", "completed", "error", "cancelled")


class PartiesSchema(Schema):
    egh = String(validate=length(200), **described("Träger der Eingliederungshilfe (LVR oder LWL)"))
    krankenkasse = String(validate=length(200), **described("Krankenkasse"))
    leistungserbringer = String(validate=length(200), **described("Leistungserbringer (IFF, SPZ)"))


class PersonArgs(Schema):
    """The child and the guardians' postal address; stored apart from the case data (only the
    people working the case see them, § 35 SGB I)."""

    kind_vorname = String(required=True, validate=length(100), **described("Vorname des Kindes"))
    kind_nachname = String(required=True, validate=length(100), **described("Nachname des Kindes"))
    kind_geburtsdatum = Date(required=True, **described("Geburtsdatum des Kindes"))
    erziehungsberechtigte = String(allow_none=True, validate=length(200), **described(
        "Name(n) der Erziehungsberechtigten, an die der Bescheid geht (Anschrift: alle vier Felder oder keines)"))
    strasse = String(allow_none=True, validate=length(200), **described("Straße und Hausnummer"))
    plz = String(allow_none=True, validate=[validate.Length(max=5, error="Bitte fünf Ziffern angeben."),
                                            pattern("^[0-9]{5}$", "Bitte fünf Ziffern angeben.")],
                 **described("Postleitzahl"))
    ort = String(allow_none=True, validate=length(100), **described("Ort"))


class PersonSchema(PersonArgs):
    id = Integer(required=True, **described("Nummer der Person (Pseudonym)"))


class StartCaseArgs(Schema):
    process_id = String(required=True, validate=length(200), **described("Verfahren (process_id des Modells)"))
    business_key = String(required=True, validate=[length(100), pattern(
        BUSINESS_KEY, "Das Aktenzeichen braucht ein sichtbares Zeichen und darf keine Steuerzeichen und "
                      "keines der Zeichen / \\ ? # % enthalten (es ist Teil von Adressen der API).")],
                          **described("Aktenzeichen, unter dem der Vorgang geführt wird (eindeutig)"))
    data = JSONData(load_default=dict, **described("Startdaten des Vorgangs (Feldname → Wert; Texte bis 100.000 Zeichen, "
                                           "insgesamt bis 1.000.000 Zeichen)"))
    title = String(load_default="", validate=length(300, 0), **described("Titel (sonst der Name des Verfahrens)"))
    parties = Nested(PartiesSchema, load_default=dict, **described("Beteiligte Organisationen"))
    person = Nested(PersonArgs, load_default=None, **described(
        "Kind und Anschrift der Erziehungsberechtigten (nur bei Vorgängen über ein Kind)"))


class TaskRefSchema(Schema):
    task_id = String(required=True, **described("ID der Aufgabe"))
    name = String(required=True, **described("Element-ID im Modell"))
    title = String(required=True, **described("Bezeichnung"))
    lane = String(allow_none=True, **described("Gruppe (Lane), die sie bearbeitet"))
    form = String(allow_none=True, **described("Formular (JSON Schema) der Aufgabe"))


class CaseRefSchema(Schema):
    id = Integer(required=True)
    business_key = String(required=True, **described("Aktenzeichen"))
    process_id = String(required=True, **described("Verfahren"))
    status = String(required=True, **described("Zustand des Vorgangs: running, completed oder error"))
    version = Integer(required=True, **described("Versionszähler des Vorgangs"))
    open_tasks = List(Nested(TaskRefSchema), required=True, **described("Aufgaben, die jetzt anstehen"))


class CaseListArgs(PageArgs):
    process_id = String(validate=length(200), **described("Nur Vorgänge dieses Verfahrens"))
    status = String(validate=one_of(CASE_STATUSES), **described("Nur Vorgänge in diesem Zustand"))
    search = String(validate=length(100), **described("Suche in Aktenzeichen, Titel und Beteiligten"))


class CaseSummarySchema(Schema):
    id = Integer(required=True)
    business_key = String(required=True, **described("Aktenzeichen"))
    process_id = String(required=True)
    title = String(required=True)
    parties = Dict(keys=String(), values=String(), required=True, **described("Beteiligte Organisationen"))
    status = String(required=True, **described("running, completed oder error"))
    error = String(allow_none=True, **described("Fehlermeldung, wenn der Vorgang im Fehlerzustand ist"))
    version = Integer(required=True)
    model_version_id = Integer(required=True, **described("Modellversion, nach der der Vorgang läuft"))
    created_at = DateTime(required=True)
    updated_at = DateTime(required=True)


CasePageSchema = page_of(CaseSummarySchema, "CasePageSchema")


class DeadlineSchema(Schema):
    key = String(required=True, **described("Schlüssel der Frist im Vorgang"))
    rule = String(required=True, **described("Fristregel (siehe `fristen --list`)"))
    title = String(required=True)
    legal_basis = String(required=True, **described("Rechtsgrundlage"))
    event = Date(required=True, **described("Ereignistag, ab dem die Frist läuft"))
    end = Date(required=True, **described("Kalendarisches Fristende"))
    shifted_end = Date(required=True, **described("Fristende nach § 26 Abs. 3 SGB X / § 193 BGB"))
    explanation = String(required=True, **described("Erläuterung der Berechnung"))
    reading = String(allow_none=True, **described("Gewählte Lesart bei unsicherer Rechtslage"))
    soll = Boolean(required=True, **described("Soll-Frist (nicht zwingend)"))
    status = String(required=True, **described("laufend, erfuellt oder entfallen"))
    met_on = Date(allow_none=True, **described("Tag, an dem die Frist erfüllt wurde"))


class DocumentSchema(Schema):
    id = Integer(required=True)
    name = String(required=True, **described("Dateiname"))
    kind = String(required=True, **described("upload oder bescheid"))
    content_type = String(required=True)
    size = Integer(required=True, **described("Größe in Bytes"))
    sha256 = String(required=True)
    task_id = String(allow_none=True, **described("Aufgabe, mit der das Dokument kam"))
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
    actor = String(required=True, **described("Wer (Benutzer, Timer-Worker, System)"))
    action = String(required=True, **described("Art des Eintrags, z. B. aufgabe_erledigt"))
    action_label = String(required=True, **described("Art des Eintrags auf Deutsch"))
    task_id = String(allow_none=True)
    details = JSONObject(required=True)


class CaseSchema(CaseRefSchema):
    title = String(required=True)
    error = String(allow_none=True)
    parties = Dict(keys=String(), values=String(), required=True)
    model_version_id = Integer(required=True)
    data = JSONObject(required=True, **described("Aktuelle Daten des Vorgangs"))
    deadlines = List(Nested(DeadlineSchema), required=True, **described("Alle Fristen des Vorgangs"))
    documents = List(Nested(DocumentSchema), required=True, **described("Dokumente (nur Metadaten)"))
    comments = List(Nested(CommentSchema), required=True)
    history = List(Nested(HistorySchema), required=True, **described("Vollständiger Verlauf"))
    person = Nested(PersonSchema, allow_none=True, required=True, **described(
        "Kind und Erziehungsberechtigte (null bei Vorgängen, die kein Kind betreffen); das Lesen wird protokolliert"))
    accesses = List(Nested(HistorySchema), required=True, **described(
        "Zugriffe auf die Akte (Einsicht, Dokumente, Auskunft), auch im Verlauf enthalten"))
    closed_at = DateTime(allow_none=True, required=True, **described("Abschluss; ab hier läuft die Aufbewahrungsfrist"))


class EventArgs(Schema):
    name = String(required=True, validate=length(200), **described("Name des Signals bzw. der Nachricht im Modell"))
    payload = JSONData(load_default=dict, **described("Daten, die der Vorgang übernimmt (Feldname → Wert; Texte bis "
                                              "100.000 Zeichen, insgesamt bis 1.000.000 Zeichen)"))


class CommentArgs(Schema):
    text = String(required=True, validate=length(5000), **described("Kommentar (höchstens 5000 Zeichen)"))


class UploadArgs(Schema):
    datei = Upload(required=True, **described("Die Datei (PDF, PNG, JPEG, Text, Word, ODT; höchstens 10 MB); "
                                       "ihr Typ kommt aus dem Content-Type des Dateiteils", minLength=1))
