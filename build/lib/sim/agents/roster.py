"""Other duties and shifts: when units are taken away from answering calls.

The roster schedules each unit's other-duty blocks (Poisson-arriving, a share of its time)
and its daily shift start and end on the model's event queue, and hands a unit back to the
model (``on_free``) when it becomes available again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from sim.agents.unit import Unit, UnitState
from sim.clock import MIN_PER_DAY, MIN_PER_HOUR
from sim.events import Priority


class Clock(Protocol):
    """Anything with the simulated minutes as ``time`` (the model)."""

    time: float


class Roster:
    """Other-duty blocks and daily shifts of every unit."""

    def __init__(
        self,
        clock: Clock,
        schedule: Callable[[float, Priority, Callable[[Any], None], Any], None],
        rng: np.random.Generator,
        on_free: Callable[[Unit], None],
        on_shift_start: Callable[[Unit], None],
        on_recall: Callable[[Unit], None] | None = None,
    ):
        """Schedule on ``schedule``, draw from ``rng``, read the time from ``clock``.

        ``on_free(unit)``: the unit is idle at its post again (serve the queue);
        ``on_shift_start(unit)``: an off-shift unit comes on (it reports at its post);
        ``on_recall(unit)``: a patrolling unit is called back to its post for a pending duty
        block or the end of its shift.
        """
        self.clock = clock
        self.schedule = schedule
        self.rng = rng
        self.on_free = on_free
        self.on_shift_start = on_shift_start
        self.on_recall = on_recall

    def start(self, unit: Unit) -> None:
        """Schedule the unit's first duty block and its shifts."""
        duty = unit.group.other_duty
        if duty.share > 0:
            self.schedule(self._next_duty_min(unit), Priority.UNIT, self._on_duty_due, unit)
        shift = unit.group.shift
        if shift is not None and shift.hours < 24:
            start = shift.start_hour * MIN_PER_HOUR
            end = start + shift.hours * MIN_PER_HOUR
            if not (start <= 0 < end or start <= MIN_PER_DAY < end):
                unit.on_shift = False
                unit.set_state(UnitState.OFF_SHIFT, 0.0)
            self.schedule(start, Priority.UNIT, self._on_shift_start, unit)
            self.schedule(end % MIN_PER_DAY, Priority.UNIT, self._on_shift_end, unit)

    def _next_duty_min(self, unit: Unit) -> float:
        duty = unit.group.other_duty
        mean_gap = duty.block_min.mean_value * (1 - duty.share) / duty.share
        return self.clock.time + self.rng.exponential(mean_gap)

    def _on_duty_due(self, unit: Unit) -> None:
        unit.duty_pending = True
        if unit.state == UnitState.IDLE:
            self.start_duty(unit)
        elif unit.state == UnitState.PATROL and self.on_recall is not None:
            self.on_recall(unit)

    def start_duty(self, unit: Unit) -> None:
        """The unit (free at its post) goes to its pending duty block now."""
        now = self.clock.time
        unit.duty_pending = False
        unit.set_state(UnitState.OTHER_DUTY, now)
        block = unit.group.other_duty.block_min.quantile(self.rng.random())
        self.schedule(now + block, Priority.UNIT, self._on_duty_end, unit)

    def _on_duty_end(self, unit: Unit) -> None:
        self.schedule(self._next_duty_min(unit), Priority.UNIT, self._on_duty_due, unit)
        if unit.off_shift_pending:
            unit.off_shift_pending = False
            unit.set_state(UnitState.OFF_SHIFT, self.clock.time)
            return
        unit.set_state(UnitState.IDLE, self.clock.time)
        self.on_free(unit)

    def _on_shift_start(self, unit: Unit) -> None:
        now = self.clock.time
        self.schedule(now + MIN_PER_DAY, Priority.UNIT, self._on_shift_start, unit)
        unit.on_shift = True
        unit.off_shift_pending = False
        if unit.state == UnitState.OFF_SHIFT:
            self.on_shift_start(unit)

    def _on_shift_end(self, unit: Unit) -> None:
        now = self.clock.time
        self.schedule(now + MIN_PER_DAY, Priority.UNIT, self._on_shift_end, unit)
        unit.on_shift = False
        if unit.state == UnitState.IDLE:
            unit.set_state(UnitState.OFF_SHIFT, now)
        else:
            unit.off_shift_pending = True
            if unit.state == UnitState.PATROL and self.on_recall is not None:
                self.on_recall(unit)
