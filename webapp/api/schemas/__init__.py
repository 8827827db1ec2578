"""Marshmallow schemas of the REST API: what requests carry and what responses return.

    fields.py     field classes with German messages, `Schema`, patterns, validators, openapi_attributes
    common.py     ErrorSchema, PageArgs (and the page schemas' factory)
    cases.py      /cases: start, list, read a case; person, events, comments, uploads
    tasks.py      /tasks: inbox, task view, complete (with documents), hand over
    models.py     /models: deployed models, deployment upload
    deadlines.py  /deadlines: the deadline board
    system.py     simulation clock, /health, /me

Every public name of the package is importable from here (`from .schemas import CaseSchema`).
"""
from __future__ import annotations

from .fields import (BASE64, BUSINESS_KEY, Boolean, Date, DateTime, Dict, FIELD_NAME, FILE_NAME, Integer, JSONData,
                     JSONObject, List, MOMENT, NO_NUL, Nested, QueryBoolean, Schema, String, Upload, between, length,
                     one_of, openapi_attributes, pattern)
from .common import ErrorSchema, PageArgs
from .cases import (CASE_STATUSES, CaseListArgs, CasePageSchema, CaseRefSchema, CaseSchema, CaseSummarySchema,
                    CommentArgs, CommentSchema, DeadlineSchema, DocumentSchema, EventArgs, HistorySchema,
                    PartiesSchema, PersonArgs, PersonSchema, StartCaseArgs, TaskRefSchema, UploadArgs)
from .tasks import (CompleteArgs, DocumentArgs, HandOverArgs, InboxTaskSchema, TaskCaseSchema, TaskListArgs,
                    TaskPageSchema, TaskSchema, TaskViewSchema)
from .models import DeployFilesArgs, DeployQueryArgs, DeployedModelSchema, ModelListItemSchema
from .deadlines import BOARD_STATES, BoardPageSchema, BoardRowSchema, DeadlineListArgs
from .system import ClockArgs, ClockSchema, HealthSchema, MeSchema

__all__ = [
    "NO_NUL", "FIELD_NAME", "BUSINESS_KEY", "MOMENT", "BASE64", "FILE_NAME", "pattern", "String", "Integer",
    "Boolean", "QueryBoolean", "Date", "DateTime", "Dict", "JSONObject", "JSONData", "List", "Nested", "Upload",
    "openapi_attributes", "Schema", "length", "one_of", "between", "ErrorSchema", "PageArgs", "CASE_STATUSES",
    "PartiesSchema", "PersonArgs", "PersonSchema", "StartCaseArgs", "TaskRefSchema", "CaseRefSchema", "CaseListArgs",
    "CaseSummarySchema", "CasePageSchema", "DeadlineSchema", "DocumentSchema", "CommentSchema", "HistorySchema",
    "CaseSchema", "EventArgs", "CommentArgs", "UploadArgs", "TaskListArgs", "TaskSchema", "InboxTaskSchema",
    "TaskPageSchema", "TaskCaseSchema", "TaskViewSchema", "DocumentArgs", "CompleteArgs", "HandOverArgs",
    "ModelListItemSchema", "DeployedModelSchema", "DeployQueryArgs", "DeployFilesArgs", "BOARD_STATES",
    "DeadlineListArgs", "BoardRowSchema", "BoardPageSchema", "ClockSchema", "ClockArgs", "HealthSchema", "MeSchema",
]
