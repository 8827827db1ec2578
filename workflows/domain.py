"""Domain vocabulary: roles, cases, tasks, deadlines and the errors the use cases raise.

Plain dataclasses and enums, free of Flask, SQL and SpiffWorkflow, so that the web
layer, the API and the tests all speak the same terms.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .fristen import Frist


# --- roles -------------------------------------------------------------------------

class Party(str, enum.Enum):
    """The parties of a case; each BPMN lane belongs to one of them."""

    EGH = "egh"                           # LVR or LWL
    KRANKENKASSE = "krankenkasse"
    LEISTUNGSERBRINGER = "leistungserbringer"
    SCHLICHTUNG = "schlichtung"           # Schlichtungskommission (LRV § 14), no single organisation
    GEMEINSAME_KOMMISSION = "gemeinsame_kommission"


#: BPMN lane name (= user group) -> the party whose organisation works tasks in that lane.
LANES: dict[str, Party] = {
    "EGH-Sachbearbeitung": Party.EGH,
    "Leitung": Party.EGH,
    "Krankenkasse": Party.KRANKENKASSE,
    "Leistungserbringer": Party.LEISTUNGSERBRINGER,
    "Schlichtungskommission": Party.SCHLICHTUNG,
    "Gemeinsame Kommission": Party.GEMEINSAME_KOMMISSION,
}

#: procedures whose cases are about a child (§ 46 SGB IX, Frühförderung): the case file offers
#: to record the child and the guardians' address (workflows.privacy)
CHILD_PROCEDURES = frozenset({"antrag_komplexleistung"})

#: Groups that are not lanes but grant rights in the application.
PROCESS_OWNERS = "Prozessverantwortliche"
ADMINS = "Administration"
LEITUNG = "Leitung"
GROUPS = tuple(LANES) + (PROCESS_OWNERS, ADMINS)

#: Parties whose tasks are not bound to one organisation (cross-organisation bodies).
CROSS_ORGANISATION = {Party.SCHLICHTUNG, Party.GEMEINSAME_KOMMISSION}


@dataclass(frozen=True)
class Actor:
    """Who performs a use case: a user of the web app or API, or the system itself."""

    username: str
    groups: frozenset[str] = frozenset()
    organisation: str | None = None

    @classmethod
    def system(cls, name: str = "system") -> "Actor":
        return cls(username=name, groups=frozenset({"System"}), organisation=None)

    @property
    def is_system(self) -> bool:
        return "System" in self.groups

    def may_work(self, lane: str | None, organisation: str | None) -> bool:
        """A task is the actor's business if its lane is one of their groups and it
        belongs to their organisation (cross-organisation lanes excepted)."""
        if self.is_system:
            return True
        if lane is None or lane not in self.groups:
            return False
        if LANES.get(lane) in CROSS_ORGANISATION:
            return True
        # a task without an organisation is nobody's (never "anyone's"): cases that lack one
        # are refused at the start and flagged by migration 0007
        return organisation is not None and organisation == self.organisation


#: the parties bound to one organisation, as a start asks for them
PARTY_LABELS = {
    Party.EGH: "Träger der Eingliederungshilfe (LVR oder LWL)",
    Party.KRANKENKASSE: "Krankenkasse",
    Party.LEISTUNGSERBRINGER: "Leistungserbringer",
}


def parties_of_new_case(lanes: list[str], given: dict[str, str] | None, actor: Actor) -> dict[str, str]:
    """The organisations of a new case. Every lane of the model that one organisation works
    needs that party's organisation, so no task of the case is open to "anyone" (§ 35 SGB I:
    children's data only for the people working the case). What the start leaves out is taken
    from the starting user where they belong to that party; the rest is refused (German
    InvalidInput), and a user cannot name another organisation for their own party."""
    parties = {key: value.strip() for key, value in (given or {}).items()
               if isinstance(value, str) and value.strip()}
    own = {LANES[group] for group in actor.groups if group in LANES} if actor.organisation else set()
    for party in own:
        named = parties.get(party.value)
        if named is not None and named != actor.organisation and not actor.is_system:
            raise InvalidInput(f"Sie arbeiten für {actor.organisation} und können keinen Vorgang anlegen, in dem "
                               f"{named} als {PARTY_LABELS.get(party, party.value)} zuständig ist.", field="parties")
        parties.setdefault(party.value, actor.organisation)
    needed = [LANES[lane] for lane in lanes if lane in LANES and LANES[lane] not in CROSS_ORGANISATION]
    missing = sorted({PARTY_LABELS.get(p, p.value) for p in needed if p.value not in parties})
    if missing:
        raise InvalidInput("Bitte geben Sie die zuständigen Organisationen an; es fehlt: " + ", ".join(missing) + ".",
                           field="parties")
    return parties


def task_organisation(lane: str | None, parties: dict[str, str]) -> str | None:
    """The organisation responsible for a lane in a case, from the case's parties."""
    party = LANES.get(lane or "")
    if party is None or party in CROSS_ORGANISATION:
        return None
    return parties.get(party.value)


# --- cases and their index rows ---------------------------------------------------

@dataclass(frozen=True)
class CaseRef:
    """What a step tells its caller about the case afterwards."""

    id: int
    business_key: str
    process_id: str
    status: str
    version: int
    open_tasks: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class NewDocument:
    """A file submitted with a task (or on its own) for the case file."""

    name: str
    content_type: str
    content: bytes
    field: str | None = None      # the form field it belongs to, if any


class CaseStatus(str, enum.Enum):
    RUNNING = "running"
    COMPLETED = "completed"
    ERROR = "error"       # a step failed (e.g. a timer script); needs a person
    CANCELLED = "cancelled"   # ended by Leitung (e.g. a failed case that cannot go on)


@dataclass(frozen=True)
class HumanTask:
    """A ready user or manual task, as the inbox index stores it."""

    task_id: str
    spec_name: str
    title: str
    lane: str | None
    form: str | None = None
    documentation: str | None = None
    deadline_key: str | None = None     # the case deadline this task works towards
    due_date: date | None = None        # its last day (calendar end)


@dataclass(frozen=True)
class PendingTimer:
    task_id: str
    spec_name: str
    title: str
    due_at: datetime


@dataclass(frozen=True)
class AwaitedEvent:
    """A signal or message a case waits for; broadcasting looks these up."""

    kind: str      # "signal" | "message"
    name: str


class DeadlineStatus(str, enum.Enum):
    RUNNING = "laufend"
    MET = "erfuellt"
    CANCELLED = "entfallen"


@dataclass(frozen=True)
class Deadline:
    """A legal deadline of a case: the computation (fristen.Frist) under a key, and
    whether it is still running, was met (on which day) or no longer applies."""

    key: str
    frist: Frist
    status: DeadlineStatus = DeadlineStatus.RUNNING
    met_on: date | None = None

    @classmethod
    def from_data(cls, key: str, raw: dict[str, Any]) -> "Deadline":
        return cls(key=key, frist=Frist.from_dict(raw),
                   status=DeadlineStatus(raw.get("status", DeadlineStatus.RUNNING.value)),
                   met_on=date.fromisoformat(raw["met_on"]) if raw.get("met_on") else None)


@dataclass(frozen=True)
class BoardQuery:
    """Filters of the board; `state=None` means all open deadlines."""

    process_id: str | None = None
    organisation: str | None = None
    state: str | None = None
    due_from: date | None = None       # shifted end on or after
    due_to: date | None = None         # shifted end on or before
    soon_days: int = 14
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class InboxQuery:
    """Filters of the inbox; `None` means "no restriction"."""

    lanes: list[str] | None = None
    organisation: str | None = None
    claimed_by: str | None = None
    process_id: str | None = None
    overdue_before: date | None = None     # due day before this (i.e. overdue today)
    due_until: date | None = None          # due day on or before this
    search: str | None = None              # Aktenzeichen, case title or party (e.g. provider)
    limit: int = 25
    offset: int = 0


@dataclass(frozen=True)
class CaseSnapshot:
    """What the index tables need to know about a case after a step."""

    status: CaseStatus
    human_tasks: list[HumanTask] = field(default_factory=list)
    timers: list[PendingTimer] = field(default_factory=list)
    awaited: list[AwaitedEvent] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)


# --- errors --------------------------------------------------------------------------

class DomainError(Exception):
    """Base of the errors a use case reports to a person; `message` is German."""

    code = "fehler"

    def __init__(self, message: str, **details: Any):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    code = "nicht_gefunden"


class Forbidden(DomainError):
    code = "keine_berechtigung"


class Conflict(DomainError):
    """Someone else changed the case first; nothing of this request was stored."""

    code = "konflikt"


class CaseFailed(Conflict):
    """A case's state cannot be loaded or stepped (a model or data defect, not the user's
    input): the case is marked failed with `reason` and waits for a process owner."""

    code = "vorgang_fehlerhaft"

    def __init__(self, instance_id: int, business_key: str, reason: str, *, recorded: bool = False):
        super().__init__(f"Der Vorgang {business_key} ist wegen eines Fehlers angehalten: {reason} "
                         "Prozessverantwortliche können ihn nach einer Korrektur erneut anstoßen.",
                         business_key=business_key)
        self.instance_id, self.reason, self.recorded = instance_id, reason, recorded


class InvalidInput(DomainError):
    code = "ungueltige_eingabe"


class ModelError(DomainError):
    """A BPMN model cannot be deployed; names the element and line where known."""

    code = "modell_ungueltig"

    def __init__(self, message: str, *, element_id: str | None = None, line: int | None = None,
                 file_name: str | None = None):
        super().__init__(message, element_id=element_id, line=line, file_name=file_name)
        self.element_id, self.line, self.file_name = element_id, line, file_name

    def __str__(self) -> str:
        where = ", ".join(p for p in (
            f"Datei {self.file_name}" if self.file_name else "",
            f"Element {self.element_id}" if self.element_id else "",
            f"Zeile {self.line}" if self.line else "") if p)
        return f"{self.message} ({where})" if where else self.message


class ScriptError(DomainError):
    """A script or condition in a model failed or was refused by the script check."""

    code = "skriptfehler"
