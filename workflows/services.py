"""The façade the web layer, the API, the CLI and the tests call: the use cases of
workflows.usecases bound to one Context (store, clock, caches). No logic lives here."""
from __future__ import annotations

from functools import partial

from . import documents
from .domain import CaseRef, NewDocument
from .usecases import (accounts, board, casefile, cases, clock, events, models, notifications, privacy,
                        tasks, testrun, timers)
from .usecases.context import Context
from .usecases.events import BroadcastResult
from .usecases.timers import Sweep

__all__ = ["ALLOWED_DOCUMENT_TYPES", "BroadcastResult", "CaseRef", "NewDocument", "Sweep", "Workflows"]

ALLOWED_DOCUMENT_TYPES = documents.ALLOWED_DOCUMENT_TYPES


class _Verb:
    """A use case as a method: `workflows.start_case(…)` calls `cases.start_case(workflows, …)`."""

    def __init__(self, function):
        self.function = function
        self.__doc__ = function.__doc__

    def __get__(self, context, owner=None):
        return self if context is None else partial(self.function, context)


class Workflows(Context):
    """One Context with every use case as a method, under its stable public name."""

    # models
    deploy_model, validate_model = _Verb(models.deploy_model), _Verb(models.validate_model)
    procedures, model_xml, model_versions = _Verb(models.procedures), _Verb(models.model_xml), _Verb(models.model_versions)
    model_overview, model_source = _Verb(models.model_overview), _Verb(models.model_source)
    model_diff, migrate_cases = _Verb(models.model_diff), _Verb(models.migrate_cases)
    running_cases_of, test_run = _Verb(models.running_cases_of), _Verb(testrun.test_run)
    # cases
    start_case, case, case_model_xml = _Verb(cases.start_case), _Verb(cases.case), _Verb(cases.case_model_xml)
    cases_page, failed_cases = _Verb(cases.cases_page), _Verb(cases.failed_cases)
    complete_parties, retry_failed_case = _Verb(cases.complete_parties), _Verb(cases.retry_failed_case)
    close_failed_case = _Verb(cases.close_failed_case)
    # tasks
    inbox, inbox_page, task_view = _Verb(tasks.inbox), _Verb(tasks.inbox_page), _Verb(tasks.task_view)
    task_form = _Verb(tasks.task_form)
    colleagues, claim_task, release_task = _Verb(tasks.colleagues), _Verb(tasks.claim_task), _Verb(tasks.release_task)
    hand_over_task, complete_task = _Verb(tasks.hand_over_task), _Verb(tasks.complete_task)
    # timers and events
    fire_due_timers, next_timer_due = _Verb(timers.fire_due_timers), _Verb(timers.next_timer_due)
    send_signal, send_message = _Verb(events.send_signal), _Verb(events.send_message)
    broadcast_signal = _Verb(events.broadcast_signal)
    # case file
    add_comment, add_document = _Verb(casefile.add_comment), _Verb(casefile.add_document)
    document, update_person = _Verb(casefile.document), _Verb(casefile.update_person)
    # notifications, board, accounts, clock
    queue_daily_digests = _Verb(notifications.queue_daily_digests)
    deliver_notifications = _Verb(notifications.deliver_notifications)
    board, board_figures, board_monthly = _Verb(board.board), _Verb(board.board_figures), _Verb(board.board_monthly)
    actor, healthy = _Verb(accounts.actor), _Verb(accounts.healthy)
    session_user, log_in, end_sessions = _Verb(accounts.session_user), _Verb(accounts.log_in), _Verb(accounts.end_sessions)
    create_user, user_exists, change_user = _Verb(accounts.create_user), _Verb(accounts.user_exists), _Verb(accounts.change_user)
    unlock_user, count_cases = _Verb(accounts.unlock_user), _Verb(accounts.count_cases)
    migrate_schema = _Verb(accounts.migrate_schema)
    now, today, clock_state = _Verb(clock.now), _Verb(clock.today), _Verb(clock.clock_state)
    set_simulation_clock = _Verb(clock.set_simulation_clock)
    # data protection
    person_of_case, export_person = _Verb(privacy.person_of_case), _Verb(privacy.export_person)
    due_for_deletion, purge_closed_cases = _Verb(privacy.due_for_deletion), _Verb(privacy.purge)

