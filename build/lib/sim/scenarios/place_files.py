"""Places from GIS files: communities as polygons, posts (and hot spots) as points.

In a scenario, ``communities`` and ``posts`` may name a file instead of listing entries::

    communities: {file: communities.gpkg, layer: areas, name: NAME, population: POP}
    posts: {file: posts.geojson, name: name, kind: kind, community: community}

Files are GeoJSON, GeoPackage (``layer``: which one; default the first) or CSV, in any CRS,
read with geopandas. A CSV holds points as ``lon``/``lat`` columns (degrees) or ``x``/``y``
(give ``crs``, else the network's own CRS), or shapes as WKT in a ``wkt`` column (``crs``;
default EPSG:4326 when every coordinate fits in degrees, else the network's CRS). Relative
paths resolve against the scenario's folder, then the current folder. Column options name
the file's columns: ``name`` (default ``name``), ``population`` (communities, default
``population``), ``kind`` (posts: a column, or ``station`` / ``office`` for all; default the
column ``kind``) and ``community`` (posts, default ``community``; an office without one
serves the community whose area contains it).

When loaded, the file's features become ordinary entries: a community gets its polygon as
``area`` (WKT, EPSG:4326 or the network's CRS) and no ``at``; a post gets ``at`` (lat/lon, or
x/y). In the world, a node belongs to the first community whose area contains it; nodes
outside every area go to the community whose anchor reaches them fastest (as without areas);
a community's anchor (where its office sits by default) is its contained node nearest the
polygon's representative point.

``read_points`` reads hot spots (or any named, weighted points) the same way; patrol by hot
spot is not part of this model yet, so no scenario key uses it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import SimInputError
from sim.scenarios.files import find_file

if TYPE_CHECKING:
    import geopandas as gpd

WGS84 = "EPSG:4326"


def resolve(path: str | Path, base_dir: Path | None, key: str) -> Path:
    """The file ``path``: absolute, in the scenario's folder, else in the cwd."""
    return find_file(path, base_dir, key, "GIS file")


def read_features(spec: dict, base_dir: Path | None, key: str) -> gpd.GeoDataFrame:
    """The features of a file spec; CRS None means the network's own CRS."""
    import geopandas as gpd
    import pyogrio

    if "file" not in spec:
        raise SimInputError(f"{key}: expected a list of entries or {{file: PATH, ...}}")
    path = resolve(spec["file"], base_dir, f"{key}.file")
    if path.suffix.lower() == ".csv":
        return _read_csv(path, spec.get("crs"), key)
    try:
        frame = gpd.read_file(path, layer=spec.get("layer"), engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as exc:
        raise SimInputError(f"{key}.file: cannot read {path}: {exc}") from None
    if spec.get("crs") is not None and frame.crs is None:
        frame = frame.set_crs(spec["crs"])
    return frame


def _read_csv(path: Path, crs: str | None, key: str) -> gpd.GeoDataFrame:
    import geopandas as gpd
    import pandas as pd

    frame = pd.read_csv(path, encoding="utf-8-sig")
    if {"lon", "lat"} <= set(frame.columns):
        geometry = gpd.points_from_xy(frame["lon"], frame["lat"])
        crs = crs or WGS84
    elif {"x", "y"} <= set(frame.columns):
        geometry = gpd.points_from_xy(frame["x"], frame["y"])
    elif "wkt" in frame.columns:
        geometry = gpd.GeoSeries.from_wkt(frame["wkt"])
        if crs is None and _fits_degrees(geometry):
            crs = WGS84
    else:
        raise SimInputError(f"{key}.file: {path.name} needs lon/lat, x/y or wkt columns")
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=crs)


def _fits_degrees(geometry) -> bool:
    west, south, east, north = geometry.total_bounds
    return -180 <= west and east <= 180 and -90 <= south and north <= 90


def _column(frame, option: str, spec: dict, key: str, required: bool = True):
    name = spec.get(option, option)
    if name in frame.columns:
        return frame[name].tolist()
    if required:
        raise SimInputError(
            f"{key}.{option}: no column {name!r} in the file; columns: "
            f"{', '.join(c for c in frame.columns if c != 'geometry')}"
        )
    return None


def _in_output_crs(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Degrees when the file has a CRS (any), else unchanged (the network's CRS)."""
    return frame.to_crs(WGS84) if frame.crs is not None else frame


def communities_from_file(spec: dict, base_dir: Path | None) -> list[dict]:
    """Raw community entries (name, population, area) from a polygon file."""
    import shapely

    key = "communities"
    frame = _in_output_crs(read_features(spec, base_dir, key))
    if not frame.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        raise SimInputError(f"{key}.file: every feature must be a polygon")
    names = [str(n) for n in _column(frame, "name", spec, key)]
    populations = _column(frame, "population", spec, key)
    digits = 7 if frame.crs is not None else 2
    crs = WGS84 if frame.crs is not None else None
    return [
        {
            "name": name,
            "population": int(population),
            "area": {"wkt": shapely.to_wkt(shape, rounding_precision=digits), "crs": crs},
        }
        for name, population, shape in zip(names, populations, frame.geometry, strict=True)
    ]


def read_points(spec: dict, base_dir: Path | None, key: str) -> list[dict]:
    """Named points of a file as ``{name, at, **other columns}`` (``at``: lat/lon or x/y)."""
    frame = _in_output_crs(read_features(spec, base_dir, key))
    if not (frame.geom_type == "Point").all():
        raise SimInputError(f"{key}.file: every feature must be a point")
    names = [str(n) for n in _column(frame, "name", spec, key)]
    points = []
    for i, (name, point) in enumerate(zip(names, frame.geometry, strict=True)):
        if frame.crs is not None:
            at = {"lat": round(point.y, 7), "lon": round(point.x, 7)}
        else:
            at = {"x": round(point.x, 2), "y": round(point.y, 2)}
        extra = frame.drop(columns="geometry").iloc[i].to_dict()
        points.append({**extra, "name": name, "at": at})
    return points


def posts_from_file(spec: dict, base_dir: Path | None, communities: Any) -> list[dict]:
    """Raw post entries from a point file; offices without a community get the containing one."""
    key = "posts"
    points = read_points(spec, base_dir, key)
    kind_option = spec.get("kind", "kind")
    posts = []
    for point in points:
        kind = point.get(kind_option, kind_option)
        if kind not in ("station", "office"):
            raise SimInputError(
                f"{key}.kind: post {point['name']!r} has kind {kind!r}; expected station or "
                "office (a column, or one of the two for every post)"
            )
        entry = {"name": point["name"], "kind": kind, "at": point["at"]}
        community = point.get(spec.get("community", "community"))
        if isinstance(community, str) and community.strip():
            entry["community"] = community.strip()
        elif kind == "office":
            entry["community"] = _containing(point["at"], communities, point["name"])
        posts.append(entry)
    return posts


def _containing(at: dict, communities: Any, post: str) -> str:
    """The community whose area contains a point given in the same CRS."""
    import shapely

    xy = (at["lon"], at["lat"]) if "lon" in at else (at["x"], at["y"])
    for community in communities if isinstance(communities, list) else []:
        area = community.get("area") if isinstance(community, dict) else None
        if area and shapely.contains_xy(shapely.from_wkt(area["wkt"]), *xy):
            return community["name"]
    raise SimInputError(f"posts: office {post!r} has no community and lies in no community area")


def expand_place_files(raw: dict, base_dir: Path | None) -> dict:
    """``raw`` with ``communities`` / ``posts`` given as files turned into entries."""
    raw = dict(raw)
    if isinstance(raw.get("communities"), dict):
        raw["communities"] = communities_from_file(raw["communities"], base_dir)
    if isinstance(raw.get("posts"), dict):
        raw["posts"] = posts_from_file(raw["posts"], base_dir, raw.get("communities"))
    return raw
