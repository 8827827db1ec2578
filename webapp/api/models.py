"""Process models (Modelle): the deployed versions, and deploying a new one."""
from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath

from workflows.domain import InvalidInput

from .common import ApiBlueprint, accepts, actor, services
from .schemas import DeployedModelSchema, DeployFilesArgs, DeployQueryArgs, ModelListItemSchema

bp = ApiBlueprint("api_models", __name__, tag="Modelle", url_prefix="/models",
                  description="BPMN-Modelle der Verfahren: bereitgestellte Versionen auflisten, neue Version "
                              "bereitstellen (nur Prozessverantwortliche).")


@bp.route("", methods=["GET"])
@bp.response(200, ModelListItemSchema(many=True))
@bp.errors(401)
def list_models():
    """Modellversionen auflisten

    Jede bereitgestellte Version jedes Verfahrens mit der Zahl ihrer laufenden Vorgänge."""
    return services().model_versions()


@bp.route("", methods=["POST"])
@accepts("multipart")
@bp.query(DeployQueryArgs)
@bp.arguments(DeployFilesArgs, location="files")
@bp.response(201, DeployedModelSchema, description="Die neue Version ist bereitgestellt")
@bp.errors(401, 403, 413, 415)
def deploy(query, files):
    """Modell bereitstellen

    multipart/form-data mit einer oder mehreren Dateien im Feld `dateien`: die BPMN-Datei, die
    BPMN-Dateien ihrer Aufrufaktivitäten und die JSON-Formulare ihrer Benutzeraufgaben. Bei
    mehreren BPMN-Dateien nennt `main` die bereitzustellende. Ein fehlerhaftes Modell wird nicht
    gespeichert: 422 mit der deutschen Meldung samt Datei, Element-ID und Zeile
    (`details.file_name`, `details.element_id`, `details.line`). Nur Prozessverantwortliche (sonst 403)."""
    contents: dict[str, bytes] = {}
    for upload in files["dateien"]:
        name = PureWindowsPath(PurePosixPath(upload.filename or "").name).name
        if not name or len(name) > 255:
            raise InvalidInput("Jede Datei braucht einen Dateinamen (höchstens 255 Zeichen).", field="dateien")
        if name in contents:
            raise InvalidInput(f"Die Datei „{name}“ ist doppelt.", field="dateien")
        contents[name] = upload.read()
    version = services().deploy_model(contents, actor(), main=query.get("main"))
    return version, 201
