"""``run_sim.py fit CALLS --scenario BASE --out NEW.yaml``: fit call settings to a calls table.

Writes NEW.yaml (a scenario that ``extends`` BASE with the fitted rate, hour-of-week profile,
type mix, on-scene times and community populations; see ``sim.fitting.fit``), the report
NEW_fit.csv and NEW_fit.png, the rejected rows with their reasons in NEW_rejects.csv, and
NEW_types.yaml when call types could not be mapped. The export's layout is detected from its
header (``--layout`` forces one); ``--split DATE`` fits the periods before and after DATE
into NEW_before.yaml and NEW_after.yaml with a side-by-side report NEW_split.csv.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sim.errors import SimInputError
from sim.reporting.outputs import check_file

#: What ``fit`` writes beside NEW.yaml.
OUTPUT_ENDS = ("_fit.csv", "_fit.png", "_rejects.csv")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``fit`` command."""
    p = subparsers.add_parser(
        "fit",
        help="fit a scenario's calls to a table of past calls (CSV or Parquet)",
        description=__doc__.split("\n\n")[1].replace("``", "'"),
    )
    p.add_argument("calls", type=Path, metavar="CALLS", help="the calls table (.csv, .parquet)")
    p.add_argument("--scenario", required=True, help="the base scenario (name or YAML path)")
    p.add_argument("--out", required=True, type=Path, metavar="NEW.yaml", help="scenario to write")
    p.add_argument("--timezone", help="time zone of the simulation clock (IANA name)")
    p.add_argument(
        "--columns",
        action="append",
        default=[],
        metavar="OURS=THEIRS",
        help="column mapping, e.g. --columns time=接警时间 (repeatable)",
    )
    p.add_argument(
        "--start", help="fit calls from this date-time on (default: the first call's day)"
    )
    p.add_argument("--days", type=int, help="fit this many days from the start (default: all)")
    p.add_argument(
        "--add-types",
        metavar="like=TYPE",
        help="add call types the base does not have, with the outcomes of TYPE "
        "(default: reject their rows and write NEW_types.yaml)",
    )
    add_reading_options(p)
    p.add_argument("--split", metavar="DATE", help="fit before and after DATE (a reform's start)")
    p.set_defaults(func=cmd_fit)


def add_reading_options(p: argparse.ArgumentParser) -> None:
    """--layout, --types, --crs and --date-order (how an export is read)."""
    p.add_argument("--layout", metavar="NAME|FILE", help="the export's layout (default: detected)")
    p.add_argument("--types", type=Path, metavar="MAP.yaml", help="their call types -> ours")
    p.add_argument("--crs", help="coordinate system of the points: EPSG:NNNN, gcj02 or bd09")
    p.add_argument("--date-order", choices=("mdy", "dmy"), help="order of 03/04/2025 dates")


def parse_columns(items: list[str]) -> dict[str, str]:
    """``['time=When', ...]`` as a mapping."""
    mapping = {}
    for item in items:
        ours, sep, theirs = item.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise SimInputError(f"--columns {item!r}: expected OURS=THEIRS, e.g. time=接警时间")
        mapping[ours.strip()] = theirs.strip()
    return mapping


def cmd_fit(args: argparse.Namespace) -> int:
    """Fit, write the scenario(s), the report and the rejects; print what was done."""
    from sim.calls.table import ReadOptions, Snapper, read_calls_table
    from sim.fitting.type_map import load_type_map, parse_like
    from sim.network.world import build_world
    from sim.scenarios.load import find_scenario, load_scenario

    out = Path(args.out)
    if out.suffix not in (".yaml", ".yml"):
        raise SimInputError(f"--out {out}: expected a scenario file ending in .yaml")
    for path in (out, *(out.with_name(out.stem + end) for end in OUTPUT_ENDS)):
        check_file(path, "--out")
    base_path = find_scenario(args.scenario)
    base = load_scenario(base_path)
    base_types = [t.name for t in base.calls.types]
    like = parse_like(args.add_types, base_types)
    type_map = load_type_map(args.types, base_types) if args.types else None
    split = parse_split(args.split)
    world = build_world(base)
    snap = Snapper(world.network, world.router, base.snap_tolerance_m)
    options = ReadOptions(args.layout, type_map, args.crs, args.date_order)
    table = read_calls_table(args.calls, parse_columns(args.columns), args.timezone,
                             None if like else base_types, snap, options=options)  # fmt: skip
    table = fit_window(table, args.start, args.days)
    print(table.summary())
    if split is None:
        written = _fit_and_write(table, base, base_path, world, out, like)
    else:
        written = _split(table, split, base, base_path, world, out, like)
    if len(table.unmapped):
        from sim.fitting.type_map import write_new_types

        path = write_new_types(out.with_name(f"{out.stem}_types.yaml"), table.unmapped,
                               base_types, table.source.name)  # fmt: skip
        print(
            f"{int(table.unmapped.sum())} calls of {len(table.unmapped)} call type(s) the "
            f"scenario does not know were rejected: map them in {path} and fit again with "
            f"--types {path}"
        )
    for path in written:
        print(f"wrote {path}")
    gap = longest_gap_days(table)
    if gap > 7:
        print(
            f"warning: no call for {gap:.0f} days in the table: the fit counts those days as "
            "quiet; fit a window with --start and --days"
        )
    return 0


def parse_split(text: str | None):
    """The ``--split`` date as a timestamp (None when not given)."""
    import pandas as pd

    if text is None:
        return None
    try:
        return pd.Timestamp(text).tz_localize(None)
    except ValueError:
        raise SimInputError(f"--split {text!r}: not a date (e.g. 2025-07-01)") from None


def _fit_and_write(table, base, base_path: Path, world, out: Path, like, label: str = "") -> list:
    """Fit ``table`` onto ``base`` and write NEW.yaml with its report; the paths written."""
    from sim.fitting.fit import fit_table

    base_types = [t.name for t in base.calls.types]
    names = base_types + sorted(set(table.calls["type"]) - set(base_types))
    communities = [c.name for c in base.communities]
    population = sum(c.population for c in base.communities)
    fit = fit_table(table, names, world.community_of_node, communities, population)
    written = _write_all(fit, table, base, base_path, out, like)
    print(
        f"fitted{label}: {fit.rate_per_hour:.3f} calls per hour (95% CI {fit.rate_ci[0]:.3f}-"
        f"{fit.rate_ci[1]:.3f}) over {fit.days} days, {len(names)} call types, "
        f"on-scene times for {len(fit.on_scene)} of them"
    )
    return written


def _split(table, split, base, base_path: Path, world, out: Path, like) -> list:
    """Fit the periods before and after ``split``; write both and the side-by-side report."""
    from sim.fitting.split import split_report, split_table

    before, after = split_table(table, split)
    written = []
    for part, name in ((before, "before"), (after, "after")):
        path = out.with_name(f"{out.stem}_{name}{out.suffix}")
        written += _fit_and_write(part, base, base_path, world, path, like, f" {name}")
    report = split_report(before, after, base)
    csv = out.with_name(f"{out.stem}_split.csv")
    report.to_csv(csv, index=False)
    print(f"before and after {split:%Y-%m-%d}, as recorded:")
    print(report.to_string(index=False))
    return [*written, csv]


def fit_window(table, start: str | None, days: int | None):
    """``table`` with rows outside [start, start + days) moved to the rejects."""
    import pandas as pd

    from sim.calls.table import add_rejects, require_usable

    if start is None and days is None:
        return table
    times = table.calls["time"]
    try:
        begin = pd.Timestamp(start).tz_localize(None) if start else times.min().normalize()
    except ValueError:
        raise SimInputError(f"--start {start!r}: not a date-time") from None
    if days is not None and days < 1:
        raise SimInputError(f"--days {days}: at least 1 day is needed")
    end = begin + pd.Timedelta(days=days) if days is not None else times.max() + pd.Timedelta(1)
    outside = ((times < begin) | (times >= end)).to_numpy()
    reason = f"outside the fit window: {begin:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}"
    table = add_rejects(table, outside, pd.Series([reason] * len(times)))
    require_usable(table, where=" in the fit window")
    return table


def longest_gap_days(table) -> float:
    """The longest time between two consecutive usable calls, in days."""
    import pandas as pd

    times = table.calls["time"].sort_values()
    return float(times.diff().max() / pd.Timedelta(days=1)) if len(times) > 1 else 0.0


def _write_all(fit, table, base, base_path: Path, out: Path, like: str | None) -> list[Path]:
    """The scenario (checked by loading it), report and rejects; their paths."""
    import pandas as pd
    import yaml

    from sim.calls.table import write_rejects
    from sim.fitting.calibrate import duration_rows, fit_dispatch_delay, summary
    from sim.fitting.fit import fitted_scenario
    from sim.fitting.fit_report import report_figure, report_table
    from sim.scenarios.load import load_scenario, read_raw

    raw_base = read_raw(base_path)
    raw_types = raw_base.get("calls", {}).get("types")
    if not isinstance(raw_types, list):
        raw_types = [t.model_dump(mode="json", exclude_none=True) for t in base.calls.types]
    communities = [c.model_dump(mode="json", exclude_none=True) for c in base.communities]
    description = (
        f"{base.name} with calls fitted to {table.source.name} ({len(table.calls)} usable rows "
        f"of {table.rows_read}, {fit.days} days from {fit.start:%Y-%m-%d}, times in "
        f"{table.timezone})"
    )
    like_type = None
    if like is not None:
        like_type = base.calls.types[base.calls.type_index(like)]
        like_type = like_type.model_dump(mode="json", exclude_none=True)
    data = fitted_scenario(fit, _extends(base_path, out), out.stem, description, communities,
                           raw_types, like_type)  # fmt: skip
    delay = fit_dispatch_delay(table)
    if delay is not None:
        data = {**data, "dispatch": {"delay_min": delay}}
    network_file = _network_file(base, base_path, out)
    if network_file is not None:  # the base's relative path would resolve from here otherwise
        data = {**data, "network": {"path": network_file}}
    header = (
        f"# Fitted by `run_sim.py fit` from {table.source} on {base.name}.\n"
        f"# Report: {out.stem}_fit.csv / .png; rejected rows: {out.stem}_rejects.csv.\n"
    )
    text = header + yaml.safe_dump(
        data, allow_unicode=True, sort_keys=False, default_flow_style=None, width=100
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp.yaml")
    tmp.write_text(text, encoding="utf-8")
    try:
        load_scenario(tmp)  # the written scenario must load
    except SimInputError as exc:
        tmp.unlink(missing_ok=True)
        raise SimInputError(f"the fitted scenario does not load: {exc}") from None
    os.replace(tmp, out)
    report = report_table(fit, base.calls.hourly_factors(),
                          {t.name: t.share / sum(u.share for u in base.calls.types)
                           for t in base.calls.types})  # fmt: skip
    report = pd.concat([report, duration_rows(table)], ignore_index=True)
    line = summary(table, delay)
    if line is not None:
        print(line)
    csv, png = out.with_name(f"{out.stem}_fit.csv"), out.with_name(f"{out.stem}_fit.png")
    report.to_csv(csv, index=False)
    report_figure(fit, table, report, png)
    written = [out, csv, png]
    if len(table.rejects):
        written.append(write_rejects(table, out.with_name(f"{out.stem}_rejects.csv")))
    return written


def _network_file(base, base_path: Path, out: Path) -> str | None:
    """The base's network file relative to ``out``'s folder, when it has a relative one."""
    from sim.network.sources import resolve_path

    path = getattr(base.network, "path", None)
    if path is None or Path(path).is_absolute():
        return None
    found = resolve_path(path, base_path.parent, "network file")
    return os.path.relpath(found, out.resolve().parent)


def _extends(base_path: Path, out: Path) -> str:
    """How the new file names its base: a shipped name, a sibling's stem, else a full path."""
    from sim.scenarios.load import SCENARIO_DIR

    base_path = base_path.resolve()
    if base_path.parent == SCENARIO_DIR.resolve():
        return base_path.stem
    if base_path.parent == out.resolve().parent:
        return base_path.stem
    return str(base_path)
