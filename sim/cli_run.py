"""Commands that run scenarios: the main job, ``run``, ``compare`` and ``scenarios``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sim.errors import SimInputError
from sim.report import (
    comparison_table,
    format_table,
    paired_differences,
    results_folder,
    write_json,
    write_results,
)
from sim.runner import RunResult, run_replications
from sim.scenario import available_scenarios, load_scenario

MAIN_SCENARIOS = ("central", "embedded")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the main, run, compare and scenarios commands."""
    main = sub.add_parser("main", help="compare 'central' and 'embedded' (the default)")
    _run_options(main, out_default="results/central-vs-embedded")
    main.set_defaults(func=cmd_main)

    run = sub.add_parser("run", help="run one scenario with replications")
    run.add_argument("--scenario", required=True, help="a shipped scenario name or a YAML path")
    _run_options(run, out_default=None)
    run.set_defaults(func=cmd_run)

    compare = sub.add_parser("compare", help="run scenarios side by side on the same calls")
    compare.add_argument("scenarios", nargs="+", metavar="NAME|PATH")
    _run_options(compare, out_default=None)
    compare.set_defaults(func=cmd_compare)

    bulletin = sub.add_parser("bulletin", help="print an office's weekly bulletin")
    bulletin.add_argument("--scenario", default="embedded", help="name or YAML path")
    bulletin.add_argument("--office", help="office name (default: the first office)")
    bulletin.add_argument("--week", type=int, default=1, help="week after warm-up (1 = first)")
    bulletin.add_argument("--lang", choices=("zh", "en", "both"), default="both")
    bulletin.add_argument("--seed", type=int, help="seed of the random streams")
    bulletin.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    bulletin.set_defaults(func=cmd_bulletin, days=None, reps=None)

    listing = sub.add_parser("scenarios", help="list the shipped scenarios")
    listing.set_defaults(func=cmd_scenarios)


def _run_options(parser: argparse.ArgumentParser, out_default: str | None) -> None:
    parser.add_argument("--days", type=float, help="simulated days after warm-up")
    parser.add_argument("--seed", type=int, help="seed of the random streams")
    parser.add_argument("--reps", type=int, help="replications")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any scenario key, e.g. --set units.0.count=3 (repeatable)",
    )
    parser.add_argument("--out", default=out_default, help="results folder")
    parser.add_argument("--json", help="also write the summary JSON here")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--gis", metavar="OUT.gpkg", help="also write GIS layers (GeoPackage)")


def _overrides(args: argparse.Namespace) -> list[str]:
    extra = []
    if args.days is not None:
        extra.append(f"days={args.days}")
    if args.seed is not None:
        extra.append(f"seed={args.seed}")
    if args.reps is not None:
        if args.reps < 1:
            raise SimInputError(f"--reps {args.reps}: at least 1 replication is needed")
        extra.append(f"replications={args.reps}")
    return [*args.set, *extra]


def run_scenarios(names: list[str], args: argparse.Namespace) -> list[RunResult]:
    """Load every scenario first (so bad input fails before any work), then run them."""
    loaded = [load_scenario(name, _overrides(args)) for name in names]
    for scenario, path in loaded:
        if scenario.calls.trace is not None:  # say what is replayed, and what rejected
            from sim.inputs.trace import announce

            print(announce(scenario, path.parent), file=sys.stderr)
    results = []
    for scenario, path in loaded:
        started = time.perf_counter()
        result = run_replications(scenario, path.parent, progress=not args.quiet)
        seconds = time.perf_counter() - started
        print(
            f"{scenario.name}: {scenario.replications} replications of {scenario.days:g} days "
            f"in {seconds:.1f} s",
            file=sys.stderr,
        )
        results.append(result)
    return results


def _finish(results: list[RunResult], args: argparse.Namespace, default_out: str) -> None:
    print()
    print(format_table(comparison_table(results)))
    if len(results) == 2:
        print()
        print(_differences_text(results[0], results[1]))
    out = Path(args.out or default_out)
    with results_folder(out) as folder:
        write_results(results, folder)
        if any(r.scenario.calls.trace is not None for r in results):
            from sim.inputs.trace import replay_outputs

            print("\n" + "\n".join(replay_outputs(results, folder)))
    if getattr(args, "gis", None):
        from sim.inputs.layers import write_layers

        print(f"GIS layers: {write_layers(results, Path(args.gis))}")
    if args.json:
        summaries = {r.scenario.name: r.summary for r in results}
        write_json(summaries if len(results) > 1 else results[0].summary, Path(args.json))
    print(f"\nresults: {out}/ (records, summary.json, comparison.csv, figures, bulletins)")


def _differences_text(first: RunResult, second: RunResult) -> str:
    diffs = paired_differences(first, second)
    lines = [f"{second.scenario.name} - {first.scenario.name} (paired by replication, 95% CI):"]
    for row in diffs.itertuples():
        if row.difference is None:
            continue
        share = "%" in row.format
        fmt, scale, unit = ("{:+.1f}", 100, " pp") if share else ("{:+.2f}", 1, "")
        unit = " min" if "(min)" in row.metric else unit
        half = "" if row.ci95 is None else " ± " + fmt.format(row.ci95 * scale).lstrip("+")
        lines.append(f"  {row.metric:<24}{fmt.format(row.difference * scale):>9}{half}{unit}")
    return "\n".join(lines)


def cmd_main(args: argparse.Namespace) -> int:
    """The main job: central vs embedded, common random numbers, replications, CIs."""
    results = run_scenarios(list(MAIN_SCENARIOS), args)
    _finish(results, args, "results/central-vs-embedded")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario."""
    results = run_scenarios([args.scenario], args)
    _finish(results, args, f"results/{results[0].scenario.name}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Run several scenarios with the same seeds."""
    results = run_scenarios(args.scenarios, args)
    names = "-vs-".join(r.scenario.name for r in results)
    _finish(results, args, f"results/{names}")
    return 0


def cmd_scenarios(args: argparse.Namespace) -> int:
    """List the shipped scenarios."""
    for name, path in available_scenarios().items():
        scenario, _ = load_scenario(path)
        print(f"{name:<24}{scenario.description}")
    return 0


def cmd_bulletin(args: argparse.Namespace) -> int:
    """Run one replication and print one office's bulletin for one week."""
    from sim.bulletin import weekly_bulletins
    from sim.runner import run_once

    scenario, path = load_scenario(args.scenario, _overrides(args))
    offices = [p.name for p in scenario.posts if p.kind == "office"]
    if not offices:
        raise SimInputError(f"scenario {scenario.name!r} has no community office to publish one")
    office = args.office or offices[0]
    if office not in offices:
        raise SimInputError(f"unknown office {office!r}; offices: {', '.join(offices)}")
    weeks = int(scenario.days // 7)
    if not 1 <= args.week <= weeks:
        raise SimInputError(f"--week {args.week}: the run has weeks 1 to {weeks}")
    _, records, _ = run_once(scenario, 0, path.parent)
    for bulletin in weekly_bulletins(records, scenario):
        if bulletin.office == office and bulletin.week == args.week:
            texts = (
                [bulletin.zh, bulletin.en]
                if args.lang == "both"
                else [getattr(bulletin, args.lang)]
            )
            print("\n\n".join(texts))
    return 0
