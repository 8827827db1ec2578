"""The mail outbox: notifications are queued in the step's transaction and sent later.

One mail per reason and recipient (`dedupe_key`, e.g. digest:user:2026-11-23); a failed
delivery is retried a few times (`attempts`). Sending is workflows/notifications.py.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .schema import notifications


class OutboxRows:
    """Queue, list and mark mails."""

    def add_notification(self, conn: Connection, *, dedupe_key: str, recipient: str, email: str,
                         subject: str, body: str, at: datetime) -> bool:
        """Queue a mail unless one with the same key exists; True if queued."""
        exists = conn.execute(sa.select(notifications.c.id).where(notifications.c.dedupe_key == dedupe_key)).first()
        if exists:
            return False
        conn.execute(notifications.insert().values(dedupe_key=dedupe_key, recipient=recipient, email=email,
                                                   subject=subject, body=body, created_at=at))
        return True

    def pending_notifications(self, conn: Connection, limit: int, max_attempts: int = 5) -> list[dict[str, Any]]:
        rows = conn.execute(sa.select(notifications).where(notifications.c.sent_at.is_(None),
                                                           notifications.c.attempts < max_attempts)
                            .order_by(notifications.c.id).limit(limit))
        return [dict(r._mapping) for r in rows]

    def mark_notification(self, conn: Connection, notification_id: int, *, sent_at: datetime | None,
                          error: str | None = None) -> None:
        conn.execute(notifications.update().where(notifications.c.id == notification_id)
                     .values(sent_at=sent_at, last_error=error, attempts=notifications.c.attempts + 1))
