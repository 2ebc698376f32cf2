"""Dispatch policies of the command room, in a registry chosen by name in the scenario.

A policy is a plain callable ``policy(model, call, candidates) -> (unit, travel_min) | None``:
given a call ready to dispatch and the free units it may consider (idle at their post or on
the road back), it picks one and says how long it will take to get there (from the unit's
position, including finishing the edge it is on), or returns None to leave the call waiting.
The model calls it when a call becomes ready (all free units), when a unit becomes free (that
unit only, for each waiting call in priority order), and when a waiting call's borrowing
threshold passes. Register new policies with ``@register_policy("name")``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sim.agents.unit import UnitState

if TYPE_CHECKING:
    from sim.agents.unit import Unit
    from sim.model import Call, PatrolModel

Choice = tuple["Unit", float] | None
Policy = Callable[["PatrolModel", "Call", Sequence["Unit"]], Choice]
POLICIES: dict[str, Policy] = {}


def register_policy(name: str) -> Callable[[Policy], Policy]:
    """Register a dispatch policy under ``name``."""

    def add(policy: Policy) -> Policy:
        POLICIES[name] = policy
        return policy

    return add


def fastest(model: PatrolModel, call: Call, units: Sequence[Unit]) -> Choice:
    """The unit that reaches the call first (exact network time; ties to the first listed)."""
    if not units:
        return None
    now = model.now_min
    positions = [u.position_source(now) for u in units]
    k, minutes = model.router.nearest(
        [node for node, _ in positions], call.node, [lead for _, lead in positions]
    )
    return (units[k], minutes) if k >= 0 else None


@register_policy("nearest")
def nearest(model: PatrolModel, call: Call, candidates: Sequence[Unit]) -> Choice:
    """The free unit with the shortest travel time, wherever it is based."""
    return fastest(model, call, candidates)


@register_policy("community_first")
def community_first(model: PatrolModel, call: Call, candidates: Sequence[Unit]) -> Choice:
    """The call's own community unit if free; else the nearest, after ``borrow_after_min``.

    ``dispatch.borrow_after_min``: 0 borrows at once, a positive value waits that long for
    the community's own unit, null never borrows (each community on its own).
    """
    own = [u for u in candidates if u.post.community == call.community]
    choice = fastest(model, call, own)
    if choice is not None:
        return choice
    threshold = model.config.dispatch.borrow_after_min
    if threshold is None or model.now_min - call.t_ready < threshold:
        return None
    return fastest(model, call, candidates)


@register_policy("station_only")
def station_only(model: PatrolModel, call: Call, candidates: Sequence[Unit]) -> Choice:
    """The baseline: only units based at a station, and only when back at it."""
    at_station = [u for u in candidates if u.post.kind == "station" and u.state == UnitState.IDLE]
    return fastest(model, call, at_station)
