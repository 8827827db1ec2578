"""The deadline board for supervisors: the rows, the figures per deadline and the monthly
share kept in time. Leitung and process owners (policy.may_see_board); members of an
organisation see only the cases it is a party to. Reads the index tables only."""
from __future__ import annotations

from .. import board as board_rules
from .. import policy
from ..domain import BoardQuery
from ..domain import Actor
from . import kernel
from .context import Context
from .models import procedures


def board(ctx: Context, actor: Actor, query: BoardQuery) -> tuple[list[dict], int]:
    with ctx.store.read() as conn:
        return board_rules.board(conn, query, kernel.today(ctx), visible_to=_scope(actor))


def board_figures(ctx: Context, actor: Actor) -> list[dict]:
    names = {p["process_id"]: p["name"] for p in procedures(ctx)}
    with ctx.store.read() as conn:
        figures = board_rules.figures(conn, kernel.today(ctx), visible_to=_scope(actor))
    for figure in figures:
        figure["procedure"] = names.get(figure["process_id"], figure["process_id"])
    return sorted(figures, key=lambda f: (f["procedure"], f["title"]))


def board_monthly(ctx: Context, actor: Actor, months: int = 12, process_id: str | None = None) -> list[dict]:
    with ctx.store.read() as conn:
        return board_rules.monthly_share(conn, months=months, today=kernel.today(ctx), process_id=process_id,
                                         visible_to=_scope(actor))


def _scope(actor: Actor) -> str | None:
    """Of which cases: all for the system, else those the actor's organisation is a party to."""
    policy.require(policy.may_see_board(actor), "Die Fristenübersicht ist der Leitung vorbehalten.")
    return None if actor.is_system else actor.organisation
