"""The model SolaraViz drives: one scenario, or two side by side on the same calls.

SolaraViz builds its model as ``type(model)(**control_values)`` on Reset, so this class takes
the page's controls as keyword arguments. Bad values never raise: the model then holds no
simulation and ``error`` says what to fix, for the page to show.
"""

from __future__ import annotations

import logging
import math

import mesa

from sim.clock import MIN_PER_DAY
from sim.errors import SimInputError
from sim.model import PatrolModel
from sim.network.world import build_world
from sim.viz.controls import AS_SCENARIO, NO_COMPARE, Controls, build_scenarios, parse_seed
from sim.viz.series import Tracker

log = logging.getLogger(__name__)


class AppModel(mesa.Model):
    """One browser session's simulation(s); ``step()`` advances one simulated minute."""

    def __init__(
        self,
        scenario_name: str = "embedded",
        compare: str = NO_COMPARE,
        policy: str = AS_SCENARIO,
        units_per_office: int = 0,
        rate_multiplier: float = 1.0,
        seed: str | int = "1",
    ):
        controls = Controls(scenario_name, compare, policy, units_per_office, rate_multiplier, seed)
        super().__init__(rng=_safe_seed(seed))
        self.controls = controls
        self.error: str | None = None
        self.sims: list[PatrolModel] = []
        self.trackers: list[Tracker] = []
        try:
            self._build(controls)
        except SimInputError as exc:
            self._fail(str(exc))
        except Exception as exc:  # a student sees a message, the server log the traceback
            log.exception("could not build the model from %s", controls)
            self._fail(f"The model could not be built: {exc}")

    def _build(self, controls: Controls) -> None:
        for scenario in build_scenarios(controls):
            world = build_world(scenario)
            sim = PatrolModel(scenario, world=world)
            self.sims.append(sim)
            self.trackers.append(Tracker(sim))

    def _fail(self, message: str) -> None:
        self.error = message
        self.sims, self.trackers = [], []
        self.running = False

    @property
    def now_min(self) -> float:
        """Simulated minutes since the start."""
        return self.sims[0].time if self.sims else 0.0

    @property
    def horizon_min(self) -> float:
        """The end of the run (the shortest of the scenarios)."""
        return min((s.horizon_min for s in self.sims), default=0.0)

    def settings_text(self) -> str:
        """The controls this model was built with, in words (the sliders show no numbers)."""
        c = self.controls
        units = "as in scenario" if c.units_per_office == 0 else str(c.units_per_office)
        policy = c.policy if c.policy != AS_SCENARIO else "as in scenario"
        return (
            f"seed {c.seed}, call rate x{c.rate_multiplier:g}, units per office: {units}, "
            f"dispatch: {policy}"
        )

    def step(self) -> None:
        """Advance every simulation by one minute and sample its figures."""
        if not self.sims or self.now_min >= self.horizon_min:
            self.running = False
            return
        for sim, tracker in zip(self.sims, self.trackers, strict=True):
            sim.step()
            tracker.sample()


def clock_text(now_min: float) -> str:
    """'Day 2, 14:05' for a time in minutes (day 1 starts at minute 0)."""
    day, minute = divmod(math.floor(now_min), int(MIN_PER_DAY))
    return f"Day {day + 1}, {minute // 60:02d}:{minute % 60:02d}"


def _safe_seed(seed: str | int) -> int:
    try:
        return parse_seed(seed)
    except SimInputError:
        return 0
