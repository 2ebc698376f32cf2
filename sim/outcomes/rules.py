"""Outcome rules: what happens when a call is made, when its scene is cleared, and after.

A rule is a class registered by name (``@register_rule("name")``, also ``sim.register_rule``)
and made once per model as ``Rule(model, rng)``; ``rng`` is its own random stream (named
``rule:<name>`` unless it declares ``stream=``), so adding a rule shifts no other stream.
It overrides the hooks it needs:

- ``on_call(call)``: the call has reached the command room.
- ``on_clear(call, unit)``: the lead unit clears the scene: the call's outcome.
- ``on_unit_clear(call, unit)``: any unit leaves the scene (the lead after ``on_clear``).
- ``follow_up_min(call, unit)``: minutes of work the lead unit does after the scene.

A rule with nothing to do in a run (e.g. no call type escalates) sets ``active = False``.

The shipped rules always run, in the order below. A scenario adds registered rules by name
(``outcomes.rules``); each runs where it was registered (``before="repeats"``: just before
that shipped rule; by default after all of them), in the order the scenario lists them.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from sim.calls.stream import DRAWS
from sim.events import Priority
from sim.outcomes.resolution import (
    Familiarity,
    escalation_delay_min,
    follow_up_min,
    repeat_delay_min,
    resolution_probability,
)
from sim.registry import OUTCOME_RULES
from sim.streams import Streams

if TYPE_CHECKING:
    from sim.agents.unit import Unit
    from sim.calls.call import Call
    from sim.outcomes.community_work import CommunityWork
    from sim.scenarios.schema import CallType, Scenario

_D = {name: i for i, name in enumerate(DRAWS)}
HOOKS = ("on_call", "on_clear", "on_unit_clear", "follow_up_min")


class RuleHost(Protocol):
    """What outcome rules may use of the model."""

    time: float  # minutes
    horizon_min: float
    scenario: Scenario
    call_types: Sequence[CallType]
    familiarity: Familiarity
    community_work: CommunityWork
    streams: Streams

    def schedule(self, t_min: float, priority: Priority, handler: Callable, arg: Any) -> None:
        """Call ``handler(arg)`` at minute ``t_min``."""

    def receive_call(self, type_index: int, resident: Any, draws: Sequence[float],
                     repeat_of: Call | None = None, problem: int = -1) -> Call:  # fmt: skip
        """A call (a repeat, a problem's) reaches the command room now."""

    def escalated(self, call: Call) -> None:
        """The call's type has changed: the dispatcher sees its new priority."""


class OutcomeRule:
    """A rule's hooks, each doing nothing until a rule overrides it.

    ``active``: False when the rule has nothing to do in this run (its hooks are left out).
    """

    active: bool = True

    def __init__(self, model: RuleHost, rng: np.random.Generator):
        """Run for ``model``; draw from ``rng`` (this rule's own stream)."""
        self.model = model
        self.rng = rng

    def on_call(self, call: Call) -> None:
        """The call has reached the command room."""

    def on_clear(self, call: Call, unit: Unit) -> None:
        """The lead unit clears the scene: decide what the call achieved."""

    def on_unit_clear(self, call: Call, unit: Unit) -> None:
        """A unit (lead or backup) leaves the scene."""

    def follow_up_min(self, call: Call, unit: Unit) -> float:
        """Minutes of work the lead unit does after the scene (this rule's share)."""
        return 0.0


def register_rule(
    name: str, *, before: str | None = None, stream: str | None = None
) -> Callable[[type[OutcomeRule]], type[OutcomeRule]]:
    """Register an outcome rule class under ``name`` (a decorator).

    ``before``: a shipped rule it runs just before (None: after all of them); ``stream``: the
    random stream it draws from (None: its own, ``rule:<name>``).
    """
    return OUTCOME_RULES.register(
        name, before=before, stream=stream or f"rule:{name}", shipped=False
    )


def shipped_rules() -> tuple[str, ...]:
    """The rules every model runs, in order."""
    return tuple(n for n in OUTCOME_RULES.names() if OUTCOME_RULES.entry(n).traits["shipped"])


def rule_order(extra: Sequence[str]) -> list[str]:
    """The shipped rules with the ``extra`` ones placed where they were registered."""
    order = list(shipped_rules())
    for name in extra:
        before = OUTCOME_RULES.entry(name).traits["before"]
        order.insert(order.index(before) if before in order else len(order), name)
    return order


class Rules:
    """A model's outcome rules, in order, with each hook's list made once."""

    def __init__(self, model: RuleHost, extra: Sequence[str] = ()):
        """The shipped rules and ``extra`` (registered names), each with its own stream."""
        self.rules = []
        for name in rule_order(extra):
            entry = OUTCOME_RULES.entry(name)
            self.rules.append(entry.value(model, model.streams.generator(entry.traits["stream"])))
        hooks = {  # only the hooks a rule defines (any class with them will do)
            hook: [getattr(r, hook) for r in self.rules if getattr(r, "active", True)
                   and getattr(type(r), hook, None) not in (None, getattr(OutcomeRule, hook))]
            for hook in HOOKS
        }  # fmt: skip
        self._on_call, self._on_clear = hooks["on_call"], hooks["on_clear"]
        self._on_unit_clear, self._follow_up = hooks["on_unit_clear"], hooks["follow_up_min"]
        self.acts_on_call = bool(self._on_call)  # some rule has an ``on_call`` hook

    def on_call(self, call: Call) -> None:
        """Every rule's ``on_call``, in order."""
        for hook in self._on_call:
            hook(call)

    def on_clear(self, call: Call, unit: Unit) -> float:
        """The lead unit clears: every rule's hooks in order; the minutes of follow-up."""
        for hook in self._on_clear:
            hook(call, unit)
        for hook in self._on_unit_clear:
            hook(call, unit)
        minutes = 0.0
        for hook in self._follow_up:
            minutes += hook(call, unit)
        return minutes

    def on_unit_clear(self, call: Call, unit: Unit) -> None:
        """Every rule's ``on_unit_clear``, in order."""
        for hook in self._on_unit_clear:
            hook(call, unit)


def _shipped(name: str, stream: str | None = None):
    return OUTCOME_RULES.register(name, before=None, stream=stream or f"rule:{name}", shipped=True)


# -- the shipped rules ------------------------------------------------------------------------
@_shipped("escalation")
class Escalation(OutcomeRule):
    """A dispute escalates (e.g. to assault) if nobody arrives before a time drawn now."""

    def __init__(self, model: RuleHost, rng: np.random.Generator):
        """Active if some call type may escalate."""
        super().__init__(model, rng)
        self.active = any(t.escalation is not None for t in model.call_types)

    def on_call(self, call: Call) -> None:
        """Draw (from the call's own uniforms) whether and when it escalates."""
        model = self.model
        if model.call_types[call.type_index].escalation is None:
            return
        draws = call.draws
        after = escalation_delay_min(
            model, call, draws[_D["escalation"]], draws[_D["escalation_time"]]
        )
        if after is not None:
            model.schedule(model.time + after, Priority.CALL, self._on_escalate, call)

    def _on_escalate(self, call: Call) -> None:
        if not math.isnan(call.t_arrive) or call.abandoned or call.by_phone:
            return  # a unit arrived, or the call is closed
        model = self.model
        types = model.call_types
        new_type = model.scenario.calls.type_index(types[call.type_index].escalation.to)
        call.type_index = new_type
        call.priority = types[new_type].priority
        call.escalated = True
        call.units_needed = max(call.units_needed, types[new_type].units_needed)
        call.officers_needed = max(call.officers_needed, types[new_type].officers_needed)
        model.escalated(call)


@_shipped("resolution")
class Resolution(OutcomeRule):
    """Solved at first attendance with ``resolution_probability`` (the call's own uniform)."""

    def on_clear(self, call: Call, unit: Unit) -> None:
        """Draw the outcome."""
        p = resolution_probability(self.model, call, unit)
        call.resolved = bool(call.draws[_D["resolution"]] < p)


@_shipped("community_work")
class CommunityWorkAtCalls(OutcomeRule):
    """An office unit at a call a latent problem causes may detect the problem."""

    def __init__(self, model: RuleHost, rng: np.random.Generator):
        """Active with community work (latent problems) on."""
        super().__init__(model, rng)
        self.active = model.scenario.community_work.enabled

    def on_clear(self, call: Call, unit: Unit) -> None:
        """Tell community work about the attended call."""
        if call.problem >= 0:
            self.model.community_work.attended(call, unit)


@_shipped("repeats", stream="repeats")
class Repeats(OutcomeRule):
    """An unresolved problem makes the household call again (stream ``repeats``)."""

    def __init__(self, model: RuleHost, rng: np.random.Generator):
        """Active if some call type repeats."""
        super().__init__(model, rng)
        self.active = any(t.repeat is not None for t in model.call_types)

    def on_clear(self, call: Call, unit: Unit) -> None:
        """Draw whether and when the household calls again."""
        model = self.model
        if call.resolved or model.call_types[call.first_type].repeat is None:
            return
        delay = repeat_delay_min(model, call, self.rng)
        if delay is not None and model.time + delay < model.horizon_min:
            model.schedule(model.time + delay, Priority.CALL, self._on_repeat_call, call)

    def _on_repeat_call(self, previous: Call) -> None:
        """The same household calls again about the same unresolved problem."""
        if self.model.community_work.is_fixed(previous.problem):
            return  # the latent problem behind it was fixed meanwhile
        draws = array("d", self.rng.random(len(DRAWS)).tobytes())
        self.model.receive_call(
            previous.first_type, previous.resident, draws, previous, previous.problem
        )


@_shipped("familiarity")
class FamiliarityGain(OutcomeRule):
    """Each unit that handled a call knows its community a little better."""

    def on_unit_clear(self, call: Call, unit: Unit) -> None:
        """Close ``gain_per_call`` of the gap to 1."""
        self.model.familiarity.handled_call(unit.index, call.community, self.model.time)


@_shipped("follow_up")
class FollowUp(OutcomeRule):
    """Own case work (no case team) and follow-through (一管到底) after the scene."""

    def __init__(self, model: RuleHost, rng: np.random.Generator):
        """Active if criminal calls bring case work, or with follow-through."""
        super().__init__(model, rng)
        outcomes = model.scenario.outcomes
        case_work = not outcomes.case_team and any(t.criminal for t in model.call_types)
        self.active = case_work or outcomes.follow_through.enabled

    def follow_up_min(self, call: Call, unit: Unit) -> float:
        """Minutes, from the call's own uniforms."""
        draws = call.draws
        return follow_up_min(
            self.model, call, unit, draws[_D["case_work"]], draws[_D["follow_through"]]
        )
