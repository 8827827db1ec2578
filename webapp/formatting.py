"""German formatting for templates: dates as TT.MM.JJJJ, times in German local time."""
from __future__ import annotations

from datetime import date, datetime

from workflows.clock import BERLIN

WEEKDAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")


def datum(value: date | datetime | str | None) -> str:
    if value in (None, ""):
        return "–"
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(BERLIN).date()
    return value.strftime("%d.%m.%Y")


def datum_zeit(value: datetime | None) -> str:
    if value is None:
        return "–"
    return value.astimezone(BERLIN).strftime("%d.%m.%Y, %H:%M Uhr")


def wochentag(value: date) -> str:
    return WEEKDAYS[value.weekday()]


def wert(value) -> str:
    """A task data value for people: ISO dates as TT.MM.JJJJ, lists comma-separated,
    yes/no for booleans, document references by name."""
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, list):
        return ", ".join(wert(v) for v in value)
    if isinstance(value, dict):
        return value.get("name") or ", ".join(f"{k}: {wert(v)}" for k, v in value.items())
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return datum(value)
        except ValueError:
            return value
    return "–" if value is None else str(value)


def register_filters(app) -> None:
    app.jinja_env.filters.update(datum=datum, datum_zeit=datum_zeit, wochentag=wochentag, wert=wert)
