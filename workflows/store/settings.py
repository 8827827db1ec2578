"""Settings kept in the database (key → JSON text): the state of the simulation clock.

The simulation clock (test and demo operation only, workflows/clock.py) is shared by every
process of an installation, so its state lives here rather than in memory. These methods
open their own transaction.
"""
from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa

from ..clock import SimulationState
from .schema import settings

SIMULATION_CLOCK = "simulation_clock"


class SettingRows:
    """Load and save settings."""

    def load_simulation(self) -> SimulationState | None:
        with self.read() as conn:
            raw = conn.execute(sa.select(settings.c.value).where(settings.c.key == SIMULATION_CLOCK)).scalar()
        if raw is None:
            return None
        data = json.loads(raw)
        return SimulationState(simulated=datetime.fromisoformat(data["simulated"]),
                               real=datetime.fromisoformat(data["real"]), frozen=data["frozen"])

    def save_simulation(self, state: SimulationState | None) -> None:
        with self.transaction() as conn:
            conn.execute(settings.delete().where(settings.c.key == SIMULATION_CLOCK))
            if state is not None:
                conn.execute(settings.insert().values(key=SIMULATION_CLOCK, value=json.dumps({
                    "simulated": state.simulated.isoformat(), "real": state.real.isoformat(),
                    "frozen": state.frozen})))
