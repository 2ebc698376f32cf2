"""Outcomes (issue 4): resolution, familiarity, lateness, repeats, escalation, case work,
community work and bulletins."""

from __future__ import annotations

import copy
import math
import re

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis.replications import run_once, run_replications
from sim.measures.metrics import mean_ci
from sim.outcomes.resolution import lateness_bands, lateness_probability
from sim.reporting.bulletins import weekly_bulletins
from sim.scenarios.load import find_scenario, load_scenario, read_raw, validate
from sim.scenarios.outcomes import Lateness

TIMING = ["id", "type", "node", "t_call", "t_ready", "t_assigned", "t_arrive", "t_clear", "unit"]


def one_office_raw(days: float = 120, reps: int = 1, **call_type) -> dict:
    """One community with one office unit on the point network (travel takes no time)."""
    kind = {
        "name": "dispute",
        "share": 1,
        "priority": 2,
        "service_min": {"dist": "exponential", "mean": 30},
        **call_type,
    }
    return {
        "name": "one_office",
        "days": days,
        "warmup_days": 0,
        "seed": 3,
        "replications": reps,
        "network": {"kind": "point"},
        "communities": [{"name": "c", "population": 10000}],
        "posts": [{"name": "office", "kind": "office", "community": "c"}],
        "units": [{"post": "office", "count": 4, "tenure_years": 3}],
        "calls": {"rate_per_hour": 0.5, "hourly_profile": "flat", "types": [kind]},
    }


def district_raw(name: str) -> dict:
    return read_raw(find_scenario(name))


def run_records(raw: dict, replication: int = 0) -> pd.DataFrame:
    return run_once(validate(raw), replication)[1]


# -- switching a mechanism off, or making it neutral, changes nothing else ---------------
NEUTRAL_VARIANTS = {
    "escalation_probability_0": lambda r: _types(r, escalation={"to": "other", "probability": 0}),
    "repeat_probability_0": lambda r: _types(r, repeat={"probability": 0.0}),
    "repeat_max_0": lambda r: _types(r, repeat={"max_repeats": 0}),
    "case_work_0": lambda r: r.setdefault("outcomes", {}).update(case_work_min=0),
    "follow_through_zero": lambda r: r.setdefault("outcomes", {}).update(
        follow_through={"enabled": True, "extra_min": 0, "p_boost": 0}
    ),
    "community_work_no_problems": lambda r: r.update(
        community_work={
            "enabled": True,
            "problems_per_community_per_week": 0,
            "call_type": "dispute",
        }
    ),
    "prevention_0": lambda r: r.update(bulletins={"prevention": {"dispute": 0.0}}),
}


def _types(raw: dict, **extra) -> None:
    raw["calls"]["types"][0].update(extra)
    raw["calls"]["types"].append({"name": "other", "share": 1e-9, "priority": 1, "service_min": 10})


@pytest.mark.parametrize("variant", sorted(NEUTRAL_VARIANTS))
def test_a_neutral_mechanism_leaves_every_record_unchanged(variant):
    base = one_office_raw(days=40, p_familiar=0.7, p_unfamiliar=0.3)
    if variant.startswith(("escalation", "repeat")):
        _types(base)  # the same call types on both sides
        base["calls"]["types"] = base["calls"]["types"][:2]
    changed = copy.deepcopy(base)
    NEUTRAL_VARIANTS[variant](changed)
    if variant.startswith(("escalation", "repeat")):
        changed["calls"]["types"] = changed["calls"]["types"][:2]
    a, b = run_records(base), run_records(changed)
    assert len(a) > 500
    pd.testing.assert_frame_equal(a, b)


def test_resolution_parameters_do_not_move_any_time_when_nothing_follows():
    low = run_records(one_office_raw(days=40, p_familiar=0.2, p_unfamiliar=0.1))
    high = run_records(one_office_raw(days=40, p_familiar=0.9, p_unfamiliar=0.8))
    pd.testing.assert_frame_equal(low[TIMING], high[TIMING])
    assert high["resolved"].mean() > low["resolved"].mean() + 0.5


# -- familiarity ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tenure_years", "gain", "expected"), [(1000.0, 0.02, 0.8), (0.0, 0.0, 0.3)]
)
def test_full_and_zero_familiarity_give_p_familiar_and_p_unfamiliar(tenure_years, gain, expected):
    raw = one_office_raw(days=200, reps=4, p_familiar=0.8, p_unfamiliar=0.3)
    raw["units"][0]["tenure_years"] = tenure_years
    raw["outcomes"] = {
        "familiarity": {"gain_per_call": gain, "gain_per_day_posted": gain, "decay_per_day": 0.0}
    }
    result = run_replications(validate(raw), progress=False)
    rates = [s["resolution_rate"] for s in result.summaries]
    mean, half = mean_ci(rates)
    assert abs(mean - expected) <= max(half, 0.005), (mean, half)
    assert half < 0.03
    familiarity = result.records["familiarity"].dropna()
    full = tenure_years > 0
    assert (familiarity > 0.999).all() if full else (familiarity == 0).all()


def test_familiarity_grows_with_calls_handled_and_time_posted():
    raw = one_office_raw(days=60, p_familiar=0.8, p_unfamiliar=0.3)
    raw["units"][0]["tenure_years"] = 0.1
    raw["outcomes"] = {"familiarity": {"start": "tenure"}}
    records = run_records(raw)
    first, last = records["familiarity"].iloc[:50].mean(), records["familiarity"].iloc[-50:].mean()
    assert 0.05 < first < last < 1


def test_station_units_start_spread_thin_with_the_tenure_start():
    scenario = load_scenario("central", ["outcomes.familiarity.start=tenure"])
    _, records, _ = run_once(scenario)
    start = 1 - math.exp(-1.0 / 1.5)
    first = records.dropna(subset=["familiarity"]).iloc[0]
    assert first["familiarity"] == pytest.approx(start / 5, rel=0.05)


# -- lateness ---------------------------------------------------------------------------
LINEAR = Lateness(shape="linear")


def test_lateness_follows_the_published_estimate_at_the_reference():
    spec = Lateness()  # log-odds: the published local slope at the reference, any base p
    for p in (0.1, 0.35, 0.8):
        assert lateness_probability(p, 10.0, spec) == pytest.approx(p, abs=1e-15)
        up, down = (lateness_probability(p, 10.0 * math.exp(h), spec) for h in (1e-5, -1e-5))
        slope = (up - down) / 2e-5  # d p / d ln(response) at the reference
        assert slope * math.log(1.1) == pytest.approx(-0.047, rel=1e-3)  # -4.7 pp per 10%
    # linear in pp (the older rule): exact, no cap inside 2-60 min, the nearer end outside
    assert lateness_probability(0.35, 11.0, LINEAR) == pytest.approx(0.35 - 0.047)
    assert lateness_probability(0.35, 10.0 / 1.1, LINEAR) == pytest.approx(0.35 + 0.047)
    assert lateness_probability(0.35, 1e6, LINEAR) == lateness_probability(0.35, 60.0, LINEAR)
    assert lateness_probability(0.35, 15.0, Lateness(max_pp=1.0)) == pytest.approx(0.34)
    assert lateness_probability(0.35, 15.0, Lateness(pp_per_10pct=0)) == 0.35


def test_lateness_on_the_log_odds_scale_has_no_floor():
    spec = Lateness()
    curve = [lateness_probability(0.35, t, spec) for t in range(1, 61)]
    assert np.all(np.diff(curve) <= 0)  # later is never better
    assert min(curve[11:]) > 0.005  # from 12 min on: lower, never 0 (the linear rule: 0)
    assert lateness_probability(0.35, 60.0, LINEAR) == 0.0
    # logit-linear in log time: equal steps in log time, equal steps in log-odds
    logit = [math.log(p / (1 - p)) for p in (lateness_probability(0.35, t, spec)
                                               for t in (5.0, 10.0, 20.0, 40.0))]  # fmt: skip
    assert np.diff(logit) == pytest.approx([np.diff(logit)[0]] * 3)
    assert lateness_probability(0.0, 2.0, spec) == 0.0 and lateness_probability(1.0, 60, spec) == 1


def test_the_slope_by_band_shows_where_the_effect_flattens():
    bands = lateness_bands(0.35, Lateness())
    assert list(bands) == ["1-5", "5-15", "15-60"]
    assert all(slope < 0 for slope in bands.values())
    assert bands["15-60"] > bands["5-15"]  # flatter late, where the chance is low
    linear = lateness_bands(0.35, LINEAR)
    assert linear["15-60"] > linear["5-15"] == pytest.approx(-4.7)  # pp floor at 0: flat


def test_analysis_reports_the_lateness_curve_by_band():
    curve = sim.lateness_curve(load_scenario("central"))
    assert len(curve) > 0 and {"p_1_min", "p_60_min", "pp_per_10pct_15-60_min"} <= set(curve)
    assert (curve["p_60_min"] > 0).all() and (curve["p_1_min"] <= 1).all()
    linear = sim.lateness_curve(load_scenario("central", ["outcomes.lateness.shape=linear"]))
    assert (linear["p_60_min"] == 0).any()  # the older rule's floor, for comparison


# -- escalation -------------------------------------------------------------------------
def test_a_call_escalates_exactly_when_nobody_arrives_before_its_escalation_time():
    raw = one_office_raw(
        days=30,
        escalation={"to": "assault", "probability": 1.0, "after_min": 5.0},
    )
    raw["calls"]["types"].append(
        {"name": "assault", "share": 1e-9, "priority": 1, "criminal": True, "service_min": 30}
    )
    raw["dispatch"] = {"delay_min": {"dist": "uniform", "low": 0, "high": 10}}
    records = run_records(raw)
    answered = records[records["t_arrive"].notna()]
    assert len(answered) > 200
    late = answered["response_min"] > 5.0
    assert 0.2 < late.mean() < 0.8
    assert (answered["escalated"] == late).all()
    assert (answered.loc[late, "type"] == "assault").all()
    assert (answered.loc[late, "first_type"] == "dispute").all()
    assert (answered.loc[~late, "type"] == "dispute").all()


def test_escalation_raises_the_priority_of_a_waiting_call():
    raw = one_office_raw(days=30, escalation={"to": "urgent", "probability": 1.0, "after_min": 1})
    raw["calls"]["types"][0]["priority"] = 3
    raw["calls"]["types"].append(
        {"name": "urgent", "share": 1e-9, "priority": 1, "service_min": 30}
    )
    _, records, _ = run_once(validate(raw))
    escalated = records[records["escalated"]]
    assert (escalated["priority"] == 1).all()
    assert set(records.loc[~records["escalated"], "priority"]) <= {3}


# -- repeats ----------------------------------------------------------------------------
@pytest.mark.parametrize(("p_resolve", "max_repeats"), [(0.6, 2), (0.3, 3)])
def test_repeat_rate_matches_its_expectation(p_resolve, max_repeats):
    raw = one_office_raw(
        days=200,
        reps=4,
        p_resolve=p_resolve,
        repeat={"probability": 1.0, "delay_days": 0.01, "max_repeats": max_repeats},
    )
    result = run_replications(validate(raw), progress=False)
    expected_repeats = sum((1 - p_resolve) ** k for k in range(1, max_repeats + 1))
    expected = expected_repeats / (1 + expected_repeats)
    mean, half = mean_ci([s["repeat_rate"] for s in result.summaries])
    assert abs(mean - expected) <= max(half, 0.005), (mean, half, expected)
    records = result.records
    repeats = records[records["repeat_of"].notna()]
    firsts = records.set_index(["replication", "id"])
    for row in repeats.head(200).itertuples():
        first = firsts.loc[(row.replication, int(row.repeat_of))]
        assert pd.isna(first["repeat_of"]) and first["node"] == row.node
        assert first["t_call"] < row.t_call


# -- case work and follow-through -------------------------------------------------------
def test_case_team_frees_units_and_case_work_shows_in_utilisation():
    without = validate(district_raw("central"))
    raw = district_raw("central")
    raw["outcomes"]["case_team"] = True
    with_team = validate(raw)
    follow_without = run_once(without)[2]["utilization"]["by_state"]["follow_up"]
    follow_with = run_once(with_team)[2]["utilization"]["by_state"]["follow_up"]
    assert follow_without > 0.01
    assert follow_with == 0


def test_follow_through_costs_time_and_raises_resolution():
    raw = one_office_raw(days=100, p_familiar=0.5, p_unfamiliar=0.5)
    plain = run_once(validate(raw))[2]
    raw["outcomes"] = {"follow_through": {"enabled": True, "extra_min": 20, "p_boost": 0.2}}
    through = run_once(validate(raw))[2]
    assert through["utilization"]["by_state"]["follow_up"] > 0.01
    assert plain["utilization"]["by_state"]["follow_up"] == 0
    assert through["resolution_rate"] - plain["resolution_rate"] == pytest.approx(0.2, abs=0.05)


# -- community work ---------------------------------------------------------------------
def test_a_detected_problem_stops_calling_after_its_fix_time():
    raw = district_raw("embedded")
    raw["days"] = 120
    raw["community_work"]["problems_per_community_per_week"] = 1.0
    raw["community_work"]["calls_per_problem_per_week"] = 3.0
    model, records, summary = run_once(validate(raw))
    problems = model.community_work.problems
    detected = [p for p in problems if not math.isnan(p.t_detected)]
    assert len(detected) > 10 and summary["problems"]["detected"] > 0
    caused = records.dropna(subset=["problem"])
    for problem in problems:
        times = caused.loc[caused["problem"] == problem.id, "t_call"]
        assert (times < problem.t_fixed).all()
        assert (times >= problem.t_appear).all()
    stopped = [p for p in detected if (p.call_times >= p.t_fixed).any()]
    assert stopped, "some detected problem would have called again after its fix"


def test_only_office_units_detect_problems():
    central, embedded = (validate(district_raw(n)) for n in ("central", "embedded"))
    cm, _, cs = run_once(central)
    em, _, es = run_once(embedded)
    assert cs["problems"]["detected"] == 0 and es["problems"]["detected"] > 0
    # the same problems appear in both (common random numbers)
    assert [p.t_appear for p in cm.community_work.problems] == [
        p.t_appear for p in em.community_work.problems
    ]


# -- bulletins --------------------------------------------------------------------------
def test_bulletin_counts_equal_the_records():
    scenario = load_scenario("embedded")
    _, records, _ = run_once(scenario)
    bulletins = weekly_bulletins(records, scenario)
    offices = [p for p in scenario.posts if p.kind == "office"]
    assert len(bulletins) == len(offices) * int(scenario.days // 7)
    counted = records[~records["in_warmup"]]
    for b in bulletins:
        start = scenario.warmup_min + (b.week - 1) * 7 * 1440
        mine = counted[
            (counted["community"] == b.community)
            & (counted["t_call"] >= start)
            & (counted["t_call"] < start + 7 * 1440)
        ]
        zh = re.search(r"共接报警(\d+)起,其中刑事类警情(\d+)起", b.zh)
        en = re.search(r"received (\d+) calls, (\d+) of them criminal", b.en)
        assert (int(zh[1]), int(zh[2])) == (len(mine), int(mine["criminal"].sum()))
        assert (int(en[1]), int(en[2])) == (len(mine), int(mine["criminal"].sum()))
        assert sum(b.by_type.values()) == len(mine)


@pytest.mark.slow
def test_bulletins_are_calibrated_to_the_source():
    """The source's office: 18 calls a week, 3 of them criminal."""
    scenario = load_scenario("embedded")
    calls, criminal = [], []
    for rep in range(5):
        _, records, _ = run_once(scenario, rep)
        for b in weekly_bulletins(records, scenario):
            calls.append(b.calls)
            criminal.append(b.criminal)
    assert 15 <= np.mean(calls) <= 21
    assert 2 <= np.mean(criminal) <= 4


def test_bulletin_command_prints_one(capsys):
    from sim.cli import main

    assert main(["bulletin", "--scenario", "embedded", "--week", "2", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "第2周" in out and "共接报警" in out
    assert main(["bulletin", "--scenario", "central"]) == 2
    assert "no community office" in capsys.readouterr().err


def test_prevention_lowers_that_type_only():
    raw = district_raw("embedded")
    base = run_once(validate(raw))[1]
    raw["bulletins"] = {"prevention": {"fraud": 0.5}}
    prevented = run_once(validate(raw))[1]
    late = 7 * 1440
    count = lambda r, t: int(((r["first_type"] == t) & (r["t_call"] >= late)).sum())  # noqa: E731
    assert count(prevented, "fraud") < 0.8 * count(base, "fraud")
    assert count(base, "traffic") == count(prevented, "traffic")


# -- the reform's claim -----------------------------------------------------------------
@pytest.mark.slow
def test_embedded_solves_more_and_repeats_less_than_central():
    results = {
        name: run_replications(load_scenario(name), progress=False)
        for name in ("central", "embedded")
    }

    def ci(name, key):
        mean, half = mean_ci([s[key] for s in results[name].summaries])
        return mean - half, mean + half

    assert ci("embedded", "resolution_rate")[0] > ci("central", "resolution_rate")[1]
    assert ci("embedded", "repeat_rate")[1] < ci("central", "repeat_rate")[0]


def test_congestion_stretches_travel_by_the_hour_of_departure():
    raw = district_raw("embedded")
    raw["days"] = 84
    raw["dispatch"]["mobilisation_min"] = 0
    for group in raw["units"]:  # from the post: no patrol (units patrol on e-bike)
        group["patrol"] = {"policy": "stay"}
    raw["congestion_by_hour"] = [2.0 if 7 <= h < 10 else 1.0 for h in range(24)]
    model, jam, _ = run_once(validate(raw))
    router, posts = model.router, model.world.post_nodes
    jam = jam.dropna(subset=["t_arrive"])
    from_post = np.array(
        [  # free-flow minutes from the unit's post to the call
            router.time(posts[post], router.index[int(node)])
            for post, node in zip(jam["unit_post"], jam["node"], strict=True)
        ]
    )
    hour = jam["t_assigned"] // 60 % 24
    rush = ((hour >= 7) & (hour < 10)).to_numpy() & (from_post > 0)
    calm = ~((hour >= 7) & (hour < 10)).to_numpy() & (from_post > 0)
    travel = jam["travel_min"].to_numpy()
    doubled = np.isclose(travel, 2 * from_post, rtol=1e-9)
    plain = np.isclose(travel, from_post, rtol=1e-9)
    assert rush.sum() > 50 and doubled[rush].mean() > 0.6 and not plain[rush].any()
    assert plain[calm].mean() > 0.6 and not doubled[calm].any()
    from sim.model import PatrolModel

    model, checked = PatrolModel(validate(raw)), 0
    for t in range(3 * 1440, 30 * 1440, 3):  # the drawn route arrives with the trip
        model.run_until(t)
        for unit in model.units:
            if unit.trip is not None and unit.state.name in ("EN_ROUTE", "RETURNING"):
                assert unit.route().t_arrive_min == pytest.approx(unit.trip.t_arrive_min)
                checked += unit.trip.slowdown == 2.0
    assert checked > 3


# -- calls that need several units ------------------------------------------------------
def test_a_call_needing_two_units_gets_two_and_both_work_it():
    raw = one_office_raw(days=60, units_needed=2)
    raw["units"][0]["count"] = 2
    model, records, summary = run_once(validate(raw))
    answered = records[records["t_arrive"].notna()]
    assert (answered["units"] == 2).all()
    busy = [u.state_min[2] for u in model.units]  # on scene
    assert busy[0] == pytest.approx(busy[1], rel=0.02)
    # both units are on scene for every call's whole service time
    on_scene = (records["t_clear"] - records["t_arrive"]).sum() / (60 * 1440)
    assert summary["utilization"]["mean"] == pytest.approx(on_scene, rel=0.01)


def test_a_call_cannot_need_more_units_than_exist():
    raw = one_office_raw(units_needed=5)
    with pytest.raises(Exception, match="units_needed: 5 units needed but the scenario has 4"):
        validate(raw)


def test_escalating_to_a_two_unit_type_sends_a_second_unit():
    raw = one_office_raw(
        days=30, escalation={"to": "assault", "probability": 1.0, "after_min": 5.0}
    )
    raw["calls"]["types"].append(
        {"name": "assault", "share": 1e-9, "priority": 1, "service_min": 30, "units_needed": 2}
    )
    raw["dispatch"] = {"delay_min": {"dist": "uniform", "low": 0, "high": 10}}
    _, records, _ = run_once(validate(raw))
    answered = records[records["t_arrive"].notna()]
    assert (answered.loc[answered["escalated"], "units"] == 2).all()
    assert (answered.loc[~answered["escalated"], "units"] == 1).all()
    assert answered["escalated"].sum() > 50
