"""Use cases as verbs. Each is one transaction that also writes its audit event.

A step loads the case row, runs the engine, writes the workflow back under the
version check, rewrites the case's index rows and appends to the audit trail, all or
nothing. The web layer and the API call only these functions.
"""
from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterator

from sqlalchemy.engine import Connection

from . import clock as clock_module
from . import bescheid, documents, engine, notifications, privacy, schemaforms, texts, validation
from .clock import Clock
from . import board as board_module
from .board import BoardQuery
from .domain import (ADMINS, LANES, LEITUNG, PARTY_LABELS, PROCESS_OWNERS, Actor, CaseFailed, CaseStatus, Conflict,
                     DomainError, Forbidden, InboxQuery, InvalidInput, ModelError, NotFound, Party,
                     parties_of_new_case, task_organisation)
from .store import InstanceRow, Store, digest, index_rows, unknown_case

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaseRef:
    """What a step tells its caller about the case afterwards."""

    id: int
    business_key: str
    process_id: str
    status: str
    version: int
    open_tasks: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class NewDocument:
    """A file submitted with a task (or on its own) for the case file."""

    name: str
    content_type: str
    content: bytes
    field: str | None = None      # the form field it belongs to, if any


ALLOWED_DOCUMENT_TYPES = documents.ALLOWED_DOCUMENT_TYPES


@dataclass
class Sweep:
    """One pass of the timer worker over the due cases: each case is stepped at most once per
    pass (`handled`), so a cycle timer fires at most once per due time and a pass always ends,
    however many timers fall due while it runs. A case another worker holds locked is not
    handled yet and is claimed later in the pass."""

    handled: set[int] = field(default_factory=set)
    MAX_CASES = 10_000              # a pass ends after this many cases; the next pass goes on


@dataclass(frozen=True)
class BroadcastResult:
    delivered: list[str]
    failed: dict[str, str]


class Workflows:
    """The application's use cases over one store and one clock."""

    def __init__(self, store: Store, clock: Clock | None = None):
        self.store = store
        self.clock = clock or clock_module.SystemClock()
        self._models: dict[int, engine.ProcessModel] = {}
        self._forms: dict[tuple[int, str], dict] = {}

    # -- plumbing

    @contextmanager
    def _step(self) -> Iterator[tuple[Connection, datetime]]:
        """One transaction with this service's clock as the source of now. A case that turned
        out to be broken in it is marked failed afterwards, in a transaction of its own."""
        with clock_module.using(self.clock):
            try:
                with self.store.transaction() as conn:
                    yield conn, self.clock.now()
            except CaseFailed as failed:
                if not failed.recorded:
                    self._record_failure(failed)
                raise

    def _record_failure(self, failed: CaseFailed) -> None:
        with self.store.transaction() as conn:
            self._mark_failed(conn, self.store.instance(conn, failed.instance_id), failed.reason, self.clock.now())
        failed.recorded = True

    def _mark_failed(self, conn: Connection, row: InstanceRow, reason: str, now: datetime,
                     actor: str = "system") -> None:
        retry_at = self.store.mark_failed(conn, row.id, reason, now)
        self.store.audit(conn, at=now, actor=actor, action="fehler", instance_id=row.id,
                         business_key=row.business_key, details={"fehler": reason, "erneut_ab": retry_at.isoformat()})

    # -- failed cases

    def failed_cases(self, actor: Actor) -> list[dict[str, Any]]:
        """Failed cases with their reasons, for Leitung (of their organisation) and process owners."""
        _require(actor.is_system or bool({PROCESS_OWNERS, LEITUNG, ADMINS} & set(actor.groups)),
                 "Nur Leitung und Prozessverantwortliche sehen angehaltene Vorgänge.")
        with self.store.read() as conn:
            cases = self.store.failed_cases(conn)
            for case in cases:
                case["missing_parties"] = self._missing_parties(conn, self.store.instance(conn, case["id"]))
        if actor.is_system or PROCESS_OWNERS in actor.groups or actor.organisation is None:
            return cases
        return [c for c in cases if actor.organisation in c["parties"].values()]

    def complete_parties(self, business_key: str, parties: dict[str, str], actor: Actor) -> None:
        """A process owner names the organisations a case lacks (cases started
        without them before every start had to name them, see migration 0007). Only missing
        parties are filled: a case never moves from one organisation to another this way."""
        _require(actor.is_system or PROCESS_OWNERS in actor.groups, "Nur Prozessverantwortliche ergänzen Beteiligte.")
        with self._step() as (conn, now):
            row = self.store.instance(conn, self.store.instance_by_key(conn, business_key).id, for_update=True)
            missing = self._missing_parties(conn, row)
            added = {}
            for party, organisation in (parties or {}).items():
                organisation = texts.check_name((organisation or "").strip(), party, "Organisation")[:200]
                if not organisation:
                    continue
                if party not in missing:
                    label = next((text for p, text in PARTY_LABELS.items() if p.value == party), party)
                    raise InvalidInput(f"Für „{label}“ ist keine Organisation zu ergänzen.", field=party)
                added[party] = organisation
            if not added:
                raise InvalidInput("Bitte geben Sie mindestens eine fehlende Organisation an.",
                                   field=next(iter(missing), "parties"))
            self.store.add_parties(conn, row.id, added)
            self.store.audit(conn, at=now, actor=actor.username, action="beteiligte_ergaenzt", instance_id=row.id,
                             business_key=row.business_key, details={"beteiligte": added})

    def _missing_parties(self, conn: Connection, row: InstanceRow) -> list[str]:
        """The parties the case's lanes need but the case does not name (as `Party` values)."""
        lanes = self._model(conn, row.model_version_id).lanes
        return [party.value for party in PARTY_LABELS
                if party.value not in row.parties
                and any(LANES.get(lane) == party for lane in lanes)]

    def retry_failed_case(self, business_key: str, actor: Actor) -> str:
        """A process owner runs a failed case again (after a model fix or a version move): it
        is loaded, its due timers fire and it is saved; if it fails again it stays failed
        with the new reason. Returns the case's status afterwards."""
        _require(actor.is_system or PROCESS_OWNERS in actor.groups,
                 "Nur Prozessverantwortliche können einen angehaltenen Vorgang erneut anstoßen.")
        with self._step() as (conn, now):
            row = self.store.instance(conn, self.store.instance_by_key(conn, business_key).id, for_update=True)
            if row.status != CaseStatus.ERROR.value:
                raise Conflict(f"Der Vorgang {row.business_key} ist nicht angehalten.", business_key=row.business_key)
            missing = self._missing_parties(conn, row)
            if missing:
                raise Conflict("Bitte ergänzen Sie zuerst die zuständigen Organisationen ("
                               + ", ".join(PARTY_LABELS[Party(p)] for p in missing) + ").",
                               business_key=row.business_key)
            self.store.audit(conn, at=now, actor=actor.username, action="vorgang_erneut_angestossen",
                             instance_id=row.id, business_key=row.business_key, details={"fehler": row.error})
            try:
                with conn.begin_nested():
                    self.store.reopen_failed(conn, row.id, now)
                    row = self.store.instance(conn, row.id)
                    workflow = self._loaded(conn, row)
                    open_before = {t.task_id for t in engine.ready_human_tasks(workflow)}
                    fired = self._stepping(row, lambda: engine.fire_due_timers(workflow))
                    ref = self._save(conn, row, workflow, now)
                    self._timers_fired(conn, row, fired, open_before, ref, now, during=actor)
                    return ref.status
            except DomainError as err:
                reason = err.reason if isinstance(err, CaseFailed) else err.message
                self._mark_failed(conn, self.store.instance(conn, row.id), reason, now)
                return CaseStatus.ERROR.value

    def close_failed_case(self, business_key: str, reason: str, actor: Actor) -> None:
        """Leitung ends a failed case for good, with a reason (audited); nothing stays open."""
        _require(actor.is_system or LEITUNG in actor.groups, "Nur die Leitung kann einen angehaltenen Vorgang beenden.")
        reason = " ".join((reason or "").split())
        if not 5 <= len(reason) <= 1000:
            raise InvalidInput("Bitte begründen Sie das Beenden (5 bis 1.000 Zeichen).", field="begruendung")
        with self._step() as (conn, now):
            row = self.store.instance(conn, self.store.instance_by_key(conn, business_key).id, for_update=True)
            _require_visible(row, actor.is_system or self._may_see(conn, actor, row)
                             or actor.organisation in row.parties.values())
            if row.status != CaseStatus.ERROR.value:
                raise Conflict(f"Der Vorgang {row.business_key} ist nicht angehalten.", business_key=row.business_key)
            self.store.close_failed(conn, row.id, now)
            self.store.audit(conn, at=now, actor=actor.username, action="vorgang_beendet", instance_id=row.id,
                             business_key=row.business_key, details={"begruendung": reason, "fehler": row.error})

    def _workflow(self, conn: Connection, row: InstanceRow):
        """The case's workflow for a step: CaseFailed (409) if it is failed or cannot be loaded."""
        if row.status == CaseStatus.ERROR.value:
            raise CaseFailed(row.id, row.business_key, row.error or "", recorded=True)
        if row.status != CaseStatus.RUNNING.value:
            raise Conflict(f"Der Vorgang {row.business_key} ist abgeschlossen.", business_key=row.business_key)
        return self._loaded(conn, row)

    def _loaded(self, conn: Connection, row: InstanceRow):
        try:
            return engine.loads(row.workflow_json, self._model(conn, row.model_version_id))
        except DomainError:
            raise
        except Exception as err:
            raise CaseFailed(row.id, row.business_key,
                             "Der gespeicherte Stand lässt sich nicht laden. " + _failure_reason(err)) from err

    @staticmethod
    def _stepping(row: InstanceRow, step):
        """Run an engine step of a request; an engine defect (not the user's input) fails the case."""
        try:
            return step()
        except DomainError:
            raise
        except Exception as err:
            raise CaseFailed(row.id, row.business_key, _failure_reason(err)) from err

    def _model(self, conn: Connection, version_id: int) -> engine.ProcessModel:
        if version_id not in self._models:
            version = self.store.model_version(conn, version_id)
            self._models[version_id] = engine.parse_model(_bpmn_files(version["files"]),
                                                          version["process_id"])
        return self._models[version_id]

    def _save(self, conn: Connection, row: InstanceRow, workflow, now: datetime,
              open_before: list[dict[str, Any]] | None = None) -> CaseRef:
        snap = engine.snapshot(workflow)
        rows = index_rows(snap, lambda lane: task_organisation(lane, row.parties))
        new_digest = digest(rows)
        version = self.store.save_instance(conn, row, workflow_json=engine.dumps(workflow),
                                           status=snap.status, now=now, index_digest=new_digest)
        self.store.write_index(conn, row, rows, previous=row.index_digest, new=new_digest, now=now,
                               open_before=open_before)
        return CaseRef(row.id, row.business_key, row.process_id, snap.status.value, version,
                       [_task_ref(t) for t in snap.human_tasks])

    # -- models

    def deploy_model(self, files: dict[str, bytes | str], actor: Actor,
                     main: str | None = None) -> dict[str, Any]:
        """Validate and store a new version of a process model.

        `files` holds the BPMN file (`main`, or the only .bpmn), BPMN files its call
        activities need, and the JSON forms its user tasks name. Nothing invalid is stored:
        every rule of workflows.validation applies (ModelError with all problems otherwise).
        """
        _require(actor.is_system or PROCESS_OWNERS in actor.groups,
                 "Nur Prozessverantwortliche dürfen Modelle bereitstellen.")
        texts = {name: _text(name, content) for name, content in files.items()}
        bpmn_names = [n for n in texts if n.endswith(".bpmn")]
        main = main or (bpmn_names[0] if len(bpmn_names) == 1 else None)
        if main not in texts:
            raise InvalidInput("Bitte geben Sie an, welche BPMN-Datei bereitgestellt werden soll.")
        problems = validation.validate(texts, main)
        if validation.has_errors(problems):
            first = next(p for p in problems if p.severity == validation.ERROR)
            error = ModelError(first.message, element_id=first.element_id, line=first.line, file_name=first.file_name)
            error.details["problems"] = [p.to_dict() for p in problems]
            raise error
        model = engine.parse_model(_bpmn_files(texts), engine.main_process_id(texts[main].encode(), main))
        _check_forms(model, texts)
        with self._step() as (conn, now):
            version = self.store.add_model_version(
                conn, process_id=model.process_id, name=model.name, bpmn_xml=texts[main],
                files=texts, sha256=model.sha256, deployed_at=now, deployed_by=actor.username)
            self.store.audit(conn, at=now, actor=actor.username, action="modell_bereitgestellt",
                             details={"process_id": model.process_id, "version": version["version"],
                                      "sha256": model.sha256})
        self._models[version["id"]] = model
        return {k: v for k, v in version.items() if k not in ("files", "bpmn_xml")}

    def procedures(self) -> list[dict[str, Any]]:
        """The deployed procedures (newest version's name), for filters and start pages."""
        with self.store.read() as conn:
            return self.store.procedures(conn)

    def model_xml(self, version_id: int) -> str:
        with self.store.read() as conn:
            return self.store.model_version(conn, version_id)["bpmn_xml"]

    # -- cases

    def start_case(self, process_id: str, business_key: str, data: dict[str, Any], actor: Actor, *,
                   title: str = "", parties: dict[str, str] | None = None,
                   person: dict[str, Any] | None = None, same_person_as: str | None = None) -> CaseRef:
        """Start a case of the newest version of a procedure under an Aktenzeichen.

        A child's case gets the child and the guardians' address as `person` (stored apart from
        the case, workflows.privacy), or the person of an earlier case the actor may see
        (`same_person_as`, its Aktenzeichen)."""
        business_key = (business_key or "").strip()
        if not business_key or len(business_key) > 100:
            raise InvalidInput("Bitte geben Sie ein Aktenzeichen (höchstens 100 Zeichen) an.",
                               field="business_key")
        texts.check_name(business_key, "business_key", "Aktenzeichen")
        texts.check_name(title or "", "title", "Titel")
        for party, organisation in (parties or {}).items():
            texts.check_name(str(organisation), "parties", f"Beteiligte Organisation ({party})")
        data = engine.check_data(dict(data))
        privacy.refuse_identity_in_data(data)
        if person is not None and same_person_as:
            raise InvalidInput("Bitte entweder Personendaten angeben oder einen früheren Vorgang nennen.",
                               field="person")
        person = privacy.check_person(person, self.today()) if person is not None else None
        with self._step() as (conn, now):
            person_id = self.store.add_person(conn, person, now) if person is not None else None
            if same_person_as:
                earlier = self._visible_case(conn, same_person_as.strip(), actor)
                if earlier.person_id is None:
                    raise InvalidInput(f"Zum Vorgang {earlier.business_key} sind keine Personendaten gespeichert.",
                                       field="same_person_as")
                person_id = earlier.person_id
            version_id, version_number = self.store.latest_model_version_id(conn, process_id)
            model = self._model(conn, version_id)
            _require(actor.is_system or bool(set(actor.groups) & set(model.lanes)),
                     "Sie dürfen Vorgänge dieses Verfahrens nicht anlegen.")
            parties = parties_of_new_case(model.lanes, parties, actor)
            workflow = engine.start(model, {**data, "aktenzeichen": business_key})
            snap = engine.snapshot(workflow)
            rows = index_rows(snap, lambda lane: task_organisation(lane, parties))
            new_digest = digest(rows)
            row = self.store.insert_instance(
                conn, business_key=business_key, process_id=process_id,
                model_version_id=version_id, title=title or model.name, parties=parties,
                workflow_json=engine.dumps(workflow), status=snap.status, now=now, index_digest=new_digest,
                person_id=person_id)
            self.store.write_index(conn, row, rows, previous={}, new=new_digest, now=now)
            self.store.audit(conn, at=now, actor=actor.username, action="vorgang_angelegt",
                             instance_id=row.id, business_key=business_key,
                             details={"process_id": process_id, "version": version_number, "data": data,
                                      **({"person_id": person_id} if person_id else {})})
            ref = CaseRef(row.id, business_key, process_id, snap.status.value, row.version,
                          [_task_ref(t) for t in snap.human_tasks])
            self._timers_fired(conn, row, engine.completed_timers(workflow), set(), ref, now, during=actor)
            return ref

    # -- tasks

    def claim_task(self, task_id: str, actor: Actor) -> None:
        with self._step() as (conn, now):
            task = self._locked_task(conn, task_id, actor)
            if task["claimed_by"] == actor.username:
                return
            self.store.set_claim(conn, task_id, actor.username, expected=None)
            self._audit_task(conn, now, actor, "aufgabe_uebernommen", task)

    def release_task(self, task_id: str, actor: Actor) -> None:
        with self._step() as (conn, now):
            task = self._locked_task(conn, task_id, actor)
            _require(task["claimed_by"] == actor.username,
                     "Nur wer die Aufgabe übernommen hat, kann sie zurückgeben.")
            self.store.set_claim(conn, task_id, None, expected=actor.username)
            self._audit_task(conn, now, actor, "aufgabe_zurueckgegeben", task)

    def hand_over_task(self, task_id: str, actor: Actor, colleague: Actor) -> None:
        """Give a task to a colleague who may work it (same group and organisation)."""
        with self._step() as (conn, now):
            task = self._locked_task(conn, task_id, actor)
            _require(colleague.may_work(task["lane"], task["organisation"]),
                     f"{colleague.username} darf diese Aufgabe nicht bearbeiten.")
            self.store.set_claim(conn, task_id, colleague.username, expected=task["claimed_by"])
            self._audit_task(conn, now, actor, "aufgabe_uebergeben", task, {"an": colleague.username})

    def complete_task(self, task_id: str, data: dict[str, Any], actor: Actor,
                      documents: list[NewDocument] | tuple = ()) -> CaseRef:
        """Complete a task with the submitted data (and files); the case runs on to its next wait.

        If someone else completed or changed the case first, Conflict; nothing is stored."""
        data = engine.check_data(dict(data))
        privacy.refuse_identity_in_data(data)
        for document in documents:
            _check_document(document)
        with self._step() as (conn, now):
            row = self.store.instance(conn, self.store.open_task(conn, task_id)["instance_id"], for_update=True)
            # read under the lock: a claim committed meanwhile must be kept (and respected)
            open_before = self.store.open_tasks_of_case_of(conn, task_id)
            task = _may_work(actor, next(t for t in open_before if t["task_id"] == task_id))
            if task["claimed_by"] not in (None, actor.username):
                raise Conflict(f"Die Aufgabe ist von {task['claimed_by']} übernommen.", task_id=task_id)
            if task["form"]:
                schema = self._form(conn, row.model_version_id, task["form"])
                errors = schemaforms.validate(schema, data, {d.field for d in documents if d.field})
                if errors:
                    raise InvalidInput("Bitte prüfen Sie die markierten Angaben.", fields=errors,
                                       field=next(iter(errors)))
            for document in documents:
                document_id = self.store.add_document(
                    conn, instance_id=row.id, kind="upload", name=document.name,
                    content_type=document.content_type, content=document.content,
                    uploaded_by=actor.username, uploaded_at=now, task_id=task_id)
                if document.field:
                    data[document.field] = {"dokument_id": document_id, "name": document.name}
            workflow = self._workflow(conn, row)
            letter = self._letter_for(conn, workflow, task_id, data, row, now)
            _, fired = self._stepping(row, lambda: engine.watching_timers(
                workflow, lambda: engine.complete(workflow, task_id, data)))
            ref = self._save(conn, row, workflow, now, open_before)
            if letter is not None:
                name, pdf = letter
                self.store.add_document(conn, instance_id=row.id, kind="bescheid", name=name,
                                        content_type="application/pdf", content=pdf,
                                        uploaded_by=actor.username, uploaded_at=now, task_id=task_id)
            self._audit_task(conn, now, actor, "aufgabe_erledigt", task, {"data": data})
            self._timers_fired(conn, row, fired, {t["task_id"] for t in open_before}, ref, now, during=actor)
            return ref

    def _letter_for(self, conn: Connection, workflow, task_id: str, data: dict[str, Any], row: InstanceRow,
                    now: datetime) -> tuple[str, bytes] | None:
        """The PDF a task produces (property `dokument`), from the case as it will be after
        the submission; refused while it would still be incomplete (e.g. without the
        guardians' address, which only the person record holds)."""
        if engine.task_properties(workflow, task_id).get("dokument") != "bescheid":
            return None
        case = {"business_key": row.business_key, "title": row.title, "parties": row.parties,
                "person": self.store.person(conn, row.person_id),
                "data": {**engine.task_data(workflow, task_id), **data},
                "deadlines": engine.deadlines(workflow), "today": now.astimezone(clock_module.BERLIN).date()}
        gaps = bescheid.bescheid_luecken(case)
        if gaps:
            raise InvalidInput("Der Bescheid kann so nicht erstellt werden: " + "; ".join(gaps) + ".")
        return f"Bescheid {row.business_key} {case['today'].strftime('%d.%m.%Y')}.pdf", bescheid.bescheid_pdf(case)

    def _workable_task(self, conn: Connection, task_id: str, actor: Actor) -> dict[str, Any]:
        return _may_work(actor, self.store.open_task(conn, task_id))

    def _locked_task(self, conn: Connection, task_id: str, actor: Actor) -> dict[str, Any]:
        """The open task, read after locking its case: a claim then waits for a step of the
        case in flight (which rewrites its open tasks) instead of being overwritten by it."""
        self.store.lock_instance(conn, self.store.open_task(conn, task_id)["instance_id"])
        return self._workable_task(conn, task_id, actor)

    def _audit_task(self, conn, now, actor: Actor, action: str, task: dict[str, Any],
                    details: dict[str, Any] | None = None) -> None:
        self.store.audit(conn, at=now, actor=actor.username, action=action,
                         instance_id=task["instance_id"], business_key=task["business_key"],
                         task_id=task["task_id"], details={"aufgabe": task["title"], **(details or {})})

    # -- timers

    def fire_due_timers(self, limit: int = 100, worker: str = "timer", sweep: Sweep | None = None) -> int:
        """Fire due timers, one case per transaction and each case at most once per `sweep`;
        returns how many cases moved on.

        A case whose step fails, for whatever reason, is marked failed (with the reason, in the
        audit too) and retried with backoff; the other cases are not affected."""
        sweep = sweep or Sweep()
        done = attempts = 0
        while done < limit and attempts < 2 * limit:
            attempts += 1
            with self._step() as (conn, now):
                if len(sweep.handled) >= Sweep.MAX_CASES:
                    return done
                claimed = self.store.claim_due_instances(conn, now, 1, skip=sweep.handled)
                if not claimed:
                    return done
                sweep.handled.add(claimed[0])
                # The claim's due-list may predate another worker's commit: look again
                # now that the case is locked, so a timer is never fired twice.
                if not self.store.has_due_timer(conn, claimed[0], now):
                    continue
                try:
                    with conn.begin_nested():
                        done += self._fire_case(conn, claimed[0], now, worker)
                except Conflict as err:
                    if not isinstance(err, CaseFailed):
                        log.info("case %s changed while its timer fired; retried next round", claimed[0])
                        continue
                    log.warning("case %s cannot be loaded: %s", claimed[0], err.reason)
                    self._mark_failed(conn, self.store.instance(conn, claimed[0]), err.reason, now, worker)
                    done += 1
                except Exception as err:          # any failure stays with its case, the others go on
                    log.warning("timer of case %s failed: %s", claimed[0], _failure_reason(err),
                                exc_info=not isinstance(err, DomainError))
                    self._mark_failed(conn, self.store.instance(conn, claimed[0]), _failure_reason(err), now, worker)
                    done += 1
        return done

    def _fire_case(self, conn: Connection, instance_id: int, now: datetime, worker: str) -> int:
        row = self.store.instance(conn, instance_id)
        if row.status == CaseStatus.ERROR.value:          # a failed case's retry is due
            self.store.reopen_failed(conn, row.id, now)
            row = self.store.instance(conn, instance_id)
        workflow = self._loaded(conn, row)
        before = {t.task_id for t in engine.ready_human_tasks(workflow)}
        fired = engine.fire_due_timers(workflow)
        if not fired:
            return 0
        ref = self._save(conn, row, workflow, now)
        self._timers_fired(conn, row, fired, before, ref, now, worker)
        return 1

    def _timers_fired(self, conn: Connection, row: InstanceRow, fired: list, open_before: set[str],
                      ref: CaseRef, now: datetime, worker: str = "timer", during: Actor | None = None) -> None:
        """Audit the timers a step fired (the worker's, or one that fell due during the step of
        `during`) and tell the supervisors of escalations that landed with Leitung."""
        if not fired:
            return
        for task in ref.open_tasks:
            if task["lane"] == "Leitung" and task["task_id"] not in open_before:
                self._queue_escalation(conn, row, task, now)
        self.store.audit(conn, at=now, actor=worker, action="timer_ausgeloest", instance_id=row.id,
                         business_key=row.business_key,
                         details={"timer": [{"name": t.title, "faellig": t.due_at.isoformat()} for t in fired],
                                  **({"schritt_von": during.username} if during else {})})

    # -- process owners

    def validate_model(self, files: dict[str, bytes | str], main: str, actor: Actor) -> list[dict[str, Any]]:
        """Every problem of a model (element, line, German message), for the editor."""
        from . import migration
        migration.require_owner(actor, "Modelle prüfen")
        texts = {name: _text(name, content) for name, content in files.items()}
        return [p.to_dict() for p in validation.validate(texts, main)]

    def model_overview(self, actor: Actor) -> list[dict[str, Any]]:
        """The procedures with all their versions (who deployed when, running cases), newest first."""
        from . import migration
        migration.require_owner(actor)
        grouped: dict[str, dict[str, Any]] = {}
        for version in self.model_versions():
            entry = grouped.setdefault(version["process_id"], {"process_id": version["process_id"], "versions": []})
            entry["versions"].append(version)
            entry["name"] = version["name"]
        for entry in grouped.values():
            entry["versions"].sort(key=lambda v: v["version"], reverse=True)
            entry["latest"] = entry["versions"][0]
            entry["running"] = sum(v["running"] for v in entry["versions"])
        return sorted(grouped.values(), key=lambda e: e["name"])

    def model_source(self, process_id: str, actor: Actor) -> dict[str, Any]:
        """The newest version's files for the editor: main file name, BPMN XML and forms."""
        from . import migration
        migration.require_owner(actor)
        with self.store.read() as conn:
            version = self.store.latest_model_version(conn, process_id)
        files = version["files"]
        main = next((n for n, text in files.items() if n.endswith(".bpmn") and text == version["bpmn_xml"]),
                    f"{process_id}.bpmn")
        return {"process_id": process_id, "version": version["version"], "version_id": version["id"],
                "main": main, "xml": version["bpmn_xml"],
                "forms": {n: t for n, t in files.items() if n.endswith(".json")},
                "others": {n: t for n, t in files.items() if n.endswith(".bpmn") and n != main}}

    def model_diff(self, business_key: str, new_version_id: int, actor: Actor) -> dict[str, Any]:
        from . import migration
        return migration.model_diff(self, business_key, new_version_id, actor)

    def migrate_cases(self, business_keys: list[str], new_version_id: int, actor: Actor) -> dict[str, Any]:
        from . import migration
        return migration.migrate_cases(self, business_keys, new_version_id, actor)

    def test_run(self, process_id: str, data: dict[str, Any], days: int, actor: Actor) -> list[dict[str, Any]]:
        """Run a new case of the newest version in a throwaway store and fast-forward `days`."""
        from . import migration, testrun
        migration.require_owner(actor, "Testläufe starten")
        if not 1 <= days <= 3660:
            raise InvalidInput("Bitte einen Zeitraum von 1 bis 3660 Tagen angeben.", field="tage")
        data = engine.check_data(dict(data))
        with self.store.read() as conn:
            version = self.store.latest_model_version(conn, process_id)
        main = next(name for name, text in version["files"].items() if text == version["bpmn_xml"])
        return testrun.run(version["files"], main, process_id, data, self.clock.now(), days)

    def running_cases_of(self, process_id: str, actor: Actor) -> list[dict[str, Any]]:
        from . import migration
        return migration.cases_by_version(self, process_id, actor)

    # -- notifications

    def _queue_escalation(self, conn: Connection, row: InstanceRow, task: dict[str, Any], now: datetime) -> None:
        """An escalation landed with Leitung: tell the supervisors of the organisation (outbox)."""
        organisation = task_organisation(task["lane"], row.parties)
        if organisation is None:            # nobody's task (no deciding organisation): no mail to anyone
            log.warning("Eskalation in %s ohne zuständige Organisation: keine Mail", row.business_key)
            return
        subject, body = notifications.escalation_mail({**task, "business_key": row.business_key}, row.title)
        for user in self.store.users_with_email(conn):
            if "Leitung" in user["groups"] and user["organisation"] == organisation:
                self.store.add_notification(conn, dedupe_key=f"eskalation:{task['task_id']}:{user['username']}",
                                            recipient=user["username"], email=user["email"], subject=subject,
                                            body=body, at=now)

    def queue_daily_digests(self, days: int = 7) -> int:
        """Once a day per user: the open tasks of their groups and organisation (and those they
        claimed) that are overdue or due within `days`. Returns the number of mails queued."""
        today, queued = self.today(), 0
        with self._step() as (conn, now):
            for user in self.store.users_with_email(conn):
                actor = Actor(user["username"], frozenset(user["groups"]), user["organisation"])
                query = InboxQuery(lanes=sorted(actor.groups), organisation=actor.organisation,
                                   due_until=today + timedelta(days=days), limit=200)
                tasks = [t for t in self.store.inbox(conn, query)[0]
                         if t["claimed_by"] in (None, actor.username)]
                if not tasks:
                    continue
                subject, body = notifications.digest_mail(user["display_name"], tasks, today)
                queued += self.store.add_notification(
                    conn, dedupe_key=f"digest:{user['username']}:{today.isoformat()}", recipient=user["username"],
                    email=user["email"], subject=subject, body=body, at=now)
        return queued

    def deliver_notifications(self, mailer: notifications.Mailer, limit: int = 50) -> tuple[int, int]:
        """Send queued mails, each marked in its own transaction; (sent, failed)."""
        with self.store.read() as conn:
            pending = self.store.pending_notifications(conn, limit)
        sent = failed = 0
        for item in pending:
            try:
                mailer.send(item["email"], item["subject"], item["body"])
            except Exception as err:                      # SMTP down, refused address, …
                log.warning("mail %s to %s failed: %s", item["id"], item["email"], err)
                with self.store.transaction() as conn:
                    self.store.mark_notification(conn, item["id"], sent_at=None, error=str(err)[:500])
                failed += 1
                continue
            with self.store.transaction() as conn:
                self.store.mark_notification(conn, item["id"], sent_at=self.clock.now())
            sent += 1
        return sent, failed

    def next_timer_due(self) -> datetime | None:
        with self.store.read() as conn:
            return self.store.next_timer_due(conn)

    # -- events

    def send_signal(self, business_key: str, name: str, payload: dict[str, Any] | None,
                    actor: Actor) -> CaseRef:
        return self._deliver(business_key, "signal", name, payload, actor)

    def send_message(self, business_key: str, name: str, payload: dict[str, Any] | None,
                     actor: Actor) -> CaseRef:
        return self._deliver(business_key, "message", name, payload, actor)

    def _deliver(self, business_key: str, kind: str, name: str, payload, actor: Actor,
                 instance_id: int | None = None) -> CaseRef:
        """Deliver to one case: by Aktenzeichen for a party of the case, or by id as part of
        a broadcast (authorised as a whole; the signal reveals nothing of the case)."""
        payload = engine.check_data(dict(payload or {}))
        with self._step() as (conn, now):
            row = (self.store.instance(conn, instance_id, for_update=True) if instance_id
                   else self.store.instance_by_key(conn, business_key))
            _require_visible(row, actor.is_system or instance_id is not None or self._may_see(conn, actor, row))
            workflow = self._workflow(conn, row)
            send = engine.send_signal if kind == "signal" else engine.send_message
            open_before = {t.task_id for t in engine.ready_human_tasks(workflow)}
            delivered, fired = self._stepping(row, lambda: engine.watching_timers(
                workflow, lambda: send(workflow, name, payload)))
            if not delivered:
                raise Conflict(f"Der Vorgang {row.business_key} wartet nicht auf „{name}“.",
                               business_key=row.business_key)
            ref = self._save(conn, row, workflow, now)
            self.store.audit(conn, at=now, actor=actor.username,
                             action="signal_empfangen" if kind == "signal" else "nachricht_empfangen",
                             instance_id=row.id, business_key=row.business_key,
                             details={"name": name, "payload": payload})
            self._timers_fired(conn, row, fired, open_before, ref, now, during=actor)
            return ref

    def broadcast_signal(self, name: str, payload: dict[str, Any] | None, actor: Actor,
                         process_id: str | None = None) -> BroadcastResult:
        """Deliver a signal to every case waiting for it, each case in its own transaction,
        so one failing case neither blocks nor undoes the others."""
        _require(actor.is_system or PROCESS_OWNERS in actor.groups or "Leitung" in actor.groups,
                 "Nur Leitung oder Prozessverantwortliche dürfen Signale an alle Vorgänge senden.")
        with self.store.read() as conn:
            targets = self.store.instances_awaiting(conn, "signal", name, process_id)
        delivered, failed = [], {}
        for instance_id in targets:
            try:
                delivered.append(self._deliver("", "signal", name, payload, actor, instance_id).business_key)
            except DomainError as err:
                failed[str(instance_id)] = err.message
        return BroadcastResult(delivered, failed)

    # -- case file

    def add_comment(self, business_key: str, text: str, actor: Actor) -> None:
        text = (text or "").strip()
        if not text or len(text) > 5000:
            raise InvalidInput("Bitte geben Sie einen Kommentar (höchstens 5000 Zeichen) ein.", field="text")
        texts.check_free_text(text, "text", "Kommentar")
        with self._step() as (conn, now):
            row = self._visible_case(conn, business_key, actor)
            self.store.add_comment(conn, instance_id=row.id, author=actor.username, at=now, text=text)
            self.store.audit(conn, at=now, actor=actor.username, action="kommentar", instance_id=row.id,
                             business_key=row.business_key, details={"text": text})

    def add_document(self, business_key: str, document: NewDocument, actor: Actor) -> int:
        _check_document(document)
        with self._step() as (conn, now):
            row = self._visible_case(conn, business_key, actor)
            document_id = self.store.add_document(
                conn, instance_id=row.id, kind="upload", name=document.name,
                content_type=document.content_type, content=document.content,
                uploaded_by=actor.username, uploaded_at=now)
            self.store.audit(conn, at=now, actor=actor.username, action="dokument_hochgeladen",
                             instance_id=row.id, business_key=row.business_key,
                             details={"dokument_id": document_id, "name": document.name})
            return document_id

    def document(self, business_key: str, document_id: int, actor: Actor) -> dict[str, Any]:
        """A document with its content; reading it is logged (children's data, § 35 SGB I)."""
        with self._step() as (conn, now):
            row = self._visible_case(conn, business_key, actor)
            document = self.store.document(conn, row.id, document_id)
            self.store.audit(conn, at=now, actor=actor.username, action="dokument_gelesen",
                             instance_id=row.id, business_key=row.business_key,
                             details={"dokument_id": document_id, "name": document["name"]})
            return document

    def task_view(self, task_id: str, actor: Actor) -> dict[str, Any]:
        """What a task page shows: the task, its form (JSON Schema) and the data to prefill."""
        with self.store.read() as conn:
            task = self._workable_task(conn, task_id, actor)
            row = self.store.instance(conn, task["instance_id"])
            workflow = self._workflow(conn, row)
            schema = self._form(conn, row.model_version_id, task["form"]) if task["form"] else None
            return {"task": task, "case": {"business_key": row.business_key, "title": row.title,
                                           "parties": row.parties, "process_id": row.process_id},
                    "schema": schema, "data": engine.task_data(workflow, task_id),
                    "documentation": engine.task_documentation(workflow, task_id)}

    def colleagues(self, task_id: str, actor: Actor) -> list[dict[str, Any]]:
        """Who else may work this task (same group and organisation)."""
        with self.store.read() as conn:
            task = self._workable_task(conn, task_id, actor)
            return [u for u in self.store.colleagues(conn, task["lane"], task["organisation"])
                    if u["username"] != actor.username]

    def actor(self, username: str) -> Actor:
        with self.store.read() as conn:
            user = self.store.user(conn, username)
        if user is None or not user["active"]:
            raise NotFound(f"Den Benutzer {username} gibt es nicht.", username=username)
        return Actor(user["username"], frozenset(user["groups"]), user["organisation"])

    def _form(self, conn: Connection, version_id: int, form: str) -> dict[str, Any]:
        key = (version_id, form)
        if key not in self._forms:
            files = self.store.model_version(conn, version_id)["files"]
            self._forms[key] = json.loads(files[form])
        return self._forms[key]

    def _visible_case(self, conn: Connection, business_key: str, actor: Actor) -> InstanceRow:
        row = self.store.instance_by_key(conn, business_key)
        _require_visible(row, actor.is_system or self._may_see(conn, actor, row))
        return row

    # -- reading

    def inbox_page(self, actor: Actor, *, mine: bool = False, process_id: str | None = None,
                   due: str | None = None, soon_days: int = 7, organisation: str | None = None,
                   search: str | None = None, page: int = 1, per_page: int = 25) -> tuple[list[dict], int]:
        """One page of the inbox and the number of all matching tasks (index only)."""
        with clock_module.using(self.clock):
            today = clock_module.today()
        page, per_page = max(1, page), min(max(1, per_page), 100)
        query = InboxQuery(
            lanes=None if mine else sorted(actor.groups),
            organisation=None if mine else (organisation if actor.organisation is None else actor.organisation),
            claimed_by=actor.username if mine else None, process_id=process_id or None,
            overdue_before=today if due == "overdue" else None,
            due_until=today + timedelta(days=soon_days) if due == "soon" else None,
            search=(search or "").strip()[:100] or None, limit=per_page, offset=(page - 1) * per_page)
        with self.store.read() as conn:
            return self.store.inbox(conn, query)

    def board(self, actor: Actor, query: BoardQuery) -> tuple[list[dict], int]:
        """The deadline board for supervisors (index only)."""
        with self.store.read() as conn:
            return board_module.board(conn, query, self.today(), visible_to=self._board_scope(actor))

    def board_figures(self, actor: Actor) -> list[dict]:
        names = {p["process_id"]: p["name"] for p in self.procedures()}
        with self.store.read() as conn:
            figures = board_module.figures(conn, self.today(), visible_to=self._board_scope(actor))
        for figure in figures:
            figure["procedure"] = names.get(figure["process_id"], figure["process_id"])
        return sorted(figures, key=lambda f: (f["procedure"], f["title"]))

    def board_monthly(self, actor: Actor, months: int = 12, process_id: str | None = None) -> list[dict]:
        with self.store.read() as conn:
            return board_module.monthly_share(conn, months=months, today=self.today(), process_id=process_id,
                                              visible_to=self._board_scope(actor))

    def today(self):
        with clock_module.using(self.clock):
            return clock_module.today()

    @staticmethod
    def _board_scope(actor: Actor) -> str | None:
        """Who may see the board, and of which cases: Leitung and process owners; an
        organisation's members only cases it is a party to."""
        _require(actor.is_system or bool({"Leitung", PROCESS_OWNERS, ADMINS} & set(actor.groups)),
                 "Die Fristenübersicht ist der Leitung vorbehalten.")
        return None if actor.is_system else actor.organisation

    def inbox(self, actor: Actor, *, mine: bool = False, limit: int = 50, offset: int = 0) -> list[dict]:
        """Open tasks the actor may work (index only)."""
        with self.store.read() as conn:
            if mine:
                return self.store.list_open_tasks(conn, claimed_by=actor.username, limit=limit, offset=offset)
            return self.store.list_open_tasks(conn, lanes=sorted(actor.groups), organisation=actor.organisation,
                                              limit=limit, offset=offset)

    def case(self, business_key: str, actor: Actor) -> dict[str, Any]:
        """A case with its current data, person, open tasks, deadlines and history.

        Opening a child's case file is logged in the same transaction (§ 35 SGB I; readings by
        the system itself, e.g. the demo loader, are not accesses)."""
        with self._step() as (conn, now):
            row = self.store.instance_by_key(conn, business_key)
            _require_visible(row, actor.is_system or self._may_see(conn, actor, row))
            if row.person_id is not None and not actor.is_system:
                self.store.audit(conn, at=now, actor=actor.username, action="akte_eingesehen",
                                 instance_id=row.id, business_key=row.business_key)
            try:
                workflow = self._loaded(conn, row)
            except CaseFailed as failed:         # the case file still opens, with the reason
                workflow, broken = None, failed
            if workflow is None and row.status == CaseStatus.RUNNING.value:
                self._mark_failed(conn, row, broken.reason, now)
                row = self.store.instance_by_key(conn, business_key)
            history = self.store.history(conn, row.id)
            return {"id": row.id, "business_key": row.business_key, "process_id": row.process_id,
                    "title": row.title, "status": row.status, "error": row.error, "version": row.version,
                    "parties": row.parties, "data": engine.case_data(workflow) if workflow else {},
                    "open_tasks": [_task_ref(t) for t in engine.ready_human_tasks(workflow)] if workflow else [],
                    "deadlines": engine.deadlines(workflow) if workflow else [],
                    "failed_attempts": row.failed_attempts, "retry_at": row.retry_at,
                    "documents": self.store.documents_of(conn, row.id),
                    "comments": self.store.comments_of(conn, row.id),
                    "model_version_id": row.model_version_id,
                    "person": privacy.public(self.store.person(conn, row.person_id)),
                    "closed_at": row.closed_at,
                    "history": history, "accesses": privacy.split_history(history)[1]}

    def case_model_xml(self, business_key: str, actor: Actor) -> str:
        """The BPMN of a case's model version, for the diagram (no case data, not an access)."""
        with self.store.read() as conn:
            row = self._visible_case(conn, business_key, actor)
            return self.store.model_version(conn, row.model_version_id)["bpmn_xml"]

    def update_person(self, business_key: str, values: dict[str, Any], actor: Actor) -> list[str]:
        """Correct (or first record) the child and the guardians' address of a case, by the
        people working it (Art. 16 DSGVO). The audit names the changed fields, not the values.
        Returns the changed fields."""
        with self._step() as (conn, now):
            row = self._visible_case(conn, business_key, actor)      # who may, before what is wrong
            person = privacy.check_person(values, self.today())
            before = self.store.person(conn, row.person_id)
            changed = privacy.changed_fields(before, person)
            if not changed:
                return []
            if before is None:
                self.store.link_person(conn, row.id, self.store.add_person(conn, person, now))
            else:
                self.store.update_person(conn, before["id"], person, now)
            self.store.audit(conn, at=now, actor=actor.username, action="personendaten_geaendert",
                             instance_id=row.id, business_key=row.business_key, details={"felder": changed})
            return changed

    def _may_see(self, conn: Connection, actor: Actor, row: InstanceRow) -> bool:
        """Children's data only for the people working the case (§ 35 SGB I): members of the
        case's parties; bodies without an organisation (e.g. the Schlichtungskommission) only
        while one of their lanes has an open task in the case."""
        if actor.organisation is not None:
            return actor.organisation in row.parties.values()
        return any(task["lane"] in actor.groups for task in self.store.open_tasks_of(conn, row.id))

    # -- API

    def cases_page(self, actor: Actor, *, process_id: str | None = None, status: str | None = None,
                   search: str | None = None, page: int = 1,
                   per_page: int = 25) -> tuple[list[dict[str, Any]], int]:
        """One page of the cases the actor may see (as `case` decides), most recently changed
        first, and the number of all matching cases. Reads only the instances table."""
        import sqlalchemy as sa

        from .store import instances, open_tasks
        page, per_page = max(1, page), min(max(1, per_page), 100)
        conditions = []
        if not actor.is_system and actor.organisation is not None:
            # parties is stored as json.dumps(...): the organisation appears as a quoted value
            # (searched case-sensitively, as `_may_see` compares)
            position = sa.func.strpos if self.store.dialect == "postgresql" else sa.func.instr
            conditions.append(position(instances.c.parties, ": " + json.dumps(actor.organisation)) > 0)
        elif not actor.is_system:
            # bodies without an organisation see a case only while one of their lanes has an
            # open task in it, as `_may_see` decides for the case itself
            conditions.append(instances.c.id.in_(sa.select(open_tasks.c.instance_id)
                                                 .where(open_tasks.c.lane.in_(sorted(actor.groups)))))
        if process_id:
            conditions.append(instances.c.process_id == process_id)
        if status:
            conditions.append(instances.c.status == status)
        search = (search or "").strip()[:100].lower()
        if search:
            escaped = json.dumps(search)[1:-1]        # as non-ASCII characters appear in parties
            conditions.append(sa.or_(
                sa.func.lower(instances.c.business_key).contains(search, autoescape=True),
                sa.func.lower(instances.c.title).contains(search, autoescape=True),
                sa.func.lower(instances.c.parties).contains(search, autoescape=True),
                sa.func.lower(instances.c.parties).contains(escaped, autoescape=True)))
        columns = [instances.c.id, instances.c.business_key, instances.c.process_id, instances.c.title,
                   instances.c.parties, instances.c.status, instances.c.error, instances.c.version,
                   instances.c.model_version_id, instances.c.created_at, instances.c.updated_at]
        with self.store.read() as conn:
            rows = conn.execute(sa.select(*columns).where(*conditions)
                                .order_by(instances.c.updated_at.desc(), instances.c.id.desc())
                                .limit(per_page).offset((page - 1) * per_page))
            items = [{**dict(r._mapping), "parties": json.loads(r.parties or "{}")} for r in rows]
            total = conn.execute(sa.select(sa.func.count()).select_from(instances).where(*conditions)).scalar()
        return items, total

    def model_versions(self) -> list[dict[str, Any]]:
        """Every deployed version of every procedure, with its number of running cases."""
        with self.store.read() as conn:
            return self.store.model_versions(conn)

    def healthy(self) -> bool:
        """Whether the database answers (for load balancers)."""
        with self.store.read() as conn:
            conn.exec_driver_sql("SELECT 1")
        return True

    def clock_state(self) -> dict[str, Any]:
        """The time the application works with (UTC) and whether it is simulated (and frozen)."""
        from datetime import timezone
        state = self.clock.state() if isinstance(self.clock, clock_module.SimulationClock) else None
        return {"now": self.clock.now().astimezone(timezone.utc), "simulated": state is not None,
                "frozen": bool(state and state.frozen)}

    def set_simulation_clock(self, actor: Actor, moment: datetime | None, frozen: bool = False) -> dict[str, Any]:
        """Set the simulation clock (test and demo configurations only); None: real time again.
        Every process sees the change at its next read, this one at once."""
        if not isinstance(self.clock, clock_module.SimulationClock):
            raise Forbidden("Die Simulationsuhr ist in dieser Konfiguration ausgeschaltet.")
        _require(actor.is_system or bool({PROCESS_OWNERS, ADMINS} & set(actor.groups)),
                 "Nur Prozessverantwortliche oder die Administration dürfen die Simulationsuhr stellen.")
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput("Bitte geben Sie den Zeitpunkt mit Zeitzone an.", field="now")
        state = None if moment is None else clock_module.SimulationState(
            moment, clock_module.SystemClock().now(), frozen)
        self.store.save_simulation(state)
        self.clock.invalidate()
        return self.clock_state()


def _failure_reason(err: Exception) -> str:
    """The German reason a failed case shows (Leitung, process owners), with the element."""
    if isinstance(err, DomainError):
        return err.message
    text = str(err).strip().splitlines()[0][:300] if str(err).strip() else ""
    return f"Interner Fehler beim Ausführen des Vorgangs ({type(err).__name__}{': ' + text if text else ''})."


def _task_ref(task) -> dict[str, Any]:
    return {"task_id": task.task_id, "name": task.spec_name, "title": task.title, "lane": task.lane,
            "form": task.form}


def _check_document(document: NewDocument) -> None:
    documents.check_document(document.name, document.content_type, document.content, document.field)


def _may_work(actor: Actor, task: dict[str, Any]) -> dict[str, Any]:
    _require(actor.may_work(task["lane"], task["organisation"]),
             "Diese Aufgabe gehört nicht zu Ihren Gruppen oder Ihrer Organisation.")
    return task


def _require_visible(row: InstanceRow, visible: bool) -> None:
    """Another organisation's case is answered exactly like an unknown Aktenzeichen (404, same
    text), so that nobody learns which Aktenzeichen exist elsewhere."""
    if not visible:
        raise unknown_case(row.business_key)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise Forbidden(message)


def _text(name: str, content: bytes | str) -> str:
    if isinstance(content, str):
        return content
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelError("Die Datei ist nicht UTF-8-kodiert.", file_name=name) from None


def _bpmn_files(files: dict[str, str]) -> dict[str, str]:
    return {name: text for name, text in files.items() if name.endswith(".bpmn")}


def _check_forms(model: engine.ProcessModel, files: dict[str, str]) -> None:
    """Every form a user task names must be among the files and be a JSON object."""
    for task_name, form in model.forms.items():
        if form not in files:
            raise ModelError(f"Das Formular „{form}“ fehlt.", element_id=task_name)
        try:
            schema = json.loads(files[form])
        except json.JSONDecodeError as err:
            raise ModelError(f"Das Formular „{form}“ ist kein gültiges JSON: {err.msg}",
                             element_id=task_name, line=err.lineno, file_name=form) from None
        except RecursionError:
            raise ModelError(f"Das Formular „{form}“ ist zu tief verschachtelt.", element_id=task_name,
                             file_name=form) from None
        try:
            schemaforms.check_schema(schema)
        except ValueError as err:
            raise ModelError(f"Das Formular „{form}“ ist kein gültiges Formular: {err}",
                             element_id=task_name, file_name=form) from None
        for name in schema.get("properties", {}) or {}:
            problem = engine.field_name_problem(name)
            if problem:
                raise ModelError(f"Formular „{form}“: {problem}", element_id=task_name, file_name=form)
