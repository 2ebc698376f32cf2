"""One call, from the moment it is made until the scene is cleared."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True, eq=False)
class Call:
    """One call, from the moment it is made until the scene is cleared (compared by identity).

    A call may need several units (``units_needed``; all in ``units``, in order of
    assignment). ``unit`` is the lead unit: the first assigned, then the first on scene. The
    scene lasts the call's service time from the first arrival; the lead unit decides the
    outcome, backups leave when the scene is cleared (at once if they arrive later).
    """

    id: int
    type_index: int
    priority: int
    community: int
    node: int
    resident: Any  # the Resident agent who called (repeats come from the same household)
    t_call: float
    draws: Sequence[float]  # its own uniforms, by DRAWS column (packed: array("d"))
    first_type: int = -1  # the type when made (escalation may change type_index)
    repeat_of: int = -1  # the first call of this problem, for repeats
    chain: int = 0  # 0 for a first call, k for the k-th repeat
    problem: int = -1  # the latent problem that caused it, if any
    t_ready: float = math.nan
    t_assigned: float = math.nan
    t_arrive: float = math.nan
    t_clear: float = math.nan
    unit: Any = None  # the lead Unit (agents sit above calls: no import of them here)
    queued: bool = False
    resolved: bool = False
    escalated: bool = False
    familiarity: float = math.nan  # of the attending unit with the call's community
    units_needed: int = 1
    may_borrow: bool = False  # community_first: its borrowing threshold has passed
    clear_due: float = math.nan  # when the scene will be cleared (first arrival + service)
    mobilise_min: float = 0.0  # what a unit at its post needs before it leaves for it
    found_by: str = "call"  # how it became known: call, patrol (on view), report (later)
    units: list[Any] = field(default_factory=list)  # every unit assigned, primary first
    officers_needed: int = 0  # officers on scene the call needs, over its units' crews
    abandoned: bool = False  # the caller hung up before a unit was sent (patience)
    by_phone: bool = False  # resolved by the command room without dispatch
    remaining_min: float = math.nan  # on-scene time left when a unit was pre-empted
    repeat_factor: float = 1.0  # outcome rules may scale its chance to repeat (1: as its type)
    recorded_service_min: float = math.nan  # a replayed call's time on scene, as recorded

    @property
    def missing_units(self) -> int:
        """Units still to assign, for ``units_needed`` and then ``officers_needed``.

        For officers, the crews of the units assigned so far count; if short, one more.
        """
        missing = self.units_needed - len(self.units)
        if self.officers_needed and missing <= 0:
            officers = sum(unit.officers for unit in self.units)
            return 1 if officers < self.officers_needed else 0
        return missing

    @property
    def queue_key(self) -> tuple[int, float, int]:
        """Priority first (1 most urgent), then first come first served."""
        return (self.priority, self.t_ready, self.id)
