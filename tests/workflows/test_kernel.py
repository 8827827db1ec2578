"""The step kernel (workflows.usecases.kernel) without a database: a fake store records what
the kernel asks of it, so the order of a step (load → run → save → index → audit → timers)
and the handling of broken cases are pinned down independently of SQL."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest

from workflows import engine
from workflows.clock import BERLIN, FixedClock
from workflows.domain import Actor, CaseFailed, CaseStatus, Conflict, NotFound
from workflows.store import InstanceRow
from workflows.usecases import kernel
from workflows.usecases.context import Context

from ..helpers import read

NOW = datetime(2026, 3, 2, 9, tzinfo=BERLIN)
SABINE = Actor("sabine.lvr", frozenset({"EGH-Sachbearbeitung"}), "LVR")
WILMA = Actor("wilma.lwl", frozenset({"EGH-Sachbearbeitung"}), "LWL")


class FakeStore:
    """Just what the kernel calls; every call is recorded in `calls`."""

    def __init__(self, files: dict[str, str], process_id: str):
        self.files, self.process_id, self.calls, self.rows = files, process_id, [], {}

    @contextmanager
    def transaction(self):
        self.calls.append("begin")
        yield "conn"
        self.calls.append("commit")

    read = transaction

    def model_version(self, conn, version_id):
        return {"files": self.files, "process_id": self.process_id}

    def save_instance(self, conn, row, **values):
        self.calls.append("save")
        return row.version + 1

    def write_index(self, conn, row, rows, **_kwargs):
        self.calls.append("index")

    def audit(self, conn, *, action, **_kwargs):
        self.calls.append(f"audit:{action}")

    def instance(self, conn, instance_id):
        return self.rows[instance_id]

    def instance_by_key(self, conn, business_key):
        return next(r for r in self.rows.values() if r.business_key == business_key)

    def mark_failed(self, conn, instance_id, reason, now):
        self.calls.append(f"failed:{reason[:40]}")
        return now + timedelta(minutes=5)

    def users_with_email(self, conn):
        return []


@pytest.fixture
def setup():
    files = {"fuenf_schritte.bpmn": read("fuenf_schritte.bpmn")}
    store = FakeStore(files, "fuenf_schritte")
    ctx = Context(store, FixedClock(NOW))
    model = kernel.model(ctx, "conn", 1)
    workflow = engine.start(model, {})
    row = InstanceRow(id=7, business_key="LVR-1", process_id="fuenf_schritte", model_version_id=1, title="T",
                      parties={"egh": "LVR"}, status=CaseStatus.RUNNING.value, error=None,
                      workflow_json=engine.dumps(workflow), version=1, index_fingerprint={}, created_at=NOW,
                      updated_at=NOW)
    store.rows[7] = row
    return ctx, store, row


def test_a_step_saves_then_indexes_then_audits(setup):
    ctx, store, row = setup
    [task] = engine.ready_human_tasks(kernel.load(ctx, "conn", row))
    with kernel.transaction(ctx) as (conn, now):
        _, ref = kernel.case_step(ctx, conn, row, now, SABINE, lambda wf: engine.complete(wf, task.task_id, {}),
                                  audit=("aufgabe_erledigt", {}))
    assert store.calls == ["begin", "save", "index", "audit:aufgabe_erledigt", "commit"]
    assert ref.version == 2 and ref.open_tasks and ref.open_tasks[0]["task_id"] != task.task_id


def test_an_engine_defect_fails_the_case_in_a_transaction_of_its_own(setup):
    ctx, store, row = setup

    def broken(_workflow):
        raise KeyError("kaputt")

    with pytest.raises(CaseFailed):
        with kernel.transaction(ctx) as (conn, now):
            kernel.case_step(ctx, conn, row, now, SABINE, broken)
    # the step's transaction ends without commit and without a save; the failure has its own
    assert store.calls == ["begin", "begin", "failed:Interner Fehler beim Ausführen des Vorga", "audit:fehler", "commit"]


def test_a_failed_case_is_not_stepped_and_not_marked_again(setup):
    ctx, store, row = setup
    failed = InstanceRow(**{**row.__dict__, "status": CaseStatus.ERROR.value, "error": "kaputt"})
    with pytest.raises(CaseFailed) as caught:
        kernel.load_for_step(ctx, "conn", failed)
    assert caught.value.recorded
    finished = InstanceRow(**{**row.__dict__, "status": CaseStatus.COMPLETED.value})
    with pytest.raises(Conflict, match="abgeschlossen"):
        kernel.load_for_step(ctx, "conn", finished)


def test_another_organisations_case_reads_like_an_unknown_one(setup):
    ctx, _store, row = setup
    assert kernel.visible_case(ctx, "conn", "LVR-1", SABINE) is row
    with pytest.raises(NotFound, match="LVR-1 gibt es nicht"):
        kernel.visible_case(ctx, "conn", "LVR-1", WILMA)
