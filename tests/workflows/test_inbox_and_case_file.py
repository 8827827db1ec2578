"""Inbox queries (filters, search, paging) and the case file (documents, comments)."""
from datetime import timedelta

import pytest

from workflows.domain import InvalidInput, NotFound
from workflows.services import NewDocument

from ..helpers import (ANBIETER, KOLLEGE_LVR, PARTIES_LVR, SACHBEARBEITUNG_LVR, SACHBEARBEITUNG_LWL,
                        SYSTEM, count_rows)
from workflows import store as tables

PDF = b"%PDF-1.4\n% Testdokument\n"


@pytest.fixture
def cases(services, deploy, clock):
    """30 LVR cases (eingang 5 Jan … ) with one open task each; two for another provider."""
    deploy("fristpruefung.bpmn", "pruefen.json")
    deploy("fuenf_schritte.bpmn")
    for i in range(28):
        services.start_case("fristpruefung", f"LVR-{i:03d}", {"eingang_am": f"2026-01-{i + 1:02d}"}, SYSTEM,
                            parties=PARTIES_LVR, title="Fristprüfung")
    other = {**PARTIES_LVR, "leistungserbringer": "SPZ Bonn"}
    services.start_case("fuenf_schritte", "LVR-SPZ-1", {}, SYSTEM, parties=other, title="Fünf Schritte")
    services.start_case("fuenf_schritte", "LVR-SPZ-2", {}, SYSTEM, parties=other, title="Fünf Schritte")
    return services


def test_paging_sorts_by_due_day_and_counts_all(cases):
    first, total = cases.inbox_page(SACHBEARBEITUNG_LVR, per_page=10)
    second, _ = cases.inbox_page(SACHBEARBEITUNG_LVR, page=2, per_page=10)
    last, _ = cases.inbox_page(SACHBEARBEITUNG_LVR, page=3, per_page=10)
    assert total == 30 and len(first) == 10 and len(last) == 10
    days = [t["due_date"] for t in first + second + last if t["due_date"]]
    assert days == sorted(days) and len(days) == 28
    assert [t["due_date"] for t in last[-2:]] == [None, None]          # no deadline: last
    assert first[0]["legal_basis"].startswith("§ 5 Abs. 2")
    assert first[0]["parties"]["leistungserbringer"] == "IFF Köln-Süd"


def test_filters_procedure_due_state_and_search(cases, clock):
    only_five, total = cases.inbox_page(SACHBEARBEITUNG_LVR, process_id="fuenf_schritte")
    assert total == 2 and {t["business_key"] for t in only_five} == {"LVR-SPZ-1", "LVR-SPZ-2"}
    clock.set(clock.now().replace(month=4, day=10))                   # ends 01.04.–28.04.2026
    overdue, total = cases.inbox_page(SACHBEARBEITUNG_LVR, due="overdue")
    assert total == 9 and all(t["due_date"] < clock.now().date() for t in overdue)
    soon, total = cases.inbox_page(SACHBEARBEITUNG_LVR, due="soon", soon_days=3)
    assert total == 9 + 4 and max(t["due_date"] for t in soon) <= clock.now().date() + timedelta(days=3)
    found, total = cases.inbox_page(SACHBEARBEITUNG_LVR, search="spz bonn")
    assert total == 2
    found, total = cases.inbox_page(SACHBEARBEITUNG_LVR, search="LVR-007")
    assert [t["business_key"] for t in found] == ["LVR-007"]


def test_mine_and_other_organisation(cases):
    [task] = cases.inbox_page(SACHBEARBEITUNG_LVR, search="LVR-003")[0]
    cases.claim_task(task["task_id"], KOLLEGE_LVR)
    mine, total = cases.inbox_page(KOLLEGE_LVR, mine=True)
    assert total == 1 and mine[0]["business_key"] == "LVR-003"
    assert cases.inbox_page(SACHBEARBEITUNG_LWL) == ([], 0)
    assert cases.inbox_page(SACHBEARBEITUNG_LWL, organisation="LVR") == ([], 0)   # may not widen


def test_documents_and_comments_are_kept_and_reading_is_logged(cases):
    doc_id = cases.add_document("LVR-001", NewDocument("Konzeption.pdf", "application/pdf", PDF),
                                SACHBEARBEITUNG_LVR)
    cases.add_comment("LVR-001", "Konzeption liegt vor.", SACHBEARBEITUNG_LVR)
    case = cases.case("LVR-001", SACHBEARBEITUNG_LVR)
    assert [(d["name"], d["size"]) for d in case["documents"]] == [("Konzeption.pdf", len(PDF))]
    assert [c["text"] for c in case["comments"]] == ["Konzeption liegt vor."]
    assert cases.document("LVR-001", doc_id, SACHBEARBEITUNG_LVR)["content"] == PDF
    actions = [h["action"] for h in cases.case("LVR-001", SACHBEARBEITUNG_LVR)["history"]]
    assert actions[-3:] == ["dokument_hochgeladen", "kommentar", "dokument_gelesen"]
    with pytest.raises(NotFound):
        cases.document("LVR-001", doc_id, SACHBEARBEITUNG_LWL)
    with pytest.raises(NotFound):
        cases.document("LVR-002", doc_id, SACHBEARBEITUNG_LVR)            # not that case's document


@pytest.mark.parametrize("document, message", [
    (NewDocument("x.exe", "application/x-msdownload", b"MZ"), "Dateityp"),
    (NewDocument("leer.pdf", "application/pdf", b""), "leer"),
    (NewDocument("../../etc/passwd", "text/plain", b"x"), "Dateiname"),
    (NewDocument("gross.pdf", "application/pdf", b"0" * (10 * 1024 * 1024 + 1)), "größer"),
])
def test_bad_uploads_are_refused_and_nothing_is_stored(cases, document, message):
    with pytest.raises(InvalidInput, match=message):
        cases.add_document("LVR-001", document, SACHBEARBEITUNG_LVR)
    assert count_rows(cases.store, tables.documents) == 0


def test_files_with_a_task_are_stored_with_it_atomically(cases):
    [task] = cases.inbox_page(SACHBEARBEITUNG_LVR, search="LVR-004")[0]
    cases.complete_task(task["task_id"], {"vollstaendig": True}, SACHBEARBEITUNG_LVR,
                        [NewDocument("Pruefvermerk.pdf", "application/pdf", PDF, field="vermerk")])
    case = cases.case("LVR-004", SACHBEARBEITUNG_LVR)
    assert case["documents"][0]["task_id"] == task["task_id"]
    assert case["data"]["vermerk"]["name"] == "Pruefvermerk.pdf"
    [other] = cases.inbox_page(SACHBEARBEITUNG_LVR, search="LVR-005")[0]
    with pytest.raises(InvalidInput):
        cases.complete_task(other["task_id"], {"vollstaendig": True}, SACHBEARBEITUNG_LVR,
                            [NewDocument("x.exe", "application/x-msdownload", b"MZ")])
    assert len(cases.case("LVR-005", SACHBEARBEITUNG_LVR)["documents"]) == 0


def test_comment_needs_text_and_a_party(cases):
    with pytest.raises(InvalidInput):
        cases.add_comment("LVR-001", "   ", SACHBEARBEITUNG_LVR)
    with pytest.raises(NotFound):
        cases.add_comment("LVR-001", "Hallo", SACHBEARBEITUNG_LWL)
    cases.add_comment("LVR-001", "Rückfrage an den Träger", ANBIETER)
