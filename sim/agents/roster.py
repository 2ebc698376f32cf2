"""Other duties and shifts: when units are taken away from answering calls.

A mixin of ``PatrolModel`` (one handler per event kind, as in the model itself).
"""

from __future__ import annotations

from sim.agents.unit import Unit, UnitState

_UNIT_EVENT = 0  # as in sim.model: unit events come before call events at equal times


class DutiesAndShifts:
    """Event handlers for other-duty blocks and daily shifts (uses the model's event queue)."""

    def _start_unit_timers(self, unit: Unit) -> None:
        duty = unit.group.other_duty
        if duty.share > 0:
            self._schedule(self._next_duty_gap(unit), _UNIT_EVENT, self._on_duty_due, unit)
        shift = unit.group.shift
        if shift is not None and shift.hours < 24:
            start = shift.start_hour * 60.0
            end = start + shift.hours * 60.0
            if not (start <= 0 < end or start <= 1440 < end):
                unit.on_shift = False
                unit.set_state(UnitState.OFF_SHIFT, 0.0)
            self._schedule(start, _UNIT_EVENT, self._on_shift_start, unit)
            self._schedule(end % 1440.0, _UNIT_EVENT, self._on_shift_end, unit)

    def _next_duty_gap(self, unit: Unit) -> float:
        duty = unit.group.other_duty
        mean_gap = duty.block_min.mean_value * (1 - duty.share) / duty.share
        return self.now_min + self._duty_rng.exponential(mean_gap)

    def _on_duty_due(self, unit: Unit) -> None:
        unit.duty_pending = True
        if unit.state == UnitState.IDLE:
            self._start_duty(unit)

    def _start_duty(self, unit: Unit) -> None:
        unit.duty_pending = False
        unit.set_state(UnitState.OTHER_DUTY, self.now_min)
        block = unit.group.other_duty.block_min.quantile(self._duty_rng.random())
        self._schedule(self.now_min + block, _UNIT_EVENT, self._on_duty_end, unit)

    def _on_duty_end(self, unit: Unit) -> None:
        self._schedule(self._next_duty_gap(unit), _UNIT_EVENT, self._on_duty_due, unit)
        if unit.off_shift_pending:
            unit.off_shift_pending = False
            unit.set_state(UnitState.OFF_SHIFT, self.now_min)
            return
        unit.set_state(UnitState.IDLE, self.now_min)
        self._serve_queue(unit)

    def _on_shift_start(self, unit: Unit) -> None:
        self._schedule(self.now_min + 1440.0, _UNIT_EVENT, self._on_shift_start, unit)
        unit.on_shift = True
        unit.off_shift_pending = False
        if unit.state == UnitState.OFF_SHIFT:
            self._arrive_home(unit)

    def _on_shift_end(self, unit: Unit) -> None:
        self._schedule(self.now_min + 1440.0, _UNIT_EVENT, self._on_shift_end, unit)
        unit.on_shift = False
        if unit.state == UnitState.IDLE:
            unit.set_state(UnitState.OFF_SHIFT, self.now_min)
        else:
            unit.off_shift_pending = True
