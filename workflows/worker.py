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
from .services import Workflows

log = logging.getLogger(__name__)


def run_once(services: Workflows, batch: int = 100) -> int:
    """Fire everything that is due now; returns the number of cases moved on."""
    total = 0
    while True:
        fired = services.fire_due_timers(limit=batch)
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


def run(services: Workflows, stop: threading.Event, poll_seconds: float = 5.0, *,
        mailer: Mailer | None = None, digest_hour: int = 7) -> None:
    """Loop until `stop` is set. Errors of one round are logged; the loop goes on."""
    log.info("timer worker started")
    last_digest = None
    while not stop.is_set():
        try:
            fired = run_once(services)
            if fired:
                log.info("fired timers of %d case(s)", fired)
            last_digest = notify(services, mailer, digest_hour, last_digest)
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
