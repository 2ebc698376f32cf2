"""The numbers beside each map: the model's own summary figures, so far.

Computed with the same functions as ``PatrolModel.summary()`` (``sim.analysis``), so what
the page shows equals the summary at the same simulated time. Units' time per state is first
counted up to now (``Unit.close_books``, which only books the time of the current state).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.agents.unit import UnitState
from sim.measures.metrics import CallColumns, call_figures, utilization
from sim.measures.records import call_records
from sim.model import PatrolModel
from sim.viz.messages import t
from sim.viz.style import state_name


@dataclass(frozen=True)
class Readout:
    """Figures of one model so far (None: nothing to measure yet)."""

    calls: int
    answered: int
    waiting: int
    longest_wait_min: float | None  # the longest a call now waiting has waited (None: none)
    response_mean: float | None
    response_p90: float | None
    within_3: float | None
    within_5: float | None
    resolution: float | None
    budget: dict[str, float | None]  # share of unit time by state name (UnitState order)


class LiveReadout:
    """The figures of one model, the call figures recomputed only when a call changed.

    ``changes()`` says how many calls have arrived, been reached and been cleared (e.g. a
    ``Tracker``'s counters); while it gives the same, the call figures are reused (building
    the call records costs some 6-15 ms; the time budget is recomputed every time).
    """

    def __init__(self, model: PatrolModel, changes=lambda: None):
        self.model = model
        self.changes = changes
        self._key: object = object()
        self._figures: dict | None = None

    def now(self) -> Readout:
        """The figures now (call it while the model does not advance)."""
        key = self.changes()
        if key is None or key != self._key or self._figures is None:
            self._figures = call_figures_now(self.model)
            self._key = key
        return _readout(self.model, self._figures)


def call_figures_now(model: PatrolModel) -> dict:
    """The call figures of the summary (calls after warm-up) at the model's time."""
    records = call_records(model)
    return call_figures(CallColumns(records[~records["in_warmup"]]))


def readout(model: PatrolModel) -> Readout:
    """The model's figures now (call it while the model does not advance)."""
    return _readout(model, call_figures_now(model))


def _readout(model: PatrolModel, figures: dict) -> Readout:
    now = model.time
    for unit in model.units:
        unit.close_books(now)
    state_min = np.array([u.state_min for u in model.units]).reshape(-1, len(UnitState))
    response, within = figures["response_min"], figures["within_target"]
    return Readout(
        calls=figures["calls"],
        answered=figures["answered"],
        waiting=len(model.queue),
        longest_wait_min=max((now - call.t_call for call in model.queue), default=None),
        response_mean=response["mean"],
        response_p90=response["p90"],
        within_3=within["3"],
        within_5=within["5"],
        resolution=figures["resolution_rate"],
        budget=utilization(state_min)["by_state"],
    )


def rows(r: Readout) -> list[tuple[str, str]]:
    """(label, value) pairs for the page."""
    calls = t("calls_value", calls=r.calls, answered=r.answered, waiting=r.waiting)
    return [
        (t("calls_so_far"), calls),
        (t("mean_response_row"), _minutes(r.response_mean)),
        (t("p90_row"), _minutes(r.response_p90)),
        (t("within_3_row"), _percent(r.within_3)),
        (t("within_5_row"), _percent(r.within_5)),
        (t("solved_row"), _percent(r.resolution)),
        (t("unit_time"), budget_text(r.budget)),
    ]


def budget_text(budget: dict[str, float | None]) -> str:
    """'idle 81%, en route 4%, ...' (states with no time left out)."""
    parts = [
        f"{state_name(state)} {share:.0%}"
        for state in UnitState
        if (share := budget.get(state.name.lower())) is not None and share >= 0.005
    ]
    return ", ".join(parts) or "-"


def _minutes(value: float | None) -> str:
    return "-" if value is None else t("minutes", value=f"{value:.1f}")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"
