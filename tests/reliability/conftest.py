"""Fixtures of the reliability tests: racers (separate service instances on one database). The
start line for threads (race), the consistency check and databases of their own for the
processes the tests start (own_database) are in tests/helpers.py."""
from __future__ import annotations

import pytest

from workflows.services import Workflows
from workflows.store import Store


@pytest.fixture
def racers(store, clock):
    """racers(n) -> n Workflows, each with its own Store (connection pool) on the test's database,
    as n web or timer processes would have."""
    made: list[Store] = []

    def _racers(n: int) -> list[Workflows]:
        stores = [Store(store.url) for _ in range(n)]
        made.extend(stores)
        return [Workflows(s, clock) for s in stores]
    yield _racers
    for s in made:
        s.dispose()
