"""workflows.policy without a database: each predicate grants exactly the roles the access
matrix (tests/security/test_access_matrix.py) expects, and `require` speaks German."""
import pytest

from workflows import policy
from workflows.domain import Actor, Forbidden

SYSTEM = Actor.system()
OWNER = Actor("paula.prozess", frozenset({"Prozessverantwortliche"}))
ADMIN = Actor("adam.admin", frozenset({"Administration"}))
LEITUNG_LVR = Actor("lena.leitung", frozenset({"Leitung"}), "LVR")
EGH_LVR = Actor("sabine.lvr", frozenset({"EGH-Sachbearbeitung"}), "LVR")
EGH_LWL = Actor("wilma.lwl", frozenset({"EGH-Sachbearbeitung"}), "LWL")
SCHLICHTUNG = Actor("sven.schlichtung", frozenset({"Schlichtungskommission"}))
ALL = [SYSTEM, OWNER, ADMIN, LEITUNG_LVR, EGH_LVR, EGH_LWL, SCHLICHTUNG]
PARTIES = {"egh": "LVR", "krankenkasse": "AOK Rheinland/Hamburg", "leistungserbringer": "IFF Köln-Süd"}


def _granted(predicate) -> set[str]:
    return {actor.username for actor in ALL if predicate(actor)}


@pytest.mark.parametrize("predicate, expected", [
    (policy.may_deploy, {"system", "paula.prozess"}),
    (policy.may_see_board, {"system", "paula.prozess", "adam.admin", "lena.leitung"}),
    (policy.may_broadcast, {"system", "paula.prozess", "lena.leitung"}),
    (policy.may_retry_failed, {"system", "paula.prozess"}),
    (policy.may_close_failed, {"system", "lena.leitung"}),
    (policy.may_export_person, {"system", "adam.admin"}),
    (policy.may_set_clock, {"system", "paula.prozess", "adam.admin"}),
])
def test_role_predicates(predicate, expected):
    assert _granted(predicate) == expected


def test_seeing_a_case_needs_its_organisation_or_an_open_task_of_ones_lane():
    assert _granted(lambda a: policy.may_see_case(a, PARTIES, [])) == {"system", "sabine.lvr", "lena.leitung"}
    assert policy.may_see_case(SCHLICHTUNG, PARTIES, ["Schlichtungskommission"])
    assert not policy.may_see_case(SCHLICHTUNG, PARTIES, ["EGH-Sachbearbeitung"])
    assert not policy.may_see_case(EGH_LWL, PARTIES, ["EGH-Sachbearbeitung"])      # lanes don't help with an org


def test_a_task_without_organisation_is_nobodys():
    assert policy.may_work_task(EGH_LVR, "EGH-Sachbearbeitung", "LVR")
    assert not policy.may_work_task(EGH_LWL, "EGH-Sachbearbeitung", "LVR")
    assert not policy.may_work_task(EGH_LVR, "EGH-Sachbearbeitung", None)
    assert policy.may_work_task(SCHLICHTUNG, "Schlichtungskommission", None)      # cross-organisation body
    assert not policy.may_work_task(EGH_LVR, "Krankenkasse", "LVR")


def test_starting_needs_a_lane_of_the_procedure():
    assert policy.may_start(EGH_LVR, ["EGH-Sachbearbeitung", "Leistungserbringer"])
    assert not policy.may_start(OWNER, ["EGH-Sachbearbeitung"])


def test_require_raises_german_forbidden():
    policy.require(True, "egal")
    with pytest.raises(Forbidden, match="Nur Prozessverantwortliche"):
        policy.require(False, "Nur Prozessverantwortliche dürfen Modelle bereitstellen.")


def test_templates_reach_every_predicate_by_name():
    assert {"may_deploy", "may_see_board", "may_see_case", "may_work_task", "may_export_person"} <= set(policy.PREDICATES)
    assert all(name.startswith("may_") for name in policy.PREDICATES)
