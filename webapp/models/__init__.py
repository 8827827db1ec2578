"""Process owners: model list with versions, BPMN editor (bpmn-js Modeler with properties
panel), validation, deployment and moving running cases to a newer version (Umstellung)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from flask import (Blueprint, Response, abort, flash, jsonify, redirect, render_template, request,
                   send_from_directory, url_for)
from flask_login import current_user, login_required

from workflows import policy
from workflows.domain import DomainError, Forbidden, InvalidInput, ModelError, NotFound

from .. import services

bp = Blueprint("models", __name__, url_prefix="/modelle")

VENDOR = Path(__file__).resolve().parents[2] / "node_modules"
#: what the editor page loads from node_modules (installed by `npm ci`), nothing else
VENDOR_FILES = {
    "bpmn-js/bpmn-modeler.js": "bpmn-js/dist/bpmn-modeler.production.min.js",
    "bpmn-js/diagram-js.css": "bpmn-js/dist/assets/diagram-js.css",
    "bpmn-js/bpmn-js.css": "bpmn-js/dist/assets/bpmn-js.css",
    "bpmn-js/bpmn-font/css/bpmn.css": "bpmn-js/dist/assets/bpmn-font/css/bpmn.css",
    **{f"bpmn-js/bpmn-font/font/bpmn.{ext}": f"bpmn-js/dist/assets/bpmn-font/font/bpmn.{ext}"
       for ext in ("woff2", "woff", "ttf", "eot", "svg")},
    "properties-panel/properties-panel.js": "bpmn-js-properties-panel/dist/bpmn-js-properties-panel.umd.js",
    "properties-panel/properties-panel.css": "@bpmn-io/properties-panel/dist/assets/properties-panel.css",
}

EMPTY_DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Definitions_neu" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{pid}" name="Neues Verfahren" isExecutable="true">
    <bpmn:startEvent id="start" name="Start" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagramm">
    <bpmndi:BPMNPlane id="ebene" bpmnElement="{pid}">
      <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="180" y="160" width="36" height="36" /></bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,120}\.(bpmn|json)$")


def _owners_only() -> None:
    policy.require(policy.may_deploy(current_user.actor), "Nur Prozessverantwortliche dürfen Modelle verwalten.")


@bp.route("/")
@login_required
def index():
    return render_template("models/index.html", models=services().model_overview(current_user.actor))


@bp.route("/editor/")
@bp.route("/<process_id>/editor")
@login_required
def editor(process_id: str | None = None):
    _owners_only()
    return render_template("models/editor.html", process_id=process_id)


@bp.route("/<process_id>/quelle.json")
@login_required
def source(process_id: str):
    return jsonify(services().model_source(process_id, current_user.actor))


@bp.route("/neu/quelle.json")
@login_required
def new_source():
    _owners_only()
    return jsonify({"process_id": None, "version": None, "main": "neues_verfahren.bpmn",
                    "xml": EMPTY_DIAGRAM.replace("{pid}", "neues_verfahren"), "forms": {}, "others": {}})


def _posted_files() -> tuple[dict[str, str], str]:
    if not request.is_json:
        abort(415)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("files"), dict) or not isinstance(body.get("main"), str):
        abort(400)
    files = body["files"]
    if not all(isinstance(k, str) and _NAME.match(k) and isinstance(v, str) for k, v in files.items()):
        raise ModelError("Ungültiger Dateiname (erlaubt: Buchstaben, Ziffern, _ . -, Endung .bpmn oder .json).")
    return files, body["main"]


@bp.route("/pruefen", methods=["POST"])
@login_required
def validate():
    try:
        files, main = _posted_files()
    except ModelError as err:
        return jsonify({"problems": [{"element_id": None, "line": None, "message": err.message,
                                      "severity": "fehler", "file_name": None}]})
    return jsonify({"problems": services().validate_model(files, main, current_user.actor)})


@bp.route("/bereitstellen", methods=["POST"])
@login_required
def deploy():
    try:
        files, main = _posted_files()
        version = services().deploy_model(files, current_user.actor, main=main)
    except (ModelError, InvalidInput) as err:
        problems = err.details.get("problems") or [{"element_id": getattr(err, "element_id", None),
                                                     "line": getattr(err, "line", None),
                                                     "message": err.message, "severity": "fehler",
                                                     "file_name": getattr(err, "file_name", None)}]
        return jsonify({"problems": problems}), 422
    return jsonify({"version": version["version"], "process_id": version["process_id"],
                    "message": f"Version {version['version']} von „{version['name']}“ ist bereitgestellt.",
                    "list_url": url_for("models.index")})


@bp.route("/<process_id>/umstellung")
@login_required
def umstellung(process_id: str):
    workflows = services()
    actor = current_user.actor
    model = next((m for m in workflows.model_overview(actor) if m["process_id"] == process_id), None)
    if model is None:
        raise NotFound("Dieses Verfahren gibt es nicht.")
    cases = workflows.running_cases_of(process_id, actor)
    diff_key = request.args.get("fall")
    diff = None
    if diff_key and any(c["business_key"] == diff_key for c in cases):
        diff = workflows.model_diff(diff_key, model["latest"]["id"], actor) if \
            next(c for c in cases if c["business_key"] == diff_key)["model_version_id"] != model["latest"]["id"] else None
    return render_template("models/umstellung.html", model=model, cases=cases, diff=diff, diff_key=diff_key)


@bp.route("/<process_id>/umstellung", methods=["POST"])
@login_required
def migrate(process_id: str):
    workflows = services()
    keys = request.form.getlist("vorgang")
    if not keys:
        flash("Bitte wählen Sie mindestens einen Vorgang aus.", "error")
        return redirect(url_for("models.umstellung", process_id=process_id))
    try:
        version_id = int(request.form.get("version_id", ""))
    except ValueError:
        abort(400)
    result = workflows.migrate_cases(keys, version_id, current_user.actor)
    if result["migrated"]:
        flash(f"Umgestellt: {', '.join(result['migrated'])}.", "info")
    for key, reason in result["refused"].items():
        flash(f"{key}: {reason}", "error")
    return redirect(url_for("models.umstellung", process_id=process_id))


@bp.route("/<process_id>/testlauf", methods=["GET", "POST"])
@login_required
def test_run(process_id: str):
    """Start a throwaway case, fast-forward time, see which timers fire (no real case touched)."""
    events, error = None, None
    raw = request.form.get("daten", "{}")
    days = request.form.get("tage", 400, type=int) or 400
    if request.method == "POST":
        try:
            data = json.loads(raw or "{}")
            events = services().test_run(process_id, data if isinstance(data, dict) else {"_": data}, days,
                                         current_user.actor)
        except json.JSONDecodeError as err:
            error = f"Die Startdaten sind kein gültiges JSON: {err.msg} (Zeile {err.lineno})."
        except (Forbidden, NotFound):
            raise                               # 403 / 404 like every other page, not a form error
        except DomainError as err:
            error = err.message
    else:
        services().model_source(process_id, current_user.actor)     # 404 / 403 before showing the form
    return render_template("models/testrun.html", process_id=process_id, raw=raw, days=days, events=events,
                           error=error), (422 if error else 200)


@bp.route("/<process_id>/<int:version_id>/modell.bpmn")
@login_required
def download(process_id: str, version_id: int):
    _owners_only()
    response = Response(services().model_xml(version_id), mimetype="application/xml")
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", process_id)
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}.bpmn"'
    return response


@bp.route("/vendor/<path:name>")
@login_required
def vendor(name: str):
    """bpmn-js Modeler and properties panel from node_modules (allow-listed files only)."""
    if name not in VENDOR_FILES:
        abort(404)
    target = VENDOR / VENDOR_FILES[name]
    return send_from_directory(target.parent, target.name, max_age=3600)
