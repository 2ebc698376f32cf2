"""The reform taken apart: which change makes which share of each headline difference.

From BEFORE to AFTER, one thing changes at a time (placement, dispatch policy, other duties,
tenure and familiarity, case team, follow-through, community work, patrol, anything else).
A *hybrid* scenario takes the switched factors from AFTER and the rest from BEFORE; its
value ``v(S)`` is a headline metric, replication by replication (common random numbers).
Each factor's Shapley value is its change ``v(S + i) - v(S)`` averaged over every order of
switching (exact over all subsets for up to ``EXACT_MAX`` factors, each subset run once and
cached; else over sampled orders, each with its reverse). Shapley values add up to the
whole difference ``v(AFTER) - v(BEFORE)``; their intervals are paired over replications
(95% CI, random noise only; with sampled orders, given those orders).
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.replications import run_replications
from sim.errors import SimInputError
from sim.measures.metrics import flatten, mean_ci
from sim.scenarios.schema import Scenario

EXACT_MAX = 8
#: Headline metrics decomposed: (label, dotted key in a summary).
METRICS = (
    ("response mean (min)", "response_min.mean"),
    ("within 5 min", "within_target.5"),
    ("resolution rate", "resolution_rate"),
    ("repeat rate", "repeat_rate"),
    ("utilisation (committed)", "utilization.mean"),
)
FACTORS = (
    "placement",
    "dispatch policy",
    "other duties",
    "tenure and familiarity",
    "case team",
    "follow-through",
    "community work",
    "patrol",
    "other changes",
)
_UNIT_KEYS = {"other duties": "other_duty", "tenure and familiarity": "tenure_years"}
_OUTCOME_KEYS = {
    "tenure and familiarity": ("familiarity",),
    "case team": ("case_team", "case_work_min"),
    "follow-through": ("follow_through",),
}
_COVERED = {"posts", "units", "dispatch", "outcomes", "community_work", "patrol", "name",
            "description", "assumptions"}  # fmt: skip


def _has_offices(raw: dict) -> bool:
    return any(p["kind"] == "office" for p in raw["posts"])


def _community_work(raw: dict) -> dict:
    """A scenario's community work; none at all where no unit is based at an office."""
    work = copy.deepcopy(raw.get("community_work", {}))
    if not _has_offices(raw) and work:
        work.update(p_detect_per_day=0.0, p_detect_on_call=0.0, visit_min_per_day=0.0,
                    meeting_min=0.0)  # fmt: skip
    return work


def _group(groups: list[dict], k: int) -> dict:
    return groups[k] if k < len(groups) else groups[0]


def hybrid(before: dict, after: dict, switched: frozenset[str]) -> dict:
    """BEFORE with the ``switched`` factors taken from AFTER (raw scenario dicts)."""
    pick = {f: (after if f in switched else before) for f in FACTORS}
    raw = copy.deepcopy(pick["other changes"])
    raw["name"] = before["name"] + "+" + "+".join(sorted(switched)) if switched else before["name"]
    raw["posts"] = copy.deepcopy(pick["placement"]["posts"])
    groups = []
    for k, group in enumerate(pick["placement"]["units"]):
        group = copy.deepcopy(group)
        for factor, key in _UNIT_KEYS.items():
            group[key] = copy.deepcopy(_group(pick[factor]["units"], k)[key])
        groups.append(group)
    raw["units"] = groups
    raw["dispatch"] = copy.deepcopy(pick["dispatch policy"]["dispatch"])
    outcomes = copy.deepcopy(pick["other changes"]["outcomes"])
    for factor, keys in _OUTCOME_KEYS.items():
        for key in keys:
            outcomes[key] = copy.deepcopy(pick[factor]["outcomes"][key])
    raw["outcomes"] = outcomes
    raw["community_work"] = _community_work(pick["community work"])
    if "patrol" in pick["patrol"]:
        raw["patrol"] = copy.deepcopy(pick["patrol"]["patrol"])
    else:
        raw.pop("patrol", None)
    raw["assumptions"] = _assumptions(raw, after, before)
    return raw


def _assumptions(raw: dict, *sources: dict) -> dict:
    """The sources' assumptions whose value the hybrid holds at their path."""
    out = {}
    for source in sources:
        for path, assumption in source.get("assumptions", {}).items():
            if path not in out and _at(raw, path) == assumption["value"]:
                out[path] = copy.deepcopy(assumption)
    return dict(sorted(out.items()))


def _at(raw: Any, path: str) -> Any:
    node = raw
    for key in path.split("."):
        if isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            return None
    return node


def _uncovered(raw: dict) -> dict:
    return {k: v for k, v in raw.items() if k not in _COVERED}


def differing_factors(before: dict, after: dict) -> list[str]:
    """The factors whose switch changes the scenario (the others are left out)."""
    base = hybrid(before, after, frozenset())
    out = []
    for factor in FACTORS:
        one = hybrid(before, after, frozenset({factor}))
        if factor == "other changes":
            if _uncovered(before) != _uncovered(after):
                out.append(factor)
        elif {k: v for k, v in one.items() if k != "name"} != {
            k: v for k, v in base.items() if k != "name"
        }:
            out.append(factor)
    return out


@dataclass
class Decomposition:
    """Shapley values per factor and metric, with paired 95% CIs (random noise only)."""

    before: str
    after: str
    factors: list[str]
    table: pd.DataFrame  # metric, factor, value, ci95, share (of the whole difference)
    totals: pd.DataFrame  # metric, before, after, difference, ci95
    exact: bool
    orders: int
    replications: int
    runs: int
    values: dict[frozenset, list[dict]] = field(default_factory=dict, repr=False)


#: Sampled orders when there are too many factors for the exact formula and none are asked.
DEFAULT_ORDERS = 16


def _orders(factors: list[str], n_orders: int, seed: int) -> list[tuple[str, ...]]:
    if len(factors) <= EXACT_MAX and n_orders <= 0:
        return list(itertools.permutations(factors))
    n_orders = n_orders if n_orders > 0 else DEFAULT_ORDERS
    rng = np.random.default_rng(seed)  # a local generator: analysis, not the model
    orders = []
    for _ in range(max(1, n_orders // 2)):
        order = tuple(rng.permutation(factors))
        orders += [order, order[::-1]]
    return orders


def _metric(summary: dict, key: str) -> float:
    value = flatten(summary).get(key)
    return math.nan if value is None else float(value)


def shapley_per_replication(
    factors: list[str],
    value: Callable[[frozenset], np.ndarray],
    orders: list[tuple[str, ...]] | None,
) -> dict[str, np.ndarray]:
    """Shapley value of every factor (array over replications) of the game ``value``.

    ``orders`` None: the exact formula over subsets; else the mean over those orders.
    """
    n = len(factors)
    out = {f: 0.0 for f in factors}
    if orders is None:
        for f in factors:
            rest = [g for g in factors if g != f]
            for size in range(n):
                weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
                for subset in itertools.combinations(rest, size):
                    s = frozenset(subset)
                    out[f] = out[f] + weight * (value(s | {f}) - value(s))
        return out
    for order in orders:
        s = frozenset()
        for f in order:
            out[f] = out[f] + (value(s | {f}) - value(s)) / len(orders)
            s = s | {f}
    return out


def decompose(
    before: Scenario,
    after: Scenario,
    *,
    replications: int | None = None,
    orders: int = 0,
    seed: int = 0,
    metrics: tuple[tuple[str, str], ...] = METRICS,
    progress: Callable[[int], None] | None = None,
) -> Decomposition:
    """Shapley decomposition of AFTER - BEFORE over the factors that differ.

    ``orders`` 0: exact (all subsets) when there are at most ``EXACT_MAX`` factors; else
    that many sampled orders (with their reverses). ``replications``: per hybrid scenario
    (default: BEFORE's). Both scenarios run with BEFORE's seed (common random numbers).
    """
    b_raw, a_raw = before.model_dump(mode="json"), after.model_dump(mode="json")
    reps = replications or before.replications
    for raw in (b_raw, a_raw):
        raw.update(replications=reps, seed=before.seed, days=before.days,
                   warmup_days=before.warmup_days)  # fmt: skip
    factors = differing_factors(b_raw, a_raw)
    if not factors:
        raise SimInputError(
            f"decompose: {after.name!r} and {before.name!r} differ in nothing the model runs "
            "on: there is no difference to take apart"
        )
    order_list = _orders(factors, orders, seed)
    exact = len(factors) <= EXACT_MAX and orders <= 0
    cache: dict[frozenset, list[dict]] = {}

    def summaries(s: frozenset) -> list[dict]:
        if s not in cache:
            raw = a_raw if s == frozenset(factors) else hybrid(b_raw, a_raw, s)
            scenario = Scenario.model_validate(raw).located(before.source_dir)
            cache[s] = run_replications(scenario, progress=False).summaries
            if progress:
                progress(len(cache))
        return cache[s]

    rows, totals = [], []
    for label, key in metrics:

        def value(s: frozenset, key=key) -> np.ndarray:
            return np.array([_metric(x, key) for x in summaries(s)])

        phi = shapley_per_replication(factors, value, None if exact else order_list)
        whole = value(frozenset(factors)) - value(frozenset())
        total, total_ci = mean_ci(_finite(whole))
        totals.append({"metric": label, "key": key, "before": _mean(value(frozenset())),
                       "after": _mean(value(frozenset(factors))), "difference": total,
                       "ci95": total_ci})  # fmt: skip
        for f in factors:
            mean, half = mean_ci(_finite(phi[f]))
            share = None  # a share of a difference not told apart from 0 means nothing
            if total is not None and mean is not None and abs(total) > (total_ci or 0.0):
                share = mean / total
            rows.append({"metric": label, "factor": f, "value": mean, "ci95": half,
                         "share": share})  # fmt: skip
    return Decomposition(
        before.name, after.name, factors, pd.DataFrame(rows), pd.DataFrame(totals), exact,
        len(order_list), reps, len(cache), cache,
    )  # fmt: skip


def _finite(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else float(v) for v in values]


def _mean(values: np.ndarray) -> float | None:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if len(finite) else None


def format_decomposition(d: Decomposition) -> str:
    """The decomposition as text: per metric, the whole difference and each factor's part."""
    how = (
        f"exact Shapley values over all {2 ** len(d.factors)} subsets"
        if d.exact
        else f"Shapley values averaged over {d.orders} sampled orders (each with its reverse)"
    )
    lines = [
        f"{d.after} - {d.before}, taken apart ({how}; {d.replications} replications per "
        f"subset, {d.runs} subsets run; ± 95% CI, random noise only, paired by replication;"
        " last column: the change's share of the whole difference, shown only where that"
        " difference is told apart from 0):"
    ]
    for total in d.totals.itertuples():
        pct = "(min)" not in total.metric
        scale, unit = (100, " pp") if pct else (1, " min")
        lines.append(
            f"  {total.metric}: {_num(total.difference, scale)}"
            f" ± {_num(total.ci95, scale, sign=False)}{unit}"
        )
        part = d.table[d.table["metric"] == total.metric]
        for row in part.itertuples():
            share = "" if row.share is None or pd.isna(row.share) else f"{row.share:7.0%}"
            lines.append(
                f"    {row.factor:<24}{_num(row.value, scale):>8}"
                f" ± {_num(row.ci95, scale, sign=False):<6}{unit}{share:>9}"
            )
    return "\n".join(lines)


def _num(x: float | None, scale: float, sign: bool = True) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x * scale:+.2f}" if sign else f"{x * scale:.2f}"
