"""Data protection page of the Administration: information about one person's data (Art. 15
DSGVO, § 83 SGB X) as a JSON download, and which closed cases the next deletion run removes."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from workflows import policy, privacy
from workflows.domain import DomainError

from .. import services

ADMIN_ONLY = "Nur die Administration darf Auskünfte über gespeicherte Personendaten erstellen (Art. 15 DSGVO)."

bp = Blueprint("privacy", __name__, url_prefix="/datenschutz")


@bp.route("/")
@login_required
def index():
    policy.require(policy.may_export_person(current_user.actor), ADMIN_ONLY)
    days = current_app.config["RETENTION_DAYS"]
    cutoff, due = services().due_for_deletion(days)
    return render_template("privacy/index.html", retention_days=days, cutoff=cutoff, due=[key for _id, key in due])


@bp.route("/auskunft", methods=["POST"])
@login_required
def export():
    """The export as a download; creating it is recorded in each of the person's cases."""
    actor = current_user.actor
    policy.require(policy.may_export_person(actor), ADMIN_ONLY)
    key = request.form.get("aktenzeichen", "").strip()[:100]
    if not key:
        flash("Bitte geben Sie das Aktenzeichen eines Vorgangs der Person an.", "error")
        return redirect(url_for("privacy.index"))
    try:
        person_id = services().person_of_case(key, actor)
        data = privacy.export_json(services().export_person(person_id, actor))
    except DomainError as err:
        flash(err.message, "error")
        return redirect(url_for("privacy.index"))
    response = Response(data, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="auskunft-person-{person_id}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response
