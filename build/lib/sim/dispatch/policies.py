"""Dispatch policies of the command room, in a registry chosen by name in the scenario.

A policy is a plain callable ``policy(model, call, candidates) -> Unit | None``: given a call
ready to dispatch and the free units it may consider (idle at their post, or on the road back),
it picks one, or returns None to leave the call waiting. It chooses who goes, never how long
the trip takes: ``model.travel`` (``sim.travel``) ranks units by their exact arrival time, and
the model plans the trip. The model calls a policy when a call becomes ready (all free units),
when a unit becomes free (that unit only, for each waiting call in priority order), and when
a waiting call's borrowing threshold (``dispatch.borrow_after_min``) passes. Register new
policies with ``@register_policy("name", **traits)`` (also ``sim.register_policy``).

Traits say what the planners and checks need to know about a policy; a part that needs one
a policy does not declare stops with a message naming it (never assumes ``nearest``):

- ``order``: the unit order Larson's hypercube uses for units at their posts:
  ``"travel"`` (shortest travel time first) or ``"own_community_first"``.
- ``pools``: which units serve which calls, for the offered load: ``"shared"`` (every unit
  may serve every call) or ``"own_community_unless_borrowing"`` (with
  ``borrow_after_min: null`` each office serves its own community alone).
- ``office_units``: whether it sends units based at offices (``plan_offices`` replaces a
  policy that does not with ``nearest``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from sim.agents.availability import of_community
from sim.agents.unit import UnitState
from sim.registry import DISPATCH_POLICIES

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
POLICIES = DISPATCH_POLICIES  # the one registry (``sim.registry``), by its older name


def register_policy(
    name: str,
    *,
    order: str | None = None,
    pools: str | None = None,
    office_units: bool | None = None,
) -> Callable[[Policy], Policy]:
    """Register a dispatch policy under ``name`` (a decorator), with its traits (above)."""
    return DISPATCH_POLICIES.register(name, order=order, pools=pools, office_units=office_units)


@register_policy("nearest", order="travel", pools="shared", office_units=True)
def nearest(model: DispatchContext, call: Call, candidates: Sequence[Unit]) -> Unit | None:
    """The free unit that arrives first, wherever it is based."""
    return model.travel.fastest(candidates, call, model.time)


@register_policy(
    "community_first",
    order="own_community_first",
    pools="own_community_unless_borrowing",
    office_units=True,
)
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


@register_policy("station_only", order="travel", pools="shared", office_units=False)
def station_only(model: DispatchContext, call: Call, candidates: Sequence[Unit]) -> Unit | None:
    """The baseline: only units based at a station, and only when back at it."""
    at_station = [u for u in candidates if u.post.kind == "station" and u.state == UnitState.IDLE]
    return model.travel.fastest(at_station, call, model.time)
