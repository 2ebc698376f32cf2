"""One browser session's simulation(s): one scenario, or two side by side on the same calls.

Bad control values never raise: the app model then holds no simulation and ``error`` says
what to fix, for the page to show. Every change and every read of the models happens under
``lock``, so the play loop and the page's buttons never step or draw a model at once.
"""

from __future__ import annotations

import logging
import threading

from sim.errors import SimInputError
from sim.model import PatrolModel
from sim.network.world import build_world
from sim.viz.checks import warnings_for
from sim.viz.clock import clock_text
from sim.viz.controls import Controls, build_scenarios
from sim.viz.motion import MotionRecorder
from sim.viz.readouts import LiveReadout, Readout
from sim.viz.series import SAMPLE_MIN, Tracker

__all__ = ["AppModel", "clock_text"]

log = logging.getLogger(__name__)
MOTION_MAX_MIN = 60  # advances up to this long record the units' street paths for the page


class AppModel:
    """The page's simulations; ``advance(n)`` runs them ``n`` simulated minutes on."""

    def __init__(self, controls: Controls | None = None):
        self.controls = controls or Controls()
        self.lock = threading.RLock()
        self.error: str | None = None
        self.warnings: list[str] = []
        self.sims: list[PatrolModel] = []
        self.trackers: list[Tracker] = []
        self._readouts: list[LiveReadout] = []
        self.motions: list[MotionRecorder] = []  # each model's street paths of the last advance
        self.seen_seq = -1  # the last frame (``frame_seq``) the page's map confirmed
        try:
            self._build(self.controls)
        except SimInputError as exc:
            self._fail(str(exc))
        except Exception as exc:  # a student sees a message, the server log the traceback
            log.exception("could not build the model from %s", self.controls)
            from sim.viz.messages import t

            self._fail(t("could_not_build", error=exc))

    def _build(self, controls: Controls) -> None:
        for scenario in build_scenarios(controls):
            sim = PatrolModel(scenario, world=build_world(scenario))
            self.sims.append(sim)
            tracker = Tracker(sim)
            self.trackers.append(tracker)
            self._readouts.append(LiveReadout(sim, tracker.changes))
            self.warnings.extend(warnings_for(scenario))
        start = min(controls.start_hour * 60.0, self.horizon_min)
        while self.now_min < start:  # in sample-sized steps: the charts start filled
            self._run_to(min(self.now_min + SAMPLE_MIN, start))
        self.motions = [MotionRecorder(sim) for sim in self.sims]

    def _fail(self, message: str) -> None:
        self.error = message
        self.sims, self.trackers, self.warnings, self._readouts = [], [], [], []
        self.motions = []

    @property
    def names(self) -> list[str]:
        """The scenarios' names, in page order."""
        return [sim.scenario.name for sim in self.sims]

    @property
    def now_min(self) -> float:
        """Simulated minutes since the start."""
        return self.sims[0].time if self.sims else 0.0

    @property
    def horizon_min(self) -> float:
        """The end of the run (the shortest of the scenarios)."""
        return min((s.horizon_min for s in self.sims), default=0.0)

    @property
    def finished(self) -> bool:
        """True at the end of the run (or when there is nothing to run)."""
        return not self.sims or self.now_min >= self.horizon_min

    def advance(self, minutes: int) -> bool:
        """Run every simulation ``minutes`` on, minute by minute; True when the run is over."""
        with self.lock:
            end = min(self.now_min + max(int(minutes), 0), self.horizon_min)
            for motion in self.motions:
                motion.start()
            record = minutes <= MOTION_MAX_MIN  # a longer jump is not replayed
            while self.now_min < end:
                self._run_to(self.now_min + 1.0)
                for motion in self.motions if record else ():
                    motion.sample()
            for motion in self.motions if not record else ():
                motion.sample()  # only where the units are now
            return self.finished

    def _run_to(self, t_min: float) -> None:
        for sim, tracker in zip(self.sims, self.trackers, strict=True):
            sim.run_until(t_min)
            tracker.sample()

    def frame_seq(self) -> int:
        """The number of the last advance's frame (the first map's ``motion["seq"]``)."""
        return self.motions[0].seq if self.motions else -1

    def confirm_frame(self, seq: int) -> None:
        """The page's map took the frame ``seq`` (it tells the play loop how far it is)."""
        self.seen_seq = max(self.seen_seq, int(seq))

    def readouts(self) -> list[Readout]:
        """Each simulation's summary figures now."""
        with self.lock:
            return [live.now() for live in self._readouts]

    def settings_text(self) -> str:
        """The controls this model was built with, in words."""
        from sim.viz.messages import t

        c = self.controls
        same = t("as_in_scenario_short")
        units = same if c.units_per_office == 0 else str(c.units_per_office)
        policy = c.policy if not c.policy.startswith("(") else same
        return t("settings_text", seed=c.seed, rate=f"{c.rate_multiplier:g}", units=units,
                 policy=policy, hour=f"{c.start_hour:02d}")  # fmt: skip
