"""Figures that cannot be trusted say so; outputs replace nothing of the user's (issue 27)."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pandas as pd
import pytest
from inputs_support import START, make_table, small_raw
from model_support import erlang_c, point_raw, scenario

from sim.analysis.replications import run_once, run_tasks
from sim.calls.replay import load_trace
from sim.cli import main
from sim.errors import SimInputError
from sim.measures.censoring import overload_state, queue_bound, queue_saturated
from sim.network.world import build_world
from sim.planning.verdicts import offices_verdict, staffing_verdict
from sim.registry import DISPATCH_POLICIES
from sim.reporting.outputs import check_file, check_folder
from sim.reporting.replay_check import best_start_day, replay_warning
from sim.scenarios.load import validate
from sim.sweeps.sensitivity import untrustworthy


# -- sensitivity indices ------------------------------------------------------------------
def _indices(rows):
    return pd.DataFrame(rows, columns=["metric", "parameter", "S1", "S1_conf", "ST", "ST_conf"])


def test_impossible_sobol_indices_warn_with_the_samples_needed():
    frame = _indices([["m", "a", 1.2, 1.4, 0.9, 0.1], ["m", "b", 0.3, 0.05, 0.4, 0.05]])
    text = untrustworthy(frame, samples=16)
    # S1 = 1.2 +- 1.4: the half-width must fall to 0.5 (half of min(1.2, 1)); it falls as
    # 1/sqrt(samples): 16 x (1.4 / 0.5)^2 = 125.4 -> 128, the next power of 2
    assert text.startswith("WARNING: 1 indices outside [0, 1]")
    assert "m / a: S1 = 1.20±1.40" in text and "samples: 128 in the spec (now 16)" in text


def test_an_interval_wider_than_the_index_warns_and_tight_ones_do_not():
    wide = _indices([["m", "a", 0.1, 0.2, 0.15, 0.05]])
    # half-width 0.2 must fall to 0.05 (the floor): 16 x 4^2 = 256
    assert "samples: 256" in untrustworthy(wide, samples=16)
    tight = _indices([["m", "a", 0.1, 0.02, 0.15, 0.05], ["m", "b", 0.0, 0.0, 0.0, 0.0]])
    assert untrustworthy(tight, samples=16) is None


def test_morris_flags_only_wide_intervals():
    frame = pd.DataFrame(
        [["m", "a", 3.0, 4.0, 1.0, 1.0], ["m", "b", 3.0, 1.0, 1.0, 1.0]],
        columns=["metric", "parameter", "mu_star", "mu_star_conf", "sigma", "mu"],
    )
    text = untrustworthy(frame, samples=10)
    assert "1 indices with a 95% interval wider" in text and "m / a" in text
    # mu* is not bounded by 1: the half-width 4.0 must fall to 1.5, 10 x (4 / 1.5)^2 = 71.1
    assert "samples: 72 in the spec (now 10)" in text


# -- plans --------------------------------------------------------------------------------
def test_staffing_verdict_names_each_target_and_whether_it_was_met():
    check = pd.DataFrame(
        {
            "hour": [0, 1, 2],
            "calls_simulated": [10, 30, 0],
            "p_wait_simulated": [0.05, 0.2, np.nan],
            "within_simulated": [0.9, 0.7, np.nan],
        }
    )
    text = staffing_verdict(check, {"wait": 0.1, "share": 0.8, "within_min": 5.0})
    assert "P(wait) <= 0.1: met in 1 of 2 hours (simulated 0.05-0.20, all calls 0.16)" in text
    assert "80% within 5 min: met in 1 of 2 hours (simulated 0.70-0.90, all calls 0.75)" in text
    assert text.endswith("the plan does NOT meet P(wait) <= 0.1 and 80% within 5 min in every hour")
    good = check.assign(p_wait_simulated=[0.0, 0.1, np.nan], within_simulated=[0.8, 0.9, np.nan])
    assert staffing_verdict(good, {"wait": 0.1, "share": 0.8, "within_min": 5.0}).endswith(
        "the plan meets both targets in every hour"
    )


def test_offices_verdict_says_when_a_plan_is_worse_than_the_layout():
    summary = {
        "plan_mean_travel_min": 1.2, "current_mean_travel_min": 1.0,
        "plan_within_3_min": 1.0, "current_within_3_min": 0.9,
    }  # fmt: skip
    text = offices_verdict(summary)
    assert "mean travel 1.20 vs 1.00 min" in text and "within 3 min 100% vs 90%" in text
    assert text.endswith("the plan is WORSE than the current layout on mean travel")
    better = {**summary, "plan_mean_travel_min": 0.8}
    assert offices_verdict(better).endswith("better than or equal to the current layout on "
                                            "every figure")  # fmt: skip


# -- replay --------------------------------------------------------------------------------
def test_best_start_day_finds_the_window_with_most_rows():
    days = np.array([0.2, 365.1, 365.5, 366.0, 370.9, 380.0])
    assert best_start_day(days, 7.0) == 365.0


def test_a_stray_early_row_warns_and_names_the_start(tmp_path):
    world = build_world(validate(small_raw(), "<test>"))
    table = make_table(world, days=5.0)
    stray = table.iloc[[0]].assign(time=(START - pd.Timedelta(days=365)).strftime("%F %T"))
    pd.concat([stray, table]).to_csv(tmp_path / "calls.csv", index=False)
    sc = validate(small_raw(trace=tmp_path / "calls.csv"), "<test>")
    trace = load_trace(sc, world)
    text = replay_warning(trace, "small", sc.horizon_min / 1440)
    assert f"200 of {len(table) + 1} rows rejected (100%)" in text
    assert re.search(r"its rows span 3(6[5-9]|70) days against a run of 6 days", text)
    assert f"--start {START:%Y-%m-%d}" in text
    # starting there, every row but the stray one is replayed: no warning about rejects
    fixed = validate(small_raw(trace=tmp_path / "calls.csv", trace_start=str(START)), "<t>")
    text = replay_warning(load_trace(fixed, world), "small", fixed.horizon_min / 1440)
    assert "rows rejected" not in text and "already starts where the most rows are" in text


def test_a_replay_that_fits_its_horizon_does_not_warn(tmp_path):
    world = build_world(validate(small_raw(), "<test>"))
    make_table(world, days=5.9).to_csv(tmp_path / "calls.csv", index=False)
    sc = validate(small_raw(trace=tmp_path / "calls.csv"), "<test>")
    assert replay_warning(load_trace(sc, world), "small", sc.horizon_min / 1440) is None


# -- overload from the queue -------------------------------------------------------------
def test_queue_rules_at_their_edges():
    assert queue_saturated(0.7, 50.0, 45.0) and not queue_saturated(0.6, 50.0, 45.0)
    assert not queue_saturated(0.7, 40.0, 45.0) and not queue_saturated(0.9, 99.0, None)
    assert queue_bound(0.5, 5.0, 10.0) and not queue_bound(0.49, 9.0, 10.0)
    assert not queue_bound(0.9, 4.9, 10.0)
    assert overload_state({"overloaded": True}) == "yes"
    assert overload_state({"overloaded": False, "queue_bound": True}) == "near: queue-bound"
    assert overload_state({"overloaded": False, "queue_bound": False}) == "no"


@pytest.mark.parametrize(
    ("rate_per_hour", "state"),
    [(2.0, "no"), (3.0, "near: queue-bound"), (3.6, "yes")],  # rho = 0.5, 0.75, 0.9
)
def test_overload_state_of_mmc_follows_erlang_c(rate_per_hour, state):
    p_wait, wq = erlang_c(3, rate_per_hour / 60, 45.0)
    # the theory behind each row: 24% / 57% / 83% wait; 7 / 34 / 124 min against 45 min
    assert (p_wait >= 0.5, wq > 45.0) == {"no": (False, False),
                                          "near: queue-bound": (True, False),
                                          "yes": (True, True)}[state]  # fmt: skip
    sc = scenario(point_raw(rate_per_hour=rate_per_hour, days=300, replications=1))
    summary = run_once(sc)[2]
    assert overload_state(summary) == state
    assert summary["offered_load"]["all units"] < 1  # rho < 1: one test alone said "no"


# -- a dispatch policy that answers wrongly ---------------------------------------------
@pytest.fixture
def policy():
    """Register a dispatch policy for one test; return a scenario that uses it."""
    names = []

    def use(name, fn, **raw):
        DISPATCH_POLICIES.register(name, pools="shared")(fn)
        names.append(name)
        data = point_raw(**raw)
        data["dispatch"]["policy"] = name
        return scenario(data)

    yield use
    for name in names:
        DISPATCH_POLICIES.unregister(name)


def test_a_policy_returning_something_else_is_one_clear_error(policy):
    sc = policy("bad", lambda model, call, candidates: "unit 1", days=2, warmup_days=0)
    with pytest.raises(SimInputError, match="dispatch policy 'bad' returned 'unit 1' \\(str\\)"):
        run_once(sc)


def test_workers_with_a_policy_of_main_say_they_run_here(policy):
    def mine(model, call, candidates):
        return candidates[0] if candidates else None

    mine.__module__ = "__main__"
    sc = policy("mine", mine, days=1, warmup_days=0, replications=2)
    with pytest.warns(UserWarning, match="running in this process"):
        run_tasks([(sc, 0), (sc, 1)], workers=2, progress=False)


# -- outputs --------------------------------------------------------------------------------
def test_check_file_and_folder(tmp_path):
    (tmp_path / "f.json").write_text("{}")
    (tmp_path / "d").mkdir()
    (tmp_path / "ours").mkdir()
    (tmp_path / "ours" / "summary.json").write_text("{}")
    (tmp_path / "empty").mkdir()
    os.symlink(os.devnull, tmp_path / "null.json")
    assert check_file(tmp_path / "f.json", "--json") == tmp_path / "f.json"
    assert check_file(tmp_path / "new" / "deeper" / "x.json", "--json")  # parents made later
    for folder in ("ours", "empty", "new"):
        assert check_folder(tmp_path / folder) == tmp_path / folder
    with pytest.raises(SimInputError, match="a folder is there"):
        check_file(tmp_path / "d", "--json")
    with pytest.raises(SimInputError, match="a device is there"):
        check_file(tmp_path / "null.json", "--json")  # a link to a device is a device
    with pytest.raises(SimInputError, match="a file is there"):
        check_folder(tmp_path / "f.json")
    (tmp_path / "d" / "mine.txt").write_text("mine")
    with pytest.raises(SimInputError, match="not a results folder"):
        check_folder(tmp_path / "d")
    with pytest.raises(SimInputError, match="is a file, not a folder"):
        check_file(tmp_path / "f.json" / "x.json", "--json")


# -- assumed or emergent -------------------------------------------------------------------
def test_the_table_and_summary_mark_each_figure(tmp_path, capsys):
    out = tmp_path / "r"
    argv = ["run", "--scenario", "central", "--days", "2", "--reps", "2", "--workers", "1",
            "--quiet", "--out", str(out), "--json", str(tmp_path / "s.json")]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "kind: input = set in the scenario; assumed = set by an ASSUMPTION" in printed
    cells = [re.split(r"\s{2,}", line.strip()) for line in printed.splitlines()]
    rows = {c[0]: c[-1] for c in cells if len(c) >= 3}
    assert rows["response mean (min)"] == "emergent"
    assert rows["time: other duties"] == "assumed" and rows["calls per week"] == "input"
    kinds = json.loads((out / "summary.json").read_text())["central"]["figure_kinds"]
    other = kinds["time_budget.overall.other_duties"]
    assert other["kind"] == "assumed" and other["set_by"] == "units.N.other_duty.share"
    assert "pulled into other duties" in other["source"] and "[0.15, 0.45]" in other["source"]
    assert kinds["response_min.mean"] == {"kind": "emergent"}
    assert json.loads((tmp_path / "s.json").read_text())["figure_kinds"] == kinds
    table = pd.read_csv(out / "comparison.csv", index_col=0)
    assert table.loc["time: patrol", "kind"] == "assumed"
