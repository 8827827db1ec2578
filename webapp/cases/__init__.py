"""The case file (Akte): diagram with the current position, the child and the guardians'
address (child cases), deadlines, documents, comments, the history and the accesses."""
from __future__ import annotations

from pathlib import Path

from flask import (Blueprint, Response, abort, flash, redirect, render_template, request,
                   send_from_directory, url_for)
from flask_login import current_user, login_required

from workflows import privacy
from workflows.domain import CHILD_PROCEDURES, Conflict, InvalidInput
from workflows.services import NewDocument

from .. import services
from ..downloads import attachment
from ..board.chart import case_timeline

bp = Blueprint("cases", __name__)

ACTIONS = {
    "vorgang_angelegt": "Vorgang angelegt", "aufgabe_erledigt": "Aufgabe erledigt",
    "aufgabe_uebernommen": "Aufgabe übernommen", "aufgabe_zurueckgegeben": "Aufgabe zurückgegeben",
    "aufgabe_uebergeben": "Aufgabe übergeben", "timer_ausgeloest": "Frist/Timer ausgelöst",
    "signal_empfangen": "Signal empfangen", "nachricht_empfangen": "Nachricht empfangen",
    "kommentar": "Kommentar", "dokument_hochgeladen": "Dokument hochgeladen",
    "dokument_gelesen": "Dokument geöffnet", "fehler": "Fehler", "akte_gelesen": "Akte geöffnet",
    "akte_eingesehen": "Akte eingesehen", "personendaten_geaendert": "Personendaten berichtigt",
    "daten_exportiert": "Auskunft erstellt (Art. 15 DSGVO)", "vorgang_geloescht": "Vorgang gelöscht",
    "vorgang_umgestellt": "Auf neue Modellversion umgestellt",
    "vorgang_erneut_angestossen": "Vorgang erneut angestoßen", "vorgang_beendet": "Vorgang beendet",
    "beteiligte_ergaenzt": "Beteiligte Organisationen ergänzt",
}

#: the parties a process owner may fill in for a case that lacks them
PARTY_FIELDS = ("egh", "krankenkasse", "leistungserbringer")

@bp.route("/akten/<business_key>")
@login_required
def show(business_key: str):
    workflows = services()
    case = workflows.case(business_key, current_user.actor)
    today = workflows.today()
    active = [t["name"] for t in case["open_tasks"]]
    steps, _accesses = privacy.split_history(case["history"])
    return render_template("cases/show.html", case=case, today=today, actions=ACTIONS, active=active,
                           timeline=case_timeline(case["deadlines"], today), steps=steps,
                           person_fields=privacy.PERSON_FIELDS,
                           child_case=case["person"] is not None or case["process_id"] in CHILD_PROCEDURES)


@bp.route("/akten/<business_key>/diagramm.bpmn")
@login_required
def diagram(business_key: str):
    return Response(services().case_model_xml(business_key, current_user.actor), mimetype="application/xml")


@bp.route("/akten/<business_key>/person", methods=["POST"])
@login_required
def person(business_key: str):
    """Correct the child's data or the guardians' address (Art. 16 DSGVO)."""
    values = {name: request.form.get(name, "") for name in privacy.PERSON_FIELDS}
    try:
        changed = services().update_person(business_key, values, current_user.actor)
        flash("Personendaten gespeichert." if changed else "Keine Änderung.", "info")
    except InvalidInput as err:
        flash(err.message, "error")
    return redirect(url_for("cases.show", business_key=business_key) + "#person")


@bp.route("/akten/<business_key>/erneut-anstossen", methods=["POST"])
@login_required
def retry(business_key: str):
    """A process owner runs a failed case again after a model fix or a version move."""
    try:
        status = services().retry_failed_case(business_key, current_user.actor)
        flash(f"Vorgang {business_key} läuft wieder." if status != "error" else
              f"Vorgang {business_key} ist erneut fehlgeschlagen; der Grund steht in der Übersicht.",
              "info" if status != "error" else "error")
    except (InvalidInput, Conflict) as err:
        flash(err.message, "error")
    return redirect(url_for("board.index") + "#angehalten")


@bp.route("/akten/<business_key>/beteiligte", methods=["POST"])
@login_required
def complete_parties(business_key: str):
    """A process owner names the organisations a case started without (flagged by migration 0007)."""
    try:
        services().complete_parties(business_key, {party: request.form.get(party, "") for party in PARTY_FIELDS},
                                    current_user.actor)
        flash(f"Beteiligte von {business_key} ergänzt; der Vorgang kann jetzt erneut angestoßen werden.", "info")
    except (InvalidInput, Conflict) as err:
        flash(err.message, "error")
    return redirect(url_for("board.index") + "#angehalten")


@bp.route("/akten/<business_key>/beenden", methods=["POST"])
@login_required
def close(business_key: str):
    """Leitung ends a failed case for good, with a reason."""
    try:
        services().close_failed_case(business_key, request.form.get("begruendung", ""), current_user.actor)
        flash(f"Vorgang {business_key} beendet.", "info")
    except (InvalidInput, Conflict) as err:
        flash(err.message, "error")
    return redirect(url_for("board.index") + "#angehalten")


@bp.route("/akten/<business_key>/kommentare", methods=["POST"])
@login_required
def comment(business_key: str):
    try:
        services().add_comment(business_key, request.form.get("text", ""), current_user.actor)
        flash("Kommentar gespeichert.", "info")
    except InvalidInput as err:
        flash(err.message, "error")
    return redirect(url_for("cases.show", business_key=business_key) + "#kommentare")


@bp.route("/akten/<business_key>/dokumente", methods=["POST"])
@login_required
def upload(business_key: str):
    upload = request.files.get("datei")
    if upload is None or not upload.filename:
        flash("Bitte wählen Sie eine Datei aus.", "error")
    else:
        try:
            services().add_document(business_key, NewDocument(Path(upload.filename).name, upload.mimetype,
                                                              upload.read()), current_user.actor)
            flash(f"Dokument „{upload.filename}“ gespeichert.", "info")
        except InvalidInput as err:
            flash(err.message, "error")
    return redirect(url_for("cases.show", business_key=business_key) + "#dokumente")


@bp.route("/akten/<business_key>/dokumente/<int:document_id>")
@login_required
def document(business_key: str, document_id: int):
    doc = services().document(business_key, document_id, current_user.actor)
    response = Response(doc["content"], mimetype=doc["content_type"])
    response.headers["Content-Disposition"] = attachment(doc["name"])
    return response


VENDOR = Path(__file__).resolve().parents[2] / "node_modules"
VENDOR_FILES = {
    "bpmn-js/bpmn-navigated-viewer.js": "bpmn-js/dist/bpmn-navigated-viewer.production.min.js",
    "bpmn-js/diagram-js.css": "bpmn-js/dist/assets/diagram-js.css",
    "bpmn-js/bpmn-js.css": "bpmn-js/dist/assets/bpmn-js.css",
}


@bp.route("/vendor/<path:name>")
@login_required
def vendor(name: str):
    """Front-end packages installed from the npm registry (`make` runs npm ci)."""
    if name not in VENDOR_FILES:
        abort(404)
    target = VENDOR / VENDOR_FILES[name]
    return send_from_directory(target.parent, target.name, max_age=3600)
