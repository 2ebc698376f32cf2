"""Staffing by hour (Erlang C) and the shift integer program."""

from __future__ import annotations

import numpy as np
import pytest
from model_support import point_raw, scenario

from sim.errors import SimInputError
from sim.planning import check_staffing, plan_staffing
from sim.planning.staffing import (
    coverage,
    erlang_c,
    p_response_within,
    shift_plan,
    units_needed,
)


def test_erlang_c_matches_the_textbook_value():
    assert erlang_c(3, 1.5) == pytest.approx(0.2368, abs=1e-4)
    assert erlang_c(1, 0.5) == pytest.approx(0.5)
    assert erlang_c(2, 2.0) == 1.0  # unstable


@pytest.mark.parametrize(("rate_per_hour", "alpha", "beta"), [(2, 0.1, 0.8), (6, 0.05, 0.9)])
def test_units_needed_is_the_smallest_meeting_both_targets(rate_per_hour, alpha, beta):
    rate, busy = rate_per_hour / 60, 45.0
    lead, weights = np.array([1.0, 3.0, 4.5]), np.array([0.5, 0.3, 0.2])
    c = units_needed(rate, busy, alpha, beta, 5.0, lead, weights)

    def meets(k):
        return erlang_c(k, rate * busy) <= alpha and (
            p_response_within(k, rate, busy, 5.0, lead, weights) >= beta
        )

    assert meets(c)
    assert not meets(c - 1)


@pytest.mark.parametrize(
    ("need", "lengths", "least_paid"),
    [
        ([1] * 8 + [2] * 8 + [1] * 8, (8, 12), 32),  # the lower bound sum(need) is reachable
        ([1] * 24, (12,), 24),
        ([1] * 10 + [0] * 14, (8,), 16),  # 10 hours need two 8-hour shifts
        ([0] * 6 + [3] * 10 + [1] * 8, (8, 10, 12), 38),
    ],
)
def test_shift_plan_covers_every_hour_at_least_cost(need, lengths, least_paid):
    need = np.array(need)
    plan = shift_plan(need, lengths)
    assert (coverage(plan) >= need).all()
    assert sum(hours * n for _, hours, n in plan) == least_paid


def test_staffing_plan_on_a_pooled_queue_checked_by_simulation(tmp_path):
    base = scenario(point_raw(units=3, rate_per_hour=2.0, days=40, replications=2))
    plan = plan_staffing(base, wait=0.25, within_min=10.0, share=0.5, shift_hours=(8,))
    assert (plan.table["units_on_duty"] == 3).all()  # Erlang C: 3 gives 0.237, 2 gives 0.64
    assert (plan.table["units_on_shift"] >= plan.table["units_scheduled"]).all()
    assert sum(g.count for g in plan.scenario.units) == 9  # 3 eight-hour shifts of 3
    check = check_staffing(plan)
    simulated = np.average(check["p_wait_simulated"], weights=check["calls_simulated"])
    assert simulated == pytest.approx(0.2368, abs=0.06)


def test_unreachable_targets_say_what_can_be_met():
    with pytest.raises(SimInputError, match=r"leave [\d.]+% within it"):
        plan_staffing("embedded", wait=0.1, within_min=1.0, share=0.9)
    with pytest.raises(SimInputError, match="--wait"):
        plan_staffing("embedded", wait=0.0)
