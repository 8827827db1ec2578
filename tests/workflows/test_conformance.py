"""Every model of bpmn/ deploys; every MIWG reference model either deploys or is refused
with a clear German message naming what is not supported — never a crash."""
from pathlib import Path

import pytest

from workflows.domain import ModelError

from ..helpers import BPMN_DIR, IMPORTS, MIWG, MIWG_FILES, OWNER


def _files(directory: Path, name: str, extra=()) -> dict[str, str]:
    return {n: (directory / n).read_text(encoding="utf-8") for n in (name, *extra)}


def test_the_conformance_corpus_is_there():
    assert len(MIWG_FILES) == 21


@pytest.mark.parametrize("path", MIWG_FILES, ids=lambda p: p.name)
def test_miwg_model_deploys_or_is_refused_clearly(services, path):
    try:
        version = services.deploy_model(_files(MIWG, path.name, IMPORTS.get(path.name, ())), OWNER,
                                        main=path.name)
    except ModelError as err:
        text = str(err)
        assert "Traceback" not in text and " at 0x" not in text
        assert any(word in text for word in ("nicht", "kein", "Ungültig", "braucht", "unbekannt", "mehrere")), text
        assert err.element_id or err.file_name or "Prozess" in text, text
    else:
        assert version["version"] == 1 and version["process_id"]


def test_miwg_results_are_the_known_ones(services):
    """Pin today's outcome, so a change in what we support is noticed (and noted)."""
    deployed, refused = [], {}
    for path in MIWG_FILES:
        try:
            services.deploy_model(_files(MIWG, path.name, IMPORTS.get(path.name, ())), OWNER, main=path.name)
            deployed.append(path.name)
        except ModelError as err:         # every problem of the model, not only the first
            refused[path.name] = "\n".join([str(err)] + [p["message"] for p in err.details.get("problems", [])])
    assert deployed == []                      # C.9.1 parses, but its user task has no lane
    assert "liegt in keiner Bahn" in refused["C.9.1.bpmn"] and "Call customer" in refused["C.9.1.bpmn"]
    assert "keinen ausführbaren Prozess" in refused["A.1.0.bpmn"]
    assert "keinen ausführbaren Prozess" in refused["B.1.0.bpmn"]
    assert "Datenspeicher „Financial Accounting System“" in refused["C.1.1.bpmn"]
    assert "mehrere ausführbare Prozesse" in refused["C.5.0.bpmn"]
    assert "Serviceaufgaben ohne hinterlegten Dienst" in refused["C.1.0.bpmn"]
    assert "genau ein Startereignis" in refused["C.3.0.bpmn"] and "Perform emergency repair" in refused["C.3.0.bpmn"]
    assert "Mehrfachinstanz" in refused["C.9.2.bpmn"] and "Document Request" in refused["C.9.2.bpmn"]
    assert "Datenzuordnung" in refused["C.6.0.bpmn"]


BPMN_MODELS = sorted(BPMN_DIR.glob("*.bpmn"))


@pytest.mark.parametrize("path", BPMN_MODELS, ids=lambda p: p.name)
def test_our_models_deploy(services, path):
    from workflows.engine import deployment_files
    version = services.deploy_model(deployment_files(BPMN_DIR, path.name), OWNER, main=path.name)
    assert version["process_id"] == path.stem
