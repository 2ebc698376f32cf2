"""The command room's procedure: offer calls to the policy, queue what waits, borrow later.

The policy (``sim.dispatch.policies``) picks units; the dispatcher asks it again as often as a
call needs units (``units_needed``), keeps calls that still miss a unit in the waiting queue,
offers waiting calls to each unit that becomes free (priority, then first come), and offers a
waiting call to every free unit again once its borrowing threshold has passed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sim.agents.availability import FreeView
from sim.dispatch.policies import DispatchContext, Policy
from sim.dispatch.queue import WaitingQueue
from sim.errors import SimInputError

if TYPE_CHECKING:
    from sim.agents.unit import Unit
    from sim.calls.call import Call


class Dispatcher:
    """Dispatch by one policy, with one waiting queue."""

    def __init__(
        self,
        context: DispatchContext,
        policy: Policy,
        assign: Callable[[Call, Unit], None],
        schedule_borrow: Callable[[Call, float], None],
    ):
        """Dispatch for ``context`` (the model) with ``policy``.

        ``assign(call, unit)`` sends a unit; ``schedule_borrow(call, after_min)`` asks for
        ``borrow_due(call, ...)`` that many minutes from now.
        """
        self.context = context
        self.policy = policy
        self.assign = assign
        self.schedule_borrow = schedule_borrow
        self.queue = WaitingQueue()

    def pick(self, call: Call, candidates: Sequence[Unit]) -> Unit | None:
        """The policy's choice among ``candidates``: one of them, or None; else a clear error."""
        unit = self.policy(self.context, call, candidates)
        if unit is None or _among(unit, candidates):
            return unit
        name = self.context.scenario.dispatch.policy
        raise SimInputError(
            f"dispatch policy {name!r} returned {unit!r:.60} ({type(unit).__name__}) for call "
            f"{call.id}: a policy must return one of the free units it is offered, or None"
        )

    def offer(self, call: Call, candidates: Sequence[Unit]) -> int:
        """Send the units the policy picks among ``candidates`` until the call has enough.

        Returns how many units the call still misses (``Call.missing_units``).
        """
        missing = call.missing_units
        while missing > 0:
            unit = self.pick(call, candidates)
            if unit is None:
                return missing
            self.assign(call, unit)
            missing = call.missing_units
            if missing > 0:
                candidates = [u for u in candidates if u is not unit]
        return missing

    def ready(self, call: Call, free: Sequence[Unit]) -> None:
        """A call is ready to dispatch: send units, else queue it (and plan borrowing)."""
        if self.offer(call, free) == 0:
            return
        call.queued = True  # some unit it needs was not free
        self.queue.add(call)
        threshold = self.context.scenario.dispatch.borrow_after_min
        if threshold:
            self.schedule_borrow(call, threshold)

    def reprioritise(self, call: Call, free: Sequence[Unit]) -> None:
        """A dispatched or waiting call changed type (escalation): new place, maybe more units."""
        was_waiting = self.queue.discard(call)  # its priority changed: it takes a new place
        if not was_waiting and call.missing_units > 0:  # it now needs more units than it has
            self.offer(call, free)
        if call.missing_units > 0:
            self.queue.add(call)

    def borrow_due(self, call: Call, free: Sequence[Unit]) -> None:
        """The call's borrowing threshold has passed: any free unit may take it now."""
        call.may_borrow = True
        if call in self.queue:
            self.offer(call, free)
            if call.missing_units == 0:
                self.queue.remove(call)

    def serve_queue(self, unit: Unit) -> bool:
        """Offer the waiting calls, in order, to a unit that became free; True if it took one."""
        for call in self.queue:
            if unit in call.units:
                continue  # already on it (as primary or backup)
            if self.pick(call, [unit]) is not None:
                self.assign(call, unit)
                if call.missing_units == 0:
                    self.queue.remove(call)
                return True
        return False


def _among(unit: object, candidates: Sequence[Unit]) -> bool:
    """Whether ``unit`` is one of ``candidates`` (the very object, not an equal one)."""
    if isinstance(candidates, FreeView):
        return candidates.holds(unit)
    return any(unit is u for u in candidates)
