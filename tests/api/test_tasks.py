"""Tasks through the API: inbox with filters, task view, claim, release, hand over, complete."""
import base64

import pytest

from ..helpers import assert_error, start_payload


@pytest.fixture
def task_id(api_as, deployed):
    """A case of fristpruefung started by sabine.lvr; its open task 'Unterlagen prüfen'."""
    ref = api_as("sabine.lvr").post("/cases", json=start_payload()).get_json()
    [task] = ref["open_tasks"]
    return task["task_id"]


def test_inbox_lists_the_groups_tasks_with_deadline(api_as, task_id):
    page = api_as("sabine.lvr").get("/tasks").get_json()
    assert (page["total"], page["page"], page["per_page"]) == (1, 1, 25)
    [task] = page["items"]
    assert (task["task_id"], task["business_key"], task["title"], task["lane"], task["organisation"]) == (
        task_id, "LVR-2026-0001", "Unterlagen prüfen", "EGH-Sachbearbeitung", "LVR")
    assert (task["deadline_key"], task["due_date"], task["shifted_end"], task["claimed_by"]) == (
        "verhandlungstermin", "2026-04-05", "2026-04-07", None)
    assert task["legal_basis"] and task["case_title"] == "Fristprüfung"
    assert api_as("wilma.lwl").get("/tasks").get_json()["total"] == 0        # other organisation
    assert api_as("ines.iff").get("/tasks").get_json()["total"] == 0         # other lane


def test_inbox_filters(api_as, task_id):
    sabine = api_as("sabine.lvr")
    assert sabine.get("/tasks?due=soon&soon_days=60").get_json()["total"] == 1       # due 05.04., today 02.03.
    assert sabine.get("/tasks?due=soon&soon_days=7").get_json()["total"] == 0
    assert sabine.get("/tasks?due=overdue").get_json()["total"] == 0
    assert sabine.get("/tasks?process_id=vertrag_warten").get_json()["total"] == 0
    assert sabine.get("/tasks?search=2026-0001").get_json()["total"] == 1
    assert sabine.get("/tasks?search=LWL").get_json()["total"] == 0
    assert sabine.get("/tasks?mine=true").get_json()["total"] == 0
    sabine.post(f"/tasks/{task_id}/claim")
    assert [t["task_id"] for t in sabine.get("/tasks?mine=true").get_json()["items"]] == [task_id]
    assert sabine.get("/tasks?per_page=1&page=2").get_json()["items"] == []
    body = assert_error(sabine.get("/tasks?due=morgen&per_page=101&mine=ja"), 422, "ungueltige_eingabe")
    assert set(body["details"]["fields"]) == {"due", "per_page", "mine"}


def test_read_a_task_with_its_form(api_as, task_id):
    view = api_as("sabine.lvr").get(f"/tasks/{task_id}").get_json()
    assert view["task"]["task_id"] == task_id and view["case"]["business_key"] == "LVR-2026-0001"
    assert view["schema"]["required"] == ["vollstaendig"]
    assert view["data"]["eingang_am"] == "2026-01-05"
    assert_error(api_as("wilma.lwl").get(f"/tasks/{task_id}"), 403, "keine_berechtigung")
    assert_error(api_as("sabine.lvr").get("/tasks/gibt-es-nicht"), 404, "nicht_gefunden", "nicht mehr offen")


def test_claim_release_and_conflicts(api_as, task_id):
    sabine, karl = api_as("sabine.lvr"), api_as("karl.lvr")
    response = sabine.post(f"/tasks/{task_id}/claim")
    assert response.status_code == 200 and response.get_json()["claimed_by"] == "sabine.lvr"
    assert sabine.post(f"/tasks/{task_id}/claim").status_code == 200               # again: no change
    assert_error(karl.post(f"/tasks/{task_id}/claim"), 409, "konflikt", "jemand anderem")
    assert_error(karl.post(f"/tasks/{task_id}/release"), 403, "keine_berechtigung", "übernommen hat")
    assert_error(api_as("wilma.lwl").post(f"/tasks/{task_id}/claim"), 403, "keine_berechtigung")
    response = sabine.post(f"/tasks/{task_id}/release")
    assert response.status_code == 200 and response.get_json()["claimed_by"] is None
    assert karl.post(f"/tasks/{task_id}/claim").get_json()["claimed_by"] == "karl.lvr"
    assert_error(sabine.post("/tasks/gibt-es-nicht/claim"), 404, "nicht_gefunden")
    assert_error(sabine.post("/tasks/gibt-es-nicht/release"), 404, "nicht_gefunden")


def test_hand_over(api_as, task_id):
    sabine = api_as("sabine.lvr")
    sabine.post(f"/tasks/{task_id}/claim")
    response = sabine.post(f"/tasks/{task_id}/handover", json={"username": "karl.lvr"})
    assert response.status_code == 200 and response.get_json()["claimed_by"] == "karl.lvr"
    karl = api_as("karl.lvr")
    assert_error(karl.post(f"/tasks/{task_id}/handover", json={"username": "wilma.lwl"}), 403,
                 "keine_berechtigung", "wilma.lwl")
    body = assert_error(karl.post(f"/tasks/{task_id}/handover", json={"username": "niemand"}), 422,
                        "ungueltige_eingabe", "niemand")
    assert "username" in body["details"]["fields"]
    # the services let any member of the group reassign a claimed task (as on the web pages)
    assert sabine.post(f"/tasks/{task_id}/handover", json={"username": "sabine.lvr"}).get_json()["claimed_by"] == \
        "sabine.lvr"
    assert_error(karl.post("/tasks/gibt-es-nicht/handover", json={"username": "sabine.lvr"}), 404,
                 "nicht_gefunden")
    assert_error(karl.post(f"/tasks/{task_id}/handover", json={}), 422, "ungueltige_eingabe")


def test_complete_with_form_errors_then_correctly_then_conflict(api_as, task_id):
    sabine = api_as("sabine.lvr")
    body = assert_error(sabine.post(f"/tasks/{task_id}/complete", json={"data": {}}), 422, "ungueltige_eingabe",
                        "markierten Angaben")
    assert list(body["details"]["fields"]) == ["vollstaendig"] and body["details"]["fields"]["vollstaendig"]
    body = assert_error(sabine.post(f"/tasks/{task_id}/complete", json={"data": {"vollstaendig": "jein"}}), 422,
                        "ungueltige_eingabe")
    assert "vollstaendig" in body["details"]["fields"]
    assert_error(api_as("wilma.lwl").post(f"/tasks/{task_id}/complete", json={"data": {"vollstaendig": True}}),
                 403, "keine_berechtigung")

    response = sabine.post(f"/tasks/{task_id}/complete", json={"data": {"vollstaendig": True}})
    assert response.status_code == 200, response.get_json()
    ref = response.get_json()
    assert ref["business_key"] == "LVR-2026-0001" and ref["version"] == 2 and ref["status"] == "completed"

    # someone else (here: the same request again) was first – 409 with code konflikt, not 404
    body = assert_error(sabine.post(f"/tasks/{task_id}/complete", json={"data": {"vollstaendig": True}}), 409,
                        "konflikt", "nicht gespeichert")
    assert body["details"]["task_id"] == task_id
    assert_error(sabine.get(f"/tasks/{task_id}"), 404, "nicht_gefunden")           # reading it: 404


def test_complete_a_task_claimed_by_someone_else_is_a_conflict(api_as, task_id):
    api_as("karl.lvr").post(f"/tasks/{task_id}/claim")
    assert_error(api_as("sabine.lvr").post(f"/tasks/{task_id}/complete", json={"data": {"vollstaendig": True}}),
                 409, "konflikt", "karl.lvr")


def test_complete_checks_documents(api_as, task_id):
    sabine = api_as("sabine.lvr")
    document = {"field": "nachweis", "name": "Nachweis.pdf", "content_type": "application/pdf",
                "content_base64": "nicht base64!"}
    body = assert_error(sabine.post(f"/tasks/{task_id}/complete", json={"data": {"vollstaendig": True},
                                                                       "documents": [document]}),
                        422, "ungueltige_eingabe")
    assert body["details"]["fields"] == {"documents.0.content_base64": "Kein gültiges Base64."}
    document["content_base64"] = base64.b64encode(b"%PDF-1.4").decode()
    document["content_type"] = "application/x-msdownload"
    body = assert_error(sabine.post(f"/tasks/{task_id}/complete", json={"data": {"vollstaendig": True},
                                                                       "documents": [document]}),
                        422, "ungueltige_eingabe")
    assert "documents.0.content_type" in body["details"]["fields"]
    assert_error(sabine.post(f"/tasks/{task_id}/complete", data="x", content_type="text/plain"), 415,
                 "falsches_format")
