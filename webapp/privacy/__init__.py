"""Data protection page of the Administration: information about one person's data (Art. 15
DSGVO, § 83 SGB X) as a JSON download, and which closed cases the next deletion run removes."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from workflows import privacy
from workflows.domain import DomainError

from .. import services

bp = Blueprint("privacy", __name__, url_prefix="/datenschutz")


@bp.route("/")
@login_required
def index():
    privacy.require_admin(current_user.actor)
    days = current_app.config["RETENTION_DAYS"]
    cutoff, due = privacy.due_for_deletion(services(), days)
    return render_template("privacy/index.html", retention_days=days, cutoff=cutoff, due=[key for _id, key in due])


@bp.route("/auskunft", methods=["POST"])
@login_required
def export():
    """The export as a download; creating it is recorded in each of the person's cases."""
    actor = current_user.actor
    privacy.require_admin(actor)
    key = request.form.get("aktenzeichen", "").strip()[:100]
    if not key:
        flash("Bitte geben Sie das Aktenzeichen eines Vorgangs der Person an.", "error")
        return redirect(url_for("privacy.index"))
    try:
        person_id = privacy.person_of_case(services(), key, actor)
        data = privacy.export_json(privacy.export_person(services(), person_id, actor))
    except DomainError as err:
        flash(err.message, "error")
        return redirect(url_for("privacy.index"))
    response = Response(data, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="auskunft-person-{person_id}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response
