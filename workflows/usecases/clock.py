"""The time the application works with: today (German date), the state of the simulation
clock and setting it (demo and test configurations; policy.may_set_clock)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from .. import clock as clock_module
from .. import policy
from ..domain import Actor, Forbidden, InvalidInput
from . import kernel
from .context import Context


def now(ctx: Context) -> datetime:
    return ctx.clock.now()


def today(ctx: Context) -> date:
    return kernel.today(ctx)


def clock_state(ctx: Context) -> dict[str, Any]:
    """The time the application works with (UTC) and whether it is simulated (and frozen)."""
    state = ctx.clock.state() if isinstance(ctx.clock, clock_module.SimulationClock) else None
    return {"now": ctx.clock.now().astimezone(timezone.utc), "simulated": state is not None,
            "frozen": bool(state and state.frozen)}


def set_simulation_clock(ctx: Context, actor: Actor, moment: datetime | None, frozen: bool = False) -> dict[str, Any]:
    """Set the simulation clock; None: real time again. Every process sees the change at its
    next read, this one at once."""
    if not isinstance(ctx.clock, clock_module.SimulationClock):
        raise Forbidden("Die Simulationsuhr ist in dieser Konfiguration ausgeschaltet.")
    policy.require(policy.may_set_clock(actor),
                   "Nur Prozessverantwortliche oder die Administration dürfen die Simulationsuhr stellen.")
    if moment is not None and moment.tzinfo is None:
        raise InvalidInput("Bitte geben Sie den Zeitpunkt mit Zeitzone an.", field="now")
    state = None if moment is None else clock_module.SimulationState(moment, clock_module.SystemClock().now(), frozen)
    ctx.store.save_simulation(state)
    ctx.clock.invalidate()
    return clock_state(ctx)
