"""Legal deadlines (Fristen) of the NRW early-intervention procedures.

Pure functions over ``datetime.date``: SGB X § 26 with BGB §§ 187-193 and the public
holidays of a Land (default NRW) from the ``holidays`` package. No clock, no I/O.
The rules, the configurable readings and the test vectors are in ``shared/FRISTEN.md``.
"LV extern" below is the LVR Leistungsvereinbarung with external providers (seed 002).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Callable, Iterable

import holidays
from dateutil.relativedelta import relativedelta

WOCHENTAGE = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
SHIFT_BASIS = "§ 26 Abs. 3 SGB X, § 193 BGB"
_SOLL = "; Sollziel: Warnung auf dem kalendarischen, Bewertung auf dem verschobenen Ende"


def fmt(d: date) -> str:
    """TT.MM.JJJJ (Wd): the one date format of all German texts."""
    return f"{d:%d.%m.%Y} ({WOCHENTAGE[d.weekday()]})"


class UnknownRule(KeyError, ValueError):
    """An unknown rule id; a KeyError for lookups, a ValueError for input checks."""

    def __str__(self) -> str:  # KeyError would show the repr of the message
        return f"Unbekannte Regel {self.args[0]!r}; bekannt sind: {', '.join(RULES)}"


class Kalender:
    """Working days of one Land (§ 193 BGB: holidays at the place of performance) + overrides."""

    def __init__(self, subdiv: str = "NW", extra_holidays: Iterable[date] = (),
                 removed_holidays: Iterable[date] = ()):
        try:
            self._feiertage = holidays.Germany(subdiv=subdiv, language="de")
        except NotImplementedError as exc:
            erlaubt = ", ".join(holidays.Germany.subdivisions)
            raise ValueError(f"Unbekannter Landescode {subdiv!r}; erlaubt: {erlaubt}") from exc
        self.subdiv = subdiv
        self.extra_holidays = frozenset(extra_holidays)
        self.removed_holidays = frozenset(removed_holidays)

    def holiday_name(self, d: date) -> str | None:
        if d in self.removed_holidays:
            return None
        name = self._feiertage.get(d)
        if name is None and d in self.extra_holidays:
            return "Feiertag (manuell ergänzt)"
        return name

    def is_holiday(self, d: date) -> bool:
        return self.holiday_name(d) is not None

    def is_working_day(self, d: date) -> bool:
        """Mon-Fri and no holiday; Saturday counts as non-working (§ 26 Abs. 3 SGB X)."""
        return d.weekday() < 5 and not self.is_holiday(d)

    def next_working_day(self, d: date) -> date:
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def previous_working_day(self, d: date) -> date:
        while not self.is_working_day(d):
            d -= timedelta(days=1)
        return d

    def add_working_days(self, d: date, n: int) -> date:
        """The n-th working day after d (used for internal 'unverzüglich' SLAs)."""
        for _ in range(n):
            d = self.next_working_day(d + timedelta(days=1))
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after start up to and including end; negative if end < start."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(self.is_working_day(start + timedelta(days=i))
                   for i in range(1, (end - start).days + 1))

    def day_label(self, d: date) -> str:
        """'03.04. Karfreitag' / '04.04. Sa' - why a day is not a working day."""
        parts = [WOCHENTAGE[d.weekday()]] if d.weekday() >= 5 else []
        name = self.holiday_name(d)
        if name:
            parts.append(name if self.subdiv == "NW" else f"{name} ({self.subdiv})")
        return f"{d:%d.%m.} {'/'.join(parts)}"


@lru_cache(maxsize=1)
def _default_kalender() -> Kalender:
    return Kalender()


# --- generic computation (BGB §§ 187-193) -------------------------------------------------

def _check_duration(months: int, weeks: int, days: int) -> None:
    for name, value in (("months", months), ("weeks", weeks), ("days", days)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"Fristdauer {name}={value!r} ist keine nicht-negative ganze Zahl")
    if months + weeks + days == 0:
        raise ValueError("Fristdauer fehlt: months, weeks oder days angeben")


def ereignisfrist(event: date, *, months: int = 0, weeks: int = 0, days: int = 0) -> date:
    """Event deadline: event day not counted (§ 187 Abs. 1), same-numbered day (§ 188 Abs. 2
    Alt. 1), month end if that day is missing (§ 188 Abs. 3; relativedelta clamps)."""
    _check_duration(months, weeks, days)
    return event + relativedelta(months=months, weeks=weeks, days=days)


def beginnfrist(start: date, *, months: int = 0, weeks: int = 0, days: int = 0) -> date:
    """Period from the start of a day (§ 187 Abs. 2): ends the day before the same-numbered day
    (§ 188 Abs. 2 Alt. 2); if that day is missing in the last month, at its end (§ 188 Abs. 3)."""
    _check_duration(months, weeks, days)
    anchor = start + relativedelta(months=months)
    if anchor.day < start.day and not (weeks or days):
        return anchor
    return anchor + timedelta(weeks=weeks, days=days - 1)


def verschiebe(d: date, kalender: Kalender | None = None) -> date:
    """§ 193 BGB / § 26 Abs. 3 SGB X: an end on Sat, Sun or a holiday moves to the next working
    day."""
    return (kalender or _default_kalender()).next_working_day(d)


def fruehester_leistungsbeginn(antrag: date) -> date:
    """§ 108 Abs. 1 SGB IX: Eingliederungshilfe from the 1st of the application month at the
    earliest."""
    return antrag.replace(day=1)


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


def _dauer(months: int = 0, weeks: int = 0, days: int = 0) -> str:
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
            f"+ {_dauer(months, weeks, days)} = {fmt(end)}{clamp}")


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


def _ereignis_regel(label: str, months=0, weeks=0, days=0, note: str = "") -> Compute:
    def compute(regel: Regel, event: date, kal: Kalender, opts: dict) -> Frist:
        end = ereignisfrist(event, months=months, weeks=weeks, days=days)
        text = _ereignis_text(label, event, end, months, weeks, days)
        return _frist(regel, event, end, kal, text, note=note)
    return compute


# --- options ------------------------------------------------------------------------------

def _as_date(value: Any, name: str) -> date:
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


def _choice(opts: dict, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = opts.get(name, default)
    if value not in allowed:
        raise ValueError(f"Ungültiger Wert {value!r} für Option {name!r}; "
                         f"erlaubt: {', '.join(allowed)}")
    return value


def _count(opts: dict, name: str, default: int = 0, minimum: int = 0) -> int:
    value = opts.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"Option {name!r} muss eine ganze Zahl ≥ {minimum} sein, "
                         f"nicht {value!r}")
    return value


# --- § 5 / § 14 LRV: recognition chain 3 + 3 months (readings A1, A2, B) ---------------------

def _lrv5_kette(event: date, opts: dict) -> tuple[date, date, str, str]:
    """End of the 3 + 3 chain per configured reading: (start used, end, reading, text)."""
    reading = _choice(opts, "reading", ("A1", "A2", "B"), "A1")
    if reading == "B":
        if "verhandlungstermin" not in opts:
            raise ValueError("Lesart B braucht die Option 'verhandlungstermin' (Datum des Termins)")
        termin = _as_date(opts["verhandlungstermin"], "verhandlungstermin")
        end = ereignisfrist(termin, months=3)
        return termin, end, reading, "Lesart B: " + _ereignis_text(
            "tatsächlicher Verhandlungstermin", termin, end, months=3)
    zwischen = ereignisfrist(event, months=3)
    a2 = ereignisfrist(zwischen, months=3)
    if reading == "A2":
        return event, a2, reading, (
            f"Lesart A2 (§ 190 BGB): Unterlagen vollständig {fmt(event)} + 3 Monate = "
            f"{fmt(zwischen)} (Zwischenende unverschoben) + 3 Monate = {fmt(a2)}")
    a1 = ereignisfrist(event, months=6)
    text = "Lesart A1: " + _ereignis_text("Unterlagen vollständig", event, a1, months=6)
    if a2 != a1:
        text += f" (Lesart A2 ergäbe {fmt(a2)})"
    return event, a1, reading, text


def _lrv5_abschluss(regel: Regel, event: date, kal: Kalender, opts: dict) -> Frist:
    start, end, reading, text = _lrv5_kette(event, opts)
    return _frist(regel, start, end, kal, text, reading=reading, note=_SOLL)


def _ab_frist(regel: Regel, event: date, end: date, kal: Kalender, text: str, basis: str,
              reading: str, folge: str) -> Frist:
    """'Allowed from' dates: day after the calendar end (end) and after the shifted end."""
    shifted = kal.next_working_day(end)
    ab, ab_shifted = end + timedelta(days=1), shifted + timedelta(days=1)
    gilt = (f"Tag nach dem verschobenen Ende: {fmt(ab_shifted)}" if basis == "shifted"
            else f"Tag nach dem kalendarischen Ende: {fmt(ab)}")
    explanation = (f"{text}; {_shift_text(end, shifted, kal)}; {folge} ab dem {gilt} "
                   f"(konfiguriert: basis={basis}).")
    return Frist(regel.id, regel.title, regel.legal_basis, event, ab, ab_shifted, explanation,
                 reading, regel.soll)


def _schlichtung(regel: Regel, event: date, kal: Kalender, opts: dict) -> Frist:
    basis = _choice(opts, "basis", ("shifted", "calendar"), "shifted")
    start, end, reading, text = _lrv5_kette(event, opts)
    return _ab_frist(regel, start, end, kal, "Abschlussziel § 5 Abs. 2 LRV, " + text, basis,
                     f"{reading}/{basis}", "Schlichtung (§ 14 Abs. 1 LRV) zulässig")


def _leistungsbeginn(regel: Regel, event: date, kal: Kalender, opts: dict) -> Frist:
    basis = _choice(opts, "basis", ("shifted", "calendar"), "shifted")
    end = ereignisfrist(event, weeks=2)
    text = "FrühV-Frist: " + _ereignis_text("FuB liegt vor am", event, end, weeks=2)
    return _ab_frist(regel, event, end, kal, text, basis, basis,
                     "ohne Bescheid Leistungsbeginn und Abrechnung (§ 11 Abs. 4 LRV) zulässig")


# --- SGB IX § 18, FuB, agreements -----------------------------------------------------------

def _sgb9_18(regel: Regel, event: date, kal: Kalender, opts: dict) -> Frist:
    art = _choice(opts, "traeger_art", ("egh", "krankenkasse"), "egh")
    end = ereignisfrist(event, months=2)
    if art == "egh":
        note = ("; Träger der Eingliederungshilfe: § 18 Abs. 1–5 SGB IX gelten nicht "
                "(§ 18 Abs. 7 SGB IX), keine begründete Mitteilung und keine "
                "Genehmigungsfiktion, nur Erstattung nach § 18 Abs. 6")
    else:
        note = ("; vor Fristablauf begründete Mitteilung (§ 18 Abs. 1, 2 SGB IX), sonst gilt die "
                "Leistung als genehmigt (§ 18 Abs. 3 SGB IX)")
    text = _ereignis_text("Antragseingang beim leistenden Träger", event, end, months=2)
    return _frist(regel, event, end, kal, text, soll=(art == "egh"), note=note)


def _leistungsdokumentation(regel: Regel, event: date, kal: Kalender, opts: dict) -> Frist:
    stichtag = date(event.year, 10, 15)
    end = stichtag if stichtag > event else date(event.year + 1, 10, 15)
    text = (f"Jährliche Leistungsdokumentation zum 15. Oktober: nächster Stichtag nach "
            f"{fmt(event)} ist {fmt(end)}")
    return _frist(regel, event, end, kal, text)


def _ereignisfrist_regel(regel: Regel, event: date, kal: Kalender, opts: dict) -> Frist:
    months, weeks, days = (_count(opts, k) for k in ("months", "weeks", "days"))
    end = ereignisfrist(event, months=months, weeks=weeks, days=days)
    text = _ereignis_text("Ereignis", event, end, months, weeks, days)
    return _frist(regel, event, end, kal, text)


def _laufzeit(regel: Regel, event: date, kal: Kalender, opts: dict) -> Frist:
    months = _count(opts, "months", 12, minimum=1)
    end = beginnfrist(event, months=months)
    text = (f"Beginn {fmt(event)} (Anfangstag zählt mit, § 187 Abs. 2 BGB) + {_dauer(months)} "
            f"= {fmt(end)} (§ 188 Abs. 2 Alt. 2 BGB); Zeitraumende, keine Verschiebung "
            "(§ 26 Abs. 4 SGB X).")
    return Frist(regel.id, regel.title, regel.legal_basis, event, end, end, text, None, regel.soll)


def _unverzueglich(regel: Regel, event: date, kal: Kalender, opts: dict) -> Frist:
    n = _count(opts, "werktage", 5, minimum=1)
    end = kal.add_working_days(event, n)
    text = (f"Eingang {fmt(event)} + {n} Werktage = {fmt(end)} (interne Festlegung, kein Gesetz; "
            "unverzüglich = ohne schuldhaftes Zögern, § 121 Abs. 1 S. 1 BGB)")
    return _frist(regel, event, end, kal, text)


@dataclass(frozen=True)
class KuendigungErgebnis:
    zugang: date
    vertragsende: date
    spaetester_zugang: date
    spaetester_zugang_werktag: date  # last working day on/before spaetester_zugang: no § 193 help
    explanation: str


def kuendigung_kitajahr(zugang: date, kalender: Kalender | None = None) -> KuendigungErgebnis:
    """12 months' notice to the end of a Kita year (31 July, § 1 Abs. 3 S. 2 KiBiz); no § 193 BGB
    shifting for notice periods (BGH III ZR 172/04), so a late weekend means 'arrive before'."""
    kal = kalender or _default_kalender()
    fruehest = ereignisfrist(zugang, months=12)
    ende = date(fruehest.year, 7, 31)
    if ende < fruehest:
        ende = date(fruehest.year + 1, 7, 31)
    spaetest = date(ende.year - 1, 7, 31)
    werktag = kal.previous_working_day(spaetest)
    if werktag == spaetest:
        zugang_text = f"spätester Zugang für dieses Ende {fmt(spaetest)}"
    else:
        zugang_text = (f"spätester Zugang für dieses Ende {fmt(spaetest)} "
                       f"({kal.day_label(spaetest)}; keine Verschiebung, die Kündigung muss "
                       f"vorher zugehen: letzter Werktag {fmt(werktag)})")
    explanation = (f"Zugang {fmt(zugang)}: 12 Monate zum Ende eines Kitajahres (01.08.–31.07., "
                   f"§ 1 Abs. 3 S. 2 KiBiz) → frühestes Vertragsende {fmt(ende)}; "
                   f"{zugang_text}; kein § 193 BGB bei Kündigungsfristen (BGH III ZR 172/04), "
                   "Vertragsende als Zeitraumende nie verschoben.")
    return KuendigungErgebnis(zugang, ende, spaetest, werktag, explanation)


def _kuendigung(regel: Regel, event: date, kal: Kalender, opts: dict) -> Frist:
    erg = kuendigung_kitajahr(event, kal)
    return Frist(regel.id, regel.title, regel.legal_basis, event, erg.vertragsende,
                 erg.vertragsende, erg.explanation, None, regel.soll)


# --- registry -------------------------------------------------------------------------------

_SGB9 = "SGB IX i. V. m. § 26 SGB X, §§ 187, 188, 193 BGB"


def _einfach(id: str, title: str, legal_basis: str, description: str, label: str, *,
             months: int = 0, weeks: int = 0, note: str = "", soll: bool = False) -> Regel:
    """A rule that is one plain event deadline with § 193 shifting."""
    compute = _ereignis_regel(label, months=months, weeks=weeks, note=note)
    return Regel(id, title, legal_basis, description, compute, soll=soll)


RULES: dict[str, Regel] = {r.id: r for r in (
    _einfach("lrv5-verhandlungstermin", "Verhandlungstermin (Sollziel 3 Monate)",
             "§ 5 Abs. 2 S. 1 LRV i. V. m. § 26 SGB X, §§ 187, 188 BGB",
             "Verhandlungstermin soll binnen 3 Monaten nach vollständigen Antragsunterlagen "
             "stattfinden; Sollziel, kalendarisches und verschobenes Ende werden angezeigt.",
             "Unterlagen vollständig", months=3, note=_SOLL, soll=True),
    Regel("lrv5-abschluss", "Abschluss Anerkennungsverfahren (Sollziel 3 + 3 Monate)",
          "§ 5 Abs. 2 S. 2 LRV i. V. m. § 26 SGB X, §§ 187, 188, 190 BGB",
          "Anerkennung soll nach weiteren 3 Monaten abgeschlossen sein; Lesart A1 (E + 6 Monate, "
          "Standard), A2 ((E + 3 Monate) + 3 Monate, § 190 BGB) oder B (Verhandlungstermin "
          "+ 3 Monate, Option verhandlungstermin).",
          _lrv5_abschluss, options=("reading", "verhandlungstermin"), soll=True),
    Regel("lrv14-schlichtung-zulaessig", "Schlichtung zulässig ab",
          "§ 14 Abs. 1 LRV i. V. m. § 5 Abs. 2 LRV, § 26 SGB X",
          "Schlichtung ab dem Tag nach dem Ende der § 5-Kette (end: nach dem kalendarischen, "
          "shifted_end: nach dem verschobenen Ende; Option basis wählt den maßgeblichen Wert).",
          _schlichtung, options=("reading", "verhandlungstermin", "basis"), shifts=False),
    _einfach("lrv14-verguetung", "Vergütungsvereinbarung (6 Monate)",
             "§ 14 Abs. 1 LRV i. V. m. § 26 SGB X, §§ 187, 188, 193 BGB",
             "Vergütungs- und Abrechnungsvereinbarung binnen 6 Monaten ab Verhandlungsbeginn, "
             "sonst kann die Schlichtungskommission angerufen werden.", "Verhandlungsbeginn",
             months=6, note="; danach Schlichtung möglich (§ 14 Abs. 1 LRV)"),
    _einfach("fruehv8-entscheidung", "Entscheidung über die Komplexleistung (2 Wochen nach FuB)",
             "§ 8 Abs. 1 S. 4 FrühV i. V. m. § 26 SGB X, §§ 187, 188, 193 BGB",
             "Die beteiligten Träger entscheiden binnen 2 Wochen nach Vorliegen des FuB.",
             "FuB liegt vor am", weeks=2),
    Regel("lrv11-leistungsbeginn-ohne-bescheid", "Leistungsbeginn ohne Bescheid zulässig ab",
          "§ 11 Abs. 4 LRV i. V. m. § 8 Abs. 1 S. 4 FrühV, § 26 SGB X",
          "Ohne rechtzeitigen Bescheid darf die IFF ab dem Tag nach Ende der FrühV-Frist "
          "beginnen und abrechnen (Option basis: verschobenes oder kalendarisches Ende).",
          _leistungsbeginn, options=("basis",), shifts=False),
    _einfach("sgb9-14-zustaendigkeit", "Zuständigkeitsklärung (2 Wochen)",
             "§ 14 Abs. 1 S. 1 " + _SGB9,
             "Feststellung der Zuständigkeit binnen 2 Wochen nach Antragseingang.",
             "Antragseingang", weeks=2),
    _einfach("sgb9-14-entscheidung", "Entscheidung ohne Gutachten (3 Wochen)",
             "§ 14 Abs. 2 S. 2 " + _SGB9,
             "Entscheidung binnen 3 Wochen nach Antragseingang, wenn kein Gutachten nötig ist.",
             "Antragseingang", weeks=3),
    _einfach("sgb9-14-gutachten", "Entscheidung nach Gutachten (2 Wochen)",
             "§ 14 Abs. 2 S. 3 " + _SGB9,
             "Entscheidung binnen 2 Wochen nach Vorliegen des Gutachtens.",
             "Gutachten liegt vor am", weeks=2),
    _einfach("sgb9-17-gutachten", "Gutachtenerstellung (2 Wochen)", "§ 17 Abs. 2 S. 1 " + _SGB9,
             "Der Sachverständige erstellt das Gutachten binnen 2 Wochen nach Auftragserteilung.",
             "Auftrag erteilt am", weeks=2),
    _einfach("sgb9-15-feststellung", "Feststellungen beteiligter Träger (2 Wochen)",
             "§ 15 Abs. 2 S. 2 " + _SGB9,
             "Feststellungen binden nur, wenn sie binnen 2 Wochen nach Anforderung eingehen.",
             "Anforderung am", weeks=2),
    _einfach("sgb9-15-mehrere-traeger", "Entscheidung bei mehreren Trägern (6 Wochen)",
             "§ 15 Abs. 4 S. 1 " + _SGB9,
             "Bei Beteiligung weiterer Träger Entscheidung binnen 6 Wochen nach Antragseingang.",
             "Antragseingang", weeks=6),
    _einfach("sgb9-15-teilhabeplankonferenz", "Entscheidung mit Teilhabeplankonferenz (2 Monate)",
             "§ 15 Abs. 4 S. 2 " + _SGB9,
             "Mit Teilhabeplankonferenz (§ 20 SGB IX) Entscheidung binnen 2 Monaten nach "
             "Antragseingang.", "Antragseingang", months=2),
    Regel("sgb9-18-entscheidung", "Entscheidung oder begründete Mitteilung (2 Monate)",
          "§ 18 Abs. 1 " + _SGB9,
          "2 Monate ab Antragseingang beim leistenden Träger; Genehmigungsfiktion nur, wenn "
          "§ 18 Abs. 7 nicht greift (Option traeger_art: egh | krankenkasse).",
          _sgb9_18, options=("traeger_art",)),
    _einfach("fub-fortschreibung", "Fortschreibung des FuB (12 Monate)",
             "§ 7 Abs. 1 S. 2 FrühV, § 8 Abs. 2 LRV i. V. m. § 26 SGB X, §§ 187, 188 BGB",
             "FuB spätestens nach 12 Monaten anpassen; interne Wiedervorlage auf dem "
             "kalendarischen Ende (end), verschobenes Ende nur zur Anzeige.", "FuB liegt vor am",
             months=12, note="; Wiedervorlage auf dem kalendarischen Ende (nicht verschoben)"),
    Regel("leistungsdokumentation", "Leistungsdokumentation (jährlich zum 15. Oktober)",
          "§ 8 Abs. 4 LV extern i. V. m. § 26 Abs. 3 SGB X, § 193 BGB",
          "Standardisierte Leistungsdokumentation einmal jährlich zum 15. Oktober (nächster "
          "Stichtag nach dem Ereignis).", _leistungsdokumentation),
    _einfach("fuehrungszeugnis", "Erweitertes Führungszeugnis (spätestens alle 5 Jahre)",
             "§ 8 Abs. 3 LV extern, § 72a SGB VIII i. V. m. § 26 SGB X, §§ 187, 188, 193 BGB",
             "Erneute Prüfung des erweiterten Führungszeugnisses spätestens 5 Jahre nach dessen "
             "Datum.", "Führungszeugnis vom", months=60),
    Regel("kuendigung-kitajahr", "Kündigung zum Ende des Kitajahres (12 Monate)",
          "§ 14 Abs. 1 LV extern, § 1 Abs. 3 S. 2 KiBiz; kein § 193 BGB (BGH III ZR 172/04)",
          "Ereignis = Zugang der Kündigung; Ende = frühestes Vertragsende (31.07.); "
          "keine Verschiebung.", _kuendigung, shifts=False),
    Regel("laufzeit", "Laufzeit (Beginnfrist)",
          "§ 26 Abs. 1, 4 SGB X, §§ 187 Abs. 2, 188 Abs. 2 Alt. 2, Abs. 3 BGB",
          "Zeitraum von N Monaten (Option months, Standard 12) ab Tagesbeginn; Ende nie "
          "verschoben.", _laufzeit, options=("months",), shifts=False),
    Regel("ereignisfrist", "Ereignisfrist (allgemein)",
          "§ 26 Abs. 1, 3 SGB X, §§ 187 Abs. 1, 188 Abs. 2, 3, 193 BGB",
          "Allgemeine Ereignisfrist mit months/weeks/days, z. B. für BPMN-Timer.",
          _ereignisfrist_regel, options=("months", "weeks", "days")),
    Regel("unverzueglich", "Interne Frist „unverzüglich“ (SLA in Werktagen)",
          "§ 121 Abs. 1 S. 1 BGB; § 8 Abs. 1 S. 3 FrühV, § 14 Abs. 1 S. 2 SGB IX, "
          "§§ 10 Abs. 2, 11 Abs. 2 LRV",
          "Fachliche Festlegung für „unverzüglich“ (Option werktage, Standard 5), kein "
          "Gesetz.",
          _unverzueglich, options=("werktage",), soll=True),
)}


def berechne(rule_id: str, event: date, *, kalender: Kalender | None = None, **options) -> Frist:
    """Compute one rule; options set to None count as not given (handy for CLI/forms)."""
    regel = RULES.get(rule_id)
    if regel is None:
        raise UnknownRule(rule_id)
    opts = {k: v for k, v in options.items() if v is not None}
    unbekannt = sorted(set(opts) - set(regel.options))
    if unbekannt:
        erlaubt = ", ".join(regel.options) or "keine"
        raise ValueError(f"Regel {rule_id!r} kennt die Option(en) {', '.join(unbekannt)} nicht; "
                         f"erlaubt: {erlaubt}")
    return regel.compute(regel, _as_date(event, "Ereignis"), kalender or _default_kalender(), opts)


def entscheidungsrahmen(eingang: date, fub: date, *, gutachten: date | None = None,
                        mehrere_traeger: bool = False,
                        kalender: Kalender | None = None) -> list[Frist]:
    """All decision deadlines of a Komplexleistung, earliest shifted end first (FRISTEN.md ⚠:
    the first is shown as the target, the others as the statutory frame)."""
    fristen = [berechne("fruehv8-entscheidung", fub, kalender=kalender),
               berechne("sgb9-14-entscheidung", eingang, kalender=kalender)]
    if gutachten is not None:
        fristen.append(berechne("sgb9-14-gutachten", gutachten, kalender=kalender))
    if mehrere_traeger:
        fristen.append(berechne("sgb9-15-mehrere-traeger", eingang, kalender=kalender))
    return sorted(fristen, key=lambda f: (f.shifted_end, f.end))
