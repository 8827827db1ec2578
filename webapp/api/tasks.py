"""Tasks (Aufgaben): the inbox, one task with its form, claim / release / hand over / complete."""
from __future__ import annotations

from dataclasses import asdict

from workflows.domain import Conflict, InvalidInput, NotFound
from workflows.services import NewDocument

from .common import ApiBlueprint, accepts, actor, services
from .schemas import (CaseRefSchema, CompleteArgs, HandOverArgs, TaskListArgs, TaskPageSchema, TaskSchema,
                      TaskViewSchema)

bp = ApiBlueprint("api_tasks", __name__, tag="Aufgaben", url_prefix="/tasks",
                  description="Die Aufgaben der eigenen Gruppen und Organisation (wie „Aufgaben“ in der "
                              "Anwendung): auflisten, lesen, übernehmen, zurückgeben, übergeben, erledigen.")

TASK = "/<string(maxlength=36):task_id>"


@bp.route("", methods=["GET"])
@bp.query(TaskListArgs)
@bp.response(200, TaskPageSchema)
@bp.errors(401)
def list_tasks(args):
    """Aufgaben auflisten

    Offene Aufgaben der eigenen Gruppen und Organisation (mine=true: nur die übernommenen),
    nach Fälligkeit sortiert; Filter wie im Posteingang der Anwendung."""
    items, total = services().inbox_page(
        actor(), mine=args["mine"], process_id=args.get("process_id"), due=args.get("due"),
        soon_days=args["soon_days"], organisation=args.get("organisation"), search=args.get("search"),
        page=args["page"], per_page=args["per_page"])
    return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}


@bp.route(TASK, methods=["GET"])
@bp.response(200, TaskViewSchema)
@bp.errors(401, 403, 404)
def get_task(task_id: str):
    """Aufgabe lesen

    Die Aufgabe, ihr Vorgang, ihr Formular (JSON Schema) und die Daten, mit denen es vorbelegt ist.
    404, wenn die Aufgabe nicht (mehr) offen ist."""
    return services().task_view(task_id, actor())


def _task(task_id: str) -> dict:
    return services().task_view(task_id, actor())["task"]


@bp.route(TASK + "/claim", methods=["POST"])
@bp.response(200, TaskSchema, description="Die Aufgabe ist übernommen")
@bp.errors(401, 403, 404, 409)
def claim(task_id: str):
    """Aufgabe übernehmen

    409, wenn jemand anderes sie schon übernommen hat; 404, wenn sie nicht (mehr) offen ist."""
    services().claim_task(task_id, actor())
    return _task(task_id)


@bp.route(TASK + "/release", methods=["POST"])
@bp.response(200, TaskSchema, description="Die Aufgabe ist wieder für die Gruppe frei")
@bp.errors(401, 403, 404, 409)
def release(task_id: str):
    """Aufgabe zurückgeben

    Nur wer sie übernommen hat (sonst 403)."""
    services().release_task(task_id, actor())
    return _task(task_id)


@bp.route(TASK + "/handover", methods=["POST"])
@accepts("json")
@bp.arguments(HandOverArgs)
@bp.response(200, TaskSchema, description="Die Aufgabe ist übergeben")
@bp.errors(400, 401, 403, 404, 409, 413, 415)
def hand_over(args, task_id: str):
    """Aufgabe übergeben

    An eine Kollegin oder einen Kollegen, die sie bearbeiten dürfen (gleiche Gruppe und
    Organisation; sonst 403). Ein unbekannter Benutzer ergibt 422."""
    workflows = services()
    workflows.task_view(task_id, actor())          # 404/403 for the task before the colleague's 422
    try:
        colleague = workflows.actor(args["username"])
    except NotFound as err:
        raise InvalidInput(err.message, field="username") from None
    workflows.hand_over_task(task_id, actor(), colleague)
    return workflows.task_view(task_id, colleague)["task"]


@bp.route(TASK + "/complete", methods=["POST"])
@accepts("json")
@bp.arguments(CompleteArgs)
@bp.response(200, CaseRefSchema, description="Die Aufgabe ist erledigt; der Vorgang steht am nächsten Wartepunkt")
@bp.errors(400, 401, 403, 404, 409, 413, 415)
def complete(args, task_id: str):
    """Aufgabe erledigen

    `data` sind die Formulardaten; sie werden wie im Formular der Anwendung geprüft (422 mit
    `details.fields`: Feld → deutsche Meldung). Dateien für Dateifelder kommen Base64-kodiert
    in `documents`.

    **409 statt 404:** Ist die Aufgabe nicht (mehr) offen, antwortet die API mit 409 (`konflikt`):
    Eine erledigte Aufgabe verschwindet aus dem Index, sie ist von einer unbekannten ID nicht zu
    unterscheiden, und der typische Fall ist, dass jemand anderes schneller war. 409 auch, wenn
    jemand anderes die Aufgabe übernommen hat oder der Vorgang gleichzeitig geändert wurde.
    In allen Fällen wurde nichts gespeichert. (404 nur für Adressen, die keine Aufgaben-ID enthalten
    können, z. B. zu lange.)"""
    documents = [NewDocument(d["name"], d["content_type"], d["content"], d["field"]) for d in args["documents"]]
    try:
        ref = services().complete_task(task_id, args["data"], actor(), documents)
    except NotFound as err:
        raise Conflict(f"{err.message} Ihre Eingaben wurden nicht gespeichert.", **err.details) from None
    return asdict(ref)
