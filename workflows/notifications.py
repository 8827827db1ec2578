"""E-mail notifications: what supervisors and caseworkers are told, and how it is sent.

Mails are written to an outbox table in the same transaction as the step that causes
them (so nothing is announced that did not happen) and delivered afterwards by
`Workflows.deliver_notifications` with an `SmtpMailer`.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


@dataclass(frozen=True)
class SmtpMailer:
    """Sends plain-text mails through an SMTP server (STARTTLS and login optional)."""

    host: str
    port: int = 25
    sender: str = "fristen@fruehfoerderung.invalid"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message["Date"], message["Message-ID"] = formatdate(localtime=True), make_msgid(domain="fruehfoerderung.nrw")
        message.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


def escalation_mail(task: dict[str, Any], case_title: str) -> tuple[str, str]:
    """Subject and body when a deadline escalated to the supervisors."""
    subject = f"Eskalation: {task['title']} – {task['business_key']}"
    body = (f"Guten Tag,\n\nim Vorgang {task['business_key']} ({case_title}) ist eine Frist überschritten "
            f"oder ein Sollziel verfehlt.\nFür die Leitung liegt die Aufgabe „{task['title']}“ bereit.\n\n"
            "Bitte öffnen Sie die Fristenübersicht oder Ihre Aufgaben im Verfahrensmanagement.\n\n"
            "Diese Nachricht wurde automatisch erstellt.")
    return subject, body


def digest_mail(display_name: str, tasks: list[dict[str, Any]], today: date) -> tuple[str, str]:
    """The daily digest of a caseworker's due-soon and overdue tasks."""
    overdue = [t for t in tasks if t["due_date"] < today]
    subject = f"Fristen am {today:%d.%m.%Y}: {len(tasks)} Aufgabe(n) bald fällig" + (
        f", {len(overdue)} überfällig" if overdue else "")
    lines = [f"Guten Tag {display_name},", "", "diese Aufgaben sind bald oder bereits fällig:", ""]
    for t in sorted(tasks, key=lambda t: t["due_date"]):
        flag = "ÜBERFÄLLIG " if t["due_date"] < today else ""
        basis = f" ({t['legal_basis']})" if t.get("legal_basis") else ""
        lines.append(f"- {flag}{t['due_date']:%d.%m.%Y}  {t['business_key']}  {t['title']}{basis}")
    lines += ["", "Diese Nachricht wurde automatisch erstellt."]
    return subject, "\n".join(lines)
