"""The timer worker: fires due timers until told to stop.

Several workers may run at once (on PostgreSQL the claim uses SKIP LOCKED and the
version check guards every write), and a worker that was down fires on start what fell
due meanwhile, because due timers are simply rows with `due_at` in the past.
"""
from __future__ import annotations

import logging
import threading
from datetime import date

from .clock import BERLIN
from .notifications import Mailer
from .services import Sweep, Workflows

log = logging.getLogger(__name__)


def run_once(services: Workflows, batch: int = 100) -> int:
    """Fire everything that is due now, each case at most once (one Sweep): always returns,
    even for a cycle timer that is due again at once. Returns the number of cases moved on."""
    total, sweep = 0, Sweep()
    while True:
        fired = services.fire_due_timers(limit=batch, sweep=sweep)
        total += fired
        if fired < batch:
            return total


def seconds_until_next(services: Workflows, poll_seconds: float) -> float:
    """How long to wait: until the next timer, but at most one poll interval (new cases
    and a moved simulation clock are noticed within it)."""
    due = services.next_timer_due()
    if due is None:
        return poll_seconds
    return max(0.0, min(poll_seconds, (due - services.clock.now()).total_seconds() + 0.001))


def notify(services: Workflows, mailer: Mailer | None, digest_hour: int, last_digest: date | None) -> date | None:
    """Queue the daily digests once a day from `digest_hour` (German time) and send what the
    outbox holds; returns the day digests were last queued."""
    now = services.clock.now().astimezone(BERLIN)
    if now.hour >= digest_hour and last_digest != now.date():
        queued = services.queue_daily_digests()
        if queued:
            log.info("queued %d daily digest(s)", queued)
        last_digest = now.date()
    if mailer is not None:
        sent, failed = services.deliver_notifications(mailer)
        if sent or failed:
            log.info("mails sent: %d, failed: %d", sent, failed)
    return last_digest


def purge(services: Workflows, retention_days: int, last_purge: date | None) -> date | None:
    """Run the deletion run once a day (German date); returns the day it last ran."""
    today = services.clock.now().astimezone(BERLIN).date()
    if last_purge == today:
        return last_purge
    result = services.purge_closed_cases(retention_days)
    if result.cases:
        log.info("deleted %d closed case(s) after the retention period", len(result.cases))
    return today


def run(services: Workflows, stop: threading.Event, poll_seconds: float = 5.0, *,
        mailer: Mailer | None = None, digest_hour: int = 7, retention_days: int | None = None) -> None:
    """Loop until `stop` is set. Errors of one round are logged; the loop goes on.
    With `retention_days`, closed cases older than that are deleted once a day."""
    log.info("timer worker started")
    last_digest = last_purge = None
    while not stop.is_set():
        try:
            fired = run_once(services)
            if fired:
                log.info("fired timers of %d case(s)", fired)
            last_digest = notify(services, mailer, digest_hour, last_digest)
            if retention_days is not None:
                last_purge = purge(services, retention_days, last_purge)
            wait = seconds_until_next(services, poll_seconds)
        except Exception:                      # database away, etc.: retry next round
            log.exception("timer round failed")
            wait = poll_seconds
        stop.wait(timeout=wait)
    log.info("timer worker stopped")


def poll_interval(value: str | float | None, default: float = 5.0) -> float:
    try:
        return max(0.05, float(value)) if value is not None else default
    except ValueError:
        return default
