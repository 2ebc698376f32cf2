"""A raw export, read through its layout, as our columns: times, types, priorities, points.

``prepare`` returns the columns ``sim.calls.table`` checks and snaps: the call ``time`` (as
written), ``type``, ``priority`` on the scenario's scale (1 = most urgent), coordinates (WGS 84
``lon``/``lat`` degrees, or ``x``/``y`` metres in the network's CRS for our own layout
without a ``crs``), ``self_initiated``, the source row ``id``, and the durations in minutes
a layout gives directly or through time columns (``dispatch_min`` = dispatch - create,
``travel_min`` = arrive - dispatch, ``on_scene_min`` = close - arrive, ``response_min`` =
arrive - create). A bad priority or an impossible duration is a reason to reject the row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.calls.coords import check_system, to_wgs84, wkt_points
from sim.calls.layouts import Placement
from sim.calls.times import parse_times

MAX_DURATION_MIN = 24 * 60.0
DURATIONS = {  # ours: (from, to) time columns
    "dispatch_min": ("time", "dispatch_time"),
    "travel_min": ("dispatch_time", "arrive_time"),
    "on_scene_min": ("arrive_time", "close_time"),
    "response_min": ("time", "arrive_time"),
}


@dataclass(frozen=True)
class Prepared:
    """Our columns of a raw table, whether its points are degrees, and reasons to reject."""

    frame: pd.DataFrame
    geographic: bool
    reasons: pd.Series  # a reason per row or <NA>
    system: str  # the coordinate system the points were read in


def prepare(
    raw: pd.DataFrame, placement: Placement, timezone: str | None, order: str | None,
    crs: str | None = None,
) -> tuple[Prepared, str]:  # fmt: skip
    """Our columns from ``raw`` through ``placement`` and the clock's zone (see the docstring)."""
    layout, found = placement.layout, placement.found
    reasons = pd.Series(pd.NA, index=raw.index, dtype="string")
    frame = pd.DataFrame(index=raw.index)
    frame["time"] = raw[found["time"]]
    frame["type"] = raw[found["type"]].astype("string").str.strip()
    frame["id"] = raw[found["id"]].astype("string") if "id" in found else pd.NA
    frame["priority"] = priorities(raw, placement, reasons)
    marks = {v.casefold() for v in layout.self_initiated}
    if "self_initiated" in found and marks:
        flags = raw[found["self_initiated"]].astype("string").str.strip().str.casefold()
        frame["self_initiated"] = flags.isin(marks).fillna(False).to_numpy(bool)
    else:
        frame["self_initiated"] = False
    order = order or layout.date_order
    times, zone = parse_times(frame["time"], timezone or layout.timezone, order)
    frame["time"] = times
    durations(raw, placement, frame, zone, order, reasons)
    given = crs or layout.crs
    system = check_system(given or "EPSG:4326", "--crs")
    geographic = points(raw, placement, frame, system, xy_metres=given is None)
    return Prepared(frame, geographic, reasons, system), zone


def priorities(raw: pd.DataFrame, placement: Placement, reasons: pd.Series) -> np.ndarray:
    """Priorities on the scenario's scale (NaN where none); codes off the scale get a reason."""
    if "priority" not in placement.found:
        return np.full(len(raw), np.nan)
    text = raw[placement.found["priority"]].astype("string").str.strip().fillna("")
    scale = placement.layout.priority
    parts = text.str.extract(r"^(-?\d+)\s*([A-Za-z]*)$")
    number = pd.to_numeric(parts[0], errors="coerce").to_numpy(float)
    if scale is None:  # our own: plain numbers, 1 = most urgent
        return np.array(pd.to_numeric(text.replace("", None), errors="coerce"), dtype=float)
    low, high = sorted((scale.most_urgent, scale.least_urgent))
    bad = (text != "").to_numpy() & ~((number >= low) & (number <= high))
    flag(reasons, bad, "priority off the layout's scale: " + text
         + f" (most urgent {scale.most_urgent}, least urgent {scale.least_urgent})")  # fmt: skip
    out = 1.0 + np.abs(number - scale.most_urgent)
    out[bad] = np.nan
    return out


def durations(
    raw: pd.DataFrame, placement: Placement, frame: pd.DataFrame, zone: str, order: str | None,
    reasons: pd.Series,
) -> None:  # fmt: skip
    """Duration columns in minutes (given, or between time columns); impossible ones flagged."""
    found = placement.found
    stamps = {"time": frame["time"]}
    for column in ("dispatch_time", "arrive_time", "close_time"):
        if column in found:
            stamps[column], _ = parse_times(raw[found[column]], zone_or_none(zone), order)
    for ours, (start, end) in DURATIONS.items():
        if ours in found:
            values = pd.to_numeric(raw[found[ours]].replace("", None), errors="coerce")
            minutes = np.array(values, dtype=float)
        elif start in stamps and end in stamps:
            minutes = ((stamps[end] - stamps[start]) / pd.Timedelta(minutes=1)).to_numpy(float)
        else:
            minutes = np.full(len(raw), np.nan)
        name = f"{found.get(ours, found.get(end, ours))}"
        flag(reasons, minutes < 0, f"negative duration: {ours} " + _fmt(minutes) + f" ({name})")
        flag(reasons, minutes > MAX_DURATION_MIN,
             f"implausible duration: {ours} " + _fmt(minutes) + f" over 24 h ({name})")  # fmt: skip
        frame[ours] = minutes


def zone_or_none(zone: str) -> str | None:
    """The zone to read further time columns in (None when times were read as written)."""
    return None if zone.startswith("wall-clock") or zone.startswith("UTC") else zone


def _fmt(minutes: np.ndarray) -> pd.Series:
    return pd.Series([f"{m:.1f} min" for m in minutes], dtype="string")


def points(
    raw: pd.DataFrame, placement: Placement, frame: pd.DataFrame, system: str, xy_metres: bool
) -> bool:
    """Fill lon/lat (WGS 84) or x/y (network metres); whether they are degrees.

    A WKT point comes first; lon/lat or x/y (in ``system``) fill the rows without one.
    ``xy_metres``: x/y are metres in the network's CRS (our own names, no system given).
    """
    found, layout = placement.found, placement.layout
    a, b = np.full(len(raw), np.nan), np.full(len(raw), np.nan)
    geographic = False
    if "point" in found:
        a, b = wkt_points(raw[found["point"]])
        a, b = to_wgs84(a, b, check_system(layout.point_crs, "layout point_crs"))
        geographic = True
    for pair in (("lon", "lat"), ("x", "y")):
        if not all(c in found for c in pair):
            continue
        u, v = (_numbers(raw[found[c]]) for c in pair)
        if pair == ("x", "y") and xy_metres:
            if geographic:
                continue
            frame["x"], frame["y"] = u, v
            return False
        u, v = to_wgs84(u, v, system)
        gap = ~(np.isfinite(a) & np.isfinite(b))
        a[gap], b[gap] = u[gap], v[gap]
        geographic = True
        break
    frame["lon"], frame["lat"] = a, b
    return geographic


def _numbers(values: pd.Series) -> np.ndarray:
    return np.array(pd.to_numeric(values.replace("", None), errors="coerce"), dtype=float)


def flag(reason: pd.Series, mask, text) -> None:
    """Set ``text`` as the reason where ``mask`` holds and no reason was given yet."""
    mask = pd.Series(np.asarray(mask, dtype=bool), index=reason.index) & reason.isna()
    if mask.any():
        reason[mask] = text[mask.to_numpy()].to_numpy() if isinstance(text, pd.Series) else text
