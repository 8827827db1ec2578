"""Slowing down password guessing without letting anyone lock a colleague out.

A hard lock per user name would let anybody who knows a name keep that person out of work
with five wrong passwords. So the hard limits count what one address does: a name from one
address (5 failures) and any names from one address (20). Failures of one name from many
addresses only add a growing delay after the latest one (no hard lock), and Administration
can clear them (`flask users unlock NAME`). Everything is computed from the stored attempts
and the injectable clock: the server never sleeps, tests move the clock.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_PAIR = 5          # this name from this address
MAX_FAILURES_PER_ADDRESS = 20      # any names from this address
FREE_FAILURES_PER_USER = 10        # this name from anywhere, before the delay starts
MAX_DELAY_SECONDS = 300


def user_delay(failures: int) -> timedelta:
    """Wait after the latest failure of a name with `failures` in the window: 2 s, 4 s, 8 s …
    at most 5 minutes."""
    beyond = failures - FREE_FAILURES_PER_USER
    if beyond <= 0:
        return timedelta(0)
    return timedelta(seconds=min(2 ** min(beyond, 9), MAX_DELAY_SECONDS))


def refusal(failed: dict, now: datetime) -> tuple[str, int] | None:
    """Why this attempt is refused (German message, seconds until it may be tried again), or
    None. `failed` as from Store.failed_logins over WINDOW."""
    if failed["pair"] >= MAX_FAILURES_PER_PAIR or failed["address"] >= MAX_FAILURES_PER_ADDRESS:
        return ("Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie 15 Minuten.",
                int(WINDOW.total_seconds()))
    delay = user_delay(failed["user"])
    if delay and now < failed["last_user_failure"] + delay:
        seconds = math.ceil((failed["last_user_failure"] + delay - now).total_seconds())
        return ("Zu viele fehlgeschlagene Anmeldeversuche für diesen Benutzernamen. "
                f"Bitte versuchen Sie es in {seconds} Sekunden erneut.", seconds)
    return None
