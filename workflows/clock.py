"""The one source of "now".

Deadlines, timers, audit entries and index rows all ask this module for the time,
so tests and demos can move time without sleeping and every part agrees on the date.
The clock in use is held in a context variable: services set it around each step,
and the engine's timer patch (engine/patches.py) reads it from there.
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Callable, Iterator, Protocol
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime in UTC."""


class SystemClock:
    """Real time. The only clock allowed in production."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    """A clock that moves only when told to; for unit tests of pure code."""

    def __init__(self, start: datetime):
        self._now = _aware(start)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = _aware(moment)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


@dataclass(frozen=True)
class SimulationState:
    """What the database stores for the simulation clock.

    `simulated` was the simulated time at the real instant `real`; when `frozen`,
    time stands still at `simulated`, otherwise it runs on from there.
    """

    simulated: datetime
    real: datetime
    frozen: bool

    def now(self, real_now: datetime) -> datetime:
        if self.frozen:
            return self.simulated
        return self.simulated + (real_now - self.real)


class SimulationClock:
    """Simulated time shared by every process through a stored state.

    `load` reads the stored state (None = not set: real time). The state is cached
    for `ttl` seconds so a timer loop does not query the database on every tick.
    """

    def __init__(self, load: Callable[[], SimulationState | None], ttl: float = 1.0):
        self._load = load
        self._ttl = timedelta(seconds=ttl)
        self._cached: SimulationState | None = None
        self._loaded_at: datetime | None = None

    def state(self) -> SimulationState | None:
        real = datetime.now(timezone.utc)
        if self._loaded_at is None or real - self._loaded_at > self._ttl:
            self._cached, self._loaded_at = self._load(), real
        return self._cached

    def invalidate(self) -> None:
        self._loaded_at = None

    def now(self) -> datetime:
        real = datetime.now(timezone.utc)
        state = self.state()
        return state.now(real).astimezone(timezone.utc) if state else real


_current: contextvars.ContextVar[Clock] = contextvars.ContextVar("clock", default=SystemClock())


def current() -> Clock:
    return _current.get()


def now() -> datetime:
    """Now, from the clock in use (UTC, aware)."""
    return _current.get().now()


def today() -> date:
    """Today's date in Germany: deadlines are counted in local calendar days."""
    return now().astimezone(BERLIN).date()


@contextmanager
def using(clock: Clock) -> Iterator[Clock]:
    """Make `clock` the source of now for the code inside the block (this thread/task)."""
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)


def install(clock: Clock) -> None:
    """Make `clock` the default for this context (process start-up, CLI commands)."""
    _current.set(clock)


def end_of_day(day: date) -> datetime:
    """The instant a deadline day is over: midnight after it, German time, as UTC.

    A deadline "ends with the expiry of its last day" (§ 188 BGB), so a timer for it
    fires at the start of the following day.
    """
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), BERLIN).astimezone(timezone.utc)


def start_of_day(day: date) -> datetime:
    """Midnight at the start of `day`, German time, as UTC (for warnings "on day X")."""
    return datetime.combine(day, datetime.min.time(), BERLIN).astimezone(timezone.utc)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: give a timezone")
    return moment.astimezone(timezone.utc)
