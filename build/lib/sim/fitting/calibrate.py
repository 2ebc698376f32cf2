"""Calibration from the export's own time columns (``run_sim.py fit`` on a layout with them).

From the minutes ``sim.calls.prepare`` derives (negative and over-24-h ones are already
rejected rows): the call-taking and dispatch delay (dispatch - create), the travel time
(arrive - dispatch) and the time on scene (close - arrive), summarised per type and per
priority. The dispatch delay is fitted to the scenario's ``dispatch.delay_min`` as a
lognormal (by median and p90, as on-scene times are); travel is simulated on the street
network, so the recorded one is reported only, for comparison with a run's ``travel_min``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.calls.table import CallsTable
from sim.fitting.fit import MIN_ON_SCENE, fit_lognormal

PARTS = {
    "dispatch_delay_min": "dispatch_min",
    "travel_min": "travel_min",
    "on_scene_min": "on_scene_min",
}


def positive(values: pd.Series) -> np.ndarray:
    """The finite, positive minutes of ``values``."""
    minutes = values.to_numpy(float)
    return minutes[np.isfinite(minutes) & (minutes > 0)]


def fit_dispatch_delay(table: CallsTable) -> dict | None:
    """``dispatch.delay_min`` as a lognormal fitted to the recorded delays (None: too few)."""
    minutes = positive(table.calls["dispatch_min"])
    if len(minutes) < MIN_ON_SCENE or np.ptp(np.log(minutes)) == 0:
        return None
    fit = fit_lognormal(minutes)
    median = round(fit["median"], 2)
    return {"dist": "lognormal", "median": median, "p90": round(max(fit["p90"], median * 1.01), 2)}


def duration_rows(table: CallsTable) -> pd.DataFrame:
    """Report rows: n, median and p90 of each recorded part per type and per priority."""
    calls = table.calls
    rows = []
    priority = calls["priority"].map(lambda p: "none" if pd.isna(p) else f"{p:g}")
    groups = [("type", calls["type"].astype(str)), ("priority", priority)]
    for kind, column in PARTS.items():
        for by, keys in groups:
            for key, index in keys.groupby(keys).groups.items():
                minutes = positive(calls.loc[index, column])
                if len(minutes) == 0:
                    continue
                stem = kind.removesuffix("_min")
                for name, value in (("median", np.median(minutes)),
                                    ("p90", np.quantile(minutes, 0.9))):  # fmt: skip
                    rows.append({"kind": f"recorded_{stem}_{name}_min", "key": f"{by} {key}",
                                 "observed": float(value), "n": len(minutes)})  # fmt: skip
    return pd.DataFrame(rows, columns=["kind", "key", "observed", "n"])


def summary(table: CallsTable, delay: dict | None) -> str | None:
    """One line: what the export's time columns gave (None when they gave nothing)."""
    parts = []
    for kind, column in PARTS.items():
        minutes = positive(table.calls[column])
        if len(minutes):
            parts.append(f"{kind.removesuffix('_min').replace('_', ' ')} median "
                         f"{np.median(minutes):.1f} min (n={len(minutes)})")  # fmt: skip
    if not parts:
        return None
    fitted = "dispatch.delay_min fitted" if delay else "dispatch delay kept from the base"
    return f"recorded: {', '.join(parts)}; {fitted}"
