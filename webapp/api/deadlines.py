"""Deadlines (Fristen): the supervisors' board of legal deadlines."""
from __future__ import annotations

from workflows.board import BoardQuery

from .common import ApiBlueprint, actor, services
from .schemas import BoardPageSchema, DeadlineListArgs

bp = ApiBlueprint("api_deadlines", __name__, tag="Fristen", url_prefix="/deadlines",
                  description="Die gesetzlichen Fristen aller sichtbaren Vorgänge mit ihrem Stand "
                              "(Fristenübersicht der Leitung).")


@bp.route("", methods=["GET"])
@bp.query(DeadlineListArgs)
@bp.response(200, BoardPageSchema)
@bp.errors(401, 403)
def list_deadlines(args):
    """Fristen auflisten

    Ohne `state` alle offenen Fristen (überfällig, bald fällig, laufend), dringendste zuerst.
    Stand: laufend, bald_faellig (kalendarisches Ende in `soon_days` Tagen), ueberfaellig
    (verschobenes Ende überschritten), erfuellt, verspaetet_erfuellt, entfallen. Nur für Leitung,
    Prozessverantwortliche und Administration (sonst 403); wer einer Organisation angehört,
    sieht nur deren Vorgänge."""
    query = BoardQuery(process_id=args.get("process_id"), organisation=args.get("organisation"),
                       state=args.get("state"), due_from=args.get("due_from"), due_to=args.get("due_to"),
                       soon_days=args["soon_days"], limit=args["per_page"],
                       offset=(args["page"] - 1) * args["per_page"])
    items, total = services().board(actor(), query)
    return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}
