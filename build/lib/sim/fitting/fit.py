"""Fitting a scenario's call settings to a calls table (``run_sim.py fit``).

From the usable rows of a table (``sim.calls.table``; types fixed to the base
scenario's unless ``add_types``; points snapped to its network) this fits:

- **when**: ``rate_per_hour`` and the hour-of-week profile the model uses, a rate times an
  hour-of-day factor times a day-of-week factor (``hourly_profile``, ``day_of_week``), by
  maximum likelihood for Poisson counts per hour of the week (iterative proportional
  fitting), over the whole days from the first call's to the last call's;
- **what**: the type mix (shares; a base type never seen keeps a small share of half a call,
  as a share must be positive), each type's priority (the most common in the table, when it
  has one);
- **how long**: per type, a lognormal on-scene time by its median and 90th percentile (fitted
  on the logs; types with fewer than ``MIN_ON_SCENE`` times keep the base's);
- **where**: community populations proportional to the calls snapped into each community
  (plus half a call, so none is empty), keeping the base's total population. The model
  places callers by population, so this reproduces the calls' split between communities;
  within a community, callers sit on random nodes as in any scenario.

95% intervals: exact Poisson (Garwood) for the rate and for each hour/day factor (with the
other factors held at their fit), Wilson for shares, and the delta method on the logs for
the on-scene median and p90. The rate covers every call in the table: the model adds repeats
of unresolved calls and latent-problem calls on top, as it does with the base's rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from sim.calls.table import CallsTable
from sim.fitting.type_map import added_type

Z95 = 1.959963984540054
Z90 = 1.2815515655446004
MIN_ON_SCENE = 5
HALF_CALL = 0.5


@dataclass
class Fit:
    """Fitted call settings, their 95% intervals and what they were fitted from."""

    days: int
    start: pd.Timestamp
    counts: np.ndarray  # (7, 24) calls per (day of week, hour), Monday first
    exposure_h: np.ndarray  # (7, 24) hours observed of each
    rate_per_hour: float
    rate_ci: tuple[float, float]
    hourly: np.ndarray  # 24 factors, mean 1
    hourly_ci: np.ndarray  # (24, 2)
    daily: np.ndarray  # 7 factors, mean 1
    daily_ci: np.ndarray  # (7, 2)
    types: pd.DataFrame  # by type: calls, share, share_lo, share_hi, priority
    on_scene: pd.DataFrame  # by type: n, median, median_lo/hi, p90, p90_lo/hi
    populations: dict[str, int] = field(default_factory=dict)
    community_calls: dict[str, int] = field(default_factory=dict)

    def expected_counts(self) -> np.ndarray:
        """Calls the fitted profile expects in each (day, hour) over the observed hours."""
        return self.exposure_h * self.rate_per_hour * np.outer(self.daily, self.hourly)


def exposure_hours(start: pd.Timestamp, days: int) -> np.ndarray:
    """Hours observed of each (day of week, hour of day) in ``days`` days from ``start``."""
    exposure = np.zeros((7, 24))
    first = start.day_of_week
    for d in range(days):
        exposure[(first + d) % 7] += 1.0
    return exposure


def profile(counts: np.ndarray, exposure: np.ndarray, iterations: int = 50):
    """Rate per hour, hour factors and day factors (each mean 1) of a separable Poisson model."""
    hourly, daily = np.ones(24), np.ones(7)
    for _ in range(iterations):
        hourly = _ratio(counts.sum(axis=0), (exposure * daily[:, None]).sum(axis=0))
        daily = _ratio(counts.sum(axis=1), (exposure * hourly[None, :]).sum(axis=1))
    seen_h = exposure.sum(axis=0) > 0
    seen_d = exposure.sum(axis=1) > 0
    hourly = hourly / hourly[seen_h].mean() if hourly[seen_h].sum() > 0 else np.ones(24)
    daily = daily / daily[seen_d].mean() if daily[seen_d].sum() > 0 else np.ones(7)
    expected_per_rate = (exposure * np.outer(daily, hourly)).sum()
    return counts.sum() / expected_per_rate, hourly, daily


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    return np.divide(top, bottom, out=np.zeros_like(top, dtype=float), where=bottom > 0)


def poisson_ci(count: np.ndarray | float) -> np.ndarray:
    """Exact (Garwood) 95% interval of a Poisson mean from an observed count."""
    count = np.asarray(count, dtype=float)
    low = np.where(count > 0, stats.chi2.ppf(0.025, 2 * count) / 2, 0.0)
    high = stats.chi2.ppf(0.975, 2 * count + 2) / 2
    return np.stack([low, high], axis=-1)


def wilson_ci(k: np.ndarray, n: int) -> np.ndarray:
    """Wilson score 95% intervals of shares k / n."""
    p = np.asarray(k, dtype=float) / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n**2)) / (1 + Z95**2 / n)
    return np.stack([centre - half, centre + half], axis=-1)


def fit_when(times: pd.Series) -> dict:
    """Rate, hour and day factors with 95% intervals, from the call times."""
    start = times.min().normalize()
    days = int((times.max().normalize() - start).days) + 1
    counts = np.zeros((7, 24))
    np.add.at(counts, (times.dt.day_of_week.to_numpy(), times.dt.hour.to_numpy()), 1.0)
    exposure = exposure_hours(start, days)
    rate, hourly, daily = profile(counts, exposure)
    base = exposure * np.outer(daily, hourly)
    return {
        "days": days,
        "start": start,
        "counts": counts,
        "exposure_h": exposure,
        "rate_per_hour": float(rate),
        "rate_ci": tuple(poisson_ci(counts.sum()) / base.sum()),
        "hourly": hourly,
        "hourly_ci": _factor_ci(counts.sum(axis=0), (exposure * daily[:, None]).sum(axis=0) * rate),
        "daily": daily,
        "daily_ci": _factor_ci(counts.sum(axis=1), (exposure * hourly[None, :]).sum(axis=1) * rate),
    }  # fmt: skip


def _factor_ci(count: np.ndarray, calls_per_factor: np.ndarray) -> np.ndarray:
    """Factor intervals: the count's Poisson interval over the calls a factor of 1 gives."""
    return _ratio(poisson_ci(count), np.repeat(calls_per_factor[:, None], 2, axis=1))


def fit_types(calls: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Calls, share (95% Wilson interval) and most common priority of each type."""
    counts = calls["type"].value_counts().reindex(names, fill_value=0).to_numpy(float)
    n = len(calls)
    smoothed = np.where(counts > 0, counts, HALF_CALL)
    ci = wilson_ci(counts, n)
    priority = calls.dropna(subset=["priority"]).groupby("type")["priority"]
    modes = priority.agg(lambda p: int(p.round().mode().min()))
    return pd.DataFrame(
        {
            "calls": counts.astype(int),
            "share": smoothed / smoothed.sum(),
            "share_lo": ci[:, 0],
            "share_hi": ci[:, 1],
            "priority": [modes.get(name) for name in names],
        },
        index=pd.Index(names, name="type"),
    )


def fit_lognormal(minutes: np.ndarray) -> dict:
    """Median and p90 of a lognormal fitted on the logs, with delta-method 95% intervals."""
    logs = np.log(minutes)
    n = len(logs)
    mu, sigma = float(logs.mean()), float(logs.std(ddof=1))
    se_mu = sigma / math.sqrt(n)
    se_p90 = sigma * math.sqrt(1 / n + Z90**2 / (2 * (n - 1)))
    p90_log = mu + Z90 * sigma
    return {
        "n": n,
        "median": math.exp(mu),
        "median_lo": math.exp(mu - Z95 * se_mu),
        "median_hi": math.exp(mu + Z95 * se_mu),
        "p90": math.exp(p90_log),
        "p90_lo": math.exp(p90_log - Z95 * se_p90),
        "p90_hi": math.exp(p90_log + Z95 * se_p90),
    }


def fit_on_scene(calls: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """A lognormal on-scene time per type with at least ``MIN_ON_SCENE`` positive times."""
    rows = {}
    for name in names:
        minutes = calls.loc[calls["type"] == name, "on_scene_min"].to_numpy(float)
        minutes = minutes[np.isfinite(minutes) & (minutes > 0)]
        if len(minutes) >= MIN_ON_SCENE and np.ptp(np.log(minutes)) > 0:
            rows[name] = fit_lognormal(minutes)
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("type")


def fit_populations(
    calls: pd.DataFrame, community_of_node: np.ndarray, names: list[str], total: int
) -> tuple[dict[str, int], dict[str, int]]:
    """Populations proportional to the calls in each community (plus half a call)."""
    which = community_of_node[calls["node"].to_numpy(np.int64)]
    counts = np.bincount(which, minlength=len(names)).astype(float)
    weights = (counts + HALF_CALL) / (counts + HALF_CALL).sum()
    populations = np.maximum(1, np.rint(weights * total)).astype(int)
    return dict(zip(names, populations.tolist(), strict=True)), dict(
        zip(names, counts.astype(int).tolist(), strict=True)
    )


def fit_table(
    table: CallsTable, type_names: list[str], community_of_node: np.ndarray,
    community_names: list[str], total_population: int,
) -> Fit:  # fmt: skip
    """Every fitted part from a table's usable, snapped rows."""
    calls = table.calls
    populations, per_community = fit_populations(
        calls, community_of_node, community_names, total_population
    )
    return Fit(
        **fit_when(calls["time"]),
        types=fit_types(calls, type_names),
        on_scene=fit_on_scene(calls, type_names),
        populations=populations,
        community_calls=per_community,
    )


DEFAULT_NEW_SERVICE = {"dist": "exponential", "mean": 30.0}  # ASSUMPTION for added types


def _sig(value: float, digits: int = 4) -> float:
    return float(f"{value:.{digits}g}")


def fitted_types(fit: Fit, base_types: list[dict], like: dict | None = None) -> list[dict]:
    """The base's call types (raw dicts) with fitted share, priority and on-scene time.

    Types only in the table are added with the fitted parts and otherwise the parameters of
    the type ``like`` (resolved dict; its outcomes as stated assumptions), or defaults
    (on-scene ``DEFAULT_NEW_SERVICE`` when not fitted, priority 3) when there is none.
    """
    by_name = {t["name"]: dict(t) for t in base_types}
    out = []
    for name, row in fit.types.iterrows():
        if name in by_name:
            entry = by_name[name]
        elif like is not None:
            entry = added_type(name, like)
        else:
            entry = {"name": name, "service_min": dict(DEFAULT_NEW_SERVICE)}
        entry["share"] = _sig(row["share"])
        if row["priority"] is not None and not pd.isna(row["priority"]):
            entry["priority"] = int(row["priority"])
        if name in fit.on_scene.index:
            scene = fit.on_scene.loc[name]
            entry["service_min"] = {
                "dist": "lognormal",
                "median": round(float(scene["median"]), 1),
                "p90": round(max(float(scene["p90"]), float(scene["median"]) * 1.01), 1),
            }
        out.append(entry)
    return out


def fitted_scenario(
    fit: Fit, extends: str, name: str, description: str, communities: list[dict],
    base_types: list[dict], like: dict | None = None,
) -> dict:  # fmt: skip
    """A raw scenario that extends the base with the fitted call settings."""
    return {
        "extends": extends,
        "name": name,
        "description": description,
        "communities": [{**c, "population": fit.populations[c["name"]]} for c in communities],
        "calls": {
            "rate_per_hour": _sig(fit.rate_per_hour),
            "rate_per_1000_residents_per_week": None,
            "hourly_profile": [round(float(v), 3) for v in fit.hourly],
            "day_of_week": [round(float(v), 3) for v in fit.daily],
            "types": fitted_types(fit, base_types, like),
        },
    }
