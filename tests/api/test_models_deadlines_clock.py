"""Model versions and deployment, the deadline board, the simulation clock."""
import io

import pytest

from webapp.api import tokens

from ..helpers import assert_error, read, start_payload


def files(*names: str, **contents: str) -> dict:
    parts = [(io.BytesIO(read(n).encode()), n) for n in names]
    parts += [(io.BytesIO(text.encode()), n.replace("__", ".")) for n, text in contents.items()]
    return {"dateien": parts}


def test_list_model_versions_with_running_cases(api_as, deployed):
    sabine = api_as("sabine.lvr")
    sabine.post("/cases", json=start_payload())
    versions = {v["process_id"]: v for v in sabine.get("/models").get_json()}
    assert set(versions) == {"fristpruefung", "vertrag_warten"}
    assert (versions["fristpruefung"]["version"], versions["fristpruefung"]["running"]) == (1, 1)
    assert versions["vertrag_warten"]["running"] == 0
    assert versions["fristpruefung"]["deployed_by"] == "paula.prozess"
    assert len(versions["fristpruefung"]["sha256"]) == 64 and "files" not in versions["fristpruefung"]


def test_deploy_a_model_as_process_owner(api_as, deployed):
    paula = api_as("paula.prozess")
    response = paula.post("/models", data=files("fristpruefung.bpmn", "pruefen.json"),
                          content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["process_id"], body["version"], body["deployed_by"]) == ("fristpruefung", 2, "paula.prozess")
    assert [v["version"] for v in paula.get("/models").get_json() if v["process_id"] == "fristpruefung"] == [1, 2]


def test_deploy_refusals(api_as, deployed):
    assert_error(api_as("sabine.lvr").post("/models", data=files("fuenf_schritte.bpmn"),
                                           content_type="multipart/form-data"),
                 403, "keine_berechtigung", "Prozessverantwortliche")
    paula = api_as("paula.prozess")
    body = assert_error(paula.post("/models", data=files("boeses_skript.bpmn"), content_type="multipart/form-data"),
                        422, "modell_ungueltig", "Skript nicht erlaubt")
    assert body["details"]["element_id"] and body["details"]["element_id"] in body["message"]
    body = assert_error(paula.post("/models", data=files(x__bpmn="<nicht xml"), content_type="multipart/form-data"),
                        422, "modell_ungueltig", "wohlgeformtes XML")
    assert body["details"]["line"] == 1 and "Zeile 1" in body["message"]
    assert_error(paula.post("/models", data=files("fristpruefung.bpmn"), content_type="multipart/form-data"),
                 422, "modell_ungueltig", "pruefen.json")
    assert_error(paula.post("/models", data=files("fristpruefung.bpmn", "vertrag_warten.bpmn"),
                            content_type="multipart/form-data"), 422, "ungueltige_eingabe", "welche BPMN-Datei")
    body = assert_error(paula.post("/models", data={}, content_type="multipart/form-data"), 422,
                        "ungueltige_eingabe")
    assert body["details"]["fields"] == {"dateien": "Diese Angabe fehlt."}
    assert_error(paula.post("/models", json={"dateien": []}), 415, "falsches_format")
    assert [v["version"] for v in paula.get("/models").get_json()] == [1, 1]      # nothing stored


def test_deadline_board_for_leitung(api_as, deployed):
    api_as("sabine.lvr").post("/cases", json=start_payload())
    lena = api_as("lena.leitung")
    page = lena.get("/deadlines").get_json()
    assert (page["total"], page["page"], page["per_page"]) == (1, 1, 50)
    [row] = page["items"]
    assert {k: row[k] for k in ("business_key", "key", "rule", "end_date", "shifted_end", "state", "days_left",
                                "status", "met_on", "lane", "organisation")} == {
        "business_key": "LVR-2026-0001", "key": "verhandlungstermin", "rule": "lrv5-verhandlungstermin",
        "end_date": "2026-04-05", "shifted_end": "2026-04-07", "state": "laufend", "days_left": 36,
        "status": "laufend", "met_on": None, "lane": "EGH-Sachbearbeitung", "organisation": "LVR"}
    assert row["legal_basis"] and row["explanation"] and row["working_days_left"] > 0
    assert lena.get("/deadlines?soon_days=60").get_json()["items"][0]["state"] == "bald_faellig"
    assert lena.get("/deadlines?state=ueberfaellig").get_json()["total"] == 0
    assert lena.get("/deadlines?due_from=2026-04-08").get_json()["total"] == 0
    assert lena.get("/deadlines?due_to=2026-04-07&process_id=fristpruefung").get_json()["total"] == 1
    assert lena.get("/deadlines?organisation=AOK Rheinland/Hamburg").get_json()["total"] == 1
    assert lena.get("/deadlines?per_page=1&page=2").get_json()["items"] == []
    assert api_as("paula.prozess").get("/deadlines").get_json()["total"] == 1
    assert_error(api_as("sabine.lvr").get("/deadlines"), 403, "keine_berechtigung", "Leitung")
    body = assert_error(lena.get("/deadlines?state=bald&due_from=morgen"), 422, "ungueltige_eingabe")
    assert set(body["details"]["fields"]) == {"state", "due_from"}


def test_simulation_clock(api_as, deployed):
    sabine, paula = api_as("sabine.lvr"), api_as("paula.prozess")
    assert sabine.get("/clock").get_json() == {"now": "2026-03-02T08:00:00+00:00", "simulated": True,
                                               "frozen": True}
    sabine.post("/cases", json=start_payload())
    assert sabine.get("/tasks?due=overdue").get_json()["total"] == 0

    response = paula.put("/clock", json={"now": "2026-04-10T09:00", "frozen": True})
    assert response.status_code == 200
    assert response.get_json() == {"now": "2026-04-10T07:00:00+00:00", "simulated": True, "frozen": True}
    assert sabine.get("/tasks?due=overdue").get_json()["total"] == 1           # seen at once
    assert sabine.get("/clock").get_json()["now"] == "2026-04-10T07:00:00+00:00"

    assert_error(sabine.put("/clock", json={"now": "2026-04-11T09:00"}), 403, "keine_berechtigung")
    for wrong in ("2026-02-30T09:00", "1999-12-31T09:00", "morgen", "2026-04-10"):
        body = assert_error(paula.put("/clock", json={"now": wrong}), 422, "ungueltige_eingabe", "markierten")
        assert "2000 bis 2099" in body["details"]["fields"]["now"]
    assert_error(paula.put("/clock", json={"now": "2026-04-10T09:00", "frozen": 1}), 422, "ungueltige_eingabe")

    running = paula.put("/clock", json={"now": "2027-01-04T08:00:00+01:00"}).get_json()
    assert running["frozen"] is False and running["now"].startswith("2027-01-04T07:0")
    reset = paula.delete("/clock").get_json()
    assert reset["simulated"] is False and not reset["now"].startswith("2027-01-04")
    assert_error(sabine.delete("/clock"), 403, "keine_berechtigung")


@pytest.fixture
def production_app(make_app):
    return make_app(ENV_NAME="production", CLOCK="system", SECRET_KEY="prod-geheimnis")


def test_no_clock_routes_in_production(production_app):
    runner = production_app.test_cli_runner()
    runner.invoke(args=["users", "create", "paula", "--name", "Paula", "--group", "Prozessverantwortliche",
                        "--password", "richtig-langes-passwort"])
    _id, token = tokens.create(production_app.extensions["workflows"], "paula", "Test")
    client = production_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    for method in ("GET", "PUT", "DELETE"):
        assert_error(client.open("/api/v1/clock", method=method, headers=headers, json={"now": "2026-04-10T09:00"}),
                     404, "nicht_gefunden")
    document = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/clock" not in document["paths"] and "/api/v1/cases" in document["paths"]
    assert "Simulationsuhr" not in {tag["name"] for tag in document["tags"]}
