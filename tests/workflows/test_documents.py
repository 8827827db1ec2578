"""Files for the case file: the declared type must match the name and the content."""
import pytest

from workflows.documents import check_document
from workflows.domain import InvalidInput
from workflows.services import NewDocument

from ..helpers import PARTIES_LVR, SACHBEARBEITUNG_LVR, SYSTEM, count_rows

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DOCX = b"PK\x03\x04" + b"\x00" * 40
DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40


@pytest.mark.parametrize("name, content_type, content", [
    ("Befund.pdf", "application/pdf", PDF),
    ("BEFUND.PDF", "application/pdf", PDF),
    ("Foto.jpeg", "image/jpeg", b"\xff\xd8\xff\xe0" + b"0" * 20),
    ("Foto.JPG", "image/jpeg", b"\xff\xd8\xff\xe1" + b"0" * 20),
    ("Plan.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"0" * 20),
    ("Notiz.txt", "text/plain", "Rückruf am Donnerstag".encode()),
    ("Konzeption.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", DOCX),
    ("Konzeption.odt", "application/vnd.oasis.opendocument.text", DOCX),
    ("Alt.doc", "application/msword", DOC),
])
def test_real_files_of_allowed_types_pass(name, content_type, content):
    check_document(name, content_type, content)


@pytest.mark.parametrize("name, content_type, content, message", [
    ("Befund.exe", "application/pdf", PDF, "passt nicht zum Dateityp"),
    ("Befund.pdf.exe", "application/pdf", PDF, "passt nicht zum Dateityp"),
    ("Befund", "application/pdf", PDF, "passt nicht zum Dateityp"),
    ("Befund.pdf", "application/pdf", b"MZ\x90\x00\x03" + b"\x00" * 40, "kein PDF-Dokument"),
    ("Befund.pdf", "application/pdf", b"<html><script>alert(1)</script>", "kein PDF-Dokument"),
    ("Foto.png", "image/png", PDF, "kein PNG-Dokument"),
    ("Notiz.txt", "text/plain", b"MZ\x00\x00binary", "kein TXT-Dokument"),
    ("Konzeption.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", PDF,
     "kein DOCX-Dokument"),
    ("Programm.exe", "application/x-msdownload", b"MZ", "nicht erlaubt"),
    ("Seite.html", "text/html", b"<html>", "nicht erlaubt"),
    ("leer.pdf", "application/pdf", b"", "leer"),
    ("a\x00.pdf", "application/pdf", PDF, "Dateiname"),
    ("../a.pdf", "application/pdf", PDF, "Dateiname"),
])
def test_files_whose_type_is_not_what_they_claim_are_refused(name, content_type, content, message):
    with pytest.raises(InvalidInput, match=message) as err:
        check_document(name, content_type, content, field="nachweis")
    assert err.value.details["field"] == "nachweis"


def test_a_disguised_file_is_not_stored_in_the_case(services, deploy, store):
    from workflows.store import audit_events, documents
    deploy("fuenf_schritte.bpmn")
    services.start_case("fuenf_schritte", "LVR-D-1", {}, SYSTEM, parties=PARTIES_LVR)
    before = count_rows(store, audit_events)
    with pytest.raises(InvalidInput, match="kein PDF-Dokument"):
        services.add_document("LVR-D-1", NewDocument("Bescheid.pdf", "application/pdf", b"MZ\x90\x00"),
                              SACHBEARBEITUNG_LVR)
    assert count_rows(store, documents) == 0 and count_rows(store, audit_events) == before
    services.add_document("LVR-D-1", NewDocument("Bescheid.pdf", "application/pdf", PDF), SACHBEARBEITUNG_LVR)
    assert count_rows(store, documents) == 1
