"""What a rule computes and the parts rules are built from.

`Frist` is one computed deadline (calendar end and § 193-shifted end, with a German
explanation), `Regel` a rule's metadata plus its compute function. The helpers write the
explanations (`_ereignis_text`, `_shift_text`), build shifting deadlines (`_frist`,
`ereignis_regel`) and read a rule's options (`as_date`, `choice`, `option_count`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable

from dateutil.relativedelta import relativedelta

from .kalender import Kalender, ereignisfrist, fmt


SHIFT_BASIS = "§ 26 Abs. 3 SGB X, § 193 BGB"
SOLL = "; Sollziel: Warnung auf dem kalendarischen, Bewertung auf dem verschobenen Ende"


# --- results and rules --------------------------------------------------------------------

@dataclass(frozen=True)
class Frist:
    """One computed deadline; both ends are kept (warn on end, judge on shifted_end)."""

    rule: str
    title: str
    legal_basis: str
    event: date
    end: date
    shifted_end: date
    explanation: str
    reading: str | None = None
    soll: bool = False

    def to_dict(self) -> dict:
        """JSON-friendly form (ISO dates) for task data, APIs and the CLI."""
        return {"rule": self.rule, "title": self.title, "legal_basis": self.legal_basis,
                "event": self.event.isoformat(), "end": self.end.isoformat(),
                "shifted_end": self.shifted_end.isoformat(), "explanation": self.explanation,
                "reading": self.reading, "soll": self.soll}

    @classmethod
    def from_dict(cls, raw: dict) -> "Frist":
        """The inverse of to_dict (extra keys, e.g. a case's status, are ignored)."""
        return cls(rule=raw["rule"], title=raw["title"], legal_basis=raw["legal_basis"],
                   event=date.fromisoformat(raw["event"]), end=date.fromisoformat(raw["end"]),
                   shifted_end=date.fromisoformat(raw["shifted_end"]), explanation=raw["explanation"],
                   reading=raw.get("reading"), soll=bool(raw.get("soll")))


Compute = Callable[["Regel", date, Kalender, dict], Frist]


@dataclass(frozen=True)
class Regel:
    """A deadline rule: German metadata plus the function that computes it."""

    id: str
    title: str
    legal_basis: str
    description: str
    compute: Compute = field(repr=False, compare=False)
    options: tuple[str, ...] = ()
    soll: bool = False
    shifts: bool = True  # False: the value is a period end, a notice date or a 'from' date


def dauer(months: int = 0, weeks: int = 0, days: int = 0) -> str:
    years, months = (months // 12, 0) if months >= 24 and months % 12 == 0 else (0, months)
    units = ((years, "Jahr", "Jahre"), (months, "Monat", "Monate"), (weeks, "Woche", "Wochen"),
             (days, "Tag", "Tage"))
    return " + ".join(f"{n} {one if n == 1 else many}" for n, one, many in units if n)


def _ereignis_text(label: str, event: date, end: date, months=0, weeks=0, days=0) -> str:
    anchor = event + relativedelta(months=months)
    clamp = ""
    if anchor.day < event.day:
        clamp = f"; § 188 Abs. 3 BGB: kein {event.day}.{anchor.month:02d}., daher Monatsletzter"
    return (f"{label} {fmt(event)} (Ereignistag zählt nicht, § 187 Abs. 1 BGB) "
            f"+ {dauer(months, weeks, days)} = {fmt(end)}{clamp}")


def _shift_text(end: date, shifted: date, kal: Kalender) -> str:
    if end == shifted:
        return f"{fmt(end)} ist ein Werktag, keine Verschiebung"
    skipped = []
    d = end
    while d < shifted:
        skipped.append(kal.day_label(d))
        d += timedelta(days=1)
    return f"{', '.join(skipped)} → nächster Werktag {fmt(shifted)} ({SHIFT_BASIS})"


def _frist(regel: Regel, event: date, end: date, kal: Kalender, text: str, *,
           reading: str | None = None, soll: bool | None = None, note: str = "") -> Frist:
    """Build a shifting deadline: end is the calendar end, shifted_end the § 193 value."""
    shifted = kal.next_working_day(end)
    explanation = f"{text}; {_shift_text(end, shifted, kal)}{note}."
    return Frist(regel.id, regel.title, regel.legal_basis, event, end, shifted, explanation,
                 reading, regel.soll if soll is None else soll)


def ereignis_regel(label: str, months=0, weeks=0, days=0, note: str = "") -> Compute:
    def compute(regel: Regel, event: date, kal: Kalender, opts: dict) -> Frist:
        end = ereignisfrist(event, months=months, weeks=weeks, days=days)
        text = _ereignis_text(label, event, end, months, weeks, days)
        return _frist(regel, event, end, kal, text, note=note)
    return compute


# --- options ------------------------------------------------------------------------------

def as_date(value: Any, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{name}: ungültiges Datum {value!r} (erwartet JJJJ-MM-TT)")


def choice(opts: dict, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = opts.get(name, default)
    if value not in allowed:
        raise ValueError(f"Ungültiger Wert {value!r} für Option {name!r}; "
                         f"erlaubt: {', '.join(allowed)}")
    return value


def option_count(opts: dict, name: str, default: int = 0, minimum: int = 0) -> int:
    value = opts.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"Option {name!r} muss eine ganze Zahl ≥ {minimum} sein, "
                         f"nicht {value!r}")
    return value
