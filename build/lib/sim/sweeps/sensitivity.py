"""Global sensitivity analysis of a Sobol or Morris sweep (SALib), as a table and a figure.

The response of a point is the mean of a metric over its seeds and replications. Sobol
gives first-order (S1) and total (ST) indices; Morris gives mu* (mean absolute elementary
effect, per unit of the parameter's range) and sigma; each with 95% bootstrap intervals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import SimInputError, import_extra
from sim.sweeps.designs import design_size, unit_problem, unit_sample
from sim.sweeps.spec import SweepSpec

COLUMNS = {
    "sobol": ["S1", "S1_conf", "ST", "ST_conf"],
    "morris": ["mu_star", "mu_star_conf", "sigma", "mu"],
}


def point_means(spec: SweepSpec, table: pd.DataFrame, metric: str) -> np.ndarray:
    """The metric's mean per point, in design order; every point must have a finished run."""
    if metric not in table.columns:
        known = [c for c in table.columns if "." not in c or c.startswith("response")][:12]
        raise SimInputError(f"unknown metric {metric!r}; e.g. {', '.join(known)}")
    done = table[table["status"] == "done"]
    means = pd.to_numeric(done[metric], errors="coerce").groupby(done["point"]).mean()
    n_points = design_size(spec.design, len(spec.parameters), spec.samples)
    missing = sorted(set(range(n_points)) - set(means.dropna().index))
    if missing:
        raise SimInputError(
            f"{len(missing)} of {n_points} points have no finished run with {metric!r} "
            f"(e.g. point {missing[0]}); finish the sweep first (--retry-failed)"
        )
    return means.reindex(range(n_points)).to_numpy(dtype=float)


def indices(
    design: str, names: list[str], y: np.ndarray, x: np.ndarray | None = None,
    levels: int = 4, seed: int = 0,
) -> pd.DataFrame:  # fmt: skip
    """Sensitivity indices of output ``y`` (one value per design point) per parameter."""
    if design not in COLUMNS:
        raise SimInputError(f"sensitivity analysis needs a sobol or morris design, not {design!r}")
    frame = pd.DataFrame(index=pd.Index(names, name="parameter"), columns=COLUMNS[design],
                         dtype=float)  # fmt: skip
    if not np.all(np.isfinite(y)) or np.ptp(y) == 0:
        return frame  # no variation (or a missing value): every index is undefined
    problem = unit_problem(len(names))
    if design == "sobol":
        sobol = import_extra("SALib.analyze.sobol", "sweep", "sensitivity analysis")
        result = sobol.analyze(problem, y, calc_second_order=False, seed=seed)
    else:
        morris = import_extra("SALib.analyze.morris", "sweep", "sensitivity analysis")
        result = morris.analyze(problem, x, y, num_levels=levels, seed=seed)
    for column in COLUMNS[design]:
        frame[column] = np.asarray(result[column], dtype=float)
    return frame


def analyze(spec: SweepSpec, table: pd.DataFrame, metrics: list[str] | None = None) -> pd.DataFrame:
    """Indices for each metric, as one long table (metric, parameter, indices...)."""
    if spec.design not in COLUMNS:
        raise SimInputError(
            f"sensitivity analysis needs a sobol or morris design, not {spec.design!r}"
        )
    names = list(spec.parameters)
    x = unit_sample(spec.design, len(names), spec.samples, spec.levels, spec.seed)
    frames = []
    for metric in metrics or list(spec.metrics):
        y = point_means(spec, table, metric)
        frame = indices(spec.design, names, y, x, spec.levels, spec.seed)
        frames.append(frame.reset_index().assign(metric=metric))
    result = pd.concat(frames, ignore_index=True)
    return result[["metric", "parameter", *COLUMNS[spec.design]]]


def format_indices(frame: pd.DataFrame) -> str:
    """The table as text: value ± half-width."""
    value, other = ("S1", "ST") if "S1" in frame else ("mu_star", "sigma")
    lines = [
        "± : SALib's 95% confidence of each index (over the design's sample, random noise only)",
        f"{'metric':<24}{'parameter':<36}{value:>16}{other:>16}",
    ]
    for row in frame.itertuples(index=False):
        first = _pm(getattr(row, value), getattr(row, f"{value}_conf"))
        second = _pm(getattr(row, other), getattr(row, f"{other}_conf", None))
        lines.append(f"{row.metric:<24}{row.parameter:<36}{first:>16}{second:>16}")
    return "\n".join(lines)


def _pm(value: float, half: float | None) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value:.3f}" if half is None or not np.isfinite(half) else f"{value:.3f}±{half:.3f}"


#: The widest 95% half-width an index may have when it is small (on the [0, 1] scale).
HALF_WIDTH_FLOOR = 0.05


def untrustworthy(frame: pd.DataFrame, samples: int) -> str | None:
    """A warning when indices are impossible or unresolved, with the samples that would do.

    Sobol indices must lie in [0, 1]; an index whose 95% half-width is larger than the index
    is not told apart from 0. The half-width falls as 1/sqrt(samples): the samples needed
    bring every flagged half-width under max(half the index (a Sobol index taken as at
    most 1), ``HALF_WIDTH_FLOOR``).
    """
    value = "S1" if "S1" in frame else "mu_star"
    checks = ("S1", "ST") if value == "S1" else ("mu_star",)
    flagged, needed = [], samples
    for row in frame.itertuples(index=False):
        for column in checks:
            v, half = getattr(row, column), getattr(row, f"{column}_conf")
            if not (np.isfinite(v) and np.isfinite(half)):
                continue
            impossible = value == "S1" and not 0 <= v <= 1
            if not (impossible or half > abs(v)):
                continue
            flagged.append(f"{row.metric} / {row.parameter}: {column} = {v:.2f}±{half:.2f}")
            cap = 1.0 if value == "S1" else np.inf  # Sobol indices are shares; mu* is not
            target = max(min(abs(v), cap) / 2, HALF_WIDTH_FLOOR)
            needed = max(needed, int(np.ceil(samples * (half / target) ** 2)))
    if not flagged:
        return None
    if value == "S1":
        needed = 1 << (needed - 1).bit_length()  # Sobol sequences want powers of 2
        what = "outside [0, 1] or with a 95% interval wider than the index"
    else:
        what = "with a 95% interval wider than the index"
    return (
        f"WARNING: {len(flagged)} indices {what} (e.g. {flagged[0]}): too few samples to "
        f"trust them; about samples: {needed} in the spec (now {samples}) would narrow them"
    )


def plot_indices(frame: pd.DataFrame, path: str | Path) -> Path:
    """Bar chart per metric with 95% intervals; writes PNG and the CSV beside it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    frame.to_csv(path.with_suffix(".csv"), index=False)
    bars = [("S1", "first order"), ("ST", "total")] if "S1" in frame else [("mu_star", "mu*")]
    metrics = list(dict.fromkeys(frame["metric"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.6), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        sub = frame[frame["metric"] == metric]
        pos = np.arange(len(sub))
        width = 0.8 / len(bars)
        for i, (column, label) in enumerate(bars):
            ax.bar(pos + i * width, sub[column].fillna(0), width, label=label,
                   yerr=sub[f"{column}_conf"].fillna(0), capsize=3)  # fmt: skip
        ax.set_xticks(pos + width * (len(bars) - 1) / 2, sub["parameter"], rotation=30,
                      ha="right", fontsize=8)  # fmt: skip
        ax.set_title(metric, fontsize=10)
        ax.axhline(0, color="black", lw=0.5)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
