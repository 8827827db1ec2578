"""The supervisors' deadline board: all deadlines by urgency, CSV and iCalendar export,
figures per procedure with a chart over time."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

from flask import Blueprint, Response, render_template, request
from flask_login import current_user, login_required

from workflows.board import STATES, BoardQuery

from .. import services
from .chart import monthly_chart

bp = Blueprint("board", __name__, url_prefix="/fristen")

CSV_COLUMNS = [("business_key", "Aktenzeichen"), ("case_title", "Verfahren"), ("title", "Frist"),
               ("legal_basis", "Rechtsgrundlage"), ("event_date", "Ereignis"), ("end_date", "Ende (kalendarisch)"),
               ("shifted_end", "Ende (§ 26 Abs. 3 SGB X)"), ("days_left", "Tage übrig"),
               ("working_days_left", "Arbeitstage übrig"), ("state", "Stand"), ("met_on", "Erfüllt am"),
               ("lane", "Zuständige Gruppe"), ("claimed_by", "Bearbeitung"), ("organisation", "Organisation")]


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
                           failed=workflows.failed_cases(current_user.actor))


@bp.route("/export.csv")
@login_required
def export_csv():
    rows, _total = services().board(current_user.actor, _query(limit=100_000))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([label for _key, label in CSV_COLUMNS])
    for row in rows:
        writer.writerow([_cell(key, row.get(key)) for key, _label in CSV_COLUMNS])
    body = "\ufeff" + out.getvalue()             # BOM: Excel opens UTF-8 with umlauts correctly
    return Response(body.encode("utf-8"), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="fristen.csv"'})


def _cell(key: str, value) -> str:
    if key == "state":
        return STATES.get(value, value)
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return "" if value is None else str(value)


@bp.route("/kalender.ics")
@login_required
def calendar():
    """The open deadlines as an iCalendar feed: one all-day event on the last day (after
    § 26 Abs. 3 SGB X), with the calendar end and the legal basis in the description."""
    rows, _total = services().board(current_user.actor, _query(limit=100_000))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Fruehfoerderung NRW//Fristen//DE",
             "CALSCALE:GREGORIAN", "X-WR-CALNAME:Fristen"]
    for row in rows:
        end = row["shifted_end"]
        description = (f"{row['legal_basis']}\\nkalendarisches Ende: {row['end_date']:%d.%m.%Y}\\n"
                       f"{_ics_text(row['explanation'])}")
        lines += ["BEGIN:VEVENT", f"UID:{row['business_key']}-{row['key']}@fruehfoerderung.nrw", f"DTSTAMP:{stamp}",
                  f"DTSTART;VALUE=DATE:{end:%Y%m%d}", f"DTEND;VALUE=DATE:{date.fromordinal(end.toordinal() + 1):%Y%m%d}",
                  f"SUMMARY:{_ics_text(row['title'])} – {_ics_text(row['business_key'])}",
                  f"DESCRIPTION:{description}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    body = "\r\n".join(_fold(line) for line in lines) + "\r\n"
    return Response(body, mimetype="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="fristen.ics"'})


def _ics_text(text: str) -> str:
    return (text or "").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """RFC 5545: lines longer than 75 octets continue on the next line after a space."""
    data, parts = line.encode("utf-8"), []
    while len(data) > 75:
        cut = 75 if not parts else 74
        while cut > 0 and (data[cut] & 0xC0) == 0x80:      # do not split a UTF-8 character
            cut -= 1
        parts.append(data[:cut].decode("utf-8"))
        data = data[cut:]
    parts.append(data.decode("utf-8"))
    return "\r\n ".join(parts)


@bp.route("/kennzahlen")
@login_required
def figures():
    workflows = services()
    actor = current_user.actor
    process_id = request.args.get("verfahren") or None
    monthly = workflows.board_monthly(actor, months=12, process_id=process_id)
    return render_template("board/figures.html", figures=workflows.board_figures(actor), monthly=monthly,
                           chart=monthly_chart(monthly), procedures=workflows.procedures(), process_id=process_id)
