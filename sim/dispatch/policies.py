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
    """The unit that reaches the call first (exact; ties to the first listed).

    A unit's time is what finishing its current edge (on the road), mobilising (from its
    post) and the network path (stretched by congestion) add up to.
    """
    if not units:
        return None
    now = model.now_min
    slowdown = model.slowdown_at(now)
    mobilise = model.mobilisation_min(call)
    nodes, offsets = [], []
    for unit in units:
        node, lead = unit.position_source(now)
        nodes.append(node)
        offsets.append((lead + (mobilise if unit.state == UnitState.IDLE else 0.0)) / slowdown)
    k, minutes = model.router.nearest(nodes, call.node, offsets)
    return (units[k], minutes * slowdown) if k >= 0 else None


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
    if threshold is None or (not call.may_borrow and model.now_min - call.t_ready < threshold):
        return None
    return fastest(model, call, candidates)


@register_policy("station_only")
def station_only(model: PatrolModel, call: Call, candidates: Sequence[Unit]) -> Choice:
    """The baseline: only units based at a station, and only when back at it."""
    at_station = [u for u in candidates if u.post.kind == "station" and u.state == UnitState.IDLE]
    return fastest(model, call, at_station)
