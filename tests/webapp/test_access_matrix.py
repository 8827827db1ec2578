"""Who may open which page: every page × every demo role (and anonymous), against the demo
data. Only the allowed combinations succeed; children's case files only for their parties."""
import pytest

from .test_app import csrf_token
from .test_board_pages import app, client_for  # noqa: F401  (fixture and login helper)

LVR_CHILD = "LVR-FF-2026-0104"     # parties: LVR, AOK Rheinland/Hamburg, IFF Köln-Süd
LWL_CHILD = "LWL-FF-2026-0201"     # parties: LWL, AOK Rheinland/Hamburg, IFF Köln-Süd
ROLES = ["anonym", "sabine.lvr", "wilma.lwl", "lena.leitung", "kai.aok", "ines.iff", "sven.schlichtung",
         "paula.prozess"]

# page -> roles that get 200 (anonymous always goes to the login page)
ALLOWED = {
    "/aufgaben/": set(ROLES) - {"anonym"},
    "/fristen/": {"lena.leitung", "paula.prozess"},
    "/fristen/export.csv": {"lena.leitung", "paula.prozess"},
    "/fristen/kalender.ics": {"lena.leitung", "paula.prozess"},
    "/fristen/kennzahlen": {"lena.leitung", "paula.prozess"},
    f"/akten/{LVR_CHILD}": {"sabine.lvr", "lena.leitung", "kai.aok", "ines.iff"},
    f"/akten/{LVR_CHILD}/diagramm.bpmn": {"sabine.lvr", "lena.leitung", "kai.aok", "ines.iff"},
    f"/akten/{LWL_CHILD}": {"wilma.lwl", "kai.aok", "ines.iff"},
    "/vendor/bpmn-js/bpmn-navigated-viewer.js": set(ROLES) - {"anonym"},
}


@pytest.fixture
def clients(app):  # noqa: F811
    result = {"anonym": app.test_client()}
    for role in ROLES[1:]:
        result[role] = client_for(app, role)
    return result


def test_every_page_for_every_role(clients):
    wrong = []
    for path, allowed in ALLOWED.items():
        for role, client in clients.items():
            response = client.get(path)
            expected = 200 if role in allowed else (302 if role == "anonym" else 403)
            if response.status_code != expected:
                wrong.append(f"{role} {path}: {response.status_code} (expected {expected})")
            if role == "anonym":
                assert "/anmelden" in response.headers.get("Location", "")
    assert wrong == []


def test_tasks_of_another_organisation_cannot_be_opened_or_done(app, clients):  # noqa: F811
    workflows = app.extensions["workflows"]
    [task] = [t for t in workflows.inbox(workflows.actor("sabine.lvr")) if t["business_key"] == LVR_CHILD
              and t["lane"] == "EGH-Sachbearbeitung"]
    assert clients["sabine.lvr"].get(f"/aufgaben/{task['task_id']}").status_code == 200
    for role in ("wilma.lwl", "kai.aok", "ines.iff", "lena.leitung"):
        assert clients[role].get(f"/aufgaben/{task['task_id']}").status_code == 403, role
    token = csrf_token(clients["wilma.lwl"].get("/aufgaben/").get_data(as_text=True))
    response = clients["wilma.lwl"].post(f"/aufgaben/{task['task_id']}/uebernehmen", data={"csrf_token": token})
    assert response.status_code == 403
    assert workflows.inbox(workflows.actor("sabine.lvr"))                  # still open, unclaimed
    assert all(t["claimed_by"] is None for t in workflows.inbox(workflows.actor("sabine.lvr"))
               if t["task_id"] == task["task_id"])


def test_posts_without_csrf_token_are_refused(clients):
    response = clients["sabine.lvr"].post(f"/akten/{LVR_CHILD}/kommentare", data={"text": "ohne Token"})
    assert response.status_code == 400
