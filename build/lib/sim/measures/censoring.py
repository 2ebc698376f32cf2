"""Calls still open at the horizon, response times with censoring, offered load, overload.

A call still waiting (or on its way to a unit) when the run stops has a response time of
*at least* ``horizon - t_call``: leaving it out biases every response statistic down, and
badly so when the system is overloaded. Here such calls are right-censored and the response
distribution is the Kaplan-Meier estimate; a quantile the estimate never reaches is given
as a lower bound (the longest time observed) and flagged as such.

Offered load per pool of units is ``rho = lambda * E[committed unit-minutes per call] / c``,
with ``c`` the units a pool has on shift and not away on other duties or community work
(time averages). ``rho >= 1`` means the queue cannot settle: the run is ``overloaded``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.errors import SimInputError
from sim.registry import DISPATCH_POLICIES

#: Unit states whose time is committed to calls (the numerator of utilisation).
COMMITTED_STATES = ("en_route", "on_scene", "follow_up")
#: Unit states during which a unit cannot be sent to calls for reasons other than calls.
AWAY_STATES = ("off_shift", "other_duty", "community_work")
#: How a dispatch policy's ``pools`` trait says units share calls.
POOLS = ("shared", "own_community_unless_borrowing")


def kaplan_meier(times: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Event times and the survival function just after each (right-censored data)."""
    order = np.lexsort((~observed, times))  # at ties, events before censorings
    t, event = times[order], observed[order]
    at_risk = len(t) - np.arange(len(t))
    unique_t, first = np.unique(t[event], return_index=True)
    if len(unique_t) == 0:
        return unique_t, np.ones(0)
    deaths = np.add.reduceat(np.ones(event.sum()), first)
    risk = at_risk[event][first]
    return unique_t, np.cumprod(1.0 - deaths / risk)


def km_quantile(times: np.ndarray, observed: np.ndarray, q: float) -> tuple[float | None, bool]:
    """(the q-quantile of the Kaplan-Meier distribution, whether it is only a lower bound)."""
    if len(times) == 0:
        return None, False
    t, survival = kaplan_meier(times, observed)
    reached = np.nonzero(1.0 - survival >= q - 1e-12)[0]
    if len(reached):
        return float(t[reached[0]]), False
    return float(times.max()), True


def response_km(t_call: np.ndarray, t_arrive: np.ndarray, horizon_min: float) -> dict[str, Any]:
    """Median and p90 of response time with calls open at the horizon censored."""
    observed = ~np.isnan(t_arrive)
    times = np.where(observed, t_arrive - t_call, horizon_min - t_call)
    median, median_lb = km_quantile(times, observed, 0.5)
    p90, p90_lb = km_quantile(times, observed, 0.9)
    return {
        "median": median,
        "p90": p90,
        "median_is_lower_bound": median_lb,
        "p90_is_lower_bound": p90_lb,
        "censored": int((~observed).sum()),
    }


def open_calls_by_day(
    t_call: np.ndarray, t_arrive: np.ndarray, start_min: float, end_min: float
) -> np.ndarray:
    """Calls made but not yet reached at the end of each whole day of [start, end)."""
    ends = np.arange(start_min + 1440.0, end_min + 1e-9, 1440.0)
    reached = np.where(np.isnan(t_arrive), np.inf, t_arrive)
    made = np.searchsorted(np.sort(t_call), ends, side="right")
    done = np.searchsorted(np.sort(reached), ends, side="right")
    return made - done


def queue_grows(open_by_day: np.ndarray) -> bool:
    """Open calls trend up through the run (slope > 3 standard errors, >= 10 open at the end)."""
    n = len(open_by_day)
    if n < 5 or open_by_day[-1] < 10:
        return False
    x = np.arange(n, dtype=float)
    slope, intercept = np.polyfit(x, open_by_day, 1)
    resid = open_by_day - (slope * x + intercept)
    se = np.sqrt(resid.var(ddof=2) / ((x - x.mean()) ** 2).sum()) if n > 2 else np.inf
    return bool(slope > 0 and slope > 3 * se)


def offered_load(
    state_min: np.ndarray,
    state_names: tuple[str, ...],
    calls: int,
    cleared: int,
    window_min: float,
) -> float | None:
    """Rho = calls per minute x committed unit-minutes per call / units available to calls.

    ``state_min``: minutes per state (units x states) over the window of length
    ``window_min``; ``calls``: calls made in the window; ``cleared``: calls cleared in it.
    Committed time per call (travel, scene, follow-up; backups included) is measured on the
    calls served, so the load holds under overload too, where many calls are never served.
    """
    index = {name: i for i, name in enumerate(state_names)}
    committed = sum(state_min[:, index[s]].sum() for s in COMMITTED_STATES if s in index)
    away = sum(state_min[:, index[s]].sum() for s in AWAY_STATES if s in index)
    available_units = (state_min.sum() - away) / window_min
    if calls == 0 or cleared == 0 or available_units <= 0 or committed == 0:
        return None
    per_call = committed / cleared
    return float(calls / window_min * per_call / available_units)


def committed_per_call(
    state_min: np.ndarray, state_names: tuple[str, ...], cleared: int
) -> float | None:
    """Unit-minutes committed (travel, scene, follow-up) per call cleared."""
    index = {name: i for i, name in enumerate(state_names)}
    committed = sum(state_min[:, index[s]].sum() for s in COMMITTED_STATES if s in index)
    return float(committed / cleared) if cleared and committed else None


#: Most calls wait for a unit: the share of calls queued from which the queue is saturated.
SATURATED_P_QUEUED = 2 / 3


def queue_saturated(p_queued: float, queue_mean_min: float, per_call_min: float | None) -> bool:
    """Most calls wait (``SATURATED_P_QUEUED``) and longer than a unit spends on a call.

    In M/M/c both hold only close to rho = 1 (M/M/1: rho > 2/3; M/M/5: rho > about 0.87):
    the queue, not the travel or the scene, makes the response time.
    """
    if per_call_min is None or not np.isfinite(queue_mean_min):
        return False
    return bool(p_queued >= SATURATED_P_QUEUED and queue_mean_min > per_call_min)


#: Queue-bound: at least this share of calls waits for a unit ...
QUEUE_BOUND_P_QUEUED = 0.5
#: ... and the wait is at least this share of the mean response time.
QUEUE_BOUND_SHARE = 0.5


def queue_bound(p_queued: float, queue_mean_min: float, response_mean_min: float) -> bool:
    """Half the calls or more wait for a unit, and waiting is most of the response time.

    Not overloaded (the queue settles), but the response is made by the queue, not by travel:
    near overload. M/M/3 at rho = 0.5 (the Erlang C example: 24% wait) is not queue-bound;
    at rho = 0.75 (57% wait, no travel) it is.
    """
    if not (np.isfinite(queue_mean_min) and np.isfinite(response_mean_min)):
        return False
    return bool(
        p_queued >= QUEUE_BOUND_P_QUEUED and queue_mean_min >= QUEUE_BOUND_SHARE * response_mean_min
    )


def overload_state(summary: dict[str, Any]) -> str:
    """'yes' (overloaded), 'near: queue-bound' or 'no', for a table."""
    if summary.get("overloaded"):
        return "yes"
    return "near: queue-bound" if summary.get("queue_bound") else "no"


def overload_flags(
    loads: dict[str, float | None],
    open_by_day: np.ndarray,
    unanswered: int,
    saturated: bool = False,
    bound: bool = False,
) -> dict[str, Any]:
    """Overload flags: ``overloaded`` and, short of it, ``queue_bound``.

    Overloaded when a pool's load reaches 1, the open calls keep growing, or the queue is
    saturated (``queue_saturated``); queue-bound when saturated or ``queue_bound`` holds.
    """
    too_high = [name for name, rho in loads.items() if rho is not None and rho >= 1.0]
    growing = queue_grows(open_by_day)
    return {
        "overloaded": bool(too_high or growing or saturated),
        "overloaded_pools": too_high,
        "queue_growing": growing,
        "queue_saturated": bool(saturated),
        "queue_bound": bool(saturated or bound),
        "unanswered_at_end": unanswered,
    }


def unit_pools(scenario) -> dict[str, tuple[list[str], list[str] | None]]:
    """Pools of units that serve the same calls: {name: (unit posts, communities or None)}.

    One pool of every unit, unless the policy keeps calls in their community and never
    borrows (``community_first``, ``borrow_after_min: null``): then each office's units serve
    their community alone, and the other units (the station) the rest.
    """
    posts = {p.name: p for p in scenario.posts}
    dispatch = scenario.dispatch
    pooling = DISPATCH_POLICIES.entry(dispatch.policy).trait("pools", "The offered load")
    if pooling not in POOLS:
        raise SimInputError(f"The offered load knows the pools {POOLS}, not {pooling!r}")
    separate = pooling == POOLS[1] and dispatch.borrow_after_min is None
    if not separate:
        return {"all units": ([g.post for g in scenario.units], None)}
    pools: dict[str, tuple[list[str], list[str] | None]] = {}
    served = set()
    for group in scenario.units:
        post = posts[group.post]
        if post.kind == "office":
            pools[post.name] = ([post.name], [post.community])
            served.add(post.community)
    rest = [g.post for g in scenario.units if posts[g.post].kind != "office"]
    if rest:
        others = [c.name for c in scenario.communities if c.name not in served]
        pools["other units"] = (rest, others)
    return pools
