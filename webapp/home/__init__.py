"""The start page (the inbox) and the health check."""
from __future__ import annotations

from flask import Blueprint, jsonify, redirect, url_for
from flask_login import login_required

from .. import services

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    return redirect(url_for("inbox.index"))


@bp.route("/health")
def health():
    """For load balancers: says only whether the database answers."""
    services().healthy()
    return jsonify(status="ok")
