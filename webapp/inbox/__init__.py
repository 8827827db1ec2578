"""The caseworkers' inbox: task lists, task forms, claim / release / hand over."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from workflows.domain import Conflict, InvalidInput, NotFound
from workflows.forms import form_title
from workflows.services import NewDocument

from .. import forms, services

bp = Blueprint("inbox", __name__, url_prefix="/aufgaben")

DUE_FILTERS = {"": "alle", "overdue": "überfällig", "soon": "fällig in den nächsten Tagen"}


@bp.route("/")
@login_required
def index():
    args = request.args
    mine = args.get("ansicht") == "meine"
    page = args.get("seite", 1, type=int) or 1
    soon_days = min(max(args.get("tage", 7, type=int) or 7, 1), 365)
    workflows = services()
    tasks, total = workflows.inbox_page(
        current_user.actor, mine=mine, process_id=args.get("verfahren"), due=args.get("faellig"),
        soon_days=soon_days, organisation=args.get("organisation"), search=args.get("suche"), page=page)
    today = workflows.today()
    return render_template("inbox/index.html", tasks=tasks, total=total, page=page, per_page=25,
                           mine=mine, today=today, soon_days=soon_days, due_filters=DUE_FILTERS,
                           procedures=workflows.procedures())


@bp.route("/<task_id>")
@login_required
def task(task_id: str):
    return _task_page(task_id)


@bp.route("/<task_id>/erledigen", methods=["POST"])
@login_required
def complete(task_id: str):
    workflows = services()
    try:
        view = workflows.task_form(task_id, current_user.actor)      # the workflow is loaded once, below
    except NotFound as err:                 # someone else was first
        flash(f"{err.message} Ihre Eingaben wurden nicht gespeichert.", "error")
        return redirect(url_for("inbox.index"))
    schema = view["schema"] or {"type": "object", "properties": {}}
    parsed = forms.parse(schema, request.form, request.files, validate=False)     # complete_task validates
    if parsed.errors:
        return _task_page(task_id, errors=parsed.errors, raw=request.form, status=422)
    documents = [NewDocument(upload.filename, upload.mimetype, upload.read(), field)
                 for field, upload in parsed.uploads.items()]
    try:
        workflows.complete_task(task_id, parsed.data, current_user.actor, documents)
    except InvalidInput as err:
        errors = err.details.get("fields") or {err.details.get("field", ""): err.message}
        return _task_page(task_id, errors=_form_keys(errors, parsed.rows), raw=request.form, status=422)
    except (Conflict, NotFound) as err:
        flash(f"{err.message} Ihre Eingaben wurden nicht gespeichert.", "error")
        return redirect(url_for("inbox.index"))
    flash(f"Aufgabe „{view['task']['title']}“ ({view['case']['business_key']}) ist erledigt.", "info")
    return redirect(url_for("inbox.index"))


@bp.route("/<task_id>/uebernehmen", methods=["POST"])
@login_required
def claim(task_id: str):
    services().claim_task(task_id, current_user.actor)
    flash("Sie haben die Aufgabe übernommen.", "info")
    return redirect(request.form.get("weiter") or url_for("inbox.task", task_id=task_id))


@bp.route("/<task_id>/zurueckgeben", methods=["POST"])
@login_required
def release(task_id: str):
    services().release_task(task_id, current_user.actor)
    flash("Die Aufgabe ist wieder für Ihre Gruppe freigegeben.", "info")
    return redirect(url_for("inbox.index"))


@bp.route("/<task_id>/uebergeben", methods=["POST"])
@login_required
def hand_over(task_id: str):
    workflows = services()
    colleague = workflows.actor(request.form.get("kollege", ""))
    workflows.hand_over_task(task_id, current_user.actor, colleague)
    flash(f"Die Aufgabe wurde an {colleague.username} übergeben.", "info")
    return redirect(url_for("inbox.index"))


def _form_keys(errors: dict[str, str], rows: dict[str, list[int]]) -> dict[str, str]:
    """The use case names a table cell by its data row ("kitas-0-plz"); the form by the row
    the user filled in (blank rows skipped), so the message lands next to the right cell."""
    def key(name: str) -> str:
        table, _, rest = name.partition("-")
        row, _, column = rest.partition("-")
        if column and row.isdigit() and int(row) < len(rows.get(table, [])):
            return f"{table}-{rows[table][int(row)]}-{column}"
        return name
    return {key(name): message for name, message in errors.items()}


def _task_page(task_id: str, errors=None, raw=None, status: int = 200):
    workflows = services()
    view = workflows.task_view(task_id, current_user.actor)
    if view["task"]["claimed_by"] not in (None, current_user.username) and request.method == "GET":
        flash(f"Diese Aufgabe bearbeitet {view['task']['claimed_by']}.", "info")
    schema = view["schema"] or {"type": "object", "properties": {}}
    if not isinstance(schema, dict):
        abort(500)
    fields = forms.fields(schema, view["data"], errors, raw)
    return render_template("inbox/task.html", view=view, task=view["task"], fields=fields,
                           form_title=form_title(schema) if view["schema"] else view["task"]["title"],
                           form_error=(errors or {}).get(""), colleagues=workflows.colleagues(task_id, current_user.actor),
                           multipart=any(f.kind == "file" for f in fields)), status
