"""The child's data through the API: given apart from the case data at the start, validated in
German, returned with the case (reading it is logged as an access)."""
from ..helpers import assert_error, start_payload

PERSON = {"kind_vorname": "Ida", "kind_nachname": "Apitest", "kind_geburtsdatum": "2023-02-03",
          "erziehungsberechtigte": "Ole Apitest", "strasse": "Hafenstraße 1", "plz": "50667", "ort": "Köln"}


def test_start_with_person_and_read_it_back_with_the_accesses(deployed, api_as):
    sabine = api_as("sabine.lvr")
    assert sabine.post("/cases", json={**start_payload(), "person": PERSON}).status_code == 201
    case = sabine.get("/cases/LVR-2026-0001").get_json()
    assert {k: v for k, v in case["person"].items() if k != "id"} == PERSON
    assert [(a["action"], a["action_label"], a["actor"]) for a in case["accesses"]] == [
        ("akte_eingesehen", "Akte eingesehen", "sabine.lvr")]
    assert case["closed_at"] is None
    assert "Apitest" not in str(case["data"]) and "Apitest" not in str(case["history"])
    assert_error(api_as("wilma.lwl").get("/cases/LVR-2026-0001"), 404, "nicht_gefunden")


def test_person_data_are_refused_in_german(deployed, api_as):
    sabine = api_as("sabine.lvr")
    body = assert_error(sabine.post("/cases", json={**start_payload("X-1"), "person": {**PERSON, "plz": "5066"}}),
                        422, "ungueltige_eingabe")
    assert body["details"]["fields"]["person.plz"] == "Bitte fünf Ziffern angeben."
    body = assert_error(sabine.post("/cases", json={**start_payload("X-2"), "person": {**PERSON, "ort": None}}),
                        422, "ungueltige_eingabe")
    assert "vollständig" in body["message"]
    body = assert_error(sabine.post("/cases", json=start_payload("X-3", data={"eingang_am": "2026-01-05",
                                                                               "kind_name": "Ida"})),
                        422, "ungueltige_eingabe")
    assert "gehört nicht in die Vorgangsdaten" in body["message"]
    assert sabine.get("/cases").get_json()["total"] == 0
