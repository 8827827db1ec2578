"""Antrag – Entscheidung – Bescheid (Komplexleistung), bpmn/antrag_komplexleistung.bpmn,
driven through the services layer on every path (LRV §§ 6–11, § 8 FrühV)."""
from datetime import date, datetime, timedelta

import pytest

from workflows import engine
from workflows.clock import BERLIN, end_of_day, start_of_day
from workflows.domain import DeadlineStatus
from workflows.fristen import berechne
from workflows.worker import run_once

from ..helpers import ANBIETER, LEITUNG_LVR, PARTIES_LVR, SACHBEARBEITUNG_LVR, SACHBEARBEITUNG_LWL, SYSTEM
from .helpers import (KRANKENKASSE, complete, deadlines, deadlines_of, deploy, due_day, fires_exactly_at,
                      model_files, structure_problems, task, titles)
from .komplexleistung import (ABSCHLUSS, BESCHEID, ENTSCHEIDEN, ESKALATION, FOERDERUNG, FORTSCHREIBEN, FUB, HINWEIS,
                              INFO_KK, INFO_LE, KEY, KIND, PROCESS, at, bis_zur_entscheidung)


@pytest.fixture
def case(services, clock):
    """A deployed model and the clock on the day the FuB is signed."""
    deploy(services, PROCESS)
    clock.set(datetime(2026, 12, 11, 10, 0, tzinfo=BERLIN))
    return services


def entscheiden(services, clock, day: date, entscheidung: str, **extra) -> None:
    at(clock, day + timedelta(days=1))                # decided on `day`, recorded the next day
    complete(services, SACHBEARBEITUNG_LVR, ENTSCHEIDEN, {
        "entscheidung": entscheidung, "entschieden_am": day.isoformat(), **extra})
    complete(services, SACHBEARBEITUNG_LVR, BESCHEID, {
        "bescheid_datum": day.isoformat(), "bescheid_versandt_am": (day + timedelta(days=1)).isoformat(),
        "versandart": "post", "rechtsbehelfsbelehrung": True})
    # § 11 Abs. 3 S. 2: provider and Krankenkasse are informed in parallel
    assert titles(services, ANBIETER) == [INFO_LE]
    assert titles(services, KRANKENKASSE) == [INFO_KK]
    complete(services, KRANKENKASSE, INFO_KK, {"kenntnis_krankenkasse_am": day.isoformat()})
    assert titles(services, ANBIETER) == [INFO_LE]            # the join waits for both
    complete(services, ANBIETER, INFO_LE, {"kenntnis_leistungserbringer_am": day.isoformat()})


# --- model ------------------------------------------------------------------------------------

def test_model_parses_and_follows_the_conventions():
    model = engine.parse_model({f"{PROCESS}.bpmn": model_files(PROCESS)[f"{PROCESS}.bpmn"]})
    assert model.process_id == PROCESS
    assert model.name == "Antrag – Entscheidung – Bescheid (Komplexleistung Frühförderung)"
    assert set(model.lanes) == {"EGH-Sachbearbeitung", "Leitung", "Krankenkasse", "Leistungserbringer"}
    assert len(model.forms) == 14
    assert structure_problems(PROCESS) == []


# --- paths ------------------------------------------------------------------------------------

def test_bewilligt_in_time_application_at_the_egh(case, clock):
    services = case
    bis_zur_entscheidung(services, clock)
    decision = task(services, SACHBEARBEITUNG_LVR, ENTSCHEIDEN)
    assert decision["lane"] == "EGH-Sachbearbeitung" and decision["organisation"] == "LVR"
    assert due_day(decision) == date(2026, 12, 25)          # FrühV deadline on the task
    assert services.inbox(SACHBEARBEITUNG_LWL) == []
    found = deadlines(services, KEY, SACHBEARBEITUNG_LVR)
    assert "weiterleitung" not in found                                   # filed at the EGH
    frist = berechne("fruehv8-entscheidung", FUB)
    assert (found["entscheidung"].end, found["entscheidung"].shifted_end) == (frist.end, frist.shifted_end)
    assert (frist.end, frist.shifted_end) == (date(2026, 12, 25), date(2026, 12, 28))
    assert (found["leistungsbeginn"].end, found["leistungsbeginn"].shifted_end) == (
        date(2026, 12, 26), date(2026, 12, 29))
    assert found["bestaetigung_kk"].status == DeadlineStatus.MET

    entscheiden(services, clock, date(2026, 12, 18), "bewilligt",
                bewilligte_foerdereinheiten_heilpaedagogisch=40)
    found = deadlines(services, KEY, SACHBEARBEITUNG_LVR)
    assert found["entscheidung"].status == DeadlineStatus.MET
    assert found["entscheidung"].met_on == date(2026, 12, 18)
    assert found["leistungsbeginn"].status == DeadlineStatus.CANCELLED   # Bescheid came in time
    # the decision's timer went with the decision: nothing fires after the deadline
    at(clock, date(2026, 12, 30))
    run_once(services)
    assert titles(services, ANBIETER) == [FOERDERUNG]
    assert titles(services, LEITUNG_LVR) == []

    complete(services, ANBIETER, FOERDERUNG, {"foerderung_beendet_am": "2027-07-31",
                                              "beendigungsgrund": "schuleintritt"})
    assert deadlines(services, KEY, SACHBEARBEITUNG_LVR)["fub_fortschreibung"].status == DeadlineStatus.CANCELLED
    ref = complete(services, ANBIETER, ABSCHLUSS, {
        "abschlussdiagnostik_am": "2027-07-20", "abschlussbericht_versandt_am": "2027-07-28",
        "abschlussbericht_empfaenger": ["egh", "krankenkasse", "vertragsarzt", "erziehungsberechtigte"]})
    assert ref.status == "completed" and ref.open_tasks == []
    assert services.next_timer_due() is None
    case_file = services.case(KEY, SACHBEARBEITUNG_LVR)
    assert case_file["status"] == "completed"
    assert case_file["data"]["entscheidung"] == "bewilligt"
    assert "leistungsbeginn_ohne_bescheid_zulaessig_ab" not in case_file["data"]


def test_application_at_the_krankenkasse_is_forwarded(case, clock):
    services = case
    bis_zur_entscheidung(services, clock, antrag_bei="krankenkasse")
    found = deadlines(services, KEY, SACHBEARBEITUNG_LVR)
    assert found["weiterleitung"].status == DeadlineStatus.MET
    assert found["weiterleitung"].met_on == date(2026, 12, 14)
    assert found["weiterleitung"].end == berechne("unverzueglich", FUB).end == date(2026, 12, 18)
    assert found["bestaetigung_kk"].event == date(2026, 12, 15)          # asked when the EGH had it
    data = services.case(KEY, SACHBEARBEITUNG_LVR)["data"]
    assert data["weitergeleitet_an"] == "LVR"


def test_abgelehnt_ends_after_the_bescheid(case, clock):
    services = case
    bis_zur_entscheidung(services, clock)
    entscheiden(services, clock, date(2026, 12, 22), "abgelehnt",
                begruendung="Komplexleistung nicht notwendig (§ 2 Abs. 2 LRV)")
    case_file = services.case(KEY, SACHBEARBEITUNG_LVR)
    assert case_file["status"] == "completed"
    assert case_file["data"]["entscheidung"] == "abgelehnt"
    assert services.inbox(ANBIETER) == [] and services.inbox(SACHBEARBEITUNG_LVR) == []
    found = deadlines_of(case_file)
    assert "fub_fortschreibung" not in found                              # no Förderung, no review
    assert found["entscheidung"].status == DeadlineStatus.MET
    assert found["leistungsbeginn"].status == DeadlineStatus.CANCELLED
    assert services.next_timer_due() is None


def test_fruehv_deadline_passes_start_without_bescheid_11_4(case, clock):
    """§ 11 Abs. 4 LRV: the FrühV deadline passes without a decision: the provider may start,
    Leitung gets an escalation, and the decision is still possible afterwards."""
    services = case
    bis_zur_entscheidung(services, clock, antrag_bei="krankenkasse")
    due = end_of_day(berechne("fruehv8-entscheidung", FUB).end)            # 26.12.2026 00:00 Berlin
    fires_exactly_at(services, clock, due)
    assert titles(services, ANBIETER) == [HINWEIS]
    [escalation] = services.inbox(LEITUNG_LVR)
    assert (escalation["title"], escalation["lane"], escalation["organisation"]) == (ESKALATION, "Leitung", "LVR")
    assert titles(services, SACHBEARBEITUNG_LVR) == [ENTSCHEIDEN]          # non-interrupting
    case_file = services.case(KEY, SACHBEARBEITUNG_LVR)
    assert case_file["data"]["leistungsbeginn_ohne_bescheid_zulaessig_ab"] == "2026-12-29"
    found = deadlines_of(case_file)
    assert found["entscheidung"].status == DeadlineStatus.RUNNING
    assert found["leistungsbeginn"].status == DeadlineStatus.RUNNING
    assert found["leistungsbeginn"].shifted_end == date(2026, 12, 29)
    assert run_once(services) == 0                                         # fires once only

    at(clock, date(2026, 12, 29))
    complete(services, ANBIETER, HINWEIS, {"hinweis_kenntnis_am": "2026-12-29",
                                           "leistungen_begonnen_am": "2026-12-29"})
    complete(services, LEITUNG_LVR, ESKALATION, {"eskalation_bewertet_am": "2026-12-29",
                                                 "eskalation_grund": "arbeitsrueckstand"})
    entscheiden(services, clock, date(2027, 1, 4), "bewilligt")
    found = deadlines(services, KEY, SACHBEARBEITUNG_LVR)
    assert found["entscheidung"].status == DeadlineStatus.MET
    assert found["entscheidung"].met_on > found["entscheidung"].shifted_end       # late
    assert found["leistungsbeginn"].status == DeadlineStatus.MET                  # period ended with
    assert found["leistungsbeginn"].met_on == date(2027, 1, 5)                    # the Bescheid
    assert titles(services, ANBIETER) == [FOERDERUNG]


def test_yearly_fub_review_loop_then_end(case, clock):
    services = case
    bis_zur_entscheidung(services, clock)
    entscheiden(services, clock, date(2026, 12, 18), "teilweise_bewilligt",
                begruendung="Ergotherapie nicht erforderlich")
    foerderung = task(services, ANBIETER, FOERDERUNG)
    review = berechne("fub-fortschreibung", FUB)
    assert (review.end, review.shifted_end) == (date(2027, 12, 11), date(2027, 12, 13))
    assert due_day(foerderung) == review.end
    assert deadlines(services, KEY, ANBIETER)["fub_fortschreibung"].end == review.end

    fires_exactly_at(services, clock, start_of_day(review.end - timedelta(days=28)))   # 13.11.2027
    assert titles(services, ANBIETER) == [FORTSCHREIBEN]                   # Förderung interrupted
    at(clock, date(2027, 11, 22))
    complete(services, ANBIETER, FORTSCHREIBEN, {
        "verlaufsdiagnostik_am": "2027-11-18", "fub_fortgeschrieben_am": "2027-11-20",
        "foerderung_fortsetzen": "ja"})
    assert titles(services, ANBIETER) == [FOERDERUNG]
    nxt = deadlines(services, KEY, ANBIETER)["fub_fortschreibung"]
    assert (nxt.event, nxt.end, nxt.status) == (date(2027, 11, 20), date(2028, 11, 20), DeadlineStatus.RUNNING)

    fires_exactly_at(services, clock, start_of_day(date(2028, 11, 20) - timedelta(days=28)))
    at(clock, date(2028, 11, 3))
    complete(services, ANBIETER, FORTSCHREIBEN, {
        "verlaufsdiagnostik_am": "2028-10-30", "fub_fortgeschrieben_am": "2028-11-02",
        "foerderung_fortsetzen": "nein"})
    last = deadlines(services, KEY, ANBIETER)["fub_fortschreibung"]
    assert (last.status, last.met_on) == (DeadlineStatus.MET, date(2028, 11, 2))
    assert titles(services, ANBIETER) == [ABSCHLUSS]
    ref = complete(services, ANBIETER, ABSCHLUSS, {
        "abschlussdiagnostik_am": "2028-11-10", "abschlussbericht_versandt_am": "2028-11-15",
        "abschlussbericht_empfaenger": ["egh", "krankenkasse"]})
    assert ref.status == "completed"
    assert services.next_timer_due() is None


def test_tasks_stay_with_their_lane_and_organisation(case, clock):
    services = case
    services.start_case(PROCESS, KEY, {}, SYSTEM, parties=PARTIES_LVR, person=KIND)
    [first] = services.inbox(ANBIETER)
    assert (first["lane"], first["organisation"]) == ("Leistungserbringer", "IFF Köln-Süd")
    assert services.inbox(KRANKENKASSE) == [] and services.inbox(LEITUNG_LVR) == []
