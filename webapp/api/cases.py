"""Cases (Vorgänge): start, list, read; signals, messages, comments and documents."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import PurePosixPath, PureWindowsPath

from flask import Response, url_for

from workflows.domain import InvalidInput, NotFound
from workflows.services import ALLOWED_DOCUMENT_TYPES, NewDocument

from ..cases import ACTIONS
from ..downloads import attachment
from .common import ApiBlueprint, accepts, actor, services
from .schemas import (CaseListArgs, CasePageSchema, CaseRefSchema, CaseSchema, CommentArgs, EventArgs,
                      Integer, Schema, StartCaseArgs, String, UploadArgs)

bp = ApiBlueprint("api_cases", __name__, tag="Vorgänge", url_prefix="/cases",
                  description="Vorgänge anlegen, suchen und lesen; Signale, Nachrichten, Kommentare "
                              "und Dokumente. Sichtbar sind nur Vorgänge, an denen die eigene "
                              "Organisation beteiligt ist.")

KEY = "/<string(maxlength=100):business_key>"


class DocumentCreatedSchema(Schema):
    id = Integer(required=True)
    name = String(required=True)
    content_type = String(required=True)
    size = Integer(required=True)


def checked_key(business_key: str) -> str:
    """An Aktenzeichen from a path; control characters cannot be part of one."""
    if any(ord(c) < 32 or ord(c) == 127 for c in business_key):
        raise NotFound(f"Einen Vorgang mit dem Aktenzeichen {business_key!r} gibt es nicht.")
    return business_key


@bp.route("", methods=["GET"])
@bp.query(CaseListArgs)
@bp.response(200, CasePageSchema)
@bp.errors(401)
def list_cases(args):
    """Vorgänge auflisten

    Seitenweise, zuletzt geänderte zuerst, gefiltert nach Verfahren, Zustand und Suchbegriff
    (Aktenzeichen, Titel, Beteiligte). Liest nur die Vorgangstabelle."""
    items, total = services().cases_page(actor(), process_id=args.get("process_id"), status=args.get("status"),
                                         search=args.get("search"), page=args["page"], per_page=args["per_page"])
    return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}


@bp.route("", methods=["POST"])
@accepts("json")
@bp.arguments(StartCaseArgs)
@bp.response(201, CaseRefSchema, description="Der Vorgang wurde angelegt")
@bp.errors(400, 401, 403, 404, 409, 413, 415)
def start_case(args):
    """Vorgang anlegen

    Startet die neueste Version eines Verfahrens unter einem Aktenzeichen. 404, wenn für das
    Verfahren kein Modell bereitgestellt ist; 409, wenn das Aktenzeichen vergeben ist; 403,
    wenn keine der eigenen Gruppen im Verfahren vorkommt. Name, Geburtsdatum und Anschrift gehören
    nur in `person` (getrennt gespeichert), nie in `data` oder `title`."""
    ref = services().start_case(args["process_id"], args["business_key"], args["data"], actor(),
                                title=args["title"], parties=args["parties"], person=args["person"])
    return asdict(ref), 201, {"Location": url_for(".get_case", business_key=ref.business_key)}


@bp.route(KEY, methods=["GET"])
@bp.response(200, CaseSchema)
@bp.errors(401, 403, 404)
def get_case(business_key: str):
    """Vorgang lesen

    Zustand, aktuelle Aufgaben, alle Fristen (mit kalendarischem und verschobenem Ende,
    Rechtsgrundlage und Erläuterung), Dokumente (nur Metadaten), Kommentare und Verlauf."""
    case = services().case(checked_key(business_key), actor())
    case["deadlines"] = [{"key": d.key, **asdict(d.frist), "status": d.status.value, "met_on": d.met_on}
                         for d in case["deadlines"]]
    case["history"] = [{**h, "action_label": ACTIONS.get(h["action"], h["action"])} for h in case["history"]]
    case["accesses"] = [{**h, "action_label": ACTIONS.get(h["action"], h["action"])} for h in case["accesses"]]
    return case


@bp.route(KEY + "/signals", methods=["POST"])
@accepts("json")
@bp.arguments(EventArgs)
@bp.response(200, CaseRefSchema, description="Der Vorgang hat das Signal empfangen")
@bp.errors(400, 401, 403, 404, 409, 413, 415)
def send_signal(args, business_key: str):
    """Signal an einen Vorgang senden

    409, wenn der Vorgang gerade nicht auf dieses Signal wartet."""
    ref = services().send_signal(checked_key(business_key), args["name"], args["payload"], actor())
    return asdict(ref)


@bp.route(KEY + "/messages", methods=["POST"])
@accepts("json")
@bp.arguments(EventArgs)
@bp.response(200, CaseRefSchema, description="Der Vorgang hat die Nachricht empfangen")
@bp.errors(400, 401, 403, 404, 409, 413, 415)
def send_message(args, business_key: str):
    """Nachricht an einen Vorgang senden

    409, wenn der Vorgang gerade nicht auf diese Nachricht wartet."""
    ref = services().send_message(checked_key(business_key), args["name"], args["payload"], actor())
    return asdict(ref)


@bp.route(KEY + "/comments", methods=["POST"])
@accepts("json")
@bp.arguments(CommentArgs)
@bp.response(204, description="Der Kommentar wurde gespeichert")
@bp.errors(400, 401, 403, 404, 413, 415)
def add_comment(args, business_key: str):
    """Kommentar zur Akte schreiben

    Der Kommentar erscheint in der Akte mit Verfasserin und Zeitpunkt und wird im Verlauf vermerkt."""
    services().add_comment(checked_key(business_key), args["text"], actor())
    return Response(status=204)


@bp.route(KEY + "/documents", methods=["POST"])
@accepts("multipart")
@bp.doc(requestBody={"content": {"multipart/form-data": {"encoding": {
    "datei": {"contentType": ", ".join(sorted(ALLOWED_DOCUMENT_TYPES))}}}}})
@bp.arguments(UploadArgs, location="files")
@bp.response(201, DocumentCreatedSchema, description="Das Dokument wurde gespeichert")
@bp.errors(401, 403, 404, 413, 415)
def upload_document(args, business_key: str):
    """Dokument hochladen

    multipart/form-data mit dem Feld `datei`. Erlaubt sind PDF, PNG, JPEG, Text, Word und ODT
    bis 10 MB (sonst 422); der Typ kommt aus dem Content-Type des Dateiteils."""
    upload = args["datei"]
    name = PureWindowsPath(PurePosixPath(upload.filename or "").name).name
    if any(ord(c) < 32 for c in name):
        raise InvalidInput("Ungültiger Dateiname.", field="datei")
    document = NewDocument(name, upload.mimetype, upload.read())
    document_id = services().add_document(checked_key(business_key), document, actor())
    body = {"id": document_id, "name": document.name, "content_type": document.content_type,
            "size": len(document.content)}
    return body, 201, {"Location": url_for(".download_document", business_key=business_key,
                                           document_id=document_id)}


_DOWNLOAD_TYPES = sorted(ALLOWED_DOCUMENT_TYPES | {"application/pdf"})


@bp.route(KEY + "/documents/<int(max=2147483647):document_id>", methods=["GET"])
@bp.doc(responses={200: {"description": "Der Inhalt des Dokuments (Lesen wird protokolliert)",
                         "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                     for t in _DOWNLOAD_TYPES}}})
@bp.errors(401, 403, 404)
def download_document(business_key: str, document_id: int):
    """Dokument herunterladen

    Der Zugriff wird im Verlauf der Akte vermerkt (§ 35 SGB I)."""
    doc = services().document(checked_key(business_key), document_id, actor())
    response = Response(doc["content"], mimetype=doc["content_type"])
    response.headers["Content-Disposition"] = attachment(doc["name"])
    return response
