"""Vertragsablösung durch Mustervertrag (seed 002 § 14, LWL circular seed 001), bpmn/vertragsabloesung.bpmn,
driven through the services layer: new Kitas join the running agreement, the Gemeinsame Kommission's
signal broadcast to 200 agreements, signature in time, late signature after the reminder (no retroactive
payment), termination to the end of a Kita year, and the Mustervertrag during the notice period."""
from datetime import date, datetime, timedelta

import pytest

from workflows import engine
from workflows.clock import BERLIN, end_of_day
from workflows.domain import Actor, DeadlineStatus, Forbidden, NotFound
from workflows.fristen import berechne
from workflows.worker import run_once

from ..helpers import SACHBEARBEITUNG_LVR, SACHBEARBEITUNG_LWL, SYSTEM
from .helpers import (model_problems, NS, complete, deadlines, deploy, due_day, fires_exactly_at, model_files, task, titles, tree)

PROCESS = "vertragsabloesung"
KEY = "LWL-LV-KITA-0815"
SIGNAL, MESSAGE = "mustervertrag_verabschiedet", "kuendigung_eingegangen"
TRAEGER = Actor("traeger", frozenset({"Leistungserbringer"}), "Kita-Träger Sonnenschein")
ANDERER_TRAEGER = Actor("anderer", frozenset({"Leistungserbringer"}), "Kita-Träger Regenbogen")
LEITUNG_LWL = Actor("leo.leitung", frozenset({"Leitung"}), "LWL")
EGH = SACHBEARBEITUNG_LWL
PARTIES = {"egh": "LWL", "leistungserbringer": "Kita-Träger Sonnenschein"}
START = {"traeger": "Kita-Träger Sonnenschein", "vertragsbeginn": "2025-08-01",
         "kitas": ["Kita Sonnenschein, Münster", "Kita Pusteblume, Münster"]}
VERABSCHIEDET = date(2026, 3, 2)      # Mo; + 4 weeks = 30.03.2026 (Mo)

NEUE_KITA = "Neue Kita in die Vereinbarung aufnehmen"
NEUE_KITA_GEKUENDIGT = "Neue Kita in die gekündigte Vereinbarung aufnehmen"
UNTERZEICHNEN = "Mustervertrag unterzeichnen"
ERINNERN = "An die Unterzeichnung des Mustervertrags erinnern"
BESTAETIGEN = "Mustervertrag gegenzeichnen und Ablösung bestätigen"
KUENDIGUNG_BESTAETIGEN = "Kündigung bestätigen und Vertragsende mitteilen"


def test_model_parses_and_follows_the_conventions():
    model = engine.parse_model({f"{PROCESS}.bpmn": model_files(PROCESS)[f"{PROCESS}.bpmn"]})
    assert (model.process_id, model.name) == (PROCESS, "Vertragsablösung durch Mustervertrag")
    assert set(model.lanes) == {"Leistungserbringer", "EGH-Sachbearbeitung"}
    assert len(model.forms) == 6 and len(set(model.forms.values())) == 5
    assert model_problems(PROCESS) == []
    doc = tree(PROCESS)
    assert doc.xpath("//bpmn:definitions/bpmn:signal/@name", namespaces=NS) == [SIGNAL]
    assert doc.xpath("//bpmn:definitions/bpmn:message/@name", namespaces=NS) == [MESSAGE]


# --- helpers -----------------------------------------------------------------------------------------------

@pytest.fixture
def case(services, clock):
    deploy(services, PROCESS)
    at(clock, date(2026, 2, 2))
    ref = services.start_case(PROCESS, KEY, START, EGH, parties=PARTIES)
    assert [t["title"] for t in ref.open_tasks] == [NEUE_KITA]
    return services


def at(clock, day: date, hour: int = 10) -> None:
    clock.set(datetime(day.year, day.month, day.day, hour, 0, tzinfo=BERLIN))


def verabschieden(services, clock, key: str = KEY, payload: dict | None = None):
    at(clock, VERABSCHIEDET)
    payload = {"verabschiedet_am": VERABSCHIEDET.isoformat(), "fassung": "Mustervertrag 2026"} if payload is None \
        else payload
    return services.send_signal(key, SIGNAL, payload, LEITUNG_LWL)


def unterzeichnen(services, clock, am: date):
    at(clock, am)
    complete(services, TRAEGER, UNTERZEICHNEN, {"unterzeichnet_am": am.isoformat(),
                                                "unterzeichnet_durch": "Frau Sommer, Geschäftsführung"})
    assert titles(services, EGH) == [BESTAETIGEN]
    return complete(services, EGH, BESTAETIGEN, {"gegengezeichnet_am": am.isoformat(), "abloesung_bestaetigt": True})


# --- the running agreement ---------------------------------------------------------------------------------

def test_later_kitas_join_the_one_agreement_of_the_traeger(case, clock):
    services = case
    row = task(services, TRAEGER, NEUE_KITA)
    assert (row["lane"], row["organisation"], due_day(row)) == ("Leistungserbringer", "Kita-Träger Sonnenschein", None)
    assert services.inbox(ANDERER_TRAEGER) == []
    data = services.case(KEY, EGH)["data"]
    assert data["verspaeteter_abschluss"] is False and "rechtzeitig" in data["hinweis_zahlung"]
    for kita in ("Kita Löwenzahn, Hamm", "Kita Löwenzahn, Hamm"):          # the second report is a duplicate
        complete(services, TRAEGER, NEUE_KITA, {"neue_kita": kita, "kita_art": "neu_eroeffnet",
                                                "kita_ab": "2026-03-01"})
        assert titles(services, TRAEGER) == [NEUE_KITA]                      # still available while it runs
    complete(services, TRAEGER, NEUE_KITA, {"neue_kita": "Kita Am Park, Unna", "kita_art": "neu_inklusiv",
                                            "kita_ab": "2026-08-01"})
    data = services.case(KEY, EGH)["data"]
    assert data["kitas"] == START["kitas"] + ["Kita Löwenzahn, Hamm", "Kita Am Park, Unna"]
    assert [a["art"] for a in data["kita_aufnahmen"]] == ["neu_eroeffnet", "neu_inklusiv"]
    assert services.case(KEY, EGH)["deadlines"] == []
    assert services.next_timer_due() is None


def test_late_individual_agreement_gets_no_retroactive_payment(services, clock):
    deploy(services, PROCESS)
    services.start_case(PROCESS, KEY, {**START, "vertragsbeginn": "2025-10-01"}, EGH, parties=PARTIES)
    data = services.case(KEY, EGH)["data"]
    assert data["verspaeteter_abschluss"] is True
    assert "01.10.2025" in data["hinweis_zahlung"]
    assert "keine nachträgliche Grundlage für rückwirkende Zahlungen" in data["hinweis_zahlung"]


# --- Mustervertrag -----------------------------------------------------------------------------------------

def test_signal_reaches_200_running_agreements(services, clock):
    deploy(services, PROCESS)
    at(clock, date(2026, 1, 12))
    keys = [f"LWL-LV-KITA-{i:04d}" for i in range(200)]
    for i, key in enumerate(keys):
        services.start_case(PROCESS, key, {**START, "traeger": f"Kita-Träger {i:03d}"}, EGH,
                            parties={"egh": "LWL", "leistungserbringer": f"Kita-Träger {i:03d}"})
    at(clock, VERABSCHIEDET)
    with pytest.raises(Forbidden):
        services.broadcast_signal(SIGNAL, {}, EGH)
    result = services.broadcast_signal(SIGNAL, {"fassung": "Mustervertrag 2026"}, LEITUNG_LWL)
    assert sorted(result.delivered) == keys and result.failed == {}
    frist = berechne("ereignisfrist", VERABSCHIEDET, weeks=4)            # no date in the payload: today
    for i, key in enumerate(keys):
        case_file = services.case(key, SYSTEM)
        assert [t["title"] for t in case_file["open_tasks"]] == [UNTERZEICHNEN], key
        [deadline] = case_file["deadlines"]
        assert (deadline.key, deadline.frist.event, deadline.frist.end) == ("unterzeichnung", VERABSCHIEDET, frist.end)
    traeger_7 = Actor("t7", frozenset({"Leistungserbringer"}), "Kita-Träger 007")
    assert titles(services, traeger_7) == [UNTERZEICHNEN]
    assert services.broadcast_signal(SIGNAL, {}, LEITUNG_LWL).delivered == []     # nobody waits any more
    assert services.next_timer_due() == end_of_day(frist.end)


def test_signature_in_time_replaces_the_agreement(case, clock):
    services = case
    complete(services, TRAEGER, NEUE_KITA, {"neue_kita": "Kita Löwenzahn, Hamm", "kita_art": "neu_eroeffnet",
                                            "kita_ab": "2026-02-15"})
    ref = verabschieden(services, clock)
    assert [t["title"] for t in ref.open_tasks] == [UNTERZEICHNEN]
    frist = berechne("ereignisfrist", VERABSCHIEDET, weeks=4)
    assert (frist.end, frist.shifted_end) == (date(2026, 3, 30), date(2026, 3, 30))
    row = task(services, TRAEGER, UNTERZEICHNEN)
    assert (row["lane"], row["deadline_key"], due_day(row)) == ("Leistungserbringer", "unterzeichnung", frist.end)
    assert titles(services, TRAEGER) == [UNTERZEICHNEN]                  # the Kita task went with the signal
    found = deadlines(services, KEY, EGH)["unterzeichnung"]
    assert (found.rule, found.event, found.end, found.status) == ("ereignisfrist", VERABSCHIEDET, frist.end,
                                                                  DeadlineStatus.RUNNING)

    ref = unterzeichnen(services, clock, date(2026, 3, 20))
    assert ref.status == "completed"
    case_file = services.case(KEY, EGH)
    data = case_file["data"]
    assert (data["ergebnis"], data["altvertrag_endet_am"], data["mustervertrag_beginnt_am"]) == (
        "abgeloest", "2026-03-20", "2026-03-20")
    assert data["rueckwirkende_zahlung"] is False and data["unterzeichnung_verspaetet"] is False
    assert "20.03.2026" in data["hinweis_rueckwirkung"] and "verspätet" not in data["hinweis_rueckwirkung"]
    assert data["mustervertrag_fassung"] == "Mustervertrag 2026"
    assert "Kita Löwenzahn, Hamm" in data["kitas"]
    found = deadlines(services, KEY, EGH)["unterzeichnung"]
    assert (found.status, found.met_on) == (DeadlineStatus.MET, date(2026, 3, 20))
    assert services.next_timer_due() is None


def test_late_signature_reminder_and_no_retroactive_payment(case, clock):
    services = case
    verabschieden(services, clock)
    frist = berechne("ereignisfrist", VERABSCHIEDET, weeks=4)
    fires_exactly_at(services, clock, end_of_day(frist.end))              # 31.03.2026 00:00
    reminder = task(services, EGH, ERINNERN)
    assert (reminder["lane"], reminder["organisation"], due_day(reminder)) == ("EGH-Sachbearbeitung", "LWL", frist.end)
    assert titles(services, TRAEGER) == [UNTERZEICHNEN]                  # non-interrupting
    assert run_once(services) == 0
    complete(services, EGH, ERINNERN, {"erinnert_am": "2026-03-31", "erinnerung_weg": "schreiben"})
    assert titles(services, EGH) == []

    unterzeichnen(services, clock, date(2026, 4, 15))
    data = services.case(KEY, EGH)["data"]
    assert data["unterzeichnung_verspaetet"] is True and data["rueckwirkende_zahlung"] is False
    assert data["mustervertrag_beginnt_am"] == data["altvertrag_endet_am"] == "2026-04-15"
    assert "verspätet (Frist bis 30.03.2026 nach Verabschiedung am 02.03.2026)" in data["hinweis_rueckwirkung"]
    assert "keine nachträgliche Grundlage für rückwirkende Zahlungen" in data["hinweis_rueckwirkung"]
    found = deadlines(services, KEY, EGH)["unterzeichnung"]
    assert (found.status, found.met_on) == (DeadlineStatus.MET, date(2026, 4, 15))
    assert found.met_on > found.shifted_end


# --- termination -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("zugang, ende", [
    (date(2026, 3, 15), date(2027, 7, 31)),       # FRISTEN.md row 38
    (date(2026, 7, 31), date(2027, 7, 31)),       # row 36: the last day for this Kita year
    (date(2026, 8, 1), date(2028, 7, 31)),        # one day later: a year later
])
def test_termination_ends_the_agreement_at_the_end_of_a_kita_year(case, clock, zugang, ende):
    services = case
    at(clock, zugang)
    ref = services.send_message(KEY, MESSAGE, {"zugang_am": zugang.isoformat(),
                                               "gekuendigt_durch": "leistungserbringer"}, TRAEGER)
    assert [t["title"] for t in ref.open_tasks] == [KUENDIGUNG_BESTAETIGEN]
    expected = berechne("kuendigung-kitajahr", zugang)
    assert expected.end == expected.shifted_end == ende
    found = deadlines(services, KEY, EGH)["kuendigung"]
    assert (found.rule, found.event, found.end, found.shifted_end) == ("kuendigung-kitajahr", zugang, ende, ende)
    assert titles(services, TRAEGER) == []
    confirm = task(services, EGH, KUENDIGUNG_BESTAETIGEN)
    assert (confirm["lane"], confirm["organisation"]) == ("EGH-Sachbearbeitung", "LWL")
    assert services.task_view(confirm["task_id"], EGH)["data"]["vertrag_endet_am"] == ende.isoformat()
    complete(services, EGH, KUENDIGUNG_BESTAETIGEN, {"kuendigung_bestaetigt_am": zugang.isoformat(),
                                                     "vertragsende_mitgeteilt": True})
    assert services.case(KEY, EGH)["data"]["vertrag_endet_am"] == ende.isoformat()

    # until the end of the Kita year the agreement still covers new Kitas (seed 001)
    row = task(services, TRAEGER, NEUE_KITA_GEKUENDIGT)
    assert (row["deadline_key"], due_day(row)) == ("kuendigung", ende)
    complete(services, TRAEGER, NEUE_KITA_GEKUENDIGT, {"neue_kita": "Kita Kleine Strolche, Soest",
                                                       "kita_art": "neu_eroeffnet", "kita_ab": zugang.isoformat()})
    assert titles(services, TRAEGER) == [NEUE_KITA_GEKUENDIGT]
    assert services.case(KEY, EGH)["data"]["kitas"][-1] == "Kita Kleine Strolche, Soest"

    fires_exactly_at(services, clock, end_of_day(ende))                 # 01.08. 00:00 German time
    case_file = services.case(KEY, EGH)
    assert case_file["status"] == "completed"
    data = case_file["data"]
    assert (data["ergebnis"], data["gekuendigt_durch"]) == ("gekuendigt", "leistungserbringer")
    assert "Kita Kleine Strolche, Soest" in case_file["data"]["kitas"]
    assert titles(services, TRAEGER) == []
    found = deadlines(services, KEY, EGH)["kuendigung"]
    assert (found.status, found.met_on) == (DeadlineStatus.MET, ende)


def test_mustervertrag_during_the_notice_period_replaces_the_terminated_agreement(case, clock):
    services = case
    at(clock, date(2026, 2, 20))
    services.send_message(KEY, MESSAGE, {"zugang_am": "2026-02-20"}, EGH)
    complete(services, EGH, KUENDIGUNG_BESTAETIGEN, {"kuendigung_bestaetigt_am": "2026-02-23",
                                                     "vertragsende_mitgeteilt": True})
    with pytest.raises(NotFound):                                       # not a party of this agreement
        services.send_message(KEY, MESSAGE, {"zugang_am": "2026-02-20"}, SACHBEARBEITUNG_LVR)
    result = services.broadcast_signal(SIGNAL, {"verabschiedet_am": VERABSCHIEDET.isoformat()}, LEITUNG_LWL)
    assert result.delivered == [KEY]
    assert titles(services, TRAEGER) == [UNTERZEICHNEN]
    ref = unterzeichnen(services, clock, date(2026, 3, 10))
    assert ref.status == "completed"
    found = deadlines(services, KEY, EGH)
    assert found["kuendigung"].status == DeadlineStatus.CANCELLED
    assert (found["unterzeichnung"].status, found["unterzeichnung"].met_on) == (DeadlineStatus.MET, date(2026, 3, 10))
    assert services.case(KEY, EGH)["data"]["ergebnis"] == "abgeloest"
    assert services.next_timer_due() is None
    clock.set(end_of_day(date(2027, 7, 31)) + timedelta(minutes=1))
    assert run_once(services) == 0
