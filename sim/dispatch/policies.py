"""Dispatch policies of the command room, in a registry chosen by name in the scenario.

A policy is a plain callable ``policy(model, call, candidates) -> Unit | None``: given a call
ready to dispatch and the free units it may consider (idle at their post, or on the road back),
it picks one, or returns None to leave the call waiting. It chooses who goes, never how long
the trip takes: ``model.travel`` (``sim.travel``) ranks units by their exact arrival time, and
the model plans the trip. The model calls a policy when a call becomes ready (all free units),
when a unit becomes free (that unit only, for each waiting call in priority order), and when
a waiting call's borrowing threshold (``dispatch.borrow_after_min``) passes. Register new
policies with ``@register_policy("name")`` (also ``sim.register_policy``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from sim.agents.availability import of_community
from sim.agents.unit import UnitState
from sim.scenarios.schema import POLICY_NAMES

if TYPE_CHECKING:
    from sim.agents.unit import Unit
    from sim.calls.call import Call
    from sim.scenarios.schema import Scenario
    from sim.travel import Travel


class DispatchContext(Protocol):
    """What a policy may read from the model."""

    time: float  # minutes
    travel: Travel
    scenario: Scenario


Policy = Callable[[DispatchContext, "Call", Sequence["Unit"]], "Unit | None"]
POLICIES: dict[str, Policy] = {}


def register_policy(name: str) -> Callable[[Policy], Policy]:
    """Register a dispatch policy under ``name`` (a decorator)."""

    def add(policy: Policy) -> Policy:
        POLICIES[name] = policy
        POLICY_NAMES.add(name)  # scenarios may now name it
        return policy

    return add


@register_policy("nearest")
def nearest(model: DispatchContext, call: Call, candidates: Sequence[Unit]) -> Unit | None:
    """The free unit that arrives first, wherever it is based."""
    return model.travel.fastest(candidates, call, model.time)


@register_policy("community_first")
def community_first(model: DispatchContext, call: Call, candidates: Sequence[Unit]) -> Unit | None:
    """The call's own community unit if free; else the nearest, after ``borrow_after_min``.

    ``dispatch.borrow_after_min``: 0 borrows at once, a positive value waits that long for
    the community's own unit, null never borrows (each community on its own).
    """
    own = of_community(candidates, call.community)
    choice = model.travel.fastest(own, call, model.time)
    if choice is not None:
        return choice
    threshold = model.scenario.dispatch.borrow_after_min
    if threshold is None or (not call.may_borrow and model.time - call.t_ready < threshold):
        return None
    return model.travel.fastest(candidates, call, model.time)


@register_policy("station_only")
def station_only(model: DispatchContext, call: Call, candidates: Sequence[Unit]) -> Unit | None:
    """The baseline: only units based at a station, and only when back at it."""
    at_station = [u for u in candidates if u.post.kind == "station" and u.state == UnitState.IDLE]
    return model.travel.fastest(at_station, call, model.time)
