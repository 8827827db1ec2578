"""The supervisors' deadline board: all deadlines by urgency, CSV and iCalendar export,
figures per procedure with a chart over time."""
from __future__ import annotations

from datetime import date, datetime, timezone

from flask import Blueprint, Response, render_template, request
from flask_login import current_user, login_required

from workflows.board import STATES, BoardQuery
from workflows.domain import PARTY_LABELS

from .. import services
from .chart import monthly_chart
from .export import csv_body
from .ical import feed

bp = Blueprint("board", __name__, url_prefix="/fristen")


def _query(limit: int = 50) -> BoardQuery:
    args = request.args
    state = args.get("stand") or None
    return BoardQuery(process_id=args.get("verfahren") or None, organisation=args.get("organisation") or None,
                      state=state if state in STATES else None, due_from=_date(args.get("von")),
                      due_to=_date(args.get("bis")), soon_days=min(max(args.get("tage", 14, type=int) or 14, 1), 365),
                      limit=limit, offset=(max(args.get("seite", 1, type=int) or 1, 1) - 1) * limit)


def _date(text: str | None) -> date | None:
    for fmt in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime((text or "").strip(), fmt).date()
        except ValueError:
            continue
    return None


@bp.route("/")
@login_required
def index():
    workflows = services()
    query = _query()
    rows, total = workflows.board(current_user.actor, query)
    return render_template("board/index.html", rows=rows, total=total, query=query, states=STATES,
                           page=query.offset // query.limit + 1, per_page=query.limit,
                           procedures=workflows.procedures(), today=workflows.today(),
                           failed=workflows.failed_cases(current_user.actor),
                           party_labels={party.value: label for party, label in PARTY_LABELS.items()})


@bp.route("/export.csv")
@login_required
def export_csv():
    rows, _total = services().board(current_user.actor, _query(limit=100_000))
    return Response(csv_body(rows), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="fristen.csv"'})


@bp.route("/kalender.ics")
@login_required
def calendar():
    rows, _total = services().board(current_user.actor, _query(limit=100_000))
    return Response(feed(rows, datetime.now(timezone.utc)), mimetype="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="fristen.ics"'})


@bp.route("/kennzahlen")
@login_required
def figures():
    workflows = services()
    actor = current_user.actor
    process_id = request.args.get("verfahren") or None
    monthly = workflows.board_monthly(actor, months=12, process_id=process_id)
    return render_template("board/figures.html", figures=workflows.board_figures(actor), monthly=monthly,
                           chart=monthly_chart(monthly), procedures=workflows.procedures(), process_id=process_id)
