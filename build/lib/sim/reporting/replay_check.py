"""A replay that does not fit its horizon says so, and suggests where to start it.

A table whose first row is a stray one from a year earlier puts t = 0 a year before the
calls and rejects almost every row as outside the horizon; a run of it "succeeds" on a
handful of calls. Here such a replay warns when more than ``MAX_REJECTED`` of its rows are
rejected, or when its rows span more than ``MAX_SPAN_RATIO`` times the horizon, and names
the ``calls.trace_start`` that would keep the most rows.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from sim.calls.replay import Trace
from sim.clock import MIN_PER_DAY

MAX_REJECTED = 0.10
MAX_SPAN_RATIO = 2.0
_OUTSIDE = re.compile(r"outside the horizon: day (-?[0-9.]+)")


def row_days(trace: Trace) -> np.ndarray:
    """Days from t = 0 of every dated row: the replayed ones and those outside the horizon."""
    inside = trace.table.calls["t_min"].to_numpy(float) / MIN_PER_DAY
    reasons = trace.table.rejects.get("reason", pd.Series(dtype=str)).astype(str)
    outside = [float(m.group(1)) for m in map(_OUTSIDE.match, reasons) if m]
    return np.sort(np.concatenate([inside, np.array(outside, dtype=float)]))


def best_start_day(days: np.ndarray, horizon_days: float) -> float:
    """The whole day on which a window of ``horizon_days`` holds the most rows."""
    starts = np.floor(days)
    counts = np.searchsorted(days, starts + horizon_days, side="left") - np.searchsorted(
        days, starts, side="left"
    )
    return float(starts[int(np.argmax(counts))])


def replay_warning(trace: Trace, name: str, horizon_days: float) -> str | None:
    """One warning line when the replay rejects many rows or its rows overrun the horizon."""
    rows = trace.table.rows_read
    rejected = len(trace.table.rejects)
    days = row_days(trace)
    span = float(days[-1] - days[0]) if len(days) else 0.0
    many = rows > 0 and rejected / rows > MAX_REJECTED
    long = span > MAX_SPAN_RATIO * horizon_days
    if not (many or long):
        return None
    said = [f"{rejected} of {rows} rows rejected ({rejected / rows:.0%})"] if many else []
    if long:
        said.append(f"its rows span {span:.0f} days against a run of {horizon_days:g} days")
    text = f"WARNING: {name}: replay {'; '.join(said)}"
    day = best_start_day(days, horizon_days) if len(days) else 0.0
    if day != 0.0:
        start = trace.start + pd.Timedelta(days=day)
        text += f"; the most rows fall in the run with --start {start:%Y-%m-%d}"
    else:
        text += "; the run already starts where the most rows are: choose another with --start"
    return text + " (rejected rows and reasons: trace_rejects_*.csv in the results folder)"
