"""`flask demo load`: users of every role, the models of bpmn/, cases in several stages."""
import sqlalchemy as sa

from webapp.demo import CASES, USERS
from workflows.domain import LANES, PROCESS_OWNERS
from workflows.store import instances, model_versions, open_tasks


def test_demo_load_is_complete_and_idempotent(make_app):
    app = make_app(ENV_NAME="demo")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert f"{len(CASES)} Vorgänge angelegt" in first.output
    assert runner.invoke(args=["demo", "load"]).output.strip() == "Demodaten sind bereits geladen."

    groups = {g for *_rest, gs in USERS for g in gs}
    assert {"EGH-Sachbearbeitung", "Leitung", "Krankenkasse", "Leistungserbringer",
            "Schlichtungskommission", PROCESS_OWNERS} <= groups
    store = app.extensions["workflows"].store
    with store.read() as conn:
        processes = set(conn.execute(sa.select(model_versions.c.process_id)).scalars())
        cases = conn.execute(sa.select(sa.func.count()).select_from(instances)).scalar()
        tasks = conn.execute(sa.select(open_tasks.c.business_key, open_tasks.c.title, open_tasks.c.lane)).all()
    assert {"antrag_komplexleistung", "anerkennungsverfahren"} <= processes
    assert cases == len(CASES)
    stages = {title for _key, title, _lane in tasks}
    assert len(stages) >= 6, stages                   # cases stand at different steps
    assert {lane for *_x, lane in tasks} <= set(LANES)
    assert {"Leistungserbringer", "Krankenkasse", "EGH-Sachbearbeitung"} <= {lane for *_x, lane in tasks}


def test_demo_is_refused_in_production(make_app):
    app = make_app(ENV_NAME="production", CLOCK="system")
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0 and "Produktivbetrieb" in result.output
