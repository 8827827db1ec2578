"""Working days and the generic deadline arithmetic of BGB §§ 187-193 (with § 26 SGB X).

`Kalender` knows the public holidays of one Land (default NRW, from the ``holidays``
package) plus manual overrides; `ereignisfrist`, `beginnfrist` and `verschiebe` are the
building blocks every rule in `regeln` computes with. `fmt` is the one date format of all
German texts. Pure functions over ``datetime.date``: no clock, no I/O.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Iterable

import holidays
from dateutil.relativedelta import relativedelta


WOCHENTAGE = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")


def fmt(d: date) -> str:
    """TT.MM.JJJJ (Wd): the one date format of all German texts."""
    return f"{d:%d.%m.%Y} ({WOCHENTAGE[d.weekday()]})"


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
def default_kalender() -> Kalender:
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
    return (kalender or default_kalender()).next_working_day(d)


def fruehester_leistungsbeginn(antrag: date) -> date:
    """§ 108 Abs. 1 SGB IX: Eingliederungshilfe from the 1st of the application month at the
    earliest."""
    return antrag.replace(day=1)
