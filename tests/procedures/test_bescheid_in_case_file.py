"""The decision produces the Bescheid as a PDF in the case file (LRV § 11 Abs. 3); an
incomplete Bescheid is refused and nothing is stored."""
import shutil
import subprocess
from datetime import date

import pytest

from workflows.domain import InvalidInput

from ..helpers import SACHBEARBEITUNG_LVR
from .helpers import complete, deploy, task
from .komplexleistung import BESCHEID, ENTSCHEIDEN, KEY, PROCESS, at, bis_zur_entscheidung


@pytest.fixture
def case(services, clock):
    deploy(services, PROCESS)
    at(clock, date(2026, 12, 11))
    return services


def test_bescheid_pdf_is_filed_with_the_case(case, clock):
    bis_zur_entscheidung(case, clock)
    at(clock, date(2026, 12, 17))
    complete(case, SACHBEARBEITUNG_LVR, ENTSCHEIDEN, {
        "entscheidung": "teilweise_bewilligt", "entschieden_am": "2026-12-16",
        "begruendung": "Logopädie ist derzeit nicht erforderlich."})
    assert case.case(KEY, SACHBEARBEITUNG_LVR)["documents"] == []
    complete(case, SACHBEARBEITUNG_LVR, BESCHEID, {"bescheid_datum": "2026-12-17",
                                                  "bescheid_versandt_am": "2026-12-17"})
    [doc] = case.case(KEY, SACHBEARBEITUNG_LVR)["documents"]
    assert (doc["kind"], doc["name"], doc["uploaded_by"]) == ("bescheid", f"Bescheid {KEY} 17.12.2026.pdf",
                                                             "sabine.lvr")
    pdf = case.document(KEY, doc["id"], SACHBEARBEITUNG_LVR)["content"]
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
        assert KEY in text and "teilweise" in text and "Logopädie ist derzeit nicht erforderlich." in text
        assert "Sara Testkind" in text and "Am Bach 3" in text and "50667 Köln" in text   # addressed


def test_rejection_without_reasons_is_refused_by_the_form(case, clock):
    bis_zur_entscheidung(case, clock)
    with pytest.raises(InvalidInput) as err:
        complete(case, SACHBEARBEITUNG_LVR, ENTSCHEIDEN, {"entscheidung": "abgelehnt",
                                                         "entschieden_am": "2026-12-16"})
    assert "begruendung" in err.value.details["fields"]
    assert task(case, SACHBEARBEITUNG_LVR, ENTSCHEIDEN)


def test_incomplete_bescheid_is_refused_and_the_case_stays(case, clock, monkeypatch):
    """The forms already require what a Bescheid needs (bescheid_luecken is unit-tested in
    tests/workflows/test_bescheid.py); here: a reported gap refuses the step, nothing is stored."""
    from workflows import bescheid
    bis_zur_entscheidung(case, clock)
    at(clock, date(2026, 12, 17))
    complete(case, SACHBEARBEITUNG_LVR, ENTSCHEIDEN, {"entscheidung": "bewilligt", "entschieden_am": "2026-12-16"})
    version = case.case(KEY, SACHBEARBEITUNG_LVR)["version"]
    monkeypatch.setattr(bescheid, "bescheid_luecken", lambda _case: ["Anschrift der Eltern fehlt"])
    with pytest.raises(InvalidInput, match="Anschrift der Eltern fehlt"):
        complete(case, SACHBEARBEITUNG_LVR, BESCHEID, {"bescheid_datum": "2026-12-17",
                                                      "bescheid_versandt_am": "2026-12-17"})
    after = case.case(KEY, SACHBEARBEITUNG_LVR)
    assert after["version"] == version and after["documents"] == []
    assert task(case, SACHBEARBEITUNG_LVR, BESCHEID)


def test_bescheid_without_the_guardians_address_is_refused(case, clock):
    """The address lives only in the person record; without it the Bescheid cannot be
    made known to the parents (§ 37 SGB X), so the step is refused until it is recorded."""
    bis_zur_entscheidung(case, clock)
    at(clock, date(2026, 12, 17))
    complete(case, SACHBEARBEITUNG_LVR, ENTSCHEIDEN, {"entscheidung": "bewilligt", "entschieden_am": "2026-12-16"})
    person = case.case(KEY, SACHBEARBEITUNG_LVR)["person"]
    without_address = {**{k: v for k, v in person.items() if k != "id"},
                       "erziehungsberechtigte": None, "strasse": None, "plz": None, "ort": None}
    assert case.update_person(KEY, without_address, SACHBEARBEITUNG_LVR) == [
        "erziehungsberechtigte", "strasse", "plz", "ort"]
    with pytest.raises(InvalidInput, match="Anschrift der Erziehungsberechtigten fehlt"):
        complete(case, SACHBEARBEITUNG_LVR, BESCHEID, {"bescheid_datum": "2026-12-17",
                                                      "bescheid_versandt_am": "2026-12-17"})
    assert case.case(KEY, SACHBEARBEITUNG_LVR)["documents"] == []
    case.update_person(KEY, {**without_address, "erziehungsberechtigte": "Sara Testkind",
                             "strasse": "Am Bach 3", "plz": "50667", "ort": "Köln"}, SACHBEARBEITUNG_LVR)
    complete(case, SACHBEARBEITUNG_LVR, BESCHEID, {"bescheid_datum": "2026-12-17",
                                                  "bescheid_versandt_am": "2026-12-17"})
    [doc] = case.case(KEY, SACHBEARBEITUNG_LVR)["documents"]
    assert doc["kind"] == "bescheid"


def test_the_bescheid_is_rendered_outside_the_write_transaction(case, clock, monkeypatch):
    """Rendering a PDF takes a while (WeasyPrint): it happens before the step takes the case's
    write lock, and the step reuses it (issue 14)."""
    from contextlib import contextmanager

    from workflows import bescheid
    bis_zur_entscheidung(case, clock)
    at(clock, date(2026, 12, 17))
    complete(case, SACHBEARBEITUNG_LVR, ENTSCHEIDEN, {"entscheidung": "bewilligt", "entschieden_am": "2026-12-16"})
    writing, rendered_while = [], []
    real_transaction, real_pdf = case.store.transaction, bescheid.bescheid_pdf

    @contextmanager
    def transaction():
        writing.append(True)
        try:
            with real_transaction() as conn:
                yield conn
        finally:
            writing.pop()

    monkeypatch.setattr(case.store, "transaction", transaction)
    monkeypatch.setattr(bescheid, "bescheid_pdf", lambda c: rendered_while.append(bool(writing)) or real_pdf(c))
    complete(case, SACHBEARBEITUNG_LVR, BESCHEID, {"bescheid_datum": "2026-12-17", "bescheid_versandt_am": "2026-12-17"})
    assert rendered_while == [False]
    [doc] = case.case(KEY, SACHBEARBEITUNG_LVR)["documents"]
    assert doc["kind"] == "bescheid"
