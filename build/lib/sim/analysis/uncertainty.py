"""Parameter uncertainty: the assumptions drawn per replication (Latin hypercube).

Replication ``r`` of every scenario takes point ``r`` of one Latin-hypercube design over the
union of the scenarios' assumption ranges (``scipy.stats.qmc``, seeded by the scenarios'
seed), so scenarios that share an assumption share its draws, and replication ``r`` also
shares the call stream (common random numbers). The spread of results over the draws
(2.5th-97.5th percentiles) is a "95% interval incl. parameter uncertainty": it covers the
assumptions' ranges and Monte Carlo noise together. The share of its variance that the
parameters add is ``1 - var(noise only) / var(with parameters)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.comparison import TABLE_ROWS, lookup, with_rates
from sim.analysis.replications import RunResult, combine_replications, run_tasks
from sim.measures.metrics import flatten
from sim.scenarios.overrides import set_path
from sim.scenarios.schema import Scenario


def design(scenarios: list[Scenario], n: int) -> tuple[list[str], np.ndarray]:
    """(assumption paths, n x len(paths) values): one LHS over every scenario's ranges."""
    ranges: dict[str, Any] = {}
    for scenario in scenarios:
        for path, assumption in scenario.assumptions.items():
            ranges.setdefault(path, assumption)
    paths = sorted(ranges)
    if not paths:
        return [], np.zeros((n, 0))
    from scipy.stats import qmc  # here: scipy.stats takes 0.4 s to import

    unit = qmc.LatinHypercube(d=len(paths), seed=scenarios[0].seed).random(n)
    lo = np.array([ranges[p].range[0] for p in paths])
    hi = np.array([ranges[p].range[1] for p in paths])
    values = lo + unit * (hi - lo)
    for j, p in enumerate(paths):
        if ranges[p].integer:
            values[:, j] = np.round(values[:, j])
    return paths, values


def with_draw(scenario: Scenario, paths: list[str], values: np.ndarray) -> Scenario:
    """The scenario with its own assumptions set to one draw."""
    raw = scenario.model_dump(mode="json")
    assumptions = raw.pop("assumptions", {})
    for path, value in zip(paths, values, strict=True):
        if path in scenario.assumptions:
            kept = int(value) if scenario.assumptions[path].integer else float(value)
            set_path(raw, path, kept)
    raw["assumptions"] = assumptions
    return Scenario.model_validate(raw).located(scenario.source_dir)


def run_uncertain(
    scenarios: list[Scenario], n: int, workers: int | None = 1, progress: bool = False
) -> list[RunResult]:
    """``n`` replications of every scenario, replication ``r`` with draw ``r``.

    Every (scenario, draw) is one task for ``workers`` processes (None: every core).
    """
    paths, values = design(scenarios, n)
    tasks = [(with_draw(s, paths, values[r]), r) for s in scenarios for r in range(n)]
    outcomes = iter(run_tasks(tasks, workers, progress, "parameter draws"))
    results = []
    for scenario in scenarios:
        mine = [next(outcomes) for _ in range(n)]
        result = combine_replications(scenario, [f for f, _ in mine], [s for _, s in mine])
        result.summary["parameter_draws"] = n
        result.summary["assumptions_drawn"] = [p for p in paths if p in scenario.assumptions]
        results.append(result)
    return results


def percentile_interval(values: list[float | None]) -> tuple[float | None, float, float]:
    """(mean, 2.5th, 97.5th percentile) of the values that exist."""
    v = np.array([x for x in values if x is not None], dtype=float)
    if len(v) == 0:
        return None, np.nan, np.nan
    lo, hi = np.percentile(v, [2.5, 97.5])
    return float(v.mean()), float(lo), float(hi)


def uncertainty_table(
    uncertain: list[RunResult], noise_only: list[RunResult] | None = None
) -> pd.DataFrame:
    """Per metric and scenario: mean [2.5%, 97.5%] over draws, and the parameters' share."""
    rows = []
    for label, key, fmt in TABLE_ROWS:
        row = {"metric": label}
        for k, result in enumerate(uncertain):
            per = [_value(s, key) for s in result.summaries]
            mean, lo, hi = percentile_interval(per)
            name = result.scenario.name
            row[name] = "-" if mean is None else f"{_f(fmt, mean)} [{_f(fmt, lo)}, {_f(fmt, hi)}]"
            if noise_only is not None:
                row[f"{name}: parameters' share of variance"] = _share(
                    per, [_value(s, key) for s in noise_only[k].summaries]
                )
        rows.append(row)
    return pd.DataFrame(rows).set_index("metric")


def difference_intervals(first: RunResult, second: RunResult) -> pd.DataFrame:
    """Second - first per draw (same draws, same calls): mean and percentile interval."""
    rows = []
    for label, key, fmt in TABLE_ROWS:
        diffs = []
        for a, b in zip(first.summaries, second.summaries, strict=True):
            va, vb = _value(a, key), _value(b, key)
            diffs.append(None if va is None or vb is None else vb - va)
        mean, lo, hi = percentile_interval(diffs)
        rows.append({"metric": label, "difference": mean, "lo": lo, "hi": hi, "format": fmt})
    return pd.DataFrame(rows)


def _value(summary: dict, key: str) -> float | None:
    if key == "calls_per_week":
        value = lookup(with_rates(summary), key)
    else:
        value = flatten(summary).get(key)
    return None if value is None or isinstance(value, bool) else float(value)


def _share(with_params: list, noise: list) -> str:
    a = np.array([x for x in with_params if x is not None], dtype=float)
    b = np.array([x for x in noise if x is not None], dtype=float)
    if len(a) < 2 or len(b) < 2 or a.var(ddof=1) == 0:
        return "-"
    return f"{max(0.0, 1 - b.var(ddof=1) / a.var(ddof=1)):.0%}"


def _f(fmt: str, x: float) -> str:
    return fmt.format(x)
