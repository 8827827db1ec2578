"""The Context every use case takes: the store, the clock and the caches of parsed models.

Use cases are plain functions `verb(ctx, …)`, as cosmicpython's services take a unit of
work. A `Context` is cheap to build; the web app keeps one per process (the façade
`workflows.services.Workflows` is one), so parsed model versions and forms are cached
across requests. Model versions are immutable, so the caches never go stale.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import clock as clock_module
from ..clock import Clock
from ..store import Store


@dataclass(eq=False)
class Context:
    store: Store
    clock: Clock = field(default_factory=clock_module.SystemClock)
    models: dict[int, Any] = field(default_factory=dict, repr=False)           # version id -> ProcessModel
    forms: dict[tuple[int, str], dict] = field(default_factory=dict, repr=False)  # (version id, file) -> schema

    def __post_init__(self) -> None:
        if self.clock is None:
            self.clock = clock_module.SystemClock()
