"""Coordinates of a calls table as WGS 84 degrees, whatever system the export used.

Systems: any CRS pyproj knows (``EPSG:4326``, ``EPSG:3452`` for Louisiana South state-plane
feet, ...), and the two Chinese map offsets that are not EPSG systems: ``gcj02`` (the
national "Mars" offset of Chinese web maps, about 590 m off WGS 84 in Wuhan) and ``bd09``
(Baidu's, about 1,220 m off). Those two are converted by the ``prcoords`` package (public
domain), with its iterative (precise) inverse.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.errors import SimInputError

WGS84 = "EPSG:4326"
OFFSET_SYSTEMS = ("gcj02", "bd09")


def check_system(name: str, where: str) -> str:
    """``name`` normalised (``gcj02``, ``bd09`` or a CRS pyproj knows); a clear error else."""
    text = str(name).strip()
    if text.lower().replace("-", "") in OFFSET_SYSTEMS:
        return text.lower().replace("-", "")
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        CRS.from_user_input(text)
    except CRSError:
        raise SimInputError(
            f"{where}: unknown coordinate system {name!r} (an EPSG code such as EPSG:3452, "
            "or gcj02 / bd09)"
        ) from None
    return text


def is_geographic(system: str) -> bool:
    """Whether coordinates in ``system`` are (lon, lat) degrees."""
    if system in OFFSET_SYSTEMS:
        return True
    from pyproj import CRS

    return CRS.from_user_input(system).is_geographic


def to_wgs84(a: np.ndarray, b: np.ndarray, system: str) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) WGS 84 degrees from (lon, lat) or (x, y) in ``system``; NaN stays NaN."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if system in OFFSET_SYSTEMS:
        return _from_offset(a, b, system)
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(system, WGS84, always_xy=True).transform(a, b)
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    bad = ~(np.isfinite(lon) & np.isfinite(lat)) | (np.abs(lat) > 90) | (np.abs(lon) > 180)
    lon[bad], lat[bad] = np.nan, np.nan
    return lon, lat


def _from_offset(lon: np.ndarray, lat: np.ndarray, system: str) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 or BD-09 degrees to WGS 84 through prcoords (points outside China unchanged)."""
    import warnings

    import prcoords

    convert = prcoords.gcj_wgs_bored if system == "gcj02" else prcoords.bd_wgs_bored
    out_lon, out_lat = np.full(len(lon), np.nan), np.full(len(lat), np.nan)
    ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    with warnings.catch_warnings():  # prcoords warns about (and keeps) points outside China
        warnings.simplefilter("ignore", UserWarning)
        for i in np.flatnonzero(ok):
            out_lat[i], out_lon[i] = convert((float(lat[i]), float(lon[i])))
    return out_lon, out_lat


def from_wgs84(lon: np.ndarray, lat: np.ndarray, system: str) -> tuple[np.ndarray, np.ndarray]:
    """The inverse of ``to_wgs84`` for the offset systems (used by tests and suggestions)."""
    import prcoords

    convert = prcoords.wgs_gcj if system == "gcj02" else prcoords.wgs_bd
    out = np.array([convert((float(y), float(x))) for x, y in zip(lon, lat, strict=True)])
    return out[:, 1], out[:, 0]


def wkt_points(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """x, y of WKT ``POINT (x y)`` text (NaN where empty, not a point or not WKT)."""
    import shapely

    text = values.astype("string").fillna("").str.strip().to_numpy(dtype=object)
    shapes = shapely.from_wkt(np.where(text == "", None, text), on_invalid="ignore")
    point = shapely.get_type_id(shapes) == 0
    x = np.where(point, shapely.get_x(shapes), np.nan)
    y = np.where(point, shapely.get_y(shapes), np.nan)
    empty = point & ~(np.isfinite(x) & np.isfinite(y))
    x[empty], y[empty] = np.nan, np.nan
    return x.astype(float), y.astype(float)
