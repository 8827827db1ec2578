"""Signals and messages: to one case by Aktenzeichen, or a signal to every waiting case.

A broadcast delivers case by case, each in its own transaction, so one failing case
neither blocks nor undoes the others.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import engine, policy
from ..domain import Actor, CaseRef, Conflict, DomainError
from . import kernel
from .context import Context


@dataclass(frozen=True)
class BroadcastResult:
    delivered: list[str]
    failed: dict[str, str]


def send_signal(ctx: Context, business_key: str, name: str, payload: dict[str, Any] | None, actor: Actor) -> CaseRef:
    return _deliver(ctx, business_key, "signal", name, payload, actor)


def send_message(ctx: Context, business_key: str, name: str, payload: dict[str, Any] | None, actor: Actor) -> CaseRef:
    return _deliver(ctx, business_key, "message", name, payload, actor)


def broadcast_signal(ctx: Context, name: str, payload: dict[str, Any] | None, actor: Actor,
                     process_id: str | None = None) -> BroadcastResult:
    """Deliver a signal to every case waiting for it."""
    policy.require(policy.may_broadcast(actor),
                   "Nur Leitung oder Prozessverantwortliche dürfen Signale an alle Vorgänge senden.")
    with ctx.store.read() as conn:
        targets = ctx.store.instances_awaiting(conn, "signal", name, process_id)
    delivered, failed = [], {}
    for instance_id in targets:
        try:
            delivered.append(_deliver(ctx, "", "signal", name, payload, actor, instance_id).business_key)
        except DomainError as err:
            failed[str(instance_id)] = err.message
    return BroadcastResult(delivered, failed)


def _deliver(ctx: Context, business_key: str, kind: str, name: str, payload, actor: Actor,
             instance_id: int | None = None) -> CaseRef:
    """Deliver to one case: by Aktenzeichen for a party of the case, or by id as part of a
    broadcast (authorised as a whole; the signal reveals nothing of the case)."""
    payload = engine.check_data(dict(payload or {}))
    send = engine.send_signal if kind == "signal" else engine.send_message
    with kernel.transaction(ctx) as (conn, now):
        if instance_id:
            row = ctx.store.instance(conn, instance_id, for_update=True)
        else:
            row = kernel.visible_case(ctx, conn, business_key, actor)

        def run(workflow):
            if not send(workflow, name, payload):
                raise Conflict(f"Der Vorgang {row.business_key} wartet nicht auf „{name}“.",
                               business_key=row.business_key)

        _, ref = kernel.case_step(ctx, conn, row, now, actor, run, audit=(
            "signal_empfangen" if kind == "signal" else "nachricht_empfangen", {"name": name, "payload": payload}))
        return ref
