"""The bounds of one engine step, read at each use (so a test or benchmark may set them on
this module: `monkeypatch.setattr(engine.bounds, "MAX_STEP_TASKS", 300)`).

One step (a completion, an event, a timer sweep of a case) may run at most this long in all
and execute at most this many engine tasks: a gateway loop of scripts, each within its own
limits, must not hold a worker either. Each script gets what is left of the step.
"""
MAX_STEP_SECONDS = 15.0
MAX_STEP_TASKS = 5_000
#: Instances one multi-instance activity may create.
MAX_INSTANCES = 500
