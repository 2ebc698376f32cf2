"""Replay: a scenario's ``calls.trace: PATH`` replaces the generated calls by a calls table.

The table (format: ``sim.calls.table``) is read with the scenario's call types fixed,
its points snapped to the street network within ``snap_tolerance_m``. The simulation clock
starts (t = 0) at ``calls.trace_start`` (a date-time in the table's zone; default: midnight
before the first usable call) and runs ``warmup_days + days``: calls in the first
``warmup_days`` are warm-up, calls outside the horizon are rejected like unusable rows.

Each replayed call is made at its own node (a resident agent with no population is added
there) with its type, and with its priority and time on scene as recorded where the table
has them (the type's priority and the scenario's draw where it does not); units, dispatch
and outcomes are simulated as usual, and repeats, escalations and latent problems still
follow from the response (set
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

from sim.calls.stream import DRAWS, CallStream
from sim.calls.table import (
    CallsTable,
    ReadOptions,
    Snapper,
    add_rejects,
    read_calls_table,
    require_usable,
    zone_info,
)
from sim.clock import MIN_PER_DAY
from sim.errors import SimInputError
from sim.scenarios.files import find_file

if TYPE_CHECKING:
    from sim.network.world import World
    from sim.scenarios.schema import Scenario


@dataclass(frozen=True)
class Trace:
    """The usable calls of a table within a scenario's horizon (``calls['t_min']``)."""

    table: CallsTable
    start: pd.Timestamp


_CACHE: dict[str, Trace] = {}
_CACHE_SIZE = 4


def resolve_trace_path(path: Path, base_dir: Path | None) -> Path:
    """``path`` as given if absolute, else in the scenario's folder, then in the cwd."""
    return find_file(path, base_dir, "calls.trace", "calls table")


def load_trace(scenario: Scenario, world: World) -> Trace:
    """The scenario's replayed calls (cached by file, options, network and horizon)."""
    calls = scenario.calls
    path = resolve_trace_path(calls.trace, scenario.source_dir)
    stat = path.stat()
    key = json.dumps(
        [str(path), stat.st_mtime_ns, stat.st_size, calls.trace_columns, calls.trace_timezone,
         calls.trace_start, calls.trace_layout, calls.trace_types, calls.trace_crs,
         calls.trace_date_order, [t.name for t in calls.types], world.network.digest,
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
    layout = calls.trace_layout
    if layout is not None and Path(layout).suffix:
        layout = find_file(Path(layout), scenario.source_dir, "calls.trace_layout", "layout")
    options = ReadOptions(layout, calls.trace_types, calls.trace_crs, calls.trace_date_order)
    table = read_calls_table(path, calls.trace_columns, calls.trace_timezone, types, snap,
                             options=options)  # fmt: skip
    start = _start(calls.trace_start, table)
    t_min = ((table.calls["time"] - start) / pd.Timedelta(minutes=1)).to_numpy(float)
    outside = (t_min < 0) | (t_min >= scenario.horizon_min)
    days = scenario.horizon_min / MIN_PER_DAY
    reasons = [
        f"outside the horizon: day {t / MIN_PER_DAY:.2f}, the run covers days 0 to {days:g} "
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
        stamp = stamp.tz_convert(zone_info(table.timezone)).tz_localize(None)
    return stamp


def replay_stream(
    trace: Trace, scenario: Scenario, rng_what: np.random.Generator, first_resident: int
) -> tuple[CallStream, np.ndarray]:
    """The base calls of a replay, and the nodes (in order) where callers must live.

    Call k is made by resident ``first_resident + j`` living at ``nodes[j]``; the model adds
    those residents (with no population). Uniforms are drawn per row of the file.
    """
    calls = trace.table.calls
    uniforms = rng_what.random((trace.table.rows_read, len(DRAWS)))
    names = [t.name for t in scenario.calls.types]
    type_index = np.array([names.index(t) for t in calls["type"]], dtype=np.int64)
    nodes, inverse = np.unique(calls["node"].to_numpy(np.int64), return_inverse=True)
    on_scene = calls["on_scene_min"].to_numpy(float)
    stream = CallStream(
        calls["t_min"].to_numpy(float),
        type_index,
        first_resident + inverse.astype(np.int64),
        uniforms[calls["row"].to_numpy() - 1],
        priority=np.round(calls["priority"].to_numpy(float)),
        service_min=np.where(on_scene >= 0, on_scene, np.nan),
    )
    return stream, nodes
