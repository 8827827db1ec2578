"""The simulation clock (Simulationsuhr): only in test and demo configurations.

In production (system clock) this blueprint is not registered: the routes do not exist (404)."""
from __future__ import annotations

from datetime import datetime

from workflows.clock import BERLIN
from workflows.domain import InvalidInput

from .common import ApiBlueprint, accepts, actor, services
from .schemas import ClockArgs, ClockSchema

bp = ApiBlueprint("api_clock", __name__, tag="Simulationsuhr", url_prefix="/clock",
                  description="Nur im Test- und Demobetrieb: die simulierte Zeit lesen und stellen, um "
                              "Fristen zu erleben, ohne zu warten. Im Produktivbetrieb gibt es diese Adressen nicht.")


@bp.route("", methods=["GET"])
@bp.response(200, ClockSchema)
@bp.errors(401)
def get_clock():
    """Uhrzeit der Anwendung lesen

    Die Zeit, mit der Fristen, Timer und Verlauf arbeiten (UTC), und ob sie simuliert ist."""
    return services().clock_state()


@bp.route("", methods=["PUT"])
@accepts("json")
@bp.arguments(ClockArgs)
@bp.response(200, ClockSchema, description="Die Simulationsuhr ist gestellt")
@bp.errors(400, 401, 403, 413, 415)
def set_clock(args):
    """Simulationsuhr stellen

    `now` ohne Zeitzone gilt als deutsche Zeit; `frozen` hält die Zeit an. Alle Prozesse (auch der
    Timer-Worker) sehen die neue Zeit spätestens nach einer Sekunde. Nur Prozessverantwortliche
    und Administration (sonst 403)."""
    try:
        moment = datetime.fromisoformat(args["now"])
    except ValueError:          # the pattern lets only existing moments through; to be safe
        raise InvalidInput("Diesen Zeitpunkt gibt es nicht.", field="now") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=BERLIN)
    return services().set_simulation_clock(actor(), moment, args["frozen"])


@bp.route("", methods=["DELETE"])
@bp.response(200, ClockSchema, description="Die Anwendung arbeitet wieder mit der echten Zeit")
@bp.errors(401, 403)
def reset_clock():
    """Simulationsuhr zurücksetzen (echte Zeit)

    Danach arbeitet die Anwendung wieder mit der echten Zeit. Nur Prozessverantwortliche und
    Administration (sonst 403)."""
    return services().set_simulation_clock(actor(), None)
