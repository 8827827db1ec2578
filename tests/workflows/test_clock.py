"""The injectable clock and the simulation clock shared through the database."""
from datetime import date, datetime, timedelta, timezone

import pytest

from workflows import clock
from workflows.clock import BERLIN, FixedClock, SimulationClock, SimulationState


def test_using_switches_the_source_of_now_and_restores_it():
    fixed = FixedClock(datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc))
    before = clock.current()
    with clock.using(fixed):
        assert clock.now() == fixed.now()
        assert clock.today() == date(2027, 1, 1)      # already New Year in Berlin
    assert clock.current() is before


def test_fixed_clock_refuses_naive_times_and_advances():
    with pytest.raises(ValueError):
        FixedClock(datetime(2026, 1, 1))
    fixed = FixedClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    fixed.advance(timedelta(days=2))
    assert fixed.now() == datetime(2026, 1, 3, tzinfo=timezone.utc)


@pytest.mark.parametrize("day, expected_utc", [
    (date(2026, 1, 15), datetime(2026, 1, 15, 23, 0, tzinfo=timezone.utc)),    # CET
    (date(2026, 7, 15), datetime(2026, 7, 15, 22, 0, tzinfo=timezone.utc)),    # CEST
    (date(2026, 3, 28), datetime(2026, 3, 28, 23, 0, tzinfo=timezone.utc)),    # night of the switch
])
def test_end_of_day_is_german_midnight(day, expected_utc):
    assert clock.end_of_day(day) == expected_utc
    assert clock.start_of_day(day + timedelta(days=1)) == expected_utc


def test_simulation_clock_frozen_and_running(store):
    sim = SimulationClock(store.load_simulation, ttl=0)
    real = datetime.now(timezone.utc)
    assert abs(sim.now() - real) < timedelta(seconds=5)          # unset: real time
    target = datetime(2027, 5, 3, 8, 0, tzinfo=BERLIN)
    store.save_simulation(SimulationState(simulated=target, real=real, frozen=True))
    assert sim.now() == target
    other_process_view = SimulationClock(store.load_simulation, ttl=0)
    assert other_process_view.now() == target
    store.save_simulation(SimulationState(simulated=target, real=real - timedelta(hours=1), frozen=False))
    assert timedelta(minutes=59) < sim.now() - target < timedelta(minutes=61)
    store.save_simulation(None)
    assert abs(sim.now() - datetime.now(timezone.utc)) < timedelta(seconds=5)


def test_simulation_state_is_cached_for_its_ttl():
    calls = []
    state = SimulationState(datetime(2027, 1, 1, tzinfo=timezone.utc), datetime.now(timezone.utc), True)
    sim = SimulationClock(lambda: calls.append(1) or state, ttl=3600)
    assert sim.now() == sim.now() == state.simulated
    assert len(calls) == 1
    sim.invalidate()
    sim.now()
    assert len(calls) == 2
