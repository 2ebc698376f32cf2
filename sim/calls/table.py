"""Calls tables exported from a dispatch system (CSV or Parquet), read into usable rows.

The format: one row per call, with these columns (names are ours; map other names with
``columns={"time": "接警时间", ...}``, in a scenario ``calls.trace_columns``):

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
as ``Asia/Shanghai``) when given; else the zone of the table's first time that carries one
(``+08:00``, ``Z``, or a Parquet column's zone); else the times as written (no zone). Times
without a zone are taken as already in that zone. Give times as ISO 8601: in other orders,
month-first is assumed.

**Rejects.** A row that cannot be used is never dropped silently: it is kept in ``rejects``
with its row number (1 = the first data row) and the reason (unparseable time, no location,
a point beyond the snapping tolerance, no or an unknown call type, outside the horizon); a
table with no usable row raises one ``SimInputError`` that counts the reasons.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import SimInputError

STANDARD_COLUMNS = ("time", "lat", "lon", "x", "y", "type", "priority", "on_scene_min",
                    "response_min")  # fmt: skip
_AWARE = (
    r"\d:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"  # a time, then a zone
)


@dataclass(frozen=True)
class CallsTable:
    """Usable rows of a calls table and the rows rejected, with the reason.

    ``calls`` has ``row``, ``time`` (wall-clock in ``timezone``, no zone attached), ``x_m``,
    ``y_m`` (network CRS, when snapped), ``node`` (router index, -1 when not snapped),
    ``snap_m``, ``type``, ``priority``, ``on_scene_min``, ``response_min``.
    """

    source: Path
    rows_read: int
    calls: pd.DataFrame
    rejects: pd.DataFrame  # the original columns, plus 'row' and 'reason'
    timezone: str

    def summary(self) -> str:
        """One line: rows read, usable, rejected and why."""
        text = (
            f"{self.source.name}: {self.rows_read} rows, {len(self.calls)} usable, "
            f"{len(self.rejects)} rejected"
        )
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


def standard_columns(raw: pd.DataFrame, columns: Mapping[str, str], source: Path) -> pd.DataFrame:
    """Our column names (see the module docstring) taken from ``raw`` through ``columns``."""
    unknown = sorted(set(columns) - set(STANDARD_COLUMNS))
    if unknown:
        raise SimInputError(
            f"calls table column mapping: unknown column(s) {', '.join(unknown)}; "
            f"ours are {', '.join(STANDARD_COLUMNS)}"
        )
    out = pd.DataFrame(index=raw.index)
    for ours in STANDARD_COLUMNS:
        theirs = columns.get(ours, ours)
        if theirs in raw.columns:
            out[ours] = raw[theirs]
        elif ours in columns:
            raise SimInputError(
                f"calls table {source.name}: no column {theirs!r} (mapped to {ours!r}); "
                f"columns: {', '.join(map(str, raw.columns))}"
            )
    for needed in ("time", "type"):
        if needed not in out:
            raise SimInputError(
                f"calls table {source.name}: no {needed!r} column; map yours with "
                f"{needed}=YOUR_COLUMN (columns: {', '.join(map(str, raw.columns))})"
            )
    if not ({"lat", "lon"} <= set(out) or {"x", "y"} <= set(out)):
        raise SimInputError(
            f"calls table {source.name}: no location: give lat and lon, or x and y, columns"
        )
    return out


def check_timezone(name: str | None) -> str | None:
    """``name`` if it is a known time zone; a clear error otherwise."""
    if name is None:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SimInputError(
            f"calls.trace_timezone: unknown time zone {name!r} "
            "(an IANA name such as Asia/Shanghai, or UTC)"
        ) from None
    return name


def parse_times(values: pd.Series, timezone: str | None) -> tuple[pd.Series, str]:
    """Wall-clock times in one zone (NaT where unparseable) and that zone's name."""
    timezone = check_timezone(timezone)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        zone = timezone or str(values.dtype.tz)
        return values.dt.tz_convert(zone).dt.tz_localize(None).astype("datetime64[ns]"), zone
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.astype("datetime64[ns]"), timezone or "wall-clock time as written"
    text = values.astype("string").str.strip().fillna("")
    aware = text.str.contains(_AWARE, regex=True).fillna(False).to_numpy(bool)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    zone = timezone
    if aware.any():
        parsed = pd.to_datetime(text[aware], utc=True, errors="coerce", format="mixed")
        if zone is None:
            first = pd.Timestamp(text[aware].iloc[0])
            zone = _offset_name(first)
        out[aware] = parsed.dt.tz_convert(zone_info(zone)).dt.tz_localize(None).astype(out.dtype)
    naive = ~aware & (text != "").to_numpy(bool)
    if naive.any():
        out[naive] = pd.to_datetime(text[naive], errors="coerce", format="mixed").astype(out.dtype)
    return out, zone or "wall-clock time as written"


def _offset_name(stamp: pd.Timestamp) -> str:
    minutes = int(stamp.utcoffset().total_seconds() // 60)
    return "UTC" if minutes == 0 else f"UTC{minutes // 60:+03d}:{minutes % 60:02d}"


def zone_info(zone: str):
    """A tz for an IANA name or a 'UTC+08:00' offset name."""
    match = re.fullmatch(r"UTC([+-])(\d{2}):(\d{2})", zone)
    if match is None:
        return zone
    sign = 1 if match[1] == "+" else -1
    return dt.timezone(sign * dt.timedelta(hours=int(match[2]), minutes=int(match[3])))


def read_calls_table(
    path: Path,
    columns: Mapping[str, str] | None = None,
    timezone: str | None = None,
    types: Sequence[str] | None = None,
    snap: Snapper | None = None,
) -> CallsTable:
    """Read, parse and check a calls table; ``types`` fixes the known call types.

    With ``snap`` every point is snapped to the nearest street node (rows beyond the
    tolerance are rejected). Raises ``SimInputError`` when no row is usable.
    """
    source = Path(path)
    raw = read_raw_table(source)
    std = standard_columns(raw, columns or {}, source)
    times, zone = parse_times(std["time"], timezone)
    reason = pd.Series(pd.NA, index=std.index, dtype="string")
    written = std["time"].astype("string").fillna("").str.strip()
    _flag(reason, written == "", "no time")
    _flag(reason, times.isna(), "unparseable time: " + written)
    x, y, geographic = _coordinates(std)
    _flag(reason, ~(np.isfinite(x) & np.isfinite(y)), "no location: coordinates missing or bad")
    kinds = std["type"].astype("string").str.strip()
    _flag(reason, kinds.isna() | (kinds == ""), "no call type")
    if types is not None:
        unknown = ~kinds.isin(list(types)).fillna(False)
        _flag(
            reason,
            unknown,
            "unknown call type: " + kinds.fillna("") + f" (known: {', '.join(types)})",
        )
    calls = pd.DataFrame(
        {
            "row": np.arange(1, len(std) + 1),
            "time": times,
            "x_m": x,
            "y_m": y,
            "node": -1,
            "snap_m": np.nan,
            "type": kinds,
            **{c: _numbers(std, c) for c in ("priority", "on_scene_min", "response_min")},
        }
    )
    if snap is not None:
        ok = reason.isna().to_numpy()
        calls, far = snap.apply(calls, ok, geographic)
        _flag(reason, pd.Series(far, index=std.index), far_reason(calls, snap.tolerance_m))
    table = CallsTable(source, len(raw), calls[reason.isna().to_numpy()], pd.DataFrame(), zone)
    table = replace(table, rejects=_rejects(raw, reason))
    require_usable(table)
    return table


def far_reason(calls: pd.DataFrame, tolerance_m: float) -> pd.Series:
    """The rejection reason of points beyond the snapping tolerance."""
    return calls["snap_m"].map(
        lambda d: (
            f"beyond snapping tolerance: {d:.0f} m from the nearest street node "
            f"(tolerance {tolerance_m:g} m)"
        )
    )


def _flag(reason: pd.Series, mask, text) -> None:
    """Set ``text`` as the reason where ``mask`` holds and no reason was given yet."""
    mask = pd.Series(np.asarray(mask, dtype=bool), index=reason.index) & reason.isna()
    if mask.any():
        reason[mask] = text[mask] if isinstance(text, pd.Series) else text


def _numbers(std: pd.DataFrame, column: str) -> np.ndarray:
    if column not in std:
        return np.full(len(std), np.nan)
    values = pd.to_numeric(std[column].replace("", None), errors="coerce")
    return np.array(values, dtype=float)


def _coordinates(std: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, bool]:
    """Coordinates as numbers: (lon, lat) degrees if the table has them, else (x, y) metres."""
    geographic = {"lat", "lon"} <= set(std)
    a, b = ("lon", "lat") if geographic else ("x", "y")
    x, y = _numbers(std, a), _numbers(std, b)
    if geographic:
        bad = (np.abs(y) > 90) | (np.abs(x) > 180)
        x[bad], y[bad] = np.nan, np.nan
    return x, y, geographic


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


class Snapper:
    """Snaps points to the nearest node of a network (a KD-tree on node coordinates)."""

    def __init__(self, network, router, tolerance_m: float):
        from scipy.spatial import cKDTree

        self.network, self.router, self.tolerance_m = network, router, tolerance_m
        self._tree = cKDTree(np.column_stack([router.x, router.y]))

    def project(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Degrees to the network's CRS (metres)."""
        if not self.network.georeferenced:
            raise SimInputError(
                f"calls table: points are given by lat/lon, but the {self.network.kind} network "
                "has no geographic position; give x/y in metres instead"
            )
        from pyproj import Transformer

        to_net = Transformer.from_crs("EPSG:4326", self.network.crs, always_xy=True)
        return to_net.transform(lon, lat)

    def apply(
        self, calls: pd.DataFrame, ok: np.ndarray, geographic: bool
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """``calls`` with x_m, y_m, node and snap_m set where ``ok``; which are too far."""
        calls = calls.copy()
        x, y = np.array(calls["x_m"], dtype=float), np.array(calls["y_m"], dtype=float)
        if self.router.n_nodes == 1:  # a point network: every call is at its one node
            calls["node"], calls["snap_m"] = 0, 0.0
            return calls, np.zeros(len(calls), dtype=bool)
        if geographic and ok.any():
            x[ok], y[ok] = self.project(x[ok], y[ok])
        calls["x_m"], calls["y_m"] = x, y
        dist = np.full(len(calls), np.nan)
        node = np.full(len(calls), -1, dtype=np.int64)
        if ok.any():
            dist[ok], node[ok] = self._tree.query(np.column_stack([x[ok], y[ok]]))
        calls["snap_m"], calls["node"] = dist, node
        return calls, ok & ~(dist <= self.tolerance_m)
