"""Checking the warm-up: MSER-5 on daily means (White 1997; Hoad, Robinson & Davies 2010).

The series is an output's daily means from the start of the run (warm-up days included),
batched by 5. MSER picks the truncation point ``d`` (in batches) that minimises the
standard error of the mean of what is left, ``sum((x_i - mean_d)^2) / (n - d)^2`` over
``d <= n/2``. A chosen warm-up shorter than that point is reported as too short.
"""

from __future__ import annotations

from typing import Any

import numpy as np

BATCH = 5


def mser(series: np.ndarray, batch: int = BATCH) -> int | None:
    """MSER-``batch`` truncation point, in observations of ``series`` (None: too short)."""
    x = np.asarray(series, dtype=float)
    x = x[~np.isnan(x)]
    n_batches = len(x) // batch
    if n_batches < 4:
        return None
    means = x[: n_batches * batch].reshape(n_batches, batch).mean(axis=1)
    best_d, best = 0, np.inf
    for d in range(n_batches // 2 + 1):
        rest = means[d:]
        value = ((rest - rest.mean()) ** 2).sum() / len(rest) ** 2
        if value < best:
            best_d, best = d, value
    return best_d * batch


def daily_means(t_min: np.ndarray, values: np.ndarray, days: int) -> np.ndarray:
    """Mean of ``values`` by day of ``t_min`` (NaN values ignored; NaN for empty days)."""
    ok = ~np.isnan(values)
    day = np.minimum((t_min[ok] // 1440).astype(int), days - 1)
    sums = np.bincount(day, weights=values[ok], minlength=days)
    counts = np.bincount(day, minlength=days)
    return np.divide(sums, counts, out=np.full(days, np.nan), where=counts > 0)


def biased_start(series: np.ndarray, warmup_days: float, point: int | None) -> bool:
    """Whether the days between the warm-up and the MSER point differ from the rest.

    MSER alone truncates noise too; a warm-up is called too short only if the days it
    leaves in before the MSER point differ from the later days by > 3 standard errors.
    """
    start = int(np.ceil(warmup_days))
    if point is None or point <= start:
        return False
    early, late = series[start:point], series[point:]
    early, late = early[~np.isnan(early)], late[~np.isnan(late)]
    if len(early) < 2 or len(late) < 2:
        return False
    se = np.sqrt(early.var(ddof=1) / len(early) + late.var(ddof=1) / len(late))
    return bool(abs(early.mean() - late.mean()) > 3 * se)


def warmup_check(series: dict[str, np.ndarray], warmup_days: float) -> dict[str, Any]:
    """MSER-5 truncation (days) per daily series, and whether the warm-up is long enough."""
    points = {name: mser(s) for name, s in series.items()}
    short = [name for name, s in series.items() if biased_start(s, warmup_days, points[name])]
    return {
        "mser5_days": points,
        "warmup_days": warmup_days,
        "warmup_ok": not short,
        "biased_series": short,
    }


def check_records(records, warmup_days: float, total_days: float) -> dict[str, Any]:
    """The warm-up check on records of every replication (daily means averaged over them)."""
    days = int(np.ceil(total_days))
    series: dict[str, list[np.ndarray]] = {"resolution_rate": [], "response_min": []}
    for _, rep in records.groupby("replication"):
        t = rep["t_call"].to_numpy()
        attended = rep["t_clear"].notna().to_numpy()
        resolved = np.where(attended, rep["resolved"].to_numpy(dtype=float), np.nan)
        series["resolution_rate"].append(daily_means(t, resolved, days))
        series["response_min"].append(daily_means(t, rep["response_min"].to_numpy(), days))
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            means = {k: np.nanmean(np.array(v), axis=0) for k, v in series.items() if v}
    return warmup_check(means, warmup_days)
