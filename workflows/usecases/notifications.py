"""Mails: the daily overview per user and the delivery of the outbox.

Mails are written to the outbox in the step that causes them (escalations: kernel) and
sent afterwards, each marked in its own transaction, so a broken SMTP server never undoes
a step and a mail is never sent twice.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from .. import notifications
from ..domain import Actor, InboxQuery
from . import kernel
from .context import Context

log = logging.getLogger(__name__)


def queue_daily_digests(ctx: Context, days: int = 7) -> int:
    """Once a day per user: the open tasks of their groups and organisation (and those they
    claimed) that are overdue or due within `days`. Returns the number of mails queued."""
    today, queued = kernel.today(ctx), 0
    with kernel.transaction(ctx) as (conn, now):
        for user in ctx.store.users_with_email(conn):
            actor = Actor(user["username"], frozenset(user["groups"]), user["organisation"])
            query = InboxQuery(lanes=sorted(actor.groups), organisation=actor.organisation,
                               due_until=today + timedelta(days=days), limit=200)
            tasks = [t for t in ctx.store.inbox(conn, query)[0] if t["claimed_by"] in (None, actor.username)]
            if not tasks:
                continue
            subject, body = notifications.digest_mail(user["display_name"], tasks, today)
            queued += ctx.store.add_notification(
                conn, dedupe_key=f"digest:{user['username']}:{today.isoformat()}", recipient=user["username"],
                email=user["email"], subject=subject, body=body, at=now)
    return queued


def deliver_notifications(ctx: Context, mailer: notifications.Mailer, limit: int = 50) -> tuple[int, int]:
    """Send queued mails, each marked in its own transaction; (sent, failed)."""
    with ctx.store.read() as conn:
        pending = ctx.store.pending_notifications(conn, limit)
    sent = failed = 0
    for item in pending:
        try:
            mailer.send(item["email"], item["subject"], item["body"])
        except Exception as err:                      # SMTP down, refused address, …
            log.warning("mail %s to %s failed: %s", item["id"], item["email"], err)
            with ctx.store.transaction() as conn:
                ctx.store.mark_notification(conn, item["id"], sent_at=None, error=str(err)[:500])
            failed += 1
            continue
        with ctx.store.transaction() as conn:
            ctx.store.mark_notification(conn, item["id"], sent_at=ctx.clock.now())
        sent += 1
    return sent, failed
