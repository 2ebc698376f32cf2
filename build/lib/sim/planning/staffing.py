"""Staffing by hour of the week and a shift plan (the patrol car allocation model's way).

For each of the 168 hours of the week, the fewest units on duty such that P(wait) <= alpha
(Erlang C) and P(response <= T) >= beta, with that hour's load (Chaiken & Dormont 1978; Green &
Kolesar 1984). Then the cheapest set of daily 8-, 10- or 12-hour shifts covering every hour's
need (an integer program, ``scipy.optimize.milp``). ``check_staffing`` runs the plan in the
simulator and sets the stationary predictions beside what happened, hour by hour.

Assumptions (each stated where it is used):

- an M/M/c queue per hour, in steady state within the hour (no carry-over between hours);
- one unit per call, busy for its travel out (with mobilisation) and the time on scene (and
  follow-through / case work when the scenario has them); the drive back is not busy (units
  returning are dispatched); multi-unit calls count their extra crews as extra load;
- base calls only: repeats and latent-problem calls are not in the rate (the check shows it);
- response = dispatch delay + mobilisation + Erlang C wait + travel from the nearest manned
  post (demand-weighted over nodes; delays by their quantiles); the check uses the posts
  actually on shift in each hour, the plan assumes every manned post has a unit on duty;
- other duties take a share of on-duty time: units needed = ceil(c / (1 - share));
- shifts are daily (the scenario's shifts repeat every day), so each hour of day is covered
  for its busiest day of the week.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from sim.calls.stream import hourly_rates_per_min
from sim.clock import MIN_PER_WEEK
from sim.errors import SimInputError
from sim.planning.costs import demand_per_min
from sim.planning.plans import Plan, load_base, located, portable_overlay, world_of
from sim.scenarios.schema import Scenario

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SHIFT_HOURS = (8, 10, 12)
MAX_EXTRA_UNITS = 500


def erlang_c(c: int, load: float) -> float:
    """P(wait) of an M/M/c queue with offered load ``load`` (Erlangs); 1 when unstable."""
    if c <= load:
        return 1.0
    b = 1.0  # Erlang B by recursion (stable for any c)
    for k in range(1, c + 1):
        b = load * b / (k + load * b)
    return c * b / (c - load * (1 - b))


def p_response_within(
    c: int,
    rate_per_min: float,
    busy_min: float,
    target_min: float,
    lead_min: np.ndarray,
    lead_weights: np.ndarray,
) -> float:
    """P(wait + lead <= target), lead = delay + travel per demand node, M/M/c wait."""
    load = rate_per_min * busy_min
    slack = target_min - lead_min
    ok = slack >= 0
    if c <= load:
        return 0.0
    p_wait = erlang_c(c, load)
    decay = (c / busy_min - rate_per_min) * np.maximum(slack, 0)
    p = np.where(ok, 1 - p_wait * np.exp(-decay), 0.0)
    return float((lead_weights * p).sum() / lead_weights.sum())


def units_needed(rate, busy_min, alpha, beta, target_min, lead_min, lead_w) -> int:
    """The fewest units meeting P(wait) <= alpha and P(response <= target) >= beta."""
    first = max(1, math.floor(rate * busy_min) + 1)
    for c in range(first, first + MAX_EXTRA_UNITS):
        if erlang_c(c, rate * busy_min) <= alpha and (
            p_response_within(c, rate, busy_min, target_min, lead_min, lead_w) >= beta
        ):
            return c
    raise SimInputError(
        f"no staffing up to {first + MAX_EXTRA_UNITS} units meets the targets"
    )  # pragma: no cover


def shift_plan(need: np.ndarray, lengths_h=SHIFT_HOURS) -> list[tuple[int, int, int]]:
    """Daily shifts (start hour, hours, units) covering ``need`` (24 values) at least paid hours.

    Shifts wrap past midnight. Solved exactly as an integer program (HiGHS via scipy).
    """
    need = np.asarray(need, dtype=float)
    shifts = [(s, L) for L in lengths_h for s in range(24)]
    cover = np.zeros((24, len(shifts)))
    for k, (s, L) in enumerate(shifts):
        cover[[(s + i) % 24 for i in range(L)], k] = 1
    cost = np.array([L for _, L in shifts], dtype=float)
    result = milp(
        cost,
        constraints=LinearConstraint(cover, lb=need, ub=np.inf),
        integrality=np.ones(len(shifts)),
        bounds=Bounds(0, np.inf),
    )
    if not result.success:  # pragma: no cover (always feasible: enough shifts cover anything)
        raise SimInputError(f"the shift plan could not be solved: {result.message}")
    counts = np.round(result.x).astype(int)
    return [(s, L, int(n)) for (s, L), n in zip(shifts, counts, strict=True) if n > 0]


def coverage(plan: list[tuple[int, int, int]]) -> np.ndarray:
    """Units on shift in each hour of the day."""
    on = np.zeros(24, dtype=int)
    for start, hours, n in plan:
        on[[(start + i) % 24 for i in range(hours)]] += n
    return on


# -- the scenario's numbers ------------------------------------------------------------------
def busy_min_per_call(base: Scenario, travel_mean_min: float) -> float:
    """Mean unit-minutes a call takes (travel out, mobilisation, scene, follow-up work)."""
    types = base.calls.types
    shares = np.array([t.share for t in types])
    scene = np.array([t.service_min.mean_value * t.units_needed for t in types])
    crews = np.array([t.units_needed for t in types])
    criminal = np.array([t.criminal for t in types])
    per_call = (shares * (scene + crews * travel_mean_min)).sum() / shares.sum()
    per_call += base.dispatch.mobilisation_min.mean_value
    outcomes = base.outcomes
    if outcomes.follow_through.enabled and any(p.kind == "office" for p in base.posts):
        per_call += outcomes.follow_through.extra_min.mean_value
    if not outcomes.case_team:
        per_call += outcomes.case_work_min.mean_value * (shares * criminal).sum() / shares.sum()
    return float(per_call)


def availability(base: Scenario) -> float:
    """Mean share of on-duty time not taken by other duties."""
    counts = np.array([g.count for g in base.units])
    shares = np.array([g.other_duty.share for g in base.units])
    return float(1 - (counts * shares).sum() / counts.sum())


def _lead(
    base: Scenario, world, demand: np.ndarray, posts: list[str] | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """The distribution of delay + mobilisation + travel from the nearest of ``posts``.

    Returns (lead minutes, weights, mean travel minutes). Delay and mobilisation are taken
    at ``_QUANTILES`` quantiles each (all pairs), travel per demand node; the joint values are
    pooled at 0.01 min. ``posts`` defaults to every manned post.
    """
    posts = posts if posts is not None else [g.post for g in base.units]
    nodes = sorted({world.post_nodes[p] for p in posts})
    travel = np.min([world.router.times_from(n) for n in nodes], axis=0)
    keep = demand > 0
    travel, weights = travel[keep], demand[keep]
    mean_travel = float((weights * travel).sum() / weights.sum())
    u = (np.arange(_QUANTILES) + 0.5) / _QUANTILES
    delay = np.array([base.dispatch.delay_min.quantile(x) for x in u])
    mobilise = np.array([base.dispatch.mobilisation_min.quantile(x) for x in u])
    fixed = (delay[:, None] + mobilise[None, :]).ravel()
    lead = np.round((travel[:, None] + fixed[None, :]).ravel(), 2)
    values, inverse = np.unique(lead, return_inverse=True)
    pooled = np.bincount(inverse, weights=np.repeat(weights, len(fixed)))
    return values, pooled, mean_travel


_QUANTILES = 16


def hourly_table(base: Scenario, world, alpha: float, beta: float, target_min: float):
    """Per hour of the week: calls, load, units needed on duty and scheduled."""
    demand = demand_per_min(base, world)
    lead, weights, mean_travel = _lead(base, world, demand)
    best = float(weights[lead <= target_min].sum() / weights.sum())
    if best < beta:
        raise SimInputError(
            f"no staffing reaches {beta:.0%} of calls within {target_min:g} min: dispatch delay, "
            f"mobilisation and travel from the posts alone leave {best:.1%} within it, the "
            f"best any number of units can do (move or add posts: run_sim.py plan offices)"
        )
    busy = busy_min_per_call(base, mean_travel)
    population = sum(c.population for c in base.communities)
    rates = hourly_rates_per_min(base.calls, population, MIN_PER_WEEK)
    share_available = availability(base)
    rows = []
    for h, rate in enumerate(rates):
        c = units_needed(rate, busy, alpha, beta, target_min, lead, weights)
        rows.append(
            {
                "day": DAYS[h // 24],
                "hour": h % 24,
                "calls_per_hour": rate * 60,
                "load_erlangs": rate * busy,
                "units_on_duty": c,
                "units_scheduled": math.ceil(c / share_available - 1e-9),
                "p_wait": erlang_c(c, rate * busy),
                "p_within": p_response_within(c, rate, busy, target_min, lead, weights),
            }
        )
    return pd.DataFrame(rows), busy, (lead, weights)


def plan_staffing(
    scenario: str | Path | Scenario,
    wait: float = 0.1,
    within_min: float = 5.0,
    share: float = 0.8,
    shift_hours: tuple[int, ...] = SHIFT_HOURS,
    base_dir: Path | None = None,
) -> Plan:
    """Units per hour for P(wait) <= ``wait`` and P(response <= within_min) >= ``share``."""
    if not 0 < wait <= 1 or not 0 < share < 1 or not within_min > 0:
        raise SimInputError(
            "--wait must be in (0, 1], --share in (0, 1) and --within positive "
            f"(got {wait}, {share}, {within_min})"
        )
    if not shift_hours or any(not 1 <= h <= 24 for h in shift_hours):
        raise SimInputError(f"shift lengths must be 1 to 24 hours (got {shift_hours})")
    base, base_path, base_dir = load_base(scenario, base_dir)
    world = world_of(base, base_dir)
    table, busy, _ = hourly_table(base, world, wait, share, within_min)
    need = table.groupby("hour")["units_scheduled"].max().to_numpy()
    shifts = shift_plan(need, shift_hours)
    on = coverage(shifts)
    table["units_on_shift"] = on[table["hour"].to_numpy()]
    overlay = {**portable_overlay(base, base_dir), "units": _units(base, world, shifts)}
    paid = sum(hours * n for _, hours, n in shifts)
    summary = {
        "wait": wait,
        "within_min": within_min,
        "share": share,
        "busy_min_per_call": busy,
        "shifts": "; ".join(f"{n} x {s:02d}:00+{h}h" for s, h, n in shifts),
        "paid_unit_hours_per_day": paid,
        "needed_unit_hours_per_day": int(need.sum()),
        "max_units_on_duty": int(on.max()),
        "current_units": sum(g.count for g in base.units),
    }
    return Plan(
        kind="staffing",
        name=f"{base.name}_staffing",
        description=(
            f"{base.name}: shifts for P(wait) <= {wait:g} and {share:.0%} within {within_min:g} min"
        ),
        base=base,
        base_path=base_path,
        base_dir=base_dir,
        world=world,
        overlay=overlay,
        table=table,
        summary=summary,
        sites=np.array(sorted({world.post_nodes[g.post] for g in base.units}), dtype=np.int64),
    )


def _units(base: Scenario, world, shifts) -> list[dict]:
    """Shift units shared over the manned posts by the demand nearest each post."""
    manned = list(dict.fromkeys(g.post for g in base.units))
    nodes = [world.post_nodes[p] for p in manned]
    demand = demand_per_min(base, world)
    nearest = np.argmin([world.router.times_from(n) for n in nodes], axis=0)
    weights = np.bincount(nearest, weights=demand, minlength=len(manned))
    template = {g.post: g.model_dump(mode="json") for g in reversed(base.units)}
    share = weights / weights.sum()
    owed = np.zeros(len(manned))  # units each post is owed so far, minus those it got
    groups = []
    for start, hours, n in shifts:
        owed += n * share
        counts = np.zeros(len(manned), dtype=int)
        for _ in range(n):  # one at a time to the post owed most (ties: the first)
            k = int(np.argmax(owed))
            counts[k] += 1
            owed[k] -= 1
        for post, count in zip(manned, counts, strict=True):
            if count:
                group = {**template[post], "count": int(count)}
                group["shift"] = {"start_hour": start, "hours": hours}
                groups.append(group)
    return groups


def _posts_on_shift(scenario: Scenario, hour: int) -> list[str]:
    """Posts with a unit on shift at ``hour`` (start of the hour) every day."""
    posts = []
    for g in scenario.units:
        s = g.shift
        if s is None or s.hours >= 24 or (hour - s.start_hour) % 24 < s.hours:
            posts.append(g.post)
    return posts or [g.post for g in scenario.units]


def check_staffing(
    plan: Plan, replications: int | None = None, days: float | None = None
) -> pd.DataFrame:
    """Run the staffing plan and compare, per hour of day, predicted with simulated figures.

    Predicted: Erlang C with the units on shift (after other duties), the mean load of that
    hour over the week and travel from the posts on shift then (``within_planned``: what the
    plan assumed, every manned post staffed). Simulated: P(queued) and the share within the
    target.
    """
    from sim.analysis.replications import run_replications

    scenario = plan.scenario
    changes = {}
    if replications is not None:
        changes["replications"] = replications
    if days is not None:
        changes["days"] = days
    if changes:
        scenario = scenario.model_copy(update=changes)
    result = run_replications(located(scenario, plan.base_dir), progress=False)
    rec = result.records[~result.records["in_warmup"]]
    hour = (rec["t_call"].to_numpy() // 60 % 24).astype(int)
    target = plan.summary["within_min"]
    within = rec["response_min"].fillna(np.inf).to_numpy() <= target
    world = plan.world
    base = plan.base
    demand = demand_per_min(base, world)
    busy = plan.summary["busy_min_per_call"]
    avail = availability(base)
    rows = []
    table = plan.table
    for h in range(24):
        mine = hour == h
        rate = table.loc[table["hour"] == h, "calls_per_hour"].mean() / 60
        on = int(table.loc[table["hour"] == h, "units_on_shift"].iloc[0])
        c = max(1, math.floor(on * avail + 1e-9))
        lead, weights, _ = _lead(base, world, demand, _posts_on_shift(scenario, h))
        rows.append(
            {
                "hour": h,
                "units_on_shift": on,
                "calls_simulated": int(mine.sum()),
                "p_wait_predicted": erlang_c(c, rate * busy),
                "p_wait_simulated": float(rec["queued"].to_numpy()[mine].mean()),
                "within_planned": float(table.loc[table["hour"] == h, "p_within"].mean()),
                "within_predicted": p_response_within(c, rate, busy, target, lead, weights),
                "within_simulated": float(within[mine].mean()),
            }
        )
    out = pd.DataFrame(rows)
    out["p_wait_error"] = out["p_wait_simulated"] - out["p_wait_predicted"]
    out["within_error"] = out["within_simulated"] - out["within_predicted"]
    return out
