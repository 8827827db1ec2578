"""Cases through the API: start, list, read, signals and messages, comments, documents."""
import io

import pytest

from ..helpers import PARTIES_LVR, assert_error, start_payload

PDF = b"%PDF-1.4\n% Testdokument\n"
TITLE = "Fristprüfung"


@pytest.fixture
def sabine(api_as, deployed):
    return api_as("sabine.lvr")


def test_start_a_case_with_data_and_aktenzeichen(sabine):
    response = sabine.post("/cases", json=start_payload(title="Prüfung IFF Köln-Süd"))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"].endswith("/api/v1/cases/LVR-2026-0001")
    assert (body["business_key"], body["process_id"], body["status"], body["version"]) == (
        "LVR-2026-0001", "fristpruefung", "running", 1)
    assert [(t["title"], t["lane"], t["form"]) for t in body["open_tasks"]] == [
        ("Unterlagen prüfen", "EGH-Sachbearbeitung", "pruefen.json")]


def test_start_refusals(sabine, api_as):
    assert sabine.post("/cases", json=start_payload()).status_code == 201
    assert_error(sabine.post("/cases", json=start_payload()), 409, "konflikt", "bereits vergeben")
    assert_error(sabine.post("/cases", json=start_payload("X-2", process="gibt_es_nicht")), 404, "nicht_gefunden")
    assert_error(api_as("paula.prozess").post("/cases", json=start_payload("X-3")), 403, "keine_berechtigung",
                 "nicht anlegen")
    body = assert_error(sabine.post("/cases", json=start_payload("X-4", data={"heute": 1})), 422,
                        "ungueltige_eingabe")
    assert "reserviert" in body["details"]["fields"]["data"]
    body = assert_error(sabine.post("/cases", json=start_payload("LVR/2026/5")), 422, "ungueltige_eingabe")
    assert "keines der Zeichen / \\ ? # %" in body["details"]["fields"]["business_key"]
    body = assert_error(sabine.post("/cases", json={**start_payload("X-6"), "parties": {"egh": "LVR", "kita": "A"}}),
                        422, "ungueltige_eingabe")
    assert body["details"]["fields"] == {"parties.kita": "Unbekanntes Feld."}
    body = assert_error(sabine.post("/cases", json=start_payload("X-7", data={})), 422, "skriptfehler")
    assert body["message"]


def test_list_cases_paged_filtered_and_only_visible_ones(deployed, api_as):
    sabine = api_as("sabine.lvr")
    for i in range(3):
        assert sabine.post("/cases", json=start_payload(f"LVR-2026-000{i}")).status_code == 201
    lwl = {"egh": "LWL", "krankenkasse": "AOK Rheinland/Hamburg", "leistungserbringer": "IFF Köln-Süd"}
    wilma = api_as("wilma.lwl")
    assert wilma.post("/cases", json=start_payload("LWL-2026-0001", parties=lwl)).status_code == 201
    assert sabine.post("/cases", json={"process_id": "vertrag_warten", "business_key": "V-1",
                                       "parties": PARTIES_LVR}).status_code == 201

    page = sabine.get("/cases?per_page=2").get_json()
    assert page["total"] == 4 and len(page["items"]) == 2 and (page["page"], page["per_page"]) == (1, 2)
    assert [c["business_key"] for c in page["items"]] == ["V-1", "LVR-2026-0002"]      # newest change first
    second = sabine.get("/cases?per_page=2&page=2").get_json()
    assert [c["business_key"] for c in second["items"]] == ["LVR-2026-0001", "LVR-2026-0000"]
    assert {c["business_key"] for c in sabine.get("/cases?process_id=vertrag_warten").get_json()["items"]} == {"V-1"}
    assert sabine.get("/cases?status=completed").get_json()["total"] == 0
    assert sabine.get("/cases?search=2026-0001").get_json()["total"] == 1
    assert sabine.get("/cases?search=köln-süd").get_json()["total"] == 4       # in the parties (stored escaped)
    assert [c["business_key"] for c in wilma.get("/cases").get_json()["items"]] == ["LWL-2026-0001"]
    # bodies without organisation list only what they may open (an open task in their lanes), as
    # the case file decides (§ 35 SGB I); process owners work with models, not children's cases
    assert api_as("paula.prozess").get("/cases").get_json()["total"] == 0
    assert api_as("ines.iff").get("/cases").get_json()["total"] == 5             # party of every case
    summary = page["items"][1]
    assert (summary["parties"], summary["title"], summary["status"], summary["version"]) == (
        PARTIES_LVR, TITLE, "running", 1)
    assert_error(sabine.get("/cases?status=offen"), 422, "ungueltige_eingabe")


def test_read_a_case_with_state_tasks_deadlines_history_documents(sabine):
    sabine.post("/cases", json=start_payload())
    assert sabine.post("/cases/LVR-2026-0001/documents",
                       data={"datei": (io.BytesIO(PDF), "Antrag.pdf", "application/pdf")}).status_code == 201
    response = sabine.get("/cases/LVR-2026-0001")
    assert response.status_code == 200
    case = response.get_json()
    assert (case["business_key"], case["status"], case["parties"]) == ("LVR-2026-0001", "running", PARTIES_LVR)
    assert [t["title"] for t in case["open_tasks"]] == ["Unterlagen prüfen"]
    assert case["data"]["eingang_am"] == "2026-01-05"
    [deadline] = case["deadlines"]
    assert {k: deadline[k] for k in ("key", "rule", "event", "end", "shifted_end", "status", "met_on")} == {
        "key": "verhandlungstermin", "rule": "lrv5-verhandlungstermin", "event": "2026-01-05",
        "end": "2026-04-05", "shifted_end": "2026-04-07", "status": "laufend", "met_on": None}
    assert deadline["legal_basis"] and deadline["title"] and "2026" in deadline["explanation"]
    [document] = case["documents"]
    assert (document["name"], document["content_type"], document["size"], document["kind"]) == (
        "Antrag.pdf", "application/pdf", len(PDF), "upload")
    assert "content" not in document
    actions = [(h["action"], h["action_label"]) for h in case["history"]]
    assert actions == [("vorgang_angelegt", "Vorgang angelegt"), ("dokument_hochgeladen", "Dokument hochgeladen")]


def test_read_case_refusals(sabine, api_as):
    sabine.post("/cases", json=start_payload())
    # another organisation's case reads like an unknown one (no oracle for Aktenzeichen)
    assert_error(api_as("wilma.lwl").get("/cases/LVR-2026-0001"), 404, "nicht_gefunden", "LVR-2026-0001 gibt es nicht")
    assert_error(sabine.get("/cases/LVR-2026-9999"), 404, "nicht_gefunden", "LVR-2026-9999")


def test_signal_and_message_by_aktenzeichen(sabine, api_as):
    sabine.post("/cases", json={"process_id": "vertrag_warten", "business_key": "V-1", "parties": PARTIES_LVR})
    body = assert_error(sabine.post("/cases/V-1/messages", json={"name": "unterschrift_eingegangen"}), 409,
                        "konflikt", "wartet nicht")
    assert body["details"]["business_key"] == "V-1"
    response = sabine.post("/cases/V-1/signals", json={"name": "mustervertrag_verabschiedet", "payload": {}})
    assert response.status_code == 200 and response.get_json()["open_tasks"] == []
    assert_error(api_as("wilma.lwl").post("/cases/V-1/messages", json={"name": "unterschrift_eingegangen"}), 404,
                 "nicht_gefunden")
    assert_error(sabine.post("/cases/V-404/signals", json={"name": "mustervertrag_verabschiedet"}), 404,
                 "nicht_gefunden")
    body = assert_error(sabine.post("/cases/V-1/messages", json={"name": "unterschrift_eingegangen",
                                                                 "payload": {"1x": True}}), 422, "ungueltige_eingabe")
    assert "Feldname" in body["details"]["fields"]["payload"]
    assert_error(sabine.post("/cases/V-1/messages", json={"payload": {}}), 422, "ungueltige_eingabe")
    response = sabine.post("/cases/V-1/messages", json={"name": "unterschrift_eingegangen",
                                                        "payload": {"am": "2026-03-02"}})
    assert response.status_code == 200
    assert [t["title"] for t in response.get_json()["open_tasks"]] == ["Vertrag ablegen"]
    history = sabine.get("/cases/V-1").get_json()["history"]
    assert [h["action"] for h in history][-2:] == ["signal_empfangen", "nachricht_empfangen"]
    assert history[-1]["details"]["payload"] == {"am": "2026-03-02"}


def test_comments(sabine, api_as):
    sabine.post("/cases", json=start_payload())
    response = sabine.post("/cases/LVR-2026-0001/comments", json={"text": "Unterlagen telefonisch angefordert."})
    assert response.status_code == 204 and response.data == b""
    [comment] = sabine.get("/cases/LVR-2026-0001").get_json()["comments"]
    assert (comment["author"], comment["text"]) == ("sabine.lvr", "Unterlagen telefonisch angefordert.")
    assert_error(sabine.post("/cases/LVR-2026-0001/comments", json={"text": ""}), 422, "ungueltige_eingabe")
    assert_error(api_as("wilma.lwl").post("/cases/LVR-2026-0001/comments", json={"text": "x"}), 404,
                 "nicht_gefunden")
    assert_error(sabine.post("/cases/X-0/comments", json={"text": "x"}), 404, "nicht_gefunden")


def test_upload_and_download_documents(sabine, api_as):
    sabine.post("/cases", json=start_payload())
    response = sabine.post("/cases/LVR-2026-0001/documents",
                           data={"datei": (io.BytesIO(PDF), "Stellungnahme Köln.pdf", "application/pdf")})
    assert response.status_code == 201
    created = response.get_json()
    assert created == {"id": created["id"], "name": "Stellungnahme Köln.pdf", "content_type": "application/pdf",
                       "size": len(PDF)}
    assert response.headers["Location"] == f"/api/v1/cases/LVR-2026-0001/documents/{created['id']}"
    download = sabine.get(response.headers["Location"].removeprefix("/api/v1"))
    assert download.status_code == 200 and download.data == PDF and download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "Stellungnahme%20K%C3%B6ln.pdf" in download.headers["Content-Disposition"]
    history = sabine.get("/cases/LVR-2026-0001").get_json()["history"]
    assert history[-1]["action"] == "dokument_gelesen"                       # reading is logged

    path = f"/cases/LVR-2026-0001/documents/{created['id']}"
    assert_error(api_as("wilma.lwl").get(path), 404, "nicht_gefunden")
    assert_error(sabine.get("/cases/LVR-2026-0001/documents/999"), 404, "nicht_gefunden")
    assert_error(sabine.get(f"/cases/X-0/documents/{created['id']}"), 404, "nicht_gefunden")


def test_upload_refusals(sabine, api_as):
    sabine.post("/cases", json=start_payload())
    url = "/cases/LVR-2026-0001/documents"
    body = assert_error(sabine.post(url, data={"datei": (io.BytesIO(b"MZ\x90"), "tool.exe",
                                                         "application/x-msdownload")}), 422, "ungueltige_eingabe",
                        "Dateityp ist nicht erlaubt")
    assert body["details"]["fields"] == {"datei": body["message"]}
    assert_error(sabine.post(url, data={"datei": (io.BytesIO(b""), "leer.pdf", "application/pdf")}), 422,
                 "ungueltige_eingabe", "leer")
    big = b"%PDF" + b"0" * (10 * 1024 * 1024)
    assert_error(sabine.post(url, data={"datei": (io.BytesIO(big), "gross.pdf", "application/pdf")}), 422,
                 "ungueltige_eingabe", "größer als 10 MB")
    body = assert_error(sabine.post(url, data={"anderes": "x"}, content_type="multipart/form-data"), 422,
                        "ungueltige_eingabe")
    assert body["details"]["fields"] == {"datei": "Diese Angabe fehlt."}
    assert_error(sabine.post(url, json={"datei": "x"}), 415, "falsches_format", "multipart")
    assert_error(api_as("wilma.lwl").post(url, data={"datei": (io.BytesIO(PDF), "a.pdf", "application/pdf")}),
                 404, "nicht_gefunden")
    assert_error(sabine.post("/cases/X-0/documents", data={"datei": (io.BytesIO(PDF), "a.pdf", "application/pdf")}),
                 404, "nicht_gefunden")
