"""Schlichtungsverfahren (§ 14 LRV), bpmn/schlichtung.bpmn, driven through the services layer on every
path: not yet admissible (recognition and remuneration, on the day before and on the first admissible
day), conflict-of-interest loop, hearing of both sides, consensual ruling, the consensus loop,
"keine Einigung", and the result handed back to a calling process."""
from datetime import date, datetime

import pytest

from workflows import engine
from workflows.clock import BERLIN
from workflows.domain import DeadlineStatus
from workflows.fristen import berechne

from ..helpers import ANBIETER, LEITUNG_LVR, OWNER, PARTIES_LVR, SACHBEARBEITUNG_LVR
from .helpers import (model_problems, complete, deadlines, deploy, model_files, task, titles)
from .schlichtung import (ALLE, ANHOERUNG, ANRUFUNG, BENENNUNG, KOMMISSION, MODERATION, SPRUCH, STELLUNGNAHME_EGH,
                          STELLUNGNAHME_LE, benennen)

PROCESS = "schlichtung"
KEY = "LVR-SCHL-2026-0001"
EVENT = date(2025, 11, 30)      # So; FRISTEN.md row 13: + 6 months = 30.05.2026 (Sa) -> 01.06.2026 (Mo)


def test_model_parses_and_follows_the_conventions():
    model = engine.parse_model({f"{PROCESS}.bpmn": model_files(PROCESS)[f"{PROCESS}.bpmn"]})
    assert (model.process_id, model.name) == (PROCESS, "Schlichtungsverfahren (§ 14 LRV)")
    assert set(model.lanes) == {"Leitung", "Schlichtungskommission", "Leistungserbringer"}
    assert len(model.forms) == 7
    assert model_problems(PROCESS) == []


# --- helpers -----------------------------------------------------------------------------------------------

@pytest.fixture
def case(services, clock):
    deploy(services, PROCESS)
    return services


def at(clock, day: date, hour: int = 10) -> None:
    clock.set(datetime(day.year, day.month, day.day, hour, 0, tzinfo=BERLIN))


def anrufen(services, clock, am: date, start: dict, **felder):
    """Start the case with `start` data and record the call on `am` (Leitung of the EGH); the form
    comes prefilled with the start data and submits them with the rest."""
    at(clock, am)
    ref = services.start_case(PROCESS, KEY, start, LEITUNG_LVR, parties=PARTIES_LVR)
    assert [t["title"] for t in ref.open_tasks] == [ANRUFUNG]
    row = task(services, LEITUNG_LVR, ANRUFUNG)
    assert (row["lane"], row["organisation"]) == ("Leitung", "LVR")
    return complete(services, LEITUNG_LVR, ANRUFUNG, {**start, "angerufen_am": am.isoformat(), "angerufen_durch": "egh",
                                                      "streitgegenstand": "Entgelt je Fördereinheit", **felder})


def bis_zum_spruch(services, clock):
    """Admissible recognition dispute up to the ruling task."""
    anrufen(services, clock, date(2026, 6, 2), {"anlass": "anerkennung", "unterlagen_vollstaendig_am": "2025-11-30"})
    benennen(services)
    complete(services, KOMMISSION, MODERATION, {"moderation_name": "Dr. Neutral (Runder Tisch IFF NRW)",
                                                "moderation_benannt_durch": "runder_tisch_iff_nrw",
                                                "moderation_benannt_am": "2026-06-15"})
    complete(services, LEITUNG_LVR, STELLUNGNAHME_EGH, {"stellungnahme_egh": "Kalkulation überhöht",
                                                        "stellungnahme_egh_am": "2026-06-20"})
    complete(services, ANBIETER, STELLUNGNAHME_LE, {"stellungnahme_le": "Tarifbindung (§ 15 Abs. 5 LRV)",
                                                    "stellungnahme_le_am": "2026-06-21"})
    complete(services, KOMMISSION, ANHOERUNG, {"sitzung_am": "2026-07-01", "angehoerte": ["egh", "leistungserbringer",
                                                                                          "krankenkassen"]})
    assert titles(services, KOMMISSION) == [SPRUCH]


# --- admissibility -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("angerufen, zulaessig", [(date(2026, 6, 1), False), (date(2026, 6, 2), True)])
def test_verguetung_admissible_only_after_six_months(case, clock, angerufen, zulaessig):
    services = case
    ref = anrufen(services, clock, angerufen, {}, anlass="verguetung", verhandlungsbeginn_am=EVENT.isoformat())
    expected = berechne("lrv14-verguetung", EVENT)
    assert (expected.end, expected.shifted_end) == (date(2026, 5, 30), date(2026, 6, 1))   # Sa -> Mo
    found = deadlines(services, KEY, LEITUNG_LVR)["verguetung"]
    assert (found.rule, found.event, found.end, found.shifted_end) == (
        "lrv14-verguetung", EVENT, expected.end, expected.shifted_end)
    assert found.status == DeadlineStatus.RUNNING          # the six months ran out without an agreement
    data = services.case(KEY, LEITUNG_LVR)["data"]
    assert data["zulaessig"] is zulaessig
    if zulaessig:
        assert ref.status == "running"
        row = task(services, KOMMISSION, BENENNUNG)
        assert (row["lane"], row["organisation"]) == ("Schlichtungskommission", None)
    else:
        assert ref.status == "completed"
        assert data["schlichtung_ergebnis"] == "unzulaessig"
        assert "01.06.2026" in data["unzulaessig_grund"]
        assert services.inbox(KOMMISSION) == []


@pytest.mark.parametrize("angerufen, zulaessig", [(date(2026, 6, 1), False), (date(2026, 6, 2), True)])
def test_anerkennung_admissible_from_the_day_after_the_shifted_end(case, clock, angerufen, zulaessig):
    """Start data of a calling recognition case carry anlass and the completeness date."""
    services = case
    ref = anrufen(services, clock, angerufen, {"anlass": "anerkennung", "unterlagen_vollstaendig_am": "2025-11-30"})
    expected = berechne("lrv14-schlichtung-zulaessig", EVENT)
    assert (expected.end, expected.shifted_end) == (date(2026, 5, 31), date(2026, 6, 2))
    found = deadlines(services, KEY, LEITUNG_LVR)["schlichtung_zulaessig"]
    assert (found.end, found.shifted_end, found.rule) == (expected.end, expected.shifted_end,
                                                          "lrv14-schlichtung-zulaessig")
    data = services.case(KEY, LEITUNG_LVR)["data"]
    if zulaessig:
        assert (found.status, found.met_on) == (DeadlineStatus.MET, angerufen)
        assert titles(services, KOMMISSION) == [BENENNUNG]
    else:
        assert ref.status == "completed" and found.status == DeadlineStatus.RUNNING
        assert (data["schlichtung_ergebnis"], data["anlass"]) == ("unzulaessig", "anerkennung")
        assert "02.06.2026" in data["unzulaessig_grund"]


# --- the commission ----------------------------------------------------------------------------------------

def test_conflict_of_interest_rejects_the_appointment_until_nobody_was_involved(case, clock):
    services = case
    anrufen(services, clock, date(2026, 6, 2), {"anlass": "anerkennung", "unterlagen_vollstaendig_am": "2025-11-30"})
    benennen(services, gkv=True)
    assert titles(services, KOMMISSION) == [BENENNUNG]
    data = services.case(KEY, KOMMISSION)["data"]
    assert data["befangene_mitglieder"] == ["gkv"]
    assert "gesetzliche Krankenkassen" in data["benennung_hinweis"]
    benennen(services, freie_wohlfahrtspflege=True, landschaftsverbaende=True)
    assert titles(services, KOMMISSION) == [BENENNUNG]
    assert services.case(KEY, KOMMISSION)["data"]["befangene_mitglieder"] == ["freie_wohlfahrtspflege",
                                                                              "landschaftsverbaende"]
    benennen(services)
    assert titles(services, KOMMISSION) == [MODERATION]
    assert services.case(KEY, KOMMISSION)["data"]["befangene_mitglieder"] == []


def test_hearing_waits_for_both_statements(case, clock):
    services = case
    anrufen(services, clock, date(2026, 6, 2), {"anlass": "anerkennung", "unterlagen_vollstaendig_am": "2025-11-30"})
    benennen(services)
    complete(services, KOMMISSION, MODERATION, {"moderation_name": "Dr. Neutral", "moderation_benannt_am": "2026-06-15",
                                                "moderation_benannt_durch": "runder_tisch_iff_nrw"})
    assert titles(services, LEITUNG_LVR) == [STELLUNGNAHME_EGH]
    assert titles(services, ANBIETER) == [STELLUNGNAHME_LE]
    assert task(services, ANBIETER, STELLUNGNAHME_LE)["organisation"] == "IFF Köln-Süd"
    assert services.inbox(SACHBEARBEITUNG_LVR) == []
    complete(services, ANBIETER, STELLUNGNAHME_LE, {"stellungnahme_le": "…", "stellungnahme_le_am": "2026-06-21"})
    assert titles(services, KOMMISSION) == []                 # the join waits for the EGH
    complete(services, LEITUNG_LVR, STELLUNGNAHME_EGH, {"stellungnahme_egh": "…", "stellungnahme_egh_am": "2026-06-22"})
    assert titles(services, KOMMISSION) == [ANHOERUNG]


def test_consensual_ruling_einigung(case, clock):
    services = case
    bis_zum_spruch(services, clock)
    ref = complete(services, KOMMISSION, SPRUCH, {
        "spruch_ergebnis": "einigung", "schlichtungsergebnis": "Entgelt 96,50 EUR je Fördereinheit ab 01.08.2026",
        "zustimmung_mitglieder": ALLE, "spruch_am": "2026-07-01"})
    assert ref.status == "completed"
    data = services.case(KEY, LEITUNG_LVR)["data"]
    assert data["schlichtung_ergebnis"] == "einigung"
    assert data["schlichtungsspruch"]["inhalt"] == "Entgelt 96,50 EUR je Fördereinheit ab 01.08.2026"
    assert data["schlichtungsspruch"]["moderation"] == "Dr. Neutral (Runder Tisch IFF NRW)"
    assert data["schlichtungsspruch"]["mitglieder"] == ["Frau Vogel (Diakonie)", "Herr Jansen (BKK-LV)",
                                                        "Frau Bohne (LWL)"]
    assert services.next_timer_due() is None


def test_einigung_without_all_members_is_refused_then_keine_einigung_is_recorded(case, clock):
    services = case
    bis_zum_spruch(services, clock)
    ref = complete(services, KOMMISSION, SPRUCH, {
        "spruch_ergebnis": "einigung", "schlichtungsergebnis": "Mehrheitsvorschlag",
        "zustimmung_mitglieder": ["freie_wohlfahrtspflege", "landschaftsverbaende"], "spruch_am": "2026-07-01"})
    assert ref.status == "running"
    assert titles(services, KOMMISSION) == [SPRUCH]
    assert "§ 14 Abs. 3 LRV" in services.case(KEY, KOMMISSION)["data"]["spruch_hinweis"]
    ref = complete(services, KOMMISSION, SPRUCH, {
        "spruch_ergebnis": "keine_einigung", "schlichtungsergebnis": "Kein Konsens über das Entgelt",
        "zustimmung_mitglieder": ["freie_wohlfahrtspflege", "landschaftsverbaende"], "spruch_am": "2026-07-08"})
    assert ref.status == "completed"
    data = services.case(KEY, LEITUNG_LVR)["data"]
    assert (data["schlichtung_ergebnis"], data["schlichtungsergebnis"]) == ("keine_einigung",
                                                                          "Kein Konsens über das Entgelt")


# --- the result flows back into a calling case ------------------------------------------------------------

CALLER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://x">
  <bpmn:process id="anerkennung_mit_schlichtung" name="Aufrufer" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="Leitung">
      <bpmn:flowNodeRef>s</bpmn:flowNodeRef><bpmn:flowNodeRef>rufen</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>e</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:callActivity id="rufen" name="Schlichtung" calledElement="schlichtung">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:callActivity>
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="rufen"/>
    <bpmn:sequenceFlow id="f2" sourceRef="rufen" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_result_is_handed_back_to_a_calling_process(services, clock):
    files = {"anerkennung_mit_schlichtung.bpmn": CALLER, **model_files(PROCESS)}
    services.deploy_model(files, OWNER, main="anerkennung_mit_schlichtung.bpmn")
    at(clock, date(2026, 6, 3))
    services.start_case("anerkennung_mit_schlichtung", KEY,
                        {"anlass": "verguetung", "verhandlungsbeginn_am": "2025-11-30"},
                        LEITUNG_LVR, parties=PARTIES_LVR)
    complete(services, LEITUNG_LVR, ANRUFUNG, {"anlass": "verguetung", "verhandlungsbeginn_am": "2025-11-30",
                                               "angerufen_am": "2026-06-03", "angerufen_durch": "leistungserbringer"})
    benennen(services)
    complete(services, KOMMISSION, MODERATION, {"moderation_name": "Dr. Neutral", "moderation_benannt_am": "2026-06-15",
                                                "moderation_benannt_durch": "runder_tisch_iff_nrw"})
    complete(services, LEITUNG_LVR, STELLUNGNAHME_EGH, {"stellungnahme_egh": "…", "stellungnahme_egh_am": "2026-06-20"})
    complete(services, ANBIETER, STELLUNGNAHME_LE, {"stellungnahme_le": "…", "stellungnahme_le_am": "2026-06-21"})
    complete(services, KOMMISSION, ANHOERUNG, {"sitzung_am": "2026-07-01", "angehoerte": ["egh", "leistungserbringer"]})
    ref = complete(services, KOMMISSION, SPRUCH, {"spruch_ergebnis": "einigung", "schlichtungsergebnis": "Einigung",
                                                  "zustimmung_mitglieder": ALLE, "spruch_am": "2026-07-01"})
    assert (ref.status, ref.process_id) == ("completed", "anerkennung_mit_schlichtung")
    case_file = services.case(KEY, LEITUNG_LVR)
    assert case_file["data"]["schlichtung_ergebnis"] == "einigung"
    assert case_file["data"]["schlichtungsspruch"]["anlass"] == "verguetung"
    assert [d.key for d in case_file["deadlines"]] == ["verguetung"]
