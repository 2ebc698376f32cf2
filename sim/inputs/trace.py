"""Replay: a scenario's ``calls.trace: PATH`` replaces the generated calls by a calls table.

The table (format: ``sim.inputs.calls_table``) is read with the scenario's call types fixed,
its points snapped to the street network within ``snap_tolerance_m``. The simulation clock
starts (t = 0) at ``calls.trace_start`` (a date-time in the table's zone; default: midnight
before the first usable call) and runs ``warmup_days + days``: calls in the first
``warmup_days`` are warm-up, calls outside the horizon are rejected like unusable rows.

Each replayed call is made at its own node (a resident agent with no population is added
there) with its type; units, dispatch and outcomes are simulated as usual, and repeats,
escalations and latent problems still follow from the response (set
``community_work.enabled=false`` for none of the latter). Each call's own uniforms (service
time, dispatch delay, resolution, ...) come from the ``call_what`` stream by its row in the
file, so two scenarios replaying the same file with the same seed stay paired.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.calls import DRAWS, CallStream
from sim.errors import SimInputError
from sim.inputs.calls_table import (
    CallsTable,
    Snapper,
    add_rejects,
    read_calls_table,
    require_usable,
    write_rejects,
)

if TYPE_CHECKING:
    from sim.model import PatrolModel
    from sim.runner import RunResult
    from sim.scenario import Scenario
    from sim.world import World


@dataclass(frozen=True)
class Trace:
    """The usable calls of a table within a scenario's horizon (``calls['t_min']``)."""

    table: CallsTable
    start: pd.Timestamp


_CACHE: dict[str, Trace] = {}
_CACHE_SIZE = 4


def resolve_trace_path(path: Path, base_dir: Path | None) -> Path:
    """``path`` as given if absolute, else in the scenario's folder, then in the cwd."""
    path = Path(path).expanduser()
    candidates = [path] if path.is_absolute() else []
    if not path.is_absolute():
        candidates = [Path(base_dir) / path] if base_dir is not None else []
        candidates.append(Path.cwd() / path)
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    where = " or ".join(f"'{c}'" for c in dict.fromkeys(candidates))
    raise SimInputError(f"calls.trace: calls table not found: {where}")


def load_trace(scenario: Scenario, world: World, base_dir: Path | None = None) -> Trace:
    """The scenario's replayed calls (cached by file, options, network and horizon)."""
    calls = scenario.calls
    path = resolve_trace_path(calls.trace, base_dir)
    stat = path.stat()
    key = json.dumps(
        [str(path), stat.st_mtime_ns, stat.st_size, calls.trace_columns, calls.trace_timezone,
         calls.trace_start, [t.name for t in calls.types], world.network.digest,
         scenario.snap_tolerance_m, scenario.horizon_min],
        sort_keys=True,
    )  # fmt: skip
    if key not in _CACHE:
        while len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = _load(scenario, world, path)
    return _CACHE[key]


def _load(scenario: Scenario, world: World, path: Path) -> Trace:
    calls = scenario.calls
    snap = Snapper(world.network, world.router, scenario.snap_tolerance_m)
    types = [t.name for t in calls.types]
    table = read_calls_table(path, calls.trace_columns, calls.trace_timezone, types, snap)
    start = _start(calls.trace_start, table)
    t_min = ((table.calls["time"] - start) / pd.Timedelta(minutes=1)).to_numpy(float)
    outside = (t_min < 0) | (t_min >= scenario.horizon_min)
    days = scenario.horizon_min / 1440.0
    reasons = [
        f"outside the horizon: day {t / 1440.0:.2f}, the run covers days 0 to {days:g} "
        f"from {start:%Y-%m-%d %H:%M}"
        for t in t_min
    ]
    table = add_rejects(table, outside, pd.Series(reasons))
    frame = table.calls.assign(t_min=t_min[~outside])
    frame = frame.sort_values(["t_min", "row"], kind="stable").reset_index(drop=True)
    table = replace(table, calls=frame)
    require_usable(table, where=" within the run's horizon")
    return Trace(table, start)


def _start(text: str | None, table: CallsTable) -> pd.Timestamp:
    """T = 0: ``calls.trace_start`` (in the table's zone) or midnight before the first call."""
    if text is None:
        return table.calls["time"].min().normalize()
    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        raise SimInputError(f"calls.trace_start: not a date-time: {text!r}") from None
    if stamp.tzinfo is not None:
        from sim.inputs.calls_table import _tz

        stamp = stamp.tz_convert(_tz(table.timezone)).tz_localize(None)
    return stamp


def replay_stream(model: PatrolModel, base_dir: Path | None = None) -> CallStream:
    """The model's base calls from its scenario's table; adds a resident at each call node."""
    from sim.agents.places import Resident

    trace = load_trace(model.config, model.world, base_dir)
    calls = trace.table.calls
    uniforms = model.streams.generator("call_what").random((trace.table.rows_read, len(DRAWS)))
    names = [t.name for t in model.config.calls.types]
    type_index = np.array([names.index(t) for t in calls["type"]], dtype=np.int64)
    nodes, inverse = np.unique(calls["node"].to_numpy(np.int64), return_inverse=True)
    first = len(model.residents)
    community = model.world.community_of_node
    for node in nodes.tolist():
        model.residents.append(Resident(model, node, int(community[node]), 0))
    return CallStream(
        calls["t_min"].to_numpy(float),
        type_index,
        first + inverse.astype(np.int64),
        uniforms[calls["row"].to_numpy() - 1],
    )


def announce(scenario: Scenario, base_dir: Path | None) -> str:
    """One line saying what the replay uses and rejects (loads and caches the trace)."""
    from sim.world import build_world

    trace = load_trace(scenario, build_world(scenario, base_dir), base_dir)
    return (
        f"{scenario.name}: replaying {trace.table.summary()}; t = 0 at {trace.start:%Y-%m-%d %H:%M}"
    )


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
    return pd.DataFrame(rows, index=["observed", "simulated"]).T


def replay_outputs(results: list[RunResult], folder: Path) -> list[str]:
    """Rejects and calibration of every replaying result into ``folder``; lines to print."""
    from sim.world import build_world

    lines = []
    for result in results:
        scenario = result.scenario
        if scenario.calls.trace is None:
            continue
        trace = load_trace(scenario, build_world(scenario, result.base_dir), result.base_dir)
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
