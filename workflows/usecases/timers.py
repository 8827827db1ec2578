"""The timer worker's use cases: fire due timers, one case per transaction.

A pass (`Sweep`) steps each case at most once, so a cycle timer fires at most once per due
time and a pass always ends. Any failure of one case is recorded with that case (kernel,
backoff in the store) and the worker goes on with the next.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from .. import engine
from ..domain import CaseFailed, CaseStatus, Conflict, DomainError
from . import kernel
from .context import Context

log = logging.getLogger(__name__)


@dataclass
class Sweep:
    """One pass of the timer worker over the due cases: each case is stepped at most once per
    pass (`handled`), so a cycle timer fires at most once per due time and a pass always ends,
    however many timers fall due while it runs. A case another worker holds locked is not
    handled yet and is claimed later in the pass."""

    handled: set[int] = field(default_factory=set)
    MAX_CASES = 10_000              # a pass ends after this many cases; the next pass goes on


def fire_due_timers(ctx: Context, limit: int = 100, worker: str = "timer", sweep: Sweep | None = None) -> int:
    """Fire due timers, one case per transaction and each case at most once per `sweep`;
    returns how many cases moved on.

    A case whose step fails, for whatever reason, is marked failed (with the reason, in the
    audit too) and retried with backoff; the other cases are not affected."""
    sweep = sweep or Sweep()
    done = attempts = 0
    while done < limit and attempts < 2 * limit:
        attempts += 1
        with kernel.transaction(ctx) as (conn, now):
            if len(sweep.handled) >= Sweep.MAX_CASES:
                return done
            claimed = ctx.store.claim_due_instances(conn, now, 1, skip=sweep.handled)
            if not claimed:
                return done
            sweep.handled.add(claimed[0])
            # The claim's due-list may predate another worker's commit: look again now that
            # the case is locked, so a timer is never fired twice.
            if not ctx.store.has_due_timer(conn, claimed[0], now):
                continue
            try:
                with conn.begin_nested():
                    done += _fire_case(ctx, conn, claimed[0], now, worker)
            except Conflict as err:
                if not isinstance(err, CaseFailed):
                    log.info("case %s changed while its timer fired; retried next round", claimed[0])
                    continue
                log.warning("case %s cannot be loaded: %s", claimed[0], err.reason)
                kernel.mark_failed(ctx, conn, ctx.store.instance(conn, claimed[0]), err.reason, now, worker)
                done += 1
            except Exception as err:          # any failure stays with its case, the others go on
                reason = kernel.failure_reason(err)
                log.warning("timer of case %s failed: %s", claimed[0], reason, exc_info=not isinstance(err, DomainError))
                kernel.mark_failed(ctx, conn, ctx.store.instance(conn, claimed[0]), reason, now, worker)
                done += 1
    return done


def _fire_case(ctx: Context, conn, instance_id: int, now: datetime, worker: str) -> int:
    row = ctx.store.instance(conn, instance_id)
    if row.status == CaseStatus.ERROR.value:          # a failed case's retry is due
        ctx.store.reopen_failed(conn, row.id, now)
        row = ctx.store.instance(conn, instance_id)
    workflow = kernel.load(ctx, conn, row)
    before = {t.task_id for t in engine.ready_human_tasks(workflow)}
    fired = engine.fire_due_timers(workflow)
    if not fired:
        return 0
    ref = kernel.save(ctx, conn, row, workflow, now)
    kernel.timers_fired(ctx, conn, row, fired, before, ref, now, worker)
    return 1


def next_timer_due(ctx: Context) -> datetime | None:
    with ctx.store.read() as conn:
        return ctx.store.next_timer_due(conn)
