"""Community work: latent problems, their detection by embedded units, four-party meetings.

Problems (a failing elevator and the like) appear in every community whatever the
scenario; what differs is whether a unit based at the community's office is there to
detect them (DESIGN 3.8). Everything about a problem that does not depend on the police
(when it appears, when its residents would call, who calls, the meeting and repair times,
when daily community work would notice it) is drawn when the model starts, from a stream of
its own, so scenarios share the same problems (common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from sim.agents.unit import UnitState
from sim.calls.stream import DRAWS
from sim.clock import MIN_PER_DAY
from sim.events import Priority

if TYPE_CHECKING:
    from sim.agents.resident import Resident
    from sim.agents.unit import Unit
    from sim.calls.call import Call
    from sim.scenarios.schema import Scenario
    from sim.streams import Streams


class CommunityWorkHost(Protocol):
    """What community work needs from the model."""

    time: float  # minutes
    scenario: Scenario
    warmup_min: float
    horizon_min: float
    streams: Streams
    units: Sequence[Unit]
    residents: Sequence[Resident]
    schedule: Callable[[float, Priority, Callable[[Any], None], Any], None]
    receive_call: Callable[..., Call]
    unit_available: Callable[[Unit], None]


@dataclass
class Problem:
    """One latent problem in one community."""

    id: int
    community: int
    t_appear: float
    t_fixed: float  # when it stops making calls (undetected: its natural end)
    call_times: np.ndarray
    call_residents: np.ndarray  # positions in the community's residents
    call_draws: np.ndarray
    t_noticed: float  # when community work would notice it (if anyone is there to)
    meeting_repair_min: float
    t_detected: float = math.nan
    calls: int = 0


class CommunityWork:
    """The latent problems of one run, and the community work that finds them."""

    def __init__(self, model: CommunityWorkHost):
        self.model = model
        self.spec = model.scenario.community_work
        self.problems: list[Problem] = []
        if not self.spec.enabled:
            return
        self.call_type = model.scenario.calls.type_index(self.spec.call_type)
        self._rng = model.streams.generator("problems")
        self._detect_rng = model.streams.generator("problem_detection")
        self.watched = {unit.post.community for unit in model.units if unit.post.kind == "office"}
        for community in range(len(model.scenario.communities)):
            self._create_problems(community)
        self._visit_rng = model.streams.generator("community_visits")
        self.office_units = {
            unit.post.community: unit for unit in model.units if unit.post.kind == "office"
        }
        if self.spec.visit_min_per_day > 0:
            for unit in self.office_units.values():
                self._schedule_visit(unit)

    def _create_problems(self, community: int) -> None:
        """Problems from 3 mean natural lifetimes before minute 0 (no start-up bias).

        The run starts with the stock of open problems it would have in the long run.
        """
        spec, rng, horizon = self.spec, self._rng, self.model.horizon_min
        week = 7 * MIN_PER_DAY
        before = 3 * spec.undetected_fix_days.mean_value * MIN_PER_DAY
        n = rng.poisson(spec.problems_per_community_per_week * (horizon + before) / week)
        residents = [r for r in self.model.residents if r.community == community]
        for t_appear in np.sort(rng.random(n) * (horizon + before) - before):
            t_first = max(t_appear, 0.0)  # calls made before minute 0 are not simulated
            k = rng.poisson(spec.calls_per_problem_per_week * (horizon - t_first) / week)
            call_times = np.sort(t_first + rng.random(k) * (horizon - t_first))
            u_notice, u_meet, u_repair, u_end = rng.random(4)
            problem = Problem(
                id=len(self.problems),
                community=community,
                t_appear=float(t_appear),
                t_fixed=float(t_appear + spec.undetected_fix_days.quantile(u_end) * MIN_PER_DAY),
                call_times=call_times,
                call_residents=rng.integers(0, max(len(residents), 1), size=k),
                call_draws=rng.random((k, len(DRAWS))),
                t_noticed=float(t_appear + _days_to_notice(spec.p_detect_per_day, u_notice)),
                meeting_repair_min=MIN_PER_DAY
                * (spec.meeting_days.quantile(u_meet) + spec.repair_days.quantile(u_repair)),
            )
            self.problems.append(problem)
            self._schedule_call(problem, 0)
            if community not in self.watched or problem.t_noticed >= horizon:
                continue
            if problem.t_noticed < 0:  # noticed in the pre-history: met and repaired then
                problem.t_detected = problem.t_noticed
                problem.t_fixed = min(
                    problem.t_fixed, problem.t_noticed + problem.meeting_repair_min
                )
            else:
                self.model.schedule(problem.t_noticed, Priority.CALL, self._on_noticed, problem)

    def _schedule_call(self, problem: Problem, k: int) -> None:
        if k < len(problem.call_times):
            self.model.schedule(
                problem.call_times[k], Priority.CALL, self._on_problem_call, (problem, k)
            )

    def _on_problem_call(self, arg: tuple[Problem, int]) -> None:
        problem, k = arg
        if self.model.time >= problem.t_fixed:
            return  # fixed: no more calls
        self._schedule_call(problem, k + 1)
        residents = [r for r in self.model.residents if r.community == problem.community]
        resident = residents[problem.call_residents[k]]
        problem.calls += 1
        draws = problem.call_draws[k].tolist()
        self.model.receive_call(self.call_type, resident, draws, problem=problem.id)

    def _on_noticed(self, problem: Problem) -> None:
        self.detect(problem)

    def attended(self, call: Call, unit: Unit) -> None:
        """A unit of the problem's own community office may spot it at a call it causes."""
        if call.problem < 0 or unit.post.kind != "office":
            return
        problem = self.problems[call.problem]
        if unit.post.community == problem.community and math.isnan(problem.t_detected):
            if self._detect_rng.random() < self.spec.p_detect_on_call:
                self.detect(problem)

    def detect(self, problem: Problem) -> None:
        """Detected: a four-party meeting, then the repair; no more calls after that."""
        now = self.model.time
        if not math.isnan(problem.t_detected) or now >= problem.t_fixed:
            return
        problem.t_detected = now
        problem.t_fixed = min(problem.t_fixed, now + problem.meeting_repair_min)
        meeting_at = now + self.spec.meeting_days.quantile(0.5) * MIN_PER_DAY
        if self.spec.meeting_min > 0 and meeting_at < self.model.horizon_min:
            self.model.schedule(meeting_at, Priority.UNIT, self._on_meeting_due, problem)

    # -- officer time ------------------------------------------------------------------
    def _schedule_visit(self, unit: Unit) -> None:
        spec = self.spec
        mean_gap = spec.visit_block_min.mean_value * (1440 - spec.visit_min_per_day)
        due = self.model.time + self._visit_rng.exponential(mean_gap / spec.visit_min_per_day)
        if due < self.model.horizon_min:
            self.model.schedule(due, Priority.UNIT, self._on_visit_due, unit)

    def _on_visit_due(self, unit: Unit) -> None:
        block = self.spec.visit_block_min.quantile(self._visit_rng.random())
        if not self._occupy(unit, block, self._on_work_done):
            self._schedule_visit(unit)  # busy: this visit is skipped

    def _occupy(self, unit: Unit, minutes: float, done: Callable[[Unit], None]) -> bool:
        """Take a unit free at its post into community work for ``minutes`` (False: busy)."""
        if unit.state != UnitState.IDLE or unit.duty_pending or unit.off_shift_pending:
            return False
        unit.set_state(UnitState.COMMUNITY_WORK, self.model.time)
        self.model.schedule(self.model.time + minutes, Priority.UNIT, done, unit)
        return True

    def _on_work_done(self, unit: Unit) -> None:
        unit.set_state(UnitState.IDLE, self.model.time)
        if self.spec.visit_min_per_day > 0:
            self._schedule_visit(unit)
        self.model.unit_available(unit)

    def _on_meeting_due(self, problem: Problem) -> None:
        unit = self.office_units.get(problem.community)
        if unit is None:
            return
        if self._occupy(unit, self.spec.meeting_min, self._on_meeting_done):
            return
        if self.model.time + 30 < self.model.horizon_min:  # busy: try again in half an hour
            self.model.schedule(self.model.time + 30, Priority.UNIT, self._on_meeting_due, problem)

    def _on_meeting_done(self, unit: Unit) -> None:
        unit.set_state(UnitState.IDLE, self.model.time)
        self.model.unit_available(unit)

    def is_fixed(self, problem_id: int) -> bool:
        """Whether that latent problem (-1: none) is fixed by now."""
        return problem_id >= 0 and self.model.time >= self.problems[problem_id].t_fixed

    def summary(self) -> dict[str, int]:
        """Problems that appeared after warm-up: how many, detected, fixed, calls caused."""
        warmup, horizon = self.model.warmup_min, self.model.horizon_min
        counted = [p for p in self.problems if warmup <= p.t_appear < horizon]
        return {
            "appeared": len(counted),
            "detected": sum(not math.isnan(p.t_detected) for p in counted),
            "fixed": int(sum(p.t_fixed < horizon for p in counted)),
            "calls": sum(p.calls for p in counted),
        }


def _days_to_notice(p_per_day: float, u: float) -> float:
    """Minutes until daily community work notices a problem (continuous geometric)."""
    if p_per_day <= 0:
        return math.inf
    if p_per_day >= 1:
        return 0.0
    return -math.log1p(-u) / -math.log1p(-p_per_day) * MIN_PER_DAY
