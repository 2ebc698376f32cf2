"""Layouts: how a dispatch export names its columns, writes its times, places and ranks its calls.

A layout is a small YAML file (the shipped ones sit beside this module)::

    name: new_orleans
    columns: {time: TimeCreate, type: TypeText, point: Location, x: MapX, y: MapY, ...}
    crs: EPSG:3452            # of lat/lon or x/y columns: any EPSG code, gcj02 or bd09
    point_crs: EPSG:4326      # of a WKT 'POINT (x y)' column
    date_order: mdy           # or dmy
    timezone: America/Chicago # the simulation clock's zone unless one is given
    priority: {most_urgent: 3, least_urgent: 0}
    self_initiated: ["Y"]     # values of the self_initiated column that mark an officer's own

``columns`` maps our names (``LAYOUT_COLUMNS``) onto theirs; a list gives alternatives, the
first one present is used. A table's layout is the one forced (a name or a file), else the
project's own names when the table has ``time`` and ``type``, else the shipped layout that
places the most columns among those whose time, type and location columns are all present.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sim.errors import SimInputError

HERE = Path(__file__).parent
OWN = "own"
LAYOUT_COLUMNS = (
    "id", "time", "type", "priority", "lat", "lon", "x", "y", "point", "self_initiated",
    "dispatch_time", "arrive_time", "close_time",
    "dispatch_min", "travel_min", "on_scene_min", "response_min",
)  # fmt: skip
LOCATIONS = (("point",), ("lat", "lon"), ("x", "y"))


class PriorityScale(BaseModel):
    """The export's priority codes: the number of the most and of the least urgent.

    Code ``c`` becomes scenario priority ``1 + |c - most_urgent|`` (1 = most urgent); letters
    after the number (``2A``, ``1C``) are sub-levels of that number.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    most_urgent: int
    least_urgent: int


class Layout(BaseModel):
    """One export layout (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    description: str = ""
    columns: dict[str, str | tuple[str, ...]] = Field(default_factory=dict)
    crs: str | None = None  # None: lat/lon are WGS 84, x/y are metres in the network's CRS
    point_crs: str = "EPSG:4326"
    date_order: Literal["mdy", "dmy"] | None = None
    timezone: str | None = None
    priority: PriorityScale | None = None  # None: numbers, 1 = most urgent
    self_initiated: tuple[str, ...] = ()

    @field_validator("columns")
    @classmethod
    def _ours(cls, value):
        unknown = sorted(set(value) - set(LAYOUT_COLUMNS))
        if unknown:
            raise ValueError(
                f"unknown column(s) {', '.join(unknown)}; ours: {', '.join(LAYOUT_COLUMNS)}"
            )
        return value

    def names_for(self, ours: str) -> tuple[str, ...]:
        """Their names for our column ``ours`` (alternatives in order; ours for the own layout)."""
        theirs = self.columns.get(ours, ours if self.name == OWN else ())
        return (theirs,) if isinstance(theirs, str) else tuple(theirs)


@dataclass(frozen=True)
class Placement:
    """Where a layout finds our columns in one table's header."""

    layout: Layout
    found: dict[str, str]  # ours -> the table's column
    missing: tuple[str, ...]  # their names of needed columns not in the header

    @property
    def fits(self) -> bool:
        """Whether time, type and one location are all present."""
        return not self.missing


OWN_LAYOUT = Layout(name=OWN, description="the project's own column names")


def shipped_layouts() -> list[Layout]:
    """The layouts shipped with the package, by name."""
    return [load_layout(path) for path in sorted(HERE.glob("*.yaml"))]


def load_layout(spec: str | Path) -> Layout:
    """A shipped layout by name, or a layout file; a clear error else."""
    if str(spec) == OWN:
        return OWN_LAYOUT
    path = Path(spec)
    if not path.suffix:
        path = HERE / f"{spec}.yaml"
        if not path.is_file():
            names = ", ".join([OWN, *(p.stem for p in sorted(HERE.glob("*.yaml")))])
            raise SimInputError(f"--layout {spec}: no such layout; shipped: {names}, or a file")
    if not path.is_file():
        raise SimInputError(f"layout file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Layout.model_validate(raw)
    except yaml.YAMLError as exc:
        raise SimInputError(f"layout {path}: not YAML: {exc}".splitlines()[0]) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        raise SimInputError(f"layout {path}: {where}: {first['msg']}") from None


def place(layout: Layout, header: Sequence[str]) -> Placement:
    """Which of the layout's columns the header has, and which needed ones it lacks."""
    present = {str(c).strip(): str(c) for c in header}
    found = {}
    for ours in LAYOUT_COLUMNS:
        for theirs in layout.names_for(ours):
            if theirs in present:
                found[ours] = present[theirs]
                break
    missing = [layout.names_for(c)[0] if layout.names_for(c) else c
               for c in ("time", "type") if c not in found]  # fmt: skip
    if not any(all(c in found for c in group) for group in LOCATIONS):
        usable = [g for g in LOCATIONS if all(layout.names_for(c) for c in g)] or [("lat", "lon")]
        missing.append(" and ".join(layout.names_for(c)[0] if layout.names_for(c) else c
                                    for c in usable[0]))  # fmt: skip
    return Placement(layout, found, tuple(missing))


def with_columns(layout: Layout, columns: Mapping[str, str]) -> Layout:
    """``layout`` with some of its columns renamed (ours -> theirs)."""
    unknown = sorted(set(columns) - set(LAYOUT_COLUMNS))
    if unknown:
        raise SimInputError(
            f"calls table column mapping: unknown column(s) {', '.join(unknown)}; "
            f"ours are {', '.join(LAYOUT_COLUMNS)}"
        )
    return layout.model_copy(update={"columns": {**layout.columns, **columns}})


def choose_layout(
    header: Sequence[str], forced: str | Path | None, source: str,
    columns: Mapping[str, str] | None = None,
) -> Placement:  # fmt: skip
    """The placement of the forced layout, of our own names, or of the best shipped layout.

    ``columns`` (ours -> theirs) renames columns of whichever layout is used.
    """
    columns = dict(columns or {})
    for ours, theirs in columns.items():
        if theirs not in {str(c).strip() for c in header}:
            raise SimInputError(
                f"calls table {source}: no column {theirs!r} (mapped to {ours!r}); "
                f"columns: {', '.join(map(str, header))}"
            )
    if forced is not None:
        placement = place(with_columns(load_layout(forced), columns), header)
        if not placement.fits:
            raise SimInputError(
                f"calls table {source}: layout {placement.layout.name} needs column(s) "
                f"{', '.join(placement.missing)}; the table has {', '.join(map(str, header))}"
            )
        return placement
    own = place(with_columns(OWN_LAYOUT, columns), header)
    if own.fits:
        return own
    tried = [place(with_columns(layout, columns), header) for layout in shipped_layouts()]
    fitting = [p for p in tried if p.fits]
    if fitting:
        return max(fitting, key=lambda p: len(p.found))
    placed = {c for p in tried for c in p.found.values()}
    unplaced = [str(c) for c in header if c not in placed]
    attempts = "; ".join(f"{p.layout.name} lacks {', '.join(p.missing)}" for p in [own, *tried])
    raise SimInputError(
        f"calls table {source}: no layout recognised; columns not placed: "
        f"{', '.join(unplaced) or '(none)'}; tried {attempts}; "
        "force one with --layout NAME|FILE or map columns with --columns OURS=THEIRS"
    )
