"""Patches to SpiffWorkflow, applied once when `workflows.engine` is imported.

Time: SpiffWorkflow's timer module calls datetime.now(); it answers from `workflows.clock`,
the one patch point, so a clock moved by a test or the worker moves the engine's timers too.
Depth: SpiffWorkflow iterates task trees only to depth 1,000, which hides the waiting task
of a long loop; the limit is lifted for every iterator (ours and the engine's own).
"""
from __future__ import annotations

import sys
from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskIterator

from .. import clock


# --- time: the one patch point -------------------------------------------------------

class _ClockDatetime(datetime):
    """SpiffWorkflow's timer module calls datetime.now(timezone.utc); answer from our clock."""

    @classmethod
    def now(cls, tz=None):
        moment = clock.now()
        return moment.astimezone(tz) if tz else moment.astimezone().replace(tzinfo=None)


spiff_timer.datetime = _ClockDatetime


# --- task iteration: no depth limit ----------------------------------------------------------

def _lift_depth_limit(iterator_class) -> None:
    """SpiffWorkflow iterates a task tree only to depth 1,000 by default: after ~500 turns of a
    loop the waiting task is invisible and the workflow reports itself completed although no
    path reached an end. Every iteration (ours and the engine's own) goes without that limit."""
    names = iterator_class.__init__.__code__.co_varnames[1:iterator_class.__init__.__code__.co_argcount]
    defaults = list(iterator_class.__init__.__defaults__)
    defaults[names[-len(defaults):].index("max_depth")] = sys.maxsize
    iterator_class.__init__.__defaults__ = tuple(defaults)


_lift_depth_limit(TaskIterator)
_lift_depth_limit(BpmnTaskIterator)
