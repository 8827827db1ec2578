"""Anerkennungsverfahren IFF/SPZ (§ 5 LRV), bpmn/anerkennungsverfahren.bpmn, driven through the
services layer on every path: completeness loop, withdrawal, Sollziele with warning and
escalation, negotiation loop without consensus, recognition and rejection."""
from datetime import date, datetime, timedelta

import pytest

from workflows import engine
from workflows.clock import BERLIN, end_of_day, start_of_day
from workflows.domain import DeadlineStatus
from workflows.fristen import berechne
from workflows.worker import run_once

from ..helpers import ANBIETER, LEITUNG_LVR, PARTIES_LVR, SACHBEARBEITUNG_LVR, SACHBEARBEITUNG_LWL
from .helpers import (KRANKENKASSE, complete, deadlines, deadlines_of, deploy, due_day, fires_exactly_at,
                      model_files, structure_problems, task, titles)

PROCESS = "anerkennungsverfahren"
KEY = "LVR-IFF-2026-0007"
VOLLSTAENDIG = date(2026, 1, 3)     # Sa; FRISTEN.md row 6: +3 months = 03.04.2026 (Karfreitag) -> 07.04.

EINREICHEN = "Antrag auf Anerkennung mit Konzeption und Unterlagen einreichen"
PRUEFEN = "Vollständigkeit prüfen"
NACHREICHEN = "Fehlende Unterlagen nachreichen"
TERMIN = "Verhandlungstermin durchführen"
HINWEIS = "Hinweis: Sollziel für den Verhandlungstermin läuft ab"
ESKALATION_TERMIN = "Überschreitung des Sollziels Verhandlungstermin bewerten"
VERHANDELN = "Vertrag nach IFF-Mustervertrag und Vergütungsvereinbarung (Kalkulationsmatrix) verhandeln"
ESKALATION_ABSCHLUSS = "Überschreitung des Sollziels Abschluss bewerten"
ENTSCHEIDUNG_EGH = "Gemeinsame Prüfung und Entscheidung (Eingliederungshilfeträger)"
ENTSCHEIDUNG_KK = "Gemeinsame Prüfung und Entscheidung"
ABSCHLIESSEN = "IFF-Vertrag und Vergütungsvereinbarung abschließen"
ABLEHNEN = "Ablehnung dem Leistungserbringer mitteilen"
SCHLICHTUNG_ANRUFEN = "Über die Anrufung der Schlichtungskommission entscheiden"
SCHLICHTUNG_UEBERNEHMEN = "Ergebnis der Schlichtung in die Verhandlung übernehmen"
ALLE_UNTERLAGEN = ["konzeption", "personal_qualifikationen", "raeume", "ausstattung"]


@pytest.fixture
def case(services, clock):
    deploy(services, PROCESS)
    at(clock, date(2026, 1, 2))
    ref = services.start_case(PROCESS, KEY, {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR)
    assert [t["title"] for t in ref.open_tasks] == [EINREICHEN]
    return services


def at(clock, day: date, hour: int = 10) -> None:
    clock.set(datetime(day.year, day.month, day.day, hour, 0, tzinfo=BERLIN))


def einreichen(services, unterlagen=ALLE_UNTERLAGEN):
    complete(services, ANBIETER, EINREICHEN, {
        "einrichtungsart": "iff", "einrichtung": "IFF Köln-Süd, Musterstraße 1, Köln",
        "antrag_eingereicht_am": "2026-01-02", "eingereichte_unterlagen": unterlagen,
        "festangestellter_personalstamm": True})


def vollstaendig(services, am: date = VOLLSTAENDIG):
    complete(services, SACHBEARBEITUNG_LVR, PRUEFEN, {
        "unterlagen_vollstaendig": "ja", "unterlagen_vollstaendig_am": am.isoformat(), "geprueft_am": "2026-01-05"})


def bis_zum_termin(services):
    einreichen(services)
    vollstaendig(services)
    assert titles(services, SACHBEARBEITUNG_LVR) == [TERMIN]


def termin(services, clock, am: date):
    at(clock, am + timedelta(days=1))                 # recorded the day after the meeting
    complete(services, SACHBEARBEITUNG_LVR, TERMIN, {
        "verhandlungstermin_am": am.isoformat(), "teilnehmende": ["egh", "krankenkassen", "leistungserbringer"]})


def verhandeln(services, clock, am: date, **extra):
    at(clock, am)
    complete(services, SACHBEARBEITUNG_LVR, VERHANDELN, {
        "verhandlung_abgeschlossen_am": am.isoformat(),
        "vertragsgrundlagen": ["iff_mustervertrag", "kalkulationsmatrix", "mindeststandards"],
        "entgelt_fe_heilpaedagogisch": 98.5, "entgelt_fe_medizinisch_therapeutisch": 87.0,
        "kostenanteil_egh_prozent": 65, "uebergangsfristen_vereinbart": False, **extra})


def entscheiden(services, clock, am: date, egh: str, kk: str):
    at(clock, am)
    assert titles(services, KRANKENKASSE) == [ENTSCHEIDUNG_KK]
    assert task(services, KRANKENKASSE, ENTSCHEIDUNG_KK)["lane"] == "Krankenkasse"
    complete(services, KRANKENKASSE, ENTSCHEIDUNG_KK, {
        "zustimmung_krankenkasse": kk, "entschieden_am_krankenkasse": am.isoformat(),
        "kassenarten": ["aok", "bkk", "ikk", "svlfg", "knappschaft", "vdek"]})
    assert ENTSCHEIDUNG_EGH in titles(services, SACHBEARBEITUNG_LVR)        # join waits for the EGH
    complete(services, SACHBEARBEITUNG_LVR, ENTSCHEIDUNG_EGH, {
        "zustimmung_egh": egh, "entschieden_am_egh": am.isoformat()})


# --- model ------------------------------------------------------------------------------------

def test_model_parses_and_follows_the_conventions():
    files = model_files(PROCESS)
    assert {"schlichtung.bpmn", "schlichtung_spruch.json"} <= set(files)        # the called process
    model = engine.parse_model({n: t for n, t in files.items() if n.endswith(".bpmn")}, PROCESS)
    assert model.process_id == PROCESS
    assert model.name == "Anerkennungsverfahren IFF/SPZ (§ 5 LRV)"
    assert set(model.lanes) == {"EGH-Sachbearbeitung", "Leitung", "Krankenkasse", "Leistungserbringer",
                                "Schlichtungskommission"}                       # the last via § 14
    assert {"anerkennung_schlichtung_anrufen.json", "anerkennung_schlichtungsergebnis.json"} <= set(
        model.forms.values())
    assert structure_problems(PROCESS) == []


# --- paths ------------------------------------------------------------------------------------

def test_anerkannt_in_time_without_warnings(case, clock):
    services = case
    bis_zum_termin(services)
    found = deadlines(services, KEY, SACHBEARBEITUNG_LVR)
    soll = berechne("lrv5-verhandlungstermin", VOLLSTAENDIG)
    ziel = berechne("lrv5-abschluss", VOLLSTAENDIG)
    assert (found["verhandlungstermin"].end, found["verhandlungstermin"].shifted_end) == (soll.end, soll.shifted_end)
    assert (soll.end, soll.shifted_end) == (date(2026, 4, 3), date(2026, 4, 7))     # Karfreitag -> Di
    assert (found["abschluss"].end, found["abschluss"].shifted_end) == (ziel.end, ziel.shifted_end)
    assert ziel.end == date(2026, 7, 3) and ziel.reading == "A1"
    assert due_day(task(services, SACHBEARBEITUNG_LVR, TERMIN)) == soll.end
    assert services.inbox(SACHBEARBEITUNG_LWL) == []

    termin(services, clock, date(2026, 2, 10))
    found = deadlines(services, KEY, SACHBEARBEITUNG_LVR)
    assert (found["verhandlungstermin"].status, found["verhandlungstermin"].met_on) == (
        DeadlineStatus.MET, date(2026, 2, 10))
    assert due_day(task(services, SACHBEARBEITUNG_LVR, VERHANDELN)) == ziel.end
    # the meeting's warning and escalation timers went with the meeting
    at(clock, date(2026, 4, 20))
    assert run_once(services) == 0
    assert titles(services, LEITUNG_LVR) == []
    assert titles(services, SACHBEARBEITUNG_LVR) == [VERHANDELN]

    verhandeln(services, clock, date(2026, 5, 4), uebergangsfristen_vereinbart=True,
               uebergangsfristen=[{"voraussetzung": "§ 3 Nr. 3 Räume", "erfuellen_bis": "2026-12-31"}])
    entscheiden(services, clock, date(2026, 5, 11), egh="ja", kk="ja")
    assert titles(services, SACHBEARBEITUNG_LVR) == [ABSCHLIESSEN]
    at(clock, date(2026, 5, 18))                     # contract of Friday recorded on Monday
    ref = complete(services, SACHBEARBEITUNG_LVR, ABSCHLIESSEN, {
        "vertrag_geschlossen_am": "2026-05-15", "vertragsbeginn": "2026-06-01"})
    assert ref.status == "completed"
    case_file = services.case(KEY, SACHBEARBEITUNG_LVR)
    assert case_file["data"]["ergebnis"] == "anerkannt"
    assert case_file["data"]["uebergangsfristen"][0]["erfuellen_bis"] == "2026-12-31"
    found = deadlines_of(case_file)
    assert (found["abschluss"].status, found["abschluss"].met_on) == (DeadlineStatus.MET, date(2026, 5, 15))
    assert services.next_timer_due() is None


def test_completeness_loop_until_complete(case, clock):
    services = case
    einreichen(services, unterlagen=["konzeption", "raeume"])
    for missing in (["personal_qualifikationen", "ausstattung"], ["ausstattung"]):
        complete(services, SACHBEARBEITUNG_LVR, PRUEFEN, {
            "unterlagen_vollstaendig": "nein", "fehlende_unterlagen": missing, "geprueft_am": "2026-01-05"})
        assert titles(services, SACHBEARBEITUNG_LVR) == []
        nachreichen = task(services, ANBIETER, NACHREICHEN)
        assert (nachreichen["lane"], nachreichen["organisation"]) == ("Leistungserbringer", "IFF Köln-Süd")
        assert deadlines(services, KEY, SACHBEARBEITUNG_LVR) == {}          # no Sollziel before complete
        complete(services, ANBIETER, NACHREICHEN, {
            "nachreichung": "nachgereicht", "nachgereicht_am": "2026-02-02", "nachgereichte_unterlagen": missing})
        assert titles(services, SACHBEARBEITUNG_LVR) == [PRUEFEN]
    vollstaendig(services, date(2026, 2, 2))
    found = deadlines(services, KEY, SACHBEARBEITUNG_LVR)
    assert found["verhandlungstermin"].event == date(2026, 2, 2)
    assert found["verhandlungstermin"].end == berechne("lrv5-verhandlungstermin", date(2026, 2, 2)).end
    assert titles(services, SACHBEARBEITUNG_LVR) == [TERMIN]


def test_withdrawal_in_the_completeness_loop(case, clock):
    services = case
    einreichen(services, unterlagen=["konzeption"])
    complete(services, SACHBEARBEITUNG_LVR, PRUEFEN, {
        "unterlagen_vollstaendig": "nein", "fehlende_unterlagen": ["personal_qualifikationen"],
        "geprueft_am": "2026-01-05"})
    ref = complete(services, ANBIETER, NACHREICHEN, {"nachreichung": "zurueckgezogen",
                                                     "ruecknahme_grund": "Träger gibt den Standort auf"})
    assert ref.status == "completed"
    case_file = services.case(KEY, SACHBEARBEITUNG_LVR)
    assert case_file["data"]["ergebnis"] == "zurueckgezogen"
    assert case_file["deadlines"] == []
    assert services.next_timer_due() is None


def test_meeting_warning_and_escalation_fire_on_time(case, clock):
    services = case
    bis_zum_termin(services)
    soll = berechne("lrv5-verhandlungstermin", VOLLSTAENDIG)
    fires_exactly_at(services, clock, start_of_day(soll.end - timedelta(days=14)))       # 20.03.2026
    hinweis = task(services, SACHBEARBEITUNG_LVR, HINWEIS)
    assert due_day(hinweis) == soll.end
    assert titles(services, LEITUNG_LVR) == []
    complete(services, SACHBEARBEITUNG_LVR, HINWEIS, {"hinweis_kenntnis_am": "2026-03-20",
                                                      "geplanter_termin": "2026-04-06"})

    fires_exactly_at(services, clock, end_of_day(soll.end))                               # 04.04. 00:00
    [escalation] = services.inbox(LEITUNG_LVR)
    assert (escalation["title"], escalation["lane"], escalation["organisation"]) == (
        ESKALATION_TERMIN, "Leitung", "LVR")
    assert titles(services, SACHBEARBEITUNG_LVR) == [TERMIN]                 # the case goes on
    assert deadlines(services, KEY, SACHBEARBEITUNG_LVR)["verhandlungstermin"].status == DeadlineStatus.RUNNING
    assert run_once(services) == 0

    # after the calendar end but within the shifted end (Tuesday after Easter): in time
    termin(services, clock, date(2026, 4, 7))
    found = deadlines(services, KEY, SACHBEARBEITUNG_LVR)["verhandlungstermin"]
    assert (found.status, found.met_on) == (DeadlineStatus.MET, date(2026, 4, 7))
    assert found.met_on <= found.shifted_end
    complete(services, LEITUNG_LVR, ESKALATION_TERMIN, {"eskalation_bewertet_am": "2026-04-07",
                                                        "eskalation_massnahme": "keine"})
    assert titles(services, LEITUNG_LVR) == []
    assert titles(services, SACHBEARBEITUNG_LVR) == [VERHANDELN]


def test_no_consensus_goes_back_to_negotiation(case, clock):
    services = case
    bis_zum_termin(services)
    termin(services, clock, date(2026, 3, 2))
    verhandeln(services, clock, date(2026, 4, 1))
    entscheiden(services, clock, date(2026, 4, 8), egh="ja", kk="nein")
    assert titles(services, SACHBEARBEITUNG_LVR) == [VERHANDELN]
    assert titles(services, KRANKENKASSE) == []
    verhandeln(services, clock, date(2026, 5, 6))
    entscheiden(services, clock, date(2026, 5, 13), egh="nein", kk="ja")
    assert titles(services, SACHBEARBEITUNG_LVR) == [VERHANDELN]          # not a rejection: votes of
    data = services.case(KEY, SACHBEARBEITUNG_LVR)["data"]                # round 1 must not leak in
    assert data["verhandlungsrunde"] == 3
    assert "zustimmung_krankenkasse" not in data and "entschieden_am_egh" not in data
    verhandeln(services, clock, date(2026, 6, 3))
    entscheiden(services, clock, date(2026, 6, 10), egh="ja", kk="ja")
    data = services.case(KEY, SACHBEARBEITUNG_LVR)["data"]
    assert (data["zustimmung_egh"], data["zustimmung_krankenkasse"]) == ("ja", "ja")
    assert (data["entschieden_am_egh"], data["entschieden_am_krankenkasse"]) == ("2026-06-10", "2026-06-10")
    at(clock, date(2026, 6, 12))
    ref = complete(services, SACHBEARBEITUNG_LVR, ABSCHLIESSEN, {
        "vertrag_geschlossen_am": "2026-06-12", "vertragsbeginn": "2026-07-01"})
    assert ref.status == "completed"
    assert services.case(KEY, SACHBEARBEITUNG_LVR)["data"]["ergebnis"] == "anerkannt"
    assert titles(services, LEITUNG_LVR) == []                                # all within the Sollziel


def test_abgelehnt_by_all(case, clock):
    services = case
    bis_zum_termin(services)
    termin(services, clock, date(2026, 3, 2))
    verhandeln(services, clock, date(2026, 4, 1))
    entscheiden(services, clock, date(2026, 4, 8), egh="nein", kk="nein")
    assert titles(services, SACHBEARBEITUNG_LVR) == [ABLEHNEN]
    ref = complete(services, SACHBEARBEITUNG_LVR, ABLEHNEN, {
        "ablehnung_mitgeteilt_am": "2026-04-10", "nicht_erfuellte_voraussetzungen": ["personal"],
        "ablehnungsgruende": "kein festangestellter Personalstamm (§ 3 Nr. 1 Abs. 2 LRV)"})
    assert ref.status == "completed"
    case_file = services.case(KEY, SACHBEARBEITUNG_LVR)
    assert case_file["data"]["ergebnis"] == "abgelehnt"
    found = deadlines_of(case_file)
    assert (found["abschluss"].status, found["abschluss"].met_on) == (DeadlineStatus.MET, date(2026, 4, 10))
    assert services.next_timer_due() is None


def test_conclusion_escalates_to_leitung_after_the_sollziel(case, clock):
    services = case
    bis_zum_termin(services)
    termin(services, clock, date(2026, 3, 30))
    ziel = berechne("lrv5-abschluss", VOLLSTAENDIG)
    fires_exactly_at(services, clock, end_of_day(ziel.end))                                 # 04.07. 00:00
    assert titles(services, LEITUNG_LVR) == [ESKALATION_ABSCHLUSS]
    assert titles(services, SACHBEARBEITUNG_LVR) == [VERHANDELN]               # non-interrupting
    assert run_once(services) == 0
    complete(services, LEITUNG_LVR, ESKALATION_ABSCHLUSS, {"eskalation_bewertet_am": "2026-07-06",
                                                           "eskalation_massnahme": "schlichtung_pruefen"})
    complete(services, LEITUNG_LVR, SCHLICHTUNG_ANRUFEN, {"schlichtung_anrufen": "nein",
                                                          "schlichtung_entschieden_am": "2026-07-07"})
    # a new round after the Sollziel (no consensus) is put before Leitung again, at once:
    # the re-armed timer is already due when the negotiation task is reached again
    verhandeln(services, clock, date(2026, 7, 8))
    entscheiden(services, clock, date(2026, 7, 15), egh="ja", kk="nein")
    assert titles(services, SACHBEARBEITUNG_LVR) == [VERHANDELN]
    assert titles(services, LEITUNG_LVR) == [ESKALATION_ABSCHLUSS]
    assert services.next_timer_due() is None and run_once(services) == 0
    verhandeln(services, clock, date(2026, 7, 22))
    entscheiden(services, clock, date(2026, 7, 29), egh="ja", kk="ja")
    at(clock, date(2026, 7, 31))
    complete(services, SACHBEARBEITUNG_LVR, ABSCHLIESSEN, {
        "vertrag_geschlossen_am": "2026-07-31", "vertragsbeginn": "2026-08-01"})
    found = deadlines(services, KEY, SACHBEARBEITUNG_LVR)["abschluss"]
    assert (found.status, found.met_on) == (DeadlineStatus.MET, date(2026, 7, 31))
    assert found.met_on > found.shifted_end                                     # late
    # the open escalation keeps the case running until Leitung has assessed it
    assert services.case(KEY, SACHBEARBEITUNG_LVR)["status"] == "running"
    ref = complete(services, LEITUNG_LVR, ESKALATION_ABSCHLUSS, {"eskalation_bewertet_am": "2026-08-03",
                                                                 "eskalation_massnahme": "keine"})
    assert ref.status == "completed"


def test_schlichtung_called_from_the_case_returns_its_ruling(case, clock):
    """§ 14 LRV: after the § 5 period the Schlichtungskommission is called from the case; its
    consensual ruling comes back into this case, while the negotiation goes on."""
    from .schlichtung import ALLE, ANHOERUNG, ANRUFUNG, KOMMISSION, MODERATION, SPRUCH, STELLUNGNAHME_EGH, \
        STELLUNGNAHME_LE, benennen
    services = case
    bis_zum_termin(services)
    termin(services, clock, date(2026, 3, 30))
    fires_exactly_at(services, clock, end_of_day(berechne("lrv5-abschluss", VOLLSTAENDIG).end))
    at(clock, date(2026, 7, 6))
    complete(services, LEITUNG_LVR, ESKALATION_ABSCHLUSS, {"eskalation_bewertet_am": "2026-07-06",
                                                           "eskalation_massnahme": "schlichtung_pruefen"})
    complete(services, LEITUNG_LVR, SCHLICHTUNG_ANRUFEN, {"schlichtung_anrufen": "ja", "schlichtung_entschieden_am":
                                                          "2026-07-06", "streitpunkte": "Entgelt je Fördereinheit"})
    assert titles(services, LEITUNG_LVR) == [ANRUFUNG]                      # now inside the Schlichtung
    assert titles(services, SACHBEARBEITUNG_LVR) == [VERHANDELN]            # negotiation goes on
    complete(services, LEITUNG_LVR, ANRUFUNG, {"anlass": "anerkennung", "angerufen_am": "2026-07-06",
                                               "angerufen_durch": "egh",
                                               "unterlagen_vollstaendig_am": VOLLSTAENDIG.isoformat(),
                                               "streitgegenstand": "Entgelt je Fördereinheit"})
    benennen(services)
    complete(services, KOMMISSION, MODERATION, {"moderation_name": "Dr. Neutral (Runder Tisch IFF NRW)",
                                                "moderation_benannt_durch": "runder_tisch_iff_nrw",
                                                "moderation_benannt_am": "2026-07-10"})
    complete(services, LEITUNG_LVR, STELLUNGNAHME_EGH, {"stellungnahme_egh": "Kalkulation überhöht",
                                                        "stellungnahme_egh_am": "2026-07-13"})
    complete(services, ANBIETER, STELLUNGNAHME_LE, {"stellungnahme_le": "Tarifbindung",
                                                    "stellungnahme_le_am": "2026-07-13"})
    complete(services, KOMMISSION, ANHOERUNG, {"sitzung_am": "2026-07-20",
                                               "angehoerte": ["egh", "leistungserbringer", "krankenkassen"]})
    complete(services, KOMMISSION, SPRUCH, {"spruch_ergebnis": "einigung", "zustimmung_mitglieder": ALLE,
                                            "schlichtungsergebnis": "96,50 EUR je Fördereinheit", "spruch_am": "2026-07-20"})
    assert titles(services, LEITUNG_LVR) == [SCHLICHTUNG_UEBERNEHMEN]
    row = task(services, LEITUNG_LVR, SCHLICHTUNG_UEBERNEHMEN)
    view = services.task_view(row["task_id"], LEITUNG_LVR)
    assert view["data"]["schlichtung_ergebnis"] == "einigung"               # the ruling is back in the case
    assert view["case"]["business_key"] == KEY
    complete(services, LEITUNG_LVR, SCHLICHTUNG_UEBERNEHMEN, {"schlichtung_uebernommen_am": "2026-07-21"})
    assert titles(services, LEITUNG_LVR) == [] and titles(services, SACHBEARBEITUNG_LVR) == [VERHANDELN]
    history = [h["action"] for h in services.case(KEY, SACHBEARBEITUNG_LVR)["history"]]
    assert history.count("aufgabe_erledigt") >= 12
