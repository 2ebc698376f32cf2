"""One export, before and after a date (``fit CALLS --split DATE``): two tables, one report.

The report sets the two periods side by side as recorded: days, calls per day, the share of
self-initiated rows, the type mix, and response times by priority (mean, median, p90 and the
share within ``TARGET_MIN``) where the export records them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from sim.calls.table import CallsTable, require_usable
from sim.errors import SimInputError

TARGET_MIN = 10.0  # the report's response target (the summary's within_target has 3-15 min)


def split_table(table: CallsTable, date: pd.Timestamp) -> tuple[CallsTable, CallsTable]:
    """The table's usable (and self-initiated) rows before ``date`` and from it on."""
    parts = []
    for name, keep in (("before", lambda t: t < date), ("after", lambda t: t >= date)):
        part = replace(
            table,
            calls=table.calls[keep(table.calls["time"])],
            on_view=table.on_view[keep(table.on_view["time"])] if len(table.on_view) else
            table.on_view,
        )  # fmt: skip
        if part.calls.empty:
            first, last = table.calls["time"].min(), table.calls["time"].max()
            raise SimInputError(
                f"--split {date:%Y-%m-%d}: no usable call {name} it (the calls run from "
                f"{first:%Y-%m-%d} to {last:%Y-%m-%d})"
            )
        require_usable(part)
        parts.append(part)
    return parts[0], parts[1]


def period_figures(table: CallsTable, types: list[str]) -> dict[str, float]:
    """The report's figures of one period (see the module docstring)."""
    calls = table.calls
    days = (calls["time"].max().normalize() - calls["time"].min().normalize()).days + 1
    own = len(table.on_view)
    figures: dict[str, float] = {
        "days": days,
        "calls": len(calls),
        "calls per day": len(calls) / days,
        "self-initiated share": own / (own + len(calls)),
    }
    shares = calls["type"].value_counts(normalize=True)
    for name in [*types, *sorted(set(shares.index) - set(types))]:
        figures[f"share {name}"] = float(shares.get(name, 0.0))
    timed = calls.dropna(subset=["response_min"])
    for priority, group in timed.groupby(timed["priority"].fillna(0).astype(int)):
        minutes = group["response_min"].to_numpy(float)
        label = f"priority {priority}" if priority else "no priority"
        figures[f"{label}: calls with a response time"] = len(minutes)
        figures[f"{label}: response mean (min)"] = float(minutes.mean())
        figures[f"{label}: response median (min)"] = float(np.median(minutes))
        figures[f"{label}: response p90 (min)"] = float(np.quantile(minutes, 0.9))
        figures[f"{label}: within {TARGET_MIN:g} min"] = float((minutes <= TARGET_MIN).mean())
    return figures


def split_report(before: CallsTable, after: CallsTable, base) -> pd.DataFrame:
    """Figures of both periods side by side (rounded for reading)."""
    types = [t.name for t in base.calls.types]
    a, b = period_figures(before, types), period_figures(after, types)
    keys = list(dict.fromkeys([*a, *b]))
    return pd.DataFrame(
        {
            "figure": keys,
            "before": [round(a.get(k, np.nan), 3) for k in keys],
            "after": [round(b.get(k, np.nan), 3) for k in keys],
        }
    )
