"""Health check and who am I."""
from __future__ import annotations

from .common import ApiBlueprint, actor, public, services
from .schemas import HealthSchema, MeSchema

bp = ApiBlueprint("api_system", __name__, tag="System", description="Betrieb: Erreichbarkeit und Anmeldung prüfen.")


@bp.route("/health", methods=["GET"])
@public
@bp.doc(security=[])
@bp.response(200, HealthSchema)
def health():
    """Erreichbarkeit prüfen

    Ohne Anmeldung; antwortet mit {"status": "ok"}, wenn die Datenbank antwortet."""
    services().healthy()
    return {"status": "ok"}


@bp.route("/me", methods=["GET"])
@bp.response(200, MeSchema)
@bp.errors(401)
def me():
    """Angemeldeten Benutzer anzeigen

    Der Benutzer des API-Tokens mit seinen Gruppen und seiner Organisation – dieselben Rechte
    wie in der Anwendung."""
    user = actor()
    return {"username": user.username, "groups": sorted(user.groups), "organisation": user.organisation}
