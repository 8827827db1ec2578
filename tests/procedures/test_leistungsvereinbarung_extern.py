"""Leistungsvereinbarung externer Leistungserbringer (Kita-Assistenz; seeds 002 and 004),
bpmn/leistungsvereinbarung_extern.bpmn, driven through the services layer: the Fachkonzept checklist and
the nachbessern loop, conclusion, the yearly Leistungsdokumentation due 15 October (reminder, escalation,
three cycles incl. a Sunday deadline) and the five-yearly police-certificate recheck with escalation."""
import json
from datetime import date, datetime, timedelta

import pytest

from workflows import engine
from workflows.clock import BERLIN, end_of_day, start_of_day
from workflows.domain import Actor, DeadlineStatus
from workflows.fristen import berechne
from workflows.worker import run_once

from ..helpers import BPMN_DIR, LEITUNG_LVR, SACHBEARBEITUNG_LVR
from .helpers import (model_problems, complete, deadlines, deploy, due_day, fires_exactly_at, model_files, task, titles)

PROCESS = "leistungsvereinbarung_extern"
KEY = "LVR-LV-EXT-2026-0042"
ANBIETER = Actor("kira.assistenz", frozenset({"Leistungserbringer"}), "Kita-Assistenz Rhein gGmbH")
PARTIES = {"egh": "LVR", "leistungserbringer": "Kita-Assistenz Rhein gGmbH"}
EGH, LEITUNG = SACHBEARBEITUNG_LVR, LEITUNG_LVR
INKRAFT = date(2026, 5, 1)
FACHKONZEPT = ["allgemeine_angaben_traeger", "leistungsangebot", "zielgruppe", "personalstruktur", "umsetzung",
               "qualitaetssicherung", "vernetzung_kooperation"]

EINREICHEN = "Fachkonzept, Gewaltschutzkonzept und Führungszeugnisse einreichen"
PRUEFEN = "Unterlagen prüfen"
ABSCHLIESSEN = "Leistungsvereinbarung abschließen"
DOKUMENTATION = "Leistungsdokumentation einreichen"
DOKU_ESKALATION = "Fehlende Leistungsdokumentation bewerten"
DOKU_PRUEFEN = "Leistungsdokumentation prüfen und über die Fortführung entscheiden"
ZEUGNISSE = "Erweiterte Führungszeugnisse erneut prüfen"
ZEUGNIS_ESKALATION = "Überfällige Prüfung der Führungszeugnisse bewerten"


def test_model_parses_and_follows_the_conventions():
    model = engine.parse_model({f"{PROCESS}.bpmn": model_files(PROCESS)[f"{PROCESS}.bpmn"]})
    assert model.name == "Leistungsvereinbarung externer Leistungserbringer (Kita-Assistenz)"
    assert set(model.lanes) == {"Leistungserbringer", "EGH-Sachbearbeitung", "Leitung"}
    assert len(model.forms) == 8
    assert model_problems(PROCESS) == []


def test_the_fachkonzept_checklist_is_the_one_of_seed_004():
    schema = json.loads((BPMN_DIR / "leistungsvereinbarung_extern_unterlagen.json").read_text(encoding="utf-8"))
    assert schema["properties"]["fachkonzept_inhalte"]["items"]["enum"] == FACHKONZEPT
    assert "Vernetzung und Kooperation" in schema["properties"]["fachkonzept_inhalte"]["description"]


# --- helpers -----------------------------------------------------------------------------------------------

@pytest.fixture
def case(services, clock):
    deploy(services, PROCESS)
    at(clock, date(2026, 3, 2))
    ref = services.start_case(PROCESS, KEY, {}, ANBIETER, parties=PARTIES)
    assert [t["title"] for t in ref.open_tasks] == [EINREICHEN]
    return services


def at(clock, day: date, hour: int = 10) -> None:
    clock.set(datetime(day.year, day.month, day.day, hour, 0, tzinfo=BERLIN))


def einreichen(services, inhalte=FACHKONZEPT, gewaltschutz=True, zeugnisse=True, zeugnis_datum="2025-11-20"):
    complete(services, ANBIETER, EINREICHEN, {
        "fachkonzept_inhalte": inhalte, "gewaltschutzkonzept_vorgelegt": gewaltschutz,
        "fuehrungszeugnisse_vorgelegt": zeugnisse, "fuehrungszeugnis_datum": zeugnis_datum,
        "kooperationsvereinbarung_kita": True, "eingereicht_am": "2026-03-02"})


def pruefen(services, ergebnis="vollstaendig"):
    complete(services, EGH, PRUEFEN, {"pruefergebnis": ergebnis, "geprueft_am": "2026-03-16",
                                      "nachbesserung_hinweise": "" if ergebnis == "vollstaendig" else "Bitte ergänzen"})


def abschliessen(services, zeugnis_datum="2025-11-20"):
    einreichen(services, zeugnis_datum=zeugnis_datum)
    pruefen(services)
    complete(services, EGH, ABSCHLIESSEN, {"vereinbarung_geschlossen_am": "2026-04-20",
                                           "inkrafttreten_am": INKRAFT.isoformat(),
                                           "verguetung_fachkraft_stunde": 52.4,
                                           "verguetung_nichtfachkraft_stunde": 38.1})


def dokumentieren(services, clock, am: date):
    at(clock, am)
    complete(services, ANBIETER, DOKUMENTATION, {
        "leistungsdokumentation_eingereicht_am": am.isoformat(), "anzahl_leistungsberechtigte": 14,
        "personal_fachkraefte": 6, "personal_nichtfachkraefte": 9, "digitaler_vordruck": True,
        "personalsituation": "zwei Stellen unbesetzt"})


def fortfuehren(services, am: date, weiter=True):
    data = {"dokumentation_geprueft_am": am.isoformat(), "vereinbarung_fortfuehren": "ja" if weiter else "nein"}
    if not weiter:
        data.update(beendigung_grund="mustervertrag", vereinbarung_endet_am=am.isoformat())
    return complete(services, EGH, DOKU_PRUEFEN, data)


# --- documents ---------------------------------------------------------------------------------------------

def test_incomplete_documents_go_back_until_complete_and_approved(case, clock):
    services = case
    einreichen(services, inhalte=FACHKONZEPT[:-1], gewaltschutz=False)
    row = task(services, EGH, PRUEFEN)
    assert (row["lane"], row["organisation"]) == ("EGH-Sachbearbeitung", "LVR")
    assert services.task_view(row["task_id"], EGH)["data"]["fehlende_unterlagen"] == [
        "vernetzung_kooperation", "gewaltschutzkonzept"]
    pruefen(services, "vollstaendig")                 # cannot be approved while something is missing
    assert titles(services, EGH) == []
    assert titles(services, ANBIETER) == [EINREICHEN]

    einreichen(services, zeugnis_datum="2020-01-10")  # + 5 years = 10.01.2025: too old at submission
    assert services.case(KEY, EGH)["data"]["fehlende_unterlagen"] == ["fuehrungszeugnisse_aktuell"]
    pruefen(services, "vollstaendig")
    assert titles(services, ANBIETER) == [EINREICHEN]

    einreichen(services)
    assert services.case(KEY, EGH)["data"]["fehlende_unterlagen"] == []
    pruefen(services, "nachbessern")                  # complete, but the EGH wants changes
    assert titles(services, ANBIETER) == [EINREICHEN]
    einreichen(services)
    pruefen(services, "vollstaendig")
    assert titles(services, EGH) == [ABSCHLIESSEN]
    assert titles(services, ANBIETER) == []


# --- the yearly cycle --------------------------------------------------------------------------------------

def test_three_yearly_cycles_then_the_agreement_ends(case, clock):
    services = case
    abschliessen(services)
    stichtage = [berechne("leistungsdokumentation", INKRAFT)]
    for _ in range(2):
        stichtage.append(berechne("leistungsdokumentation", stichtage[-1].end))
    assert [(f.end, f.shifted_end) for f in stichtage] == [
        (date(2026, 10, 15), date(2026, 10, 15)), (date(2027, 10, 15), date(2027, 10, 15)),
        (date(2028, 10, 15), date(2028, 10, 16))]                               # 15.10.2028 is a Sunday
    found = deadlines(services, KEY, EGH)
    assert (found["leistungsdokumentation"].event, found["leistungsdokumentation"].end) == (INKRAFT, stichtage[0].end)
    zeugnis = berechne("fuehrungszeugnis", date(2025, 11, 20))
    assert (found["fuehrungszeugnis"].end, found["fuehrungszeugnis"].status) == (zeugnis.end, DeadlineStatus.RUNNING)
    assert titles(services, ANBIETER) == []                       # nothing to do before the reminder

    for jahr, (frist, eingang) in enumerate(zip(stichtage, (date(2026, 10, 1), date(2027, 10, 14),
                                                             date(2028, 10, 16))), start=1):
        fires_exactly_at(services, clock, start_of_day(frist.end - timedelta(days=28)))
        row = task(services, ANBIETER, DOKUMENTATION)
        assert (row["lane"], row["organisation"], row["deadline_key"], due_day(row)) == (
            "Leistungserbringer", "Kita-Assistenz Rhein gGmbH", "leistungsdokumentation", frist.end)
        dokumentieren(services, clock, eingang)
        found = deadlines(services, KEY, EGH)["leistungsdokumentation"]
        assert (found.status, found.met_on, found.end) == (DeadlineStatus.MET, eingang, frist.end)
        assert found.met_on <= found.shifted_end                  # in time, in 2028 thanks to § 193 BGB
        assert titles(services, EGH) == [DOKU_PRUEFEN]
        ref = fortfuehren(services, eingang, weiter=jahr < 3)
    assert ref.status == "completed"
    case_file = services.case(KEY, EGH)
    data = case_file["data"]
    assert (data["ergebnis"], data["vereinbarungsjahr"]) == ("beendet", 3)
    assert [(d["jahr"], d["eingereicht_am"], d["rechtzeitig"]) for d in data["eingereichte_dokumentationen"]] == [
        (1, "2026-10-01", True), (2, "2027-10-14", True), (3, "2028-10-16", True)]
    assert {d.key: d.status for d in case_file["deadlines"]} == {
        "leistungsdokumentation": DeadlineStatus.MET, "fuehrungszeugnis": DeadlineStatus.CANCELLED}
    assert services.next_timer_due() is None                     # the certificate watch ended with it
    assert titles(services, LEITUNG) == []


def test_missing_documentation_escalates_to_leitung(case, clock):
    services = case
    abschliessen(services)
    frist = berechne("leistungsdokumentation", INKRAFT)
    fires_exactly_at(services, clock, start_of_day(frist.end - timedelta(days=28)))      # 17.09.2026
    assert titles(services, LEITUNG) == []
    fires_exactly_at(services, clock, end_of_day(frist.end))                              # 16.10.2026 00:00
    escalation = task(services, LEITUNG, DOKU_ESKALATION)
    assert (escalation["lane"], escalation["organisation"]) == ("Leitung", "LVR")
    assert titles(services, ANBIETER) == [DOKUMENTATION]                # non-interrupting
    assert run_once(services) == 0
    complete(services, LEITUNG, DOKU_ESKALATION, {"eskalation_bewertet_am": "2026-10-16",
                                                  "eskalation_massnahme": "erinnerung"})
    dokumentieren(services, clock, date(2026, 10, 20))
    found = deadlines(services, KEY, EGH)["leistungsdokumentation"]
    assert (found.status, found.met_on) == (DeadlineStatus.MET, date(2026, 10, 20))
    assert found.met_on > found.shifted_end
    fortfuehren(services, date(2026, 10, 21))
    assert services.case(KEY, EGH)["data"]["eingereichte_dokumentationen"][0]["rechtzeitig"] is False
    # the next year is armed: reminder 28 days before 15.10.2027
    assert services.next_timer_due() == start_of_day(date(2027, 10, 15) - timedelta(days=28))


# --- police certificates ----------------------------------------------------------------------------------

def test_police_certificates_are_rechecked_after_five_years(case, clock):
    services = case
    abschliessen(services, zeugnis_datum="2021-08-01")
    frist = berechne("fuehrungszeugnis", date(2021, 8, 1))
    assert (frist.end, frist.shifted_end) == (date(2026, 8, 1), date(2026, 8, 3))       # Sa -> Mo
    fires_exactly_at(services, clock, start_of_day(frist.end - timedelta(days=56)))     # 06.06.2026
    row = task(services, ANBIETER, ZEUGNISSE)
    assert (row["deadline_key"], due_day(row)) == ("fuehrungszeugnis", frist.end)
    fires_exactly_at(services, clock, end_of_day(frist.end))                            # 02.08.2026 00:00
    assert titles(services, LEITUNG) == [ZEUGNIS_ESKALATION]
    assert titles(services, ANBIETER) == [ZEUGNISSE]                                   # non-interrupting
    complete(services, LEITUNG, ZEUGNIS_ESKALATION, {"eskalation_bewertet_am": "2026-08-03",
                                                     "eskalation_massnahme": "gespraech"})

    # a certificate that is itself older than five years keeps the recheck overdue
    at(clock, date(2026, 8, 3))
    complete(services, ANBIETER, ZEUGNISSE, {"fuehrungszeugnisse_geprueft_am": "2026-08-03",
                                             "fuehrungszeugnis_datum": "2021-07-15"})
    row = task(services, ANBIETER, ZEUGNISSE)
    assert due_day(row) == berechne("fuehrungszeugnis", date(2021, 7, 15)).end == date(2026, 7, 15)
    assert titles(services, LEITUNG) == [ZEUGNIS_ESKALATION]      # its escalation was due: at once
    assert run_once(services) == 0
    complete(services, LEITUNG, ZEUGNIS_ESKALATION, {"eskalation_bewertet_am": "2026-08-03",
                                                     "eskalation_massnahme": "kuendigung_pruefen"})

    complete(services, ANBIETER, ZEUGNISSE, {"fuehrungszeugnisse_geprueft_am": "2026-08-05",
                                             "fuehrungszeugnis_datum": "2026-07-20"})
    found = deadlines(services, KEY, EGH)["fuehrungszeugnis"]
    naechste = berechne("fuehrungszeugnis", date(2026, 7, 20))
    assert (found.event, found.end, found.status) == (date(2026, 7, 20), naechste.end, DeadlineStatus.RUNNING)
    assert naechste.end == date(2031, 7, 20)
    assert titles(services, ANBIETER) == [] and titles(services, LEITUNG) == []
    # next: the Leistungsdokumentation reminder, then the certificates again in 2031
    assert services.next_timer_due() == start_of_day(date(2026, 10, 15) - timedelta(days=28))
    clock.set(start_of_day(naechste.end - timedelta(days=56)) - timedelta(minutes=1))
    while run_once(services):                                      # the yearly reminder/escalation up to then
        pass
    assert titles(services, ANBIETER) == [DOKUMENTATION]
    clock.set(start_of_day(naechste.end - timedelta(days=56)) + timedelta(minutes=1))
    assert run_once(services) == 1
    assert titles(services, ANBIETER) == sorted([DOKUMENTATION, ZEUGNISSE])
