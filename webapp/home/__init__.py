"""The start page: the user's open tasks from the task index."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_login import current_user, login_required

from workflows import clock as clock_module

from .. import services

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    workflows = services()
    actor = current_user.actor
    with clock_module.using(workflows.clock):
        today = clock_module.today()
    return render_template("home/index.html", mine=workflows.inbox(actor, mine=True),
                           groups=workflows.inbox(actor), today=today)


@bp.route("/health")
def health():
    """For load balancers: says only whether the database answers."""
    workflows = services()
    with workflows.store.read() as conn:
        conn.exec_driver_sql("SELECT 1")
    return jsonify(status="ok")
