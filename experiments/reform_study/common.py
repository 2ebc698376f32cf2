"""Shared parts of the reform study scripts: options, running a sweep, CIs, figures."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from sim.measures.metrics import mean_ci
from sim.sweeps.driver import run_sweep
from sim.sweeps.executors import EXECUTORS, open_pool
from sim.sweeps.spec import make_plan, parse_spec

ROOT = Path(__file__).resolve().parents[2]
LABELS = {"central": "before (central)", "embedded": "after (embedded)",
          "optics_valley_east_central": "before (central)",
          "optics_valley_east": "after (embedded)"}  # fmt: skip
OSM_CREDIT = "Map data © OpenStreetMap contributors, ODbL"


def options(study: str, days: float, reps: int) -> argparse.ArgumentParser:
    """The options every script takes."""
    parser = argparse.ArgumentParser(description=f"Reform study: {study}")
    parser.add_argument("--out", default=str(ROOT / "results" / "reform_study" / study))
    parser.add_argument("--days", type=float, default=days, help="simulated days per run")
    parser.add_argument("--reps", type=int, default=reps, help="replications per point")
    parser.add_argument("--executor", choices=EXECUTORS, default="local")
    parser.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    parser.add_argument("--scheduler", help="Dask scheduler address (with --executor dask)")
    parser.add_argument("--quiet", action="store_true")
    return parser


def sweep(spec: dict[str, Any], args: argparse.Namespace) -> pd.DataFrame:
    """Run (or resume) a sweep into OUT/sweep-NAME; its table of runs."""
    spec = {"replications": args.reps, **spec}
    spec["set"] = {"days": args.days, **spec.get("set", {})}
    plan = make_plan(parse_spec(spec, f"<{spec['name']}>").located(ROOT))
    started = time.perf_counter()
    stats = run_sweep(
        plan, Path(args.out) / f"sweep-{spec['name']}",
        lambda: open_pool(args.executor, args.workers, args.scheduler), progress=not args.quiet,
    )  # fmt: skip
    print(f"{spec['name']}: {stats.done + stats.failed} runs now, {stats.skipped} from the ledger, "
          f"{time.perf_counter() - started:.1f} s on {args.executor}", file=sys.stderr)  # fmt: skip
    table = pd.read_parquet(stats.table)
    failed = table[table["status"] != "done"]
    if len(failed):
        print(
            f"warning: {len(failed)} runs failed, e.g. {failed['error'].iloc[0]}", file=sys.stderr
        )
    return table[table["status"] == "done"]


def summarize(table: pd.DataFrame, by: list[str], metrics: list[str]) -> pd.DataFrame:
    """Mean and 95% CI half-width (over seeds and replications) of each metric per group."""
    rows = []
    for keys, group in table.groupby(by, sort=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        for metric in metrics:
            values = pd.to_numeric(group[metric], errors="coerce").dropna().tolist()
            mean, half = mean_ci(values)
            rows.append({**dict(zip(by, keys, strict=True)), "metric": metric, "mean": mean,
                         "ci95": half, "n": len(values)})  # fmt: skip
    return pd.DataFrame(rows)


def save(fig: plt.Figure, data: pd.DataFrame, out: Path, name: str) -> None:
    """Write the figure as PNG with its data as CSV beside it."""
    out.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out / f"{name}.png", dpi=120)
    plt.close(fig)
    data.to_csv(out / f"{name}.csv", index=False)
    print(f"wrote {out / name}.png and .csv")


def line(ax: plt.Axes, data: pd.DataFrame, x: str, metric: str, group: str | None = None,
         scale: float = 1.0) -> None:  # fmt: skip
    """Mean with CI bars against ``x``, one line per ``group``."""
    sub = data[data["metric"] == metric]
    for name, part in sub.groupby(group, sort=False) if group else [(None, sub)]:
        ax.errorbar(part[x], part["mean"] * scale, yerr=part["ci95"].fillna(0) * scale,
                    marker="o", capsize=3, label=LABELS.get(name, name))  # fmt: skip
