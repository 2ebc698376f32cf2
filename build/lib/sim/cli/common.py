"""What the commands that run scenarios share: options, running, the table and the folder."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

from sim.analysis.comparison import (
    WITH_PARAMETERS,
    comparison_table,
    format_table,
    interval_kind,
    paired_differences,
    with_kinds,
)
from sim.analysis.figure_kinds import KEY as KINDS_KEY
from sim.analysis.pool import check_workers
from sim.analysis.replications import RunResult, run_all
from sim.analysis.uncertainty import difference_intervals, run_uncertain, uncertainty_table
from sim.errors import SimInputError
from sim.reporting.bulletins import BULLETINS, LAST_WEEKS
from sim.reporting.folders import results_folder, write_json, write_results
from sim.reporting.outputs import check_file, check_folder
from sim.scenarios.load import load_scenario
from sim.scenarios.schema import Scenario


def add_run_options(parser: argparse.ArgumentParser, out_default: str | None) -> None:
    """The options of every command that runs scenarios."""
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
    parser.add_argument(
        "--start",
        metavar="DATE",
        help="replay: the run starts (t = 0) at this date-time of the calls table "
        "(calls.trace_start; default: midnight before its first call)",
    )
    parser.add_argument("--out", default=out_default, help="results folder")
    parser.add_argument("--json", help="also write the summary JSON here")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--gis", metavar="OUT.gpkg", help="also write GIS layers (GeoPackage)")
    parser.add_argument(
        "--uncertainty",
        type=int,
        default=0,
        metavar="N",
        help="also draw the assumptions that carry a range, N Latin-hypercube draws (one "
        "replication each), and report 95%% intervals incl. parameter uncertainty",
    )


def add_pool_and_bulletin_options(parser: argparse.ArgumentParser) -> None:
    """``--workers`` and ``--bulletins``: of the commands that write a results folder."""
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="processes that run replications (default: every core; 1: no pool); "
        "the results are the same whatever N",
    )
    parser.add_argument(
        "--bulletins",
        choices=BULLETINS,
        default="last",
        help=f"weekly bulletins in the results folder: the last {LAST_WEEKS} weeks of each "
        "office (default), every week, or none",
    )


def overrides(args: argparse.Namespace) -> list[str]:
    """The ``--set`` overrides, with ``--days``, ``--seed`` and ``--reps`` among them."""
    extra = []
    if args.days is not None:
        extra.append(f"days={args.days}")
    if args.seed is not None:
        extra.append(f"seed={args.seed}")
    if getattr(args, "start", None):
        extra.append(f"calls.trace_start={json.dumps(args.start)}")
    if args.reps is not None:
        if args.reps < 1:
            raise SimInputError(f"--reps {args.reps}: at least 1 replication is needed")
        extra.append(f"replications={args.reps}")
    return [*args.set, *extra]


def run_scenarios(names: list[str], args: argparse.Namespace) -> list[RunResult]:
    """Load every scenario first (so bad input fails before any work), then run them.

    Every (scenario, replication) pair is one task for ``--workers`` processes.
    """
    workers = check_workers(getattr(args, "workers", None))
    loaded = [load_scenario(name, overrides(args)) for name in names]
    check_outputs(args, loaded)
    for scenario in loaded:
        if scenario.calls.trace is not None:  # say what is replayed, and what rejected
            from sim.reporting.replay import announce, replay_check

            print(announce(scenario), file=sys.stderr)
            warning = replay_check(scenario)
            if warning:
                print(warning, file=sys.stderr)
    started = time.perf_counter()
    results = run_all(loaded, progress=not args.quiet, workers=workers)
    seconds = time.perf_counter() - started
    tasks = sum(s.replications for s in loaded)
    for scenario in loaded:
        print(f"{scenario.name}: {scenario.replications} replications of {scenario.days:g} days",
              file=sys.stderr)  # fmt: skip
    print(f"{tasks} replications in {seconds:.1f} s ({min(workers, tasks)} worker(s))",
          file=sys.stderr)  # fmt: skip
    for result in results:
        report_health(result)
    return results


def out_folder(args: argparse.Namespace, scenarios: list[Scenario]) -> Path:
    """The results folder: ``--out``, else ``results/NAME`` or ``results/A-vs-B...``."""
    return Path(args.out or "results/" + "-vs-".join(s.name for s in scenarios))


def check_outputs(args: argparse.Namespace, scenarios: list[Scenario]) -> None:
    """``--out``, ``--json`` and ``--gis`` can be written, replacing nothing of the user's."""
    check_folder(out_folder(args, scenarios))
    if args.json:
        check_file(args.json, "--json")
    if getattr(args, "gis", None):
        check_file(args.gis, "--gis", (".gpkg",))
        for scenario in scenarios:
            if scenario.network.kind == "point":
                raise SimInputError(f"--gis: scenario {scenario.name!r} has no street map "
                                    "(network kind 'point')")  # fmt: skip


def report_health(result: RunResult) -> None:
    """Warn (stderr) when a run is overloaded or its warm-up looks too short; exit code 0."""
    summary = result.summary
    if summary.get("overloaded"):
        loads = ", ".join(
            f"{pool} {rho:.2f}" for pool, rho in summary["offered_load"].items() if rho is not None
        )
        why = [
            f"offered load {loads}"
            + (" (>= 1: the queue cannot settle)" if summary.get("overloaded_pools") else "")
        ]
        if summary["queue_growing"]:
            why.append("calls waiting grew all run")
        if summary.get("queue_saturated"):
            why.append(
                f"{summary['p_queued']:.0%} of calls waited for a unit, "
                f"{summary['queue_min']['mean']:.0f} min on average: longer than a unit spends "
                "on a call"
            )
        print(
            f"WARNING: {result.scenario.name} is OVERLOADED: {'; '.join(why)}; "
            f"{summary['unanswered_at_end']:.0f} calls unanswered at the end (mean per "
            "replication). Response means of answered calls are biased down; see the "
            "Kaplan-Meier rows (open calls censored).",
            file=sys.stderr,
        )
    elif summary.get("queue_bound"):
        loads = ", ".join(f"{rho:.2f}" for rho in summary["offered_load"].values() if rho)
        print(
            f"WARNING: {result.scenario.name} is near overload (queue-bound): "
            f"{summary['p_queued']:.0%} of calls waited for a unit, "
            f"{summary['queue_min']['mean']:.0f} min on average of a "
            f"{summary['response_min']['mean']:.0f} min response, though the offered load is "
            f"{loads or 'unknown'} (< 1): the queue, not travel, makes the response time",
            file=sys.stderr,
        )
    check = summary.get("warmup_check", {})
    if check and not check.get("warmup_ok", True):
        print(
            f"WARNING: {result.scenario.name}: warm-up of {check['warmup_days']:g} days looks too "
            f"short (MSER-5 truncation {check['mser5_days']} days; biased: "
            f"{', '.join(check['biased_series'])}); try --set warmup_days=N",
            file=sys.stderr,
        )


def finish(results: list[RunResult], args: argparse.Namespace) -> None:
    """Print the table (and paired differences), write the results folder and JSON."""
    print()
    print("mean ± half-width over replications; the interval row says which kind")
    print(format_table(comparison_table(results)))
    print(KINDS_KEY)
    if len(results) == 2:
        print()
        print(differences_text(results[0], results[1]))
    uncertain = uncertainty_report(results, args) if args.uncertainty else None
    out = out_folder(args, [r.scenario for r in results])
    with results_folder(out) as folder:
        if any(r.scenario.calls.trace is not None for r in results):
            from sim.reporting.replay import replay_outputs

            print("\n" + "\n".join(replay_outputs(results, folder)))
        if uncertain is not None:
            uncertain.to_csv(folder / "uncertainty.csv")
        write_results(results, folder, getattr(args, "bulletins", "last"))  # indexes the rest
    if getattr(args, "gis", None):
        from sim.reporting.layers import write_layers

        print(f"GIS layers: {write_layers(results, Path(args.gis))}")
    if args.json:
        summaries = {r.scenario.name: with_kinds(r.summary, r.scenario) for r in results}
        write_json(summaries if len(results) > 1 else summaries[results[0].scenario.name],
                   Path(args.json))  # fmt: skip
    print(f"\nresults: {out}/ (records, summary.json, comparison.csv, figures, bulletins; "
          "README.txt says what each is)")  # fmt: skip


def uncertainty_report(results: list[RunResult], args: argparse.Namespace) -> pd.DataFrame:
    """Run ``--uncertainty`` draws of the assumptions; print and return the table of intervals."""
    n = args.uncertainty
    workers = check_workers(getattr(args, "workers", None))
    uncertain = run_uncertain([r.scenario for r in results], n, workers, not args.quiet)
    drawn = sorted({p for u in uncertain for p in u.summary["assumptions_drawn"]})
    print(f"\n{WITH_PARAMETERS}: mean [2.5%, 97.5%] over {n} Latin-hypercube draws of "
          f"{len(drawn)} assumptions ({', '.join(drawn) or 'none has a range'}), one "
          "replication each; the share column is the part of the variance the parameters add "
          "to random noise")  # fmt: skip
    table = uncertainty_table(uncertain, results)
    print(format_table(table))
    if len(uncertain) == 2:
        print()
        print(f"{uncertain[1].scenario.name} - {uncertain[0].scenario.name} "
              f"(paired by draw, {WITH_PARAMETERS}):")  # fmt: skip
        for row in difference_intervals(*uncertain).itertuples():
            if row.difference is None or pd.isna(row.difference):
                continue
            share = "%" in row.format
            fmt, scale = ("{:+.1f}", 100) if share else ("{:+.2f}", 1)
            unit = " pp" if share else (" min" if "(min)" in row.metric else "")
            lo, hi = fmt.format(row.lo * scale), fmt.format(row.hi * scale)
            print(f"  {row.metric:<24}{fmt.format(row.difference * scale):>9} [{lo}, {hi}]{unit}")
    return table


def differences_text(first: RunResult, second: RunResult) -> str:
    """The paired differences of two scenarios, as lines of text."""
    diffs = paired_differences(first, second)
    kind = interval_kind(second)
    lines = [f"{second.scenario.name} - {first.scenario.name} (paired by replication, {kind}):"]
    for row in diffs.itertuples():
        if row.difference is None or pd.isna(row.difference):
            continue
        share = "%" in row.format
        fmt, scale, unit = ("{:+.1f}", 100, " pp") if share else ("{:+.2f}", 1, "")
        unit = " min" if "(min)" in row.metric else unit
        half = "" if row.ci95 is None else " ± " + fmt.format(row.ci95 * scale).lstrip("+")
        lines.append(f"  {row.metric:<24}{fmt.format(row.difference * scale):>9}{half}{unit}")
    return "\n".join(lines)
