"""Jährliche Fortschreibung der Leistungs- und Vergütungsvereinbarung (seed 000), bpmn/fortschreibung.bpmn,
driven through the services layer: preparation with the SGB V note, the provider's disagreement loop,
signature with the term computed as a Beginnfrist, the reminder 90 days before the end starting the next
year's round, and the end of the series when there is no further continuation."""
from datetime import date, datetime, timedelta

import pytest

from workflows import engine
from workflows.clock import BERLIN, end_of_day, start_of_day
from workflows.domain import Actor, DeadlineStatus
from workflows.fristen import berechne
from workflows.worker import run_once

from ..helpers import SACHBEARBEITUNG_LVR, SACHBEARBEITUNG_LWL
from .helpers import (model_problems, complete, deadlines, deploy, due_day, fires_exactly_at, model_files, task, titles)

PROCESS = "fortschreibung"
KEY = "LWL-HPK-2022-0017"
EGH = SACHBEARBEITUNG_LWL
TRAEGER = Actor("hans.hpk", frozenset({"Leistungserbringer"}), "Heilpädagogische Kita Westfalen e. V.")
PARTIES = {"egh": "LWL", "leistungserbringer": "Heilpädagogische Kita Westfalen e. V."}

VORBEREITEN = "Fortschreibung verhandeln und vorbereiten"
ZUSTIMMEN = "Fortschreibung prüfen und zustimmen"
UNTERZEICHNEN = "Fortschreibung unterzeichnen"
ENTSCHEIDEN = "Über die nächste Fortschreibung entscheiden"


def test_model_parses_and_follows_the_conventions():
    model = engine.parse_model({f"{PROCESS}.bpmn": model_files(PROCESS)[f"{PROCESS}.bpmn"]})
    assert model.name == "Jährliche Fortschreibung der Leistungs- und Vergütungsvereinbarung"
    assert set(model.lanes) == {"EGH-Sachbearbeitung", "Leistungserbringer"}
    assert len(model.forms) == 4
    assert model_problems(PROCESS) == []


# --- helpers -----------------------------------------------------------------------------------------------

@pytest.fixture
def case(services, clock):
    deploy(services, PROCESS)
    at(clock, date(2021, 12, 17))       # the meeting of seed 000
    ref = services.start_case(PROCESS, KEY, {"einrichtung": "HPK Sonnenhügel, Bielefeld"}, EGH, parties=PARTIES)
    assert [t["title"] for t in ref.open_tasks] == [VORBEREITEN]
    return services


def at(clock, day: date, hour: int = 10) -> None:
    clock.set(datetime(day.year, day.month, day.day, hour, 0, tzinfo=BERLIN))


def vorbereiten(services, jahr: int, beginn: date, aenderungen=(), therapie="wie_bisher", **extra):
    complete(services, EGH, VORBEREITEN, {
        "fortschreibungsjahr": jahr, "beginn": beginn.isoformat(), "aenderungen": list(aenderungen),
        "therapeutische_leistungen": therapie, "hinweis_sgb_v_bestaetigt": True, **extra})


def zustimmen(services, am: date, ja=True):
    data = {"zustimmung": "zustimmung" if ja else "ablehnung", "stellungnahme_am": am.isoformat()}
    if not ja:
        data["einwaende"] = "Ausscheiden der Logopädin nicht berücksichtigt"
    complete(services, TRAEGER, ZUSTIMMEN, data)


def unterzeichnen(services, am: date):
    complete(services, EGH, UNTERZEICHNEN, {"unterzeichnet_le_am": am.isoformat(), "unterzeichnet_am": am.isoformat()})


def entscheiden(services, am: date, weiter: bool):
    data = {"fortfuehren": "ja" if weiter else "nein", "entschieden_am": am.isoformat()}
    if not weiter:
        data["folgeregelung"] = "basisleistung_ii"
    return complete(services, EGH, ENTSCHEIDEN, data)


# --- paths -------------------------------------------------------------------------------------------------

def test_disagreement_goes_back_to_negotiation(case, clock):
    services = case
    assert due_day(task(services, EGH, VORBEREITEN)) is None          # no term yet in the first round
    vorbereiten(services, 2022, date(2022, 1, 1))
    row = task(services, TRAEGER, ZUSTIMMEN)
    assert (row["lane"], row["organisation"]) == ("Leistungserbringer", "Heilpädagogische Kita Westfalen e. V.")
    assert services.inbox(SACHBEARBEITUNG_LVR) == []                  # the other Landschaftsverband
    zustimmen(services, date(2021, 12, 20), ja=False)
    assert titles(services, EGH) == [VORBEREITEN]
    assert titles(services, TRAEGER) == []
    vorbereiten(services, 2022, date(2022, 1, 1), aenderungen=["stellenanteile", "therapeutisches_personal"],
                therapie="angepasst", stellenanteile_vzae=11.5, verguetungssatz=142.8)
    zustimmen(services, date(2021, 12, 22))
    assert titles(services, EGH) == [UNTERZEICHNEN]
    unterzeichnen(services, date(2021, 12, 23))
    data = services.case(KEY, EGH)["data"]
    assert [(f["jahr"], f["beginn"], f["ende"], f["therapeutische_leistungen"]) for f in data["fortschreibungen"]] == [
        (2022, "2022-01-01", "2022-12-31", "angepasst")]
    assert data["fortschreibungen"][0]["aenderungen"] == ["stellenanteile", "therapeutisches_personal"]


def test_yearly_rounds_until_no_further_continuation(case, clock):
    services = case
    for jahr in (2022, 2023):
        beginn = date(jahr, 1, 1)
        vorbereiten(services, jahr, beginn, aenderungen=["verguetung"], verguetungssatz=140.0 + jahr - 2022)
        zustimmen(services, beginn - timedelta(days=10))
        unterzeichnen(services, beginn - timedelta(days=7))
        laufzeit = berechne("laufzeit", beginn, months=12)
        assert (laufzeit.end, laufzeit.shifted_end) == (date(jahr, 12, 31), date(jahr, 12, 31))   # never shifted
        found = deadlines(services, KEY, EGH)["laufzeit"]
        assert (found.rule, found.event, found.end, found.status) == ("laufzeit", beginn, laufzeit.end,
                                                                      DeadlineStatus.RUNNING)
        assert titles(services, EGH) == []
        fires_exactly_at(services, clock, start_of_day(laufzeit.end - timedelta(days=90)))   # 02.10.
        row = task(services, EGH, ENTSCHEIDEN)
        assert (row["deadline_key"], due_day(row)) == ("laufzeit", laufzeit.end)
        at(clock, date(jahr, 10, 5))
        ref = entscheiden(services, date(jahr, 10, 5), weiter=jahr < 2023)
        if jahr < 2023:
            assert due_day(task(services, EGH, VORBEREITEN)) == laufzeit.end    # next round before the end
            assert services.case(KEY, EGH)["data"]["vorjahr_laufzeit_ende"] == laufzeit.end.isoformat()
    # no further continuation: the last one runs out at the end of its term
    assert ref.status == "running" and titles(services, EGH) == []
    fires_exactly_at(services, clock, end_of_day(date(2023, 12, 31)))
    case_file = services.case(KEY, EGH)
    assert case_file["status"] == "completed"
    data = case_file["data"]
    assert (data["ergebnis"], data["vereinbarung_endet_am"], data["folgeregelung"]) == (
        "ausgelaufen", "2023-12-31", "basisleistung_ii")
    assert [(f["jahr"], f["ende"]) for f in data["fortschreibungen"]] == [(2022, "2022-12-31"), (2023, "2023-12-31")]
    found = deadlines(services, KEY, EGH)["laufzeit"]
    assert (found.status, found.met_on) == (DeadlineStatus.MET, date(2023, 12, 31))
    assert services.next_timer_due() is None


def test_term_from_the_start_of_a_kita_year(case, clock):
    """FRISTEN.md row 34: a term from 01.08.2025 for 12 months ends on 31.07.2026 (Beginnfrist)."""
    services = case
    at(clock, date(2025, 7, 1))
    vorbereiten(services, 2025, date(2025, 8, 1), therapie="nicht_enthalten")
    zustimmen(services, date(2025, 7, 10))
    unterzeichnen(services, date(2025, 7, 15))
    laufzeit = berechne("laufzeit", date(2025, 8, 1), months=12)
    assert laufzeit.end == date(2026, 7, 31)
    assert deadlines(services, KEY, EGH)["laufzeit"].end == laufzeit.end
    fires_exactly_at(services, clock, start_of_day(date(2026, 5, 2)))       # 31.07.2026 − 90 days
    at(clock, date(2026, 5, 4))
    entscheiden(services, date(2026, 5, 4), weiter=False)
    clock.set(end_of_day(laufzeit.end) - timedelta(minutes=1))
    assert run_once(services) == 0
    assert services.case(KEY, EGH)["status"] == "running"                   # still in force on 31.07.
    clock.set(end_of_day(laufzeit.end) + timedelta(minutes=1))
    assert run_once(services) == 1
    assert services.case(KEY, EGH)["data"]["vereinbarung_endet_am"] == "2026-07-31"
