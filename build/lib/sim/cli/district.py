"""``run_sim.py district NETWORK --out DIR``: a before/after pair of scenarios for a district.

NETWORK is an .osm / .osm.bz2 file, a GraphML file or ``place:NAME``. Writes DIR/before.yaml
(every unit at a station, like ``central``) and DIR/after.yaml (a unit in an office in each
community, like ``embedded``), so that ``compare DIR/before.yaml DIR/after.yaml`` runs at
once. Communities come from ``--communities`` (a polygon file, or a number of balanced areas
of the network, default 4), posts from ``--posts`` (a point file; default: a station at the
centre node and an office at each community's anchor), and the calls from ``--calls`` (a
table fitted as by ``fit``) or the shipped scenarios. See ``sim.planning.district``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sim.cli.fit import add_reading_options, parse_columns
from sim.errors import SimInputError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``district`` command."""
    p = subparsers.add_parser(
        "district",
        help="write a before/after pair of scenarios for a street network",
        description=__doc__.split("\n\n")[1].replace("``", "'"),
    )
    p.add_argument("network", metavar="NETWORK", help="FILE.osm[.bz2] | FILE.graphml | place:NAME")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder to write to")
    p.add_argument("--communities", default="4", metavar="K|GIS",
                   help="balanced areas to draw (default 4), or a polygon file")  # fmt: skip
    p.add_argument("--posts", type=Path, metavar="GIS", help="a point file of station and offices")
    p.add_argument("--calls", type=Path, metavar="TABLE", help="fit the calls to this table")
    p.add_argument("--timezone", help="the calls table's clock zone (IANA name)")
    p.add_argument("--columns", action="append", default=[], metavar="OURS=THEIRS")
    p.add_argument("--name", help="the district's name (default: the network file's)")
    add_reading_options(p)
    p.set_defaults(func=cmd_district)


def cmd_district(args: argparse.Namespace) -> int:
    """Make, check and write the pair; print what was made."""
    from sim.planning.district import district_pair

    k, polygons = _communities_option(args.communities)
    out = Path(args.out)
    for name in ("before.yaml", "after.yaml"):
        if (out / name).exists():
            raise SimInputError(f"district: {out / name} exists; choose another --out folder")
    district = district_pair(args.network, out, k, polygons, args.posts, args.name)
    pair = {"before": district.before, "after": district.after}
    made = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        if args.calls is not None:
            pair = _fit_calls(pair, args, out)
        written = _write_checked(pair, out)
    except BaseException:
        if made and not any(out.iterdir()):
            out.rmdir()
        raise
    sizes = ", ".join(c["name"] for c in district.communities)
    print(f"district: {len(district.communities)} communities ({sizes}), "
          f"{len(district.posts)} posts")  # fmt: skip
    for path in written:
        print(f"wrote {path}")
    print(f"next: python run_sim.py compare {written[0]} {written[1]}")
    return 0


def _communities_option(text: str) -> tuple[int, Path | None]:
    """``--communities``: a number of areas, or a polygon file."""
    if text.isdigit():
        return int(text), None
    path = Path(text)
    if not path.is_file():
        raise SimInputError(f"--communities {text}: neither a number nor an existing file")
    return 0, path


def _write_checked(pair: dict[str, dict], out: Path) -> list[Path]:
    """Write each scenario through a temporary file it must load from; their paths."""
    import yaml

    from sim.scenarios.load import load_scenario

    tmps, written = [], []
    try:
        for name, data in pair.items():
            tmp = out / f".{name}.{os.getpid()}.tmp.yaml"
            text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
            tmp.write_text(f"# Written by `run_sim.py district`.\n{text}", encoding="utf-8")
            tmps.append(tmp)
            try:
                load_scenario(tmp)
            except SimInputError as exc:
                raise SimInputError(f"district: the {name} scenario does not load: {exc}") from None
        for tmp, name in zip(tmps, pair, strict=True):
            written.append(out / f"{name}.yaml")
            os.replace(tmp, written[-1])
    finally:
        for tmp in tmps:
            tmp.unlink(missing_ok=True)
    return written


def _fit_calls(pair: dict[str, dict], args: argparse.Namespace, out: Path) -> dict[str, dict]:
    """Both scenarios with calls and community populations fitted to the ``--calls`` table."""
    import yaml

    from sim.calls.table import ReadOptions, Snapper, read_calls_table
    from sim.fitting.calibrate import fit_dispatch_delay
    from sim.fitting.fit import fit_table, fitted_scenario
    from sim.fitting.type_map import load_type_map
    from sim.network.world import build_world
    from sim.scenarios.load import load_scenario, read_raw

    tmp = out / f".before_base.{os.getpid()}.tmp.yaml"
    tmp.write_text(yaml.safe_dump(pair["before"], allow_unicode=True), encoding="utf-8")
    try:
        base = load_scenario(tmp)
        raw_types = read_raw(tmp)["calls"]["types"]
    finally:
        tmp.unlink(missing_ok=True)
    names = [t.name for t in base.calls.types]
    type_map = load_type_map(args.types, names) if args.types else None
    world = build_world(base)
    snap = Snapper(world.network, world.router, base.snap_tolerance_m)
    options = ReadOptions(args.layout, type_map, args.crs, args.date_order)
    table = read_calls_table(args.calls, parse_columns(args.columns), args.timezone, names, snap,
                             options=options)  # fmt: skip
    print(table.summary())
    communities = [c.model_dump(mode="json", exclude_none=True) for c in base.communities]
    fit = fit_table(table, names, world.community_of_node, [c.name for c in base.communities],
                    sum(c.population for c in base.communities))  # fmt: skip
    fitted = fitted_scenario(fit, "", "", "", communities, raw_types)
    delay = fit_dispatch_delay(table)
    print(f"calls fitted: {fit.rate_per_hour:.3f} per hour over {fit.days} days")
    out_pair = {}
    for key, data in pair.items():
        data = {**data, "communities": fitted["communities"], "calls": fitted["calls"]}
        if delay is not None:
            data["dispatch"] = {**data.get("dispatch", {}), "delay_min": delay}
        out_pair[key] = data
    return out_pair
