"""One deserialisation per request (issue 14): a web completion reads the task and its form
from the index and the form cache and loads the case's workflow exactly once, in the use case."""
from __future__ import annotations

from workflows import engine

from ..helpers import LVR_CHILD, login

VALID = {"entscheidung": "bewilligt", "entschieden_am": "2026-11-20", "begruendung": "Bedarf belegt."}


def _lvr_task(app) -> dict:
    """The open EGH task of LVR's child, as sabine.lvr sees it."""
    workflows = app.extensions["workflows"]
    [task] = [t for t in workflows.inbox(workflows.actor("sabine.lvr"))
              if t["business_key"] == LVR_CHILD and t["lane"] == "EGH-Sachbearbeitung"]
    return task


def test_a_web_completion_loads_the_workflow_once(app, monkeypatch):
    task, client = _lvr_task(app), login(app, "sabine.lvr")
    loads, real = [], engine.loads
    monkeypatch.setattr(engine, "loads", lambda *args, **kwargs: loads.append(1) or real(*args, **kwargs))
    response = client.post(f"/aufgaben/{task['task_id']}/erledigen", data={**VALID, "csrf_token": client.csrf})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert len(loads) == 1


def test_a_web_completion_validates_once_and_reports_on_the_page(app, monkeypatch):
    from webapp import forms as web_forms
    from workflows import forms
    task, client = _lvr_task(app), login(app, "sabine.lvr")
    calls, real = [], forms.collect_errors
    counting = lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs)  # noqa: E731
    monkeypatch.setattr(forms, "collect_errors", counting)
    monkeypatch.setattr(web_forms, "collect_errors", counting)
    response = client.post(f"/aufgaben/{task['task_id']}/erledigen",
                           data={"begruendung": "ohne Entscheidung", "csrf_token": client.csrf})
    assert response.status_code == 422
    assert "Bitte füllen Sie dieses Feld aus." in response.get_data(as_text=True)
    assert len(calls) == 1
