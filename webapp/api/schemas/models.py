"""Schemas of /models: deployed BPMN models and the deployment upload."""
from __future__ import annotations

from marshmallow import validate

from .fields import DateTime, Integer, List, Schema, String, Upload, described, length

class ModelListItemSchema(Schema):
    id = Integer(required=True)
    process_id = String(required=True)
    version = Integer(required=True)
    name = String(required=True)
    sha256 = String(required=True)
    deployed_at = DateTime(required=True)
    deployed_by = String(required=True)
    running = Integer(required=True, **described("Laufende Vorgänge dieser Version"))


class DeployedModelSchema(Schema):
    id = Integer(required=True)
    process_id = String(required=True)
    version = Integer(required=True)
    name = String(required=True)
    sha256 = String(required=True)
    deployed_at = DateTime(required=True)
    deployed_by = String(required=True)


class DeployQueryArgs(Schema):
    main = String(validate=length(255), **described("Die bereitzustellende BPMN-Datei, wenn mehrere hochgeladen werden"))


class DeployFilesArgs(Schema):
    dateien = List(Upload(), required=True, validate=validate.Length(min=1, error="Bitte mindestens eine Datei."),
                   **described("BPMN-Datei(en) und die JSON-Formulare ihrer Aufgaben"))
