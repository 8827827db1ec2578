"""Who may do what: one named predicate per right, used by the use cases, the views, the
templates (context processor `policy`) and the access-matrix test.

Each predicate takes the `Actor` (and what the decision needs) and returns a bool; `require`
turns a refusal into the German `Forbidden` (403). Seeing a case is different: another
organisation's case must read like an unknown Aktenzeichen (404, no oracle), so the use
cases answer a failed `may_see_case` with `NotFound`, not with `require`.

The system actor (timer worker, demo loader, CLI) may do everything.
"""
from __future__ import annotations

from collections.abc import Iterable

from .domain import ADMINS, LEITUNG, PROCESS_OWNERS, Actor, Forbidden


def require(allowed: bool, message: str) -> None:
    """Raise the German Forbidden unless `allowed`."""
    if not allowed:
        raise Forbidden(message)


def _any_of(actor: Actor, *groups: str) -> bool:
    return actor.is_system or bool(set(groups) & set(actor.groups))


# --- models and the procedure -------------------------------------------------------------

def may_deploy(actor: Actor) -> bool:
    """Deploy, check, open in the editor, compare, move cases to a version, test runs."""
    return _any_of(actor, PROCESS_OWNERS)


def may_start(actor: Actor, lanes: Iterable[str]) -> bool:
    """Start a case of a procedure: a member of one of its lanes."""
    return actor.is_system or bool(set(actor.groups) & set(lanes))


# --- cases and tasks -----------------------------------------------------------------------

def may_see_case(actor: Actor, parties: dict[str, str], open_lanes: Iterable[str]) -> bool:
    """Children's data only for the people working the case (§ 35 SGB I): members of the
    case's parties; bodies without an organisation (e.g. the Schlichtungskommission) only while
    one of their lanes has an open task in it (`open_lanes`)."""
    if actor.is_system:
        return True
    if actor.organisation is not None:
        return actor.organisation in parties.values()
    return bool(set(open_lanes) & set(actor.groups))


def may_work_task(actor: Actor, lane: str | None, organisation: str | None) -> bool:
    """A task of one of the actor's lanes and of their organisation (cross-organisation lanes
    excepted); a task without an organisation is nobody's."""
    return actor.may_work(lane, organisation)


def may_broadcast(actor: Actor) -> bool:
    """Send a signal to every waiting case (e.g. a new Mustervertrag)."""
    return _any_of(actor, PROCESS_OWNERS, LEITUNG)


# --- supervision ---------------------------------------------------------------------------

def may_see_board(actor: Actor) -> bool:
    """The deadline board, its exports and the failed cases."""
    return _any_of(actor, LEITUNG, PROCESS_OWNERS, ADMINS)


def may_retry_failed(actor: Actor) -> bool:
    """Run a failed case again, or name the organisations it lacks."""
    return _any_of(actor, PROCESS_OWNERS)


def may_close_failed(actor: Actor) -> bool:
    """End a failed case for good, with a reason."""
    return _any_of(actor, LEITUNG)


# --- administration -----------------------------------------------------------------------

def may_export_person(actor: Actor) -> bool:
    """Create the Art. 15 DSGVO information about a person."""
    return _any_of(actor, ADMINS)


def may_set_clock(actor: Actor) -> bool:
    """Move the simulation clock (demo and test configurations)."""
    return _any_of(actor, PROCESS_OWNERS, ADMINS)


#: every predicate by name, for templates and the access-matrix test
PREDICATES = {name: value for name, value in list(globals().items())
              if name.startswith("may_") and callable(value)}
