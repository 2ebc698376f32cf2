"""Shared parts of the patrol experiments: options, arms, per-replication metrics, CIs, files.

Every arm of an experiment runs with the same seed, so replication r of every arm faces the
same calls (common random numbers); differences are taken replication by replication.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

import sim
from sim.measures.metrics import mean_ci

ROOT = Path(__file__).resolve().parents[2]
QUICK_REPS, QUICK_DAYS = 2, 4.0  # --quick: a smoke test (2 warm-up days + 2 observed)

#: Theft marked on view in every arm (the incidents are the world's, not the policy's).
#: ASSUMPTIONS, the defaults of sim/scenarios/patrol.py (OnView), no source for the district:
#: the incident is visible 20 min (range 5-60), a passing unit notices it with p 0.5
#: (0.2-0.9), unnoticed it is reported with p 0.6 (0.3-1) after 10 min (0-30).
THEFT = 1  # index of theft in the district's call types (sim/scenarios/_district.yaml)
THEFT_ON_VIEW = {"duration_min": 20.0, "p_notice": 0.5, "report_share": 0.6,
                 "report_delay_min": 10.0}  # fmt: skip
ON_VIEW = {f"calls.types.{THEFT}.on_view": THEFT_ON_VIEW}

Metric = Callable[[dict[str, Any], pd.DataFrame], float | None]


def options(name: str, days: float, reps: int) -> argparse.ArgumentParser:
    """The options every script takes."""
    parser = argparse.ArgumentParser(description=f"Patrol experiment: {name}")
    here = ROOT / "experiments" / "patrol" / name
    parser.add_argument("--out", help=f"output folder (default {here}/figures, or with --quick "
                        f"results/patrol/{name}-quick)")  # fmt: skip
    parser.add_argument("--days", type=float, default=days, help="simulated days per run")
    parser.add_argument("--reps", type=int, default=reps, help="replications per arm")
    parser.add_argument("--quick", action="store_true", help="smoke test: 2 reps, 4 days")
    return parser


def parse(parser: argparse.ArgumentParser, argv: list[str] | None, name: str):
    """Parsed options with --quick applied and ``out`` a Path."""
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.days = QUICK_REPS, QUICK_DAYS
    default = (ROOT / "results" / "patrol" / f"{name}-quick" if args.quick
               else ROOT / "experiments" / "patrol" / name / "figures")  # fmt: skip
    args.out = Path(args.out) if args.out else default
    return args


def run_arms(scenario: str, arms: dict[str, dict], args) -> dict[str, sim.RunResult]:
    """Every arm: the scenario with the arm's changes, same seed, ``args.reps`` replications."""
    results = {}
    for name, changes in arms.items():
        started = time.perf_counter()
        results[name] = sim.run(scenario, reps=args.reps, days=args.days, set=changes)
        print(f"{name}: {args.reps} reps x {args.days:g} days, "
              f"{time.perf_counter() - started:.1f} s", file=sys.stderr)  # fmt: skip
    return results


def observed(records: pd.DataFrame) -> pd.DataFrame:
    """Records after the warm-up."""
    return records[~records["in_warmup"].astype(bool)]


def per_replication(results: dict[str, sim.RunResult], metrics: dict[str, Metric]) -> pd.DataFrame:
    """One row per arm and replication, one column per metric."""
    rows = []
    for arm, result in results.items():
        for rep, summary in enumerate(result.summaries):
            records = observed(result.records[result.records["replication"] == rep])
            row = {"arm": arm, "replication": rep}
            row.update({m: fn(summary, records) for m, fn in metrics.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def paired(table: pd.DataFrame, base: str) -> pd.DataFrame:
    """Per arm and metric: mean and 95% CI, and the paired difference to ``base`` with its CI."""
    metrics = [c for c in table.columns if c not in ("arm", "replication")]
    control = table[table["arm"] == base].set_index("replication")
    rows = []
    for arm, group in table.groupby("arm", sort=False):
        group = group.set_index("replication")
        for metric in metrics:
            mean, half = mean_ci(_values(group[metric]))
            diff = group[metric] - control[metric].reindex(group.index)
            d_mean, d_half = mean_ci(_values(diff)) if arm != base else (None, None)
            rows.append({"arm": arm, "metric": metric, "mean": mean, "ci95": half,
                         "diff": d_mean, "diff_ci95": d_half, "n": len(group)})  # fmt: skip
    return pd.DataFrame(rows)


def _values(series: pd.Series) -> list[float | None]:
    return [None if pd.isna(v) else float(v) for v in series]


def markdown(summary: pd.DataFrame, base: str, digits: dict[str, int] | None = None) -> str:
    """A markdown table: metric rows, arm columns, 'mean ± ci' and '(Δ ± ci)' to ``base``."""
    digits = digits or {}
    arms = list(dict.fromkeys(summary["arm"]))
    lines = ["| metric | " + " | ".join(arms) + " |", "|---" * (len(arms) + 1) + "|"]
    for metric, group in summary.groupby("metric", sort=False):
        k = digits.get(metric, 2)
        cells = [_cell(group[group["arm"] == arm].iloc[0], arm == base, k) for arm in arms]
        lines.append(f"| {metric} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(row: pd.Series, is_base: bool, k: int) -> str:
    if row["mean"] is None or pd.isna(row["mean"]):
        return "-"
    text = f"{row['mean']:.{k}f}" + (f" ± {row['ci95']:.{k}f}" if pd.notna(row["ci95"]) else "")
    if not is_base and pd.notna(row["diff"]):
        half = f" ± {row['diff_ci95']:.{k}f}" if pd.notna(row["diff_ci95"]) else ""
        text += f" (Δ {row['diff']:+.{k}f}{half})"
    return text


def save(fig: plt.Figure, data: pd.DataFrame, out: Path, name: str) -> None:
    """Write the figure as PNG with its data as CSV beside it."""
    out.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out / f"{name}.png", dpi=110)
    plt.close(fig)
    data.to_csv(out / f"{name}.csv", index=False)
    print(f"wrote {out / name}.png and .csv", file=sys.stderr)


def bars(ax: plt.Axes, summary: pd.DataFrame, metric: str, label: str, scale: float = 1.0):
    """Mean per arm with its 95% CI."""
    sub = summary[summary["metric"] == metric]
    ax.bar(sub["arm"], sub["mean"].astype(float) * scale,
           yerr=sub["ci95"].astype(float).fillna(0) * scale, capsize=4, color="0.6")  # fmt: skip
    ax.set(ylabel=label)
    ax.tick_params(axis="x", rotation=20)


def write_tables(summary: pd.DataFrame, table: pd.DataFrame, out: Path, text: str) -> None:
    """The summary and per-replication CSVs and the markdown table."""
    out.mkdir(parents=True, exist_ok=True)
    summary.to_csv(out / "summary.csv", index=False)
    table.to_csv(out / "replications.csv", index=False)
    (out / "table.md").write_text(text + "\n")
    print(text)


# -- metrics shared by the experiments -------------------------------------------------
def response_mean(summary: dict, records: pd.DataFrame) -> float | None:
    return summary["response_min"]["mean"]


def within_10(summary: dict, records: pd.DataFrame) -> float | None:
    return summary["within_target"]["10"]


def resident_calls(summary: dict, records: pd.DataFrame) -> float:
    """Calls residents made after warm-up: at once, or later for an unnoticed incident."""
    return float(records["found_by"].isin(["call", "report"]).sum())


def found_on_view(summary: dict, records: pd.DataFrame) -> float:
    return float((records["found_by"] == "patrol").sum())


def on_view_share(summary: dict, records: pd.DataFrame) -> float | None:
    seen = (summary.get("patrol") or {}).get("on_view")
    return seen["share_on_view"] if seen else None


def patrol_share(summary: dict, records: pd.DataFrame) -> float:
    return summary["utilization"]["by_state"]["patrol"]


def coverage_map(ax: plt.Axes, scenario: str, changes: dict, days: float) -> pd.DataFrame:
    """Segments coloured by patrol passes per day (replication 0); the data as a table."""
    model = sim.PatrolModel(sim.load_scenario(scenario, days=days, set=changes))
    model.run()
    cover, router = model.patroller.coverage, model.router
    passes, _ = cover.passes_and_shifts()
    observed_days = max(model.time - model.warmup_min, 1e-9) / 1440.0
    data = pd.DataFrame({
        "tail": [router.node_ids[n] for n in cover.segment_tail],
        "head": [router.node_ids[n] for n in cover.segment_head],
        "x0": router.x[cover.segment_tail], "y0": router.y[cover.segment_tail],
        "x1": router.x[cover.segment_head], "y1": router.y[cover.segment_head],
        "passes_per_day": passes / observed_days})  # fmt: skip
    top = max(float(data["passes_per_day"].quantile(0.95)), 1e-9)
    cmap = plt.get_cmap("viridis")
    for row in data.itertuples():
        ax.plot([row.x0, row.x1], [row.y0, row.y1], lw=1.5,
                color=cmap(min(row.passes_per_day / top, 1.0)))  # fmt: skip
    for post in model.posts.values():
        ax.plot(router.x[post.node], router.y[post.node], "r^", ms=7)
    ax.set(aspect="equal", xticks=[], yticks=[])
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, top))
    plt.colorbar(sm, ax=ax, shrink=0.7, label="passes per day (capped at p95)")
    return data


def latin(name: str) -> str:
    """A community's name without its Chinese part (the figures' font has no CJK glyphs)."""
    return " ".join(w for w in name.split() if w.isascii()) or name
