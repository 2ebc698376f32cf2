"""Calls tables exported from a dispatch system (CSV or Parquet), read into usable rows.

One row per call. An export in a known layout (``sim.calls.layouts``: New Orleans, Seattle,
Detroit, a Chinese 110 export, or a layout file) is read as it comes; otherwise the columns
are ours (map other names with ``columns={"time": "接警时间", ...}``, in a scenario
``calls.trace_columns``):

============== ========= ===============================================================
column         needed    meaning
============== ========= ===============================================================
time           yes       when the call was received: ISO 8601 text (``2025-03-03 08:15``,
                         ``2025-03-03T08:15:00+08:00``) or a Parquet timestamp
lat, lon       one pair  where: degrees (WGS 84), reprojected to the network's CRS
x, y           of these  where: metres in the network's own CRS
type           yes       the call type (in a scenario: one of its ``calls.types`` names)
priority       no        1 = most urgent
on_scene_min   no        minutes on scene (the fit uses them for service times)
response_min   no        minutes from the call to the first unit on scene, as achieved
                         (a replay prints it against the simulated response times)
============== ========= ===============================================================

**Time zone.** Times are turned into wall-clock times of one zone, the simulation's clock
(hour 0 = midnight there): ``timezone`` (scenario ``calls.trace_timezone``, an IANA name such
as ``Asia/Shanghai``) when given; else the layout's; else the zone of the table's first
parseable time that carries one (``+08:00``, ``Z``, or a Parquet column's zone); else the
times as written (no zone). Times without a zone are taken as already in that zone. Dates
such as ``03/04/2025`` that read both month-first and day-first need the order said
(``sim.calls.times``).

**Rejects.** A row that cannot be used is never dropped silently: it is kept in ``rejects``
with its row number (1 = the first data row) and the reason (unparseable time, no location,
a point beyond the snapping tolerance, no or an unknown call type, a priority off the layout's
scale, a negative or over-24-h duration, outside the horizon); a table with no usable row
raises one ``SimInputError`` that counts the reasons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calls.layouts import OWN, choose_layout
from sim.calls.prepare import flag as _flag
from sim.calls.prepare import points, prepare
from sim.calls.snap import Snapper
from sim.calls.times import check_timezone, parse_times, zone_info
from sim.errors import SimInputError

__all__ = ["Snapper", "check_timezone", "parse_times", "zone_info"]  # moved out of here

STANDARD_COLUMNS = ("time", "lat", "lon", "x", "y", "type", "priority", "on_scene_min",
                    "response_min")  # fmt: skip
DURATION_COLUMNS = ("dispatch_min", "travel_min", "on_scene_min", "response_min")


@dataclass(frozen=True)
class ReadOptions:
    """How to read an export.

    Its layout (name or file; None: detected from the header), a mapping of its call types
    onto the scenario's, its coordinate system and its date order.
    """

    layout: str | Path | None = None
    type_map: Mapping[str, str] | None = None
    crs: str | None = None
    date_order: str | None = None


@dataclass(frozen=True)
class CallsTable:
    """Usable rows of a calls table and the rows rejected, with the reason.

    ``calls`` has ``row``, ``id`` (the export's own, when its layout names one), ``time``
    (wall-clock in ``timezone``, no zone attached), ``x_m``, ``y_m`` (network CRS, when
    snapped), ``node`` (router index, -1 when not snapped), ``snap_m``, ``type``,
    ``priority`` (1 = most urgent), and the minutes ``dispatch_min``, ``travel_min``,
    ``on_scene_min``, ``response_min`` (NaN where the table has none). Self-initiated rows
    (an officer's own stops) are usable but kept apart in ``on_view``, with the same columns.
    """

    source: Path
    rows_read: int
    calls: pd.DataFrame
    rejects: pd.DataFrame  # the original columns, plus 'row' and 'reason'
    timezone: str
    layout: str = OWN
    on_view: pd.DataFrame = field(default_factory=pd.DataFrame)
    unmapped: pd.Series = field(default_factory=lambda: pd.Series(dtype=int))  # type: calls

    def summary(self) -> str:
        """One line: layout, rows read, usable, self-initiated, rejected and why."""
        layout = "" if self.layout == OWN else f" (layout {self.layout})"
        text = f"{self.source.name}{layout}: {self.rows_read} rows, {len(self.calls)} usable"
        if len(self.on_view):
            share = len(self.on_view) / max(1, len(self.calls) + len(self.on_view))
            text += f", {len(self.on_view)} self-initiated ({share:.1%}) kept as on-view incidents"
        text += f", {len(self.rejects)} rejected"
        if len(self.rejects):
            text += f" ({reason_counts(self.rejects)})"
        return text + f"; times in {self.timezone}"


def reason_counts(rejects: pd.DataFrame) -> str:
    """'3 unparseable time, 2 unknown call type' (reasons without their details)."""
    kinds = rejects["reason"].str.split(":").str[0]
    return ", ".join(f"{n} {kind}" for kind, n in kinds.value_counts().items())


def read_raw_table(path: Path) -> pd.DataFrame:
    """The table as stored (CSV: text columns; Parquet: its own types)."""
    path = Path(path)
    if not path.is_file():
        raise SimInputError(f"calls table not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix in (".csv", ".txt"):
            return _read_csv(path)
    except (OSError, ValueError) as exc:
        raise SimInputError(f"cannot read calls table {path}: {exc}") from None
    raise SimInputError(f"calls table {path}: expected a .csv or .parquet file")


def _read_csv(path: Path) -> pd.DataFrame:
    """CSV as text, UTF-8 (with or without BOM) or GB 18030 (common in Chinese exports)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
    raise SimInputError(f"calls table {path}: neither UTF-8 nor GB 18030 text")


def read_calls_table(
    path: Path,
    columns: Mapping[str, str] | None = None,
    timezone: str | None = None,
    types: Sequence[str] | None = None,
    snap: Snapper | None = None,
    *,
    options: ReadOptions | None = None,
) -> CallsTable:
    """Read, parse and check a calls table; ``types`` fixes the known call types.

    ``options`` chooses the layout, maps call types and fixes the coordinate system and date
    order. With ``snap`` every point is snapped to the nearest street (rows beyond the
    tolerance are rejected). Raises ``SimInputError`` when no row is usable.
    """
    options = options or ReadOptions()
    source = Path(path)
    raw = read_raw_table(source)
    placement = choose_layout(list(raw.columns), options.layout, source.name, columns)
    prep, zone = prepare(raw, placement, timezone, options.date_order, options.crs)
    std = prep.frame
    reason = pd.Series(pd.NA, index=std.index, dtype="string")
    written = raw[placement.found["time"]].astype("string").fillna("").str.strip()
    _flag(reason, written == "", "no time")
    _flag(reason, std["time"].isna(), "unparseable time: " + written)
    x, y = (std["lon"], std["lat"]) if prep.geographic else (std["x"], std["y"])
    x, y = np.array(x, dtype=float), np.array(y, dtype=float)
    _flag(reason, ~(np.isfinite(x) & np.isfinite(y)), "no location: coordinates missing or bad")
    kinds = map_types(std["type"], types, options.type_map)
    _flag(reason, kinds.isna() | (kinds == ""), "no call type")
    if types is not None:
        unknown = ~kinds.isin(list(types)).fillna(False)
        _flag(
            reason,
            unknown,
            "unknown call type: " + kinds.fillna("") + f" (known: {', '.join(types)})",
        )
    _flag(reason, prep.reasons.notna(), prep.reasons)
    calls = pd.DataFrame(
        {
            "row": np.arange(1, len(std) + 1),
            "id": std["id"].to_numpy(),
            "time": std["time"].to_numpy(),
            "x_m": x,
            "y_m": y,
            "node": -1,
            "snap_m": np.nan,
            "type": kinds.to_numpy(),
            "priority": std["priority"].to_numpy(float),
            **{c: std[c].to_numpy(float) for c in DURATION_COLUMNS},
        }
    )
    if snap is not None:
        ok = reason.isna().to_numpy()
        calls, far = snap.apply(calls, ok, prep.geographic)
        check_system(raw, placement, prep, snap, ok, far, source.name)
        _flag(reason, pd.Series(far, index=std.index), far_reason(calls, snap.tolerance_m))
    good = reason.isna().to_numpy()
    own = std["self_initiated"].to_numpy(bool)
    table = CallsTable(source, len(raw), calls[good & ~own], pd.DataFrame(), zone,
                       layout=placement.layout.name, on_view=calls[good & own],
                       unmapped=_unmapped(kinds, reason))  # fmt: skip
    table = replace(table, rejects=_rejects(raw, reason))
    require_usable(table)
    return table


def normal_name(name: object) -> str:
    """A call type's name with case and spacing ignored."""
    return " ".join(str(name).casefold().split())


def map_types(
    kinds: pd.Series, types: Sequence[str] | None, type_map: Mapping[str, str] | None
) -> pd.Series:
    """Call types as the scenario names them; others as written.

    Through ``type_map`` first, then by name (case and spacing ignored).
    """
    lookup = {normal_name(k): v for k, v in (type_map or {}).items()}
    for name in types or ():
        lookup.setdefault(normal_name(name), name)
    text = kinds.astype("string").str.strip()
    mapped = text.map(lambda k: lookup.get(normal_name(k), k) if isinstance(k, str) else k)
    return mapped.astype("string")


def _unmapped(kinds: pd.Series, reason: pd.Series) -> pd.Series:
    """Calls per type rejected as unknown, most first."""
    unknown = reason.fillna("").str.startswith("unknown call type").to_numpy()
    return kinds[unknown].value_counts()


def check_system(raw, placement, prep, snap, ok, far, source: str) -> None:
    """One clear error when most points are off the map and another system places them."""
    located = int(ok.sum())
    if not prep.geographic or located < 5 or far[ok].mean() <= 0.5:
        return
    for system in ("EPSG:4326", "gcj02", "bd09"):
        if system == prep.system:
            continue
        frame = pd.DataFrame(index=raw.index)
        points(raw, placement, frame, system, xy_metres=False)
        lon, lat = frame["lon"].to_numpy()[ok], frame["lat"].to_numpy()[ok]
        placed = np.isfinite(lon) & np.isfinite(lat)
        if placed.sum() < located / 2:
            continue
        dist = snap.nearest(*snap.project(lon[placed], lat[placed]))[1]
        near = int((dist <= snap.tolerance_m).sum())
        if near > located / 2:
            raise SimInputError(
                f"calls table {source}: {int(far[ok].sum())} of {located} points are off the "
                f"map read as {prep.system}; read as {system} {near} fall on it: use --crs "
                f"{system} (a layout's crs, calls.trace_crs)"
            )


def far_reason(calls: pd.DataFrame, tolerance_m: float) -> pd.Series:
    """The rejection reason of points beyond the snapping tolerance."""
    return calls["snap_m"].map(
        lambda d: (
            f"beyond snapping tolerance: {d:.0f} m from the nearest street "
            f"(tolerance {tolerance_m:g} m)"
        )
    )


def _rejects(raw: pd.DataFrame, reason: pd.Series) -> pd.DataFrame:
    mask = reason.notna().to_numpy()
    out = raw[mask].copy()
    out.insert(0, "reason", reason[mask].to_numpy())
    out.insert(0, "row", np.flatnonzero(mask) + 1)
    return out.reset_index(drop=True)


def require_usable(table: CallsTable, where: str = "") -> None:
    """One clear error when ``table`` has no usable row."""
    if len(table.calls):
        return
    if table.rows_read == 0:
        raise SimInputError(f"calls table {table.source}: no rows")
    examples = "; ".join(
        f"row {r.row}: {r.reason}" for r in table.rejects.head(3).itertuples(index=False)
    )
    raise SimInputError(
        f"calls table {table.source}: none of its {table.rows_read} rows is usable{where} "
        f"({reason_counts(table.rejects)}), e.g. {examples}"
    )


def add_rejects(table: CallsTable, mask: np.ndarray, reasons: pd.Series) -> CallsTable:
    """``table`` with its usable rows at ``mask`` moved to the rejects, with ``reasons``."""
    if not mask.any():
        return table
    raw = read_raw_table(table.source)
    moved = table.calls[mask]
    extra = raw.iloc[moved["row"].to_numpy() - 1].copy()
    extra.insert(0, "reason", np.asarray(reasons)[mask])
    extra.insert(0, "row", moved["row"].to_numpy())
    rejects = pd.concat([table.rejects, extra.reset_index(drop=True)], ignore_index=True)
    rejects = rejects.sort_values("row", kind="stable").reset_index(drop=True)
    return replace(table, calls=table.calls[~mask], rejects=rejects)


def write_rejects(table: CallsTable, path: Path) -> Path:
    """The rejected rows with their reason as CSV (UTF-8 with BOM, opens in Excel)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.rejects.to_csv(path, index=False, encoding="utf-8-sig")
    return path
