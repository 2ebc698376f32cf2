"""What a replay of a calls table reports: what it uses and rejects, and a calibration check."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sim.calls.replay import Trace, load_trace
from sim.calls.table import write_rejects
from sim.network.world import build_world

if TYPE_CHECKING:
    from sim.analysis.replications import RunResult
    from sim.scenarios.schema import Scenario


def announce(scenario: Scenario) -> str:
    """One line saying what the replay uses and rejects (loads and caches the trace)."""
    trace = load_trace(scenario, build_world(scenario))
    return (
        f"{scenario.name}: replaying {trace.table.summary()}; t = 0 at {trace.start:%Y-%m-%d %H:%M}"
    )


def replay_check(scenario: Scenario) -> str | None:
    """A warning when the replay rejects many rows or its rows overrun the run (or None)."""
    from sim.reporting.replay_check import replay_warning

    trace = load_trace(scenario, build_world(scenario))
    return replay_warning(trace, scenario.name, scenario.horizon_min / 1440.0)


def calibration(result: RunResult, trace: Trace) -> pd.DataFrame | None:
    """Observed (the table's response_min) against simulated response times, after warm-up.

    Only the replayed calls count on both sides (no repeats or latent-problem calls).
    None when the table has no achieved response times.
    """
    calls = trace.table.calls
    observed = calls.loc[calls["t_min"] >= result.scenario.warmup_min, "response_min"].dropna()
    if observed.empty:
        return None
    records = result.records
    base = records[~records["in_warmup"] & records["repeat_of"].isna() & records["problem"].isna()]
    simulated = base["response_min"]
    rows = {
        "calls with a response time (per replication)": (
            observed.size,
            simulated.notna().sum() / result.scenario.replications,
        ),
        "mean (min)": (observed.mean(), simulated.mean()),
        "median (min)": (observed.median(), simulated.median()),
        "p90 (min)": (observed.quantile(0.9), simulated.quantile(0.9)),
        **{
            f"within {m} min": ((observed <= m).mean(), (simulated <= m).mean())
            for m in (3, 5, 10, 15)
        },
    }
    rows.update(by_priority(calls[calls["t_min"] >= result.scenario.warmup_min], base,
                            result.scenario.replications))  # fmt: skip
    return pd.DataFrame(rows, index=["observed", "simulated"]).T


TARGET_MIN = 10.0  # the per-priority rows' response target


def by_priority(observed: pd.DataFrame, simulated: pd.DataFrame, reps: int) -> dict:
    """Recorded against simulated response per priority: n, mean, median, p90, within target.

    Replayed calls keep their recorded priority, so both sides group the same calls.
    """
    rows = {}
    seen = observed.dropna(subset=["response_min", "priority"])
    for priority in sorted(seen["priority"].unique()):
        rec = seen.loc[seen["priority"] == priority, "response_min"]
        sim = simulated.loc[simulated["priority"] == priority, "response_min"].dropna()
        label = f"priority {priority:g}"
        rows[f"{label}: calls (per replication)"] = (rec.size, sim.size / max(reps, 1))
        rows[f"{label}: mean (min)"] = (rec.mean(), sim.mean())
        rows[f"{label}: median (min)"] = (rec.median(), sim.median())
        rows[f"{label}: p90 (min)"] = (rec.quantile(0.9), sim.quantile(0.9))
        rows[f"{label}: within {TARGET_MIN:g} min"] = (
            (rec <= TARGET_MIN).mean(),
            (sim <= TARGET_MIN).mean(),
        )
    return rows


def replay_outputs(results: list[RunResult], folder: Path) -> list[str]:
    """Rejects and calibration of every replaying result into ``folder``; lines to print."""
    lines = []
    for result in results:
        scenario = result.scenario
        if scenario.calls.trace is None:
            continue
        trace = load_trace(scenario, build_world(scenario))
        name = scenario.name
        if len(trace.table.rejects):
            write_rejects(trace.table, folder / f"trace_rejects_{name}.csv")
            lines.append(
                f"{name}: {len(trace.table.rejects)} rows of {trace.table.source.name} "
                f"rejected, with reasons in trace_rejects_{name}.csv"
            )
        table = calibration(result, trace)
        if table is not None:
            table.to_csv(folder / f"calibration_{name}.csv")
            lines.append(f"{name}: observed against simulated response (calibration check)")
            lines.append(table.to_string(float_format=lambda v: f"{v:.2f}"))
    return lines
