"""E-mail: escalations and daily digests through the outbox, sent to a real SMTP server
(aiosmtpd on loopback)."""
import email
import email.policy
import socket
from datetime import date, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller

from workflows.clock import BERLIN
from workflows.notifications import SmtpMailer
from workflows.store import notifications
from workflows.worker import notify, run_once

from ..helpers import KOLLEGE_LVR, PARTIES_LVR, SYSTEM, count_rows


class Inbox:
    """aiosmtpd handler keeping every delivered message."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, f"{message['Subject']}\n{message.get_content()}"))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, SmtpMailer("127.0.0.1", port, sender="fristen@lvr.example")
    controller.stop()


@pytest.fixture
def people(store):
    with store.transaction() as conn:
        for name, groups, org in (("lena", ["Leitung"], "LVR"), ("lutz", ["Leitung"], "LWL"),
                                  ("sabine.lvr", ["EGH-Sachbearbeitung"], "LVR"),
                                  ("karl.lvr", ["EGH-Sachbearbeitung"], "LVR")):
            store.add_user(conn, username=name, display_name=name.title(), password_hash="x", organisation=org,
                           groups=groups, email=f"{name}@example.org")


def at(clock, day: date, hour: int = 9) -> None:
    clock.set(datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN))


def test_escalation_mail_goes_to_the_supervisors_of_the_organisation(services, deploy, clock, people, smtp):
    inbox, mailer = smtp
    deploy("fristpruefung.bpmn", "pruefen.json")
    at(clock, date(2026, 1, 5))
    services.start_case("fristpruefung", "LVR-M-1", {"eingang_am": "2026-01-03"}, SYSTEM, parties=PARTIES_LVR,
                        title="Fristprüfung")
    at(clock, date(2026, 4, 4), hour=8)
    assert run_once(services) == 1                                   # escalates to Leitung
    assert count_rows(services.store, notifications) == 1           # queued with the step
    assert services.deliver_notifications(mailer) == (1, 0)
    [(to, text)] = inbox.messages
    assert to == ["lena@example.org"]                               # not the LWL supervisor
    assert "Eskalation: Fristüberschreitung bewerten – LVR-M-1" in text
    assert services.deliver_notifications(mailer) == (0, 0)          # sent once


def test_daily_digest_once_per_user_and_day(services, deploy, clock, people, smtp):
    inbox, mailer = smtp
    deploy("fristpruefung.bpmn", "pruefen.json")
    at(clock, date(2026, 3, 25))
    for key, eingang in (("LVR-D-1", "2026-01-03"), ("LVR-D-2", "2025-12-20"), ("LVR-D-3", "2026-02-20")):
        services.start_case("fristpruefung", key, {"eingang_am": eingang}, SYSTEM, parties=PARTIES_LVR)
    [claimed] = [t for t in services.inbox(KOLLEGE_LVR) if t["business_key"] == "LVR-D-2"]
    services.claim_task(claimed["task_id"], KOLLEGE_LVR)
    at(clock, date(2026, 3, 30), hour=6)
    last = notify(services, mailer, digest_hour=7, last_digest=None)
    assert last is None                                               # before the digest hour: no digest,
    [(to, text)] = inbox.messages                                     # only the escalation of LVR-D-2,
    assert to == ["lena@example.org"] and "Eskalation: Fristüberschreitung bewerten – LVR-D-2" in text
    inbox.messages.clear()                                            # filed after its deadline had passed
    at(clock, date(2026, 3, 30), hour=7)
    last = notify(services, mailer, digest_hour=7, last_digest=last)
    assert last == date(2026, 3, 30)
    by_user = {to[0]: text for to, text in inbox.messages}
    assert set(by_user) == {"sabine.lvr@example.org", "karl.lvr@example.org"}
    assert "LVR-D-1" in by_user["sabine.lvr@example.org"] and "03.04.2026" in by_user["sabine.lvr@example.org"]
    assert "LVR-D-2" not in by_user["sabine.lvr@example.org"]         # claimed by a colleague
    assert "ÜBERFÄLLIG" in by_user["karl.lvr@example.org"]            # LVR-D-2 ended 20.03.2026
    assert "LVR-D-3" not in by_user["karl.lvr@example.org"]           # due 20.05.: not within 7 days
    assert services.queue_daily_digests() == 0                        # once per user and day
    clock.advance(timedelta(days=1))
    assert services.queue_daily_digests() == 2


def test_failed_delivery_stays_queued_and_is_retried(services, deploy, clock, people, smtp):
    inbox, mailer = smtp
    deploy("fristpruefung.bpmn", "pruefen.json")
    at(clock, date(2026, 3, 30))
    services.start_case("fristpruefung", "LVR-R-1", {"eingang_am": "2026-01-03"}, SYSTEM, parties=PARTIES_LVR)
    assert services.queue_daily_digests() == 2
    dead = SmtpMailer("127.0.0.1", free_port(), timeout=2)          # nobody listens there
    assert services.deliver_notifications(dead) == (0, 2)
    assert inbox.messages == []
    assert services.deliver_notifications(mailer) == (2, 0)
    assert len(inbox.messages) == 2
