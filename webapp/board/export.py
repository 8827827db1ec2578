"""The board as a CSV file for Excel (German settings: semicolon, UTF-8 with BOM), safe to open.

Case titles, deadline titles, legal texts and names are free text from users and model
authors. A cell starting with =, +, -, @, a tab or a carriage return is a formula to Excel and
LibreOffice (=HYPERLINK(…) sends data elsewhere, DDE starts programs: OWASP „CSV injection“),
so such text gets a leading ' and stays text. Numbers and dates are written by us, not typed
by anyone: they stay as they are, so the spreadsheet can count and sort them. Semicolons,
quotes and line breaks inside a cell are quoted by the csv module and cannot add a cell or row.
"""
from __future__ import annotations

import csv
import io
from datetime import date

from workflows.board import STATES

CSV_COLUMNS = [("business_key", "Aktenzeichen"), ("case_title", "Verfahren"), ("title", "Frist"),
               ("legal_basis", "Rechtsgrundlage"), ("event_date", "Ereignis"), ("end_date", "Ende (kalendarisch)"),
               ("shifted_end", "Ende (§ 26 Abs. 3 SGB X)"), ("days_left", "Tage übrig"),
               ("working_days_left", "Arbeitstage übrig"), ("state", "Stand"), ("met_on", "Erfüllt am"),
               ("lane", "Zuständige Gruppe"), ("claimed_by", "Bearbeitung"), ("organisation", "Organisation")]
#: what makes a spreadsheet read a text cell as a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_body(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([label for _key, label in CSV_COLUMNS])
    for row in rows:
        writer.writerow([_cell(key, row.get(key)) for key, _label in CSV_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")      # BOM: Excel opens UTF-8 with umlauts correctly


def _cell(key: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, int):                  # day counts: -5 is a number, not a formula
        return str(value)
    text = STATES.get(value, value) if key == "state" else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
