"""Commands ``sweep`` (resumable parameter sweeps, local or on Dask) and ``analyze``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from sim.errors import SimInputError, import_extra
from sim.scenarios.overrides import read_yaml
from sim.sweeps.api import with_changes
from sim.sweeps.driver import TABLE_NAME, SweepStats, run_sweep
from sim.sweeps.executors import EXECUTORS, open_pool
from sim.sweeps.ledger import LEDGER_NAME, Ledger
from sim.sweeps.spec import Plan, SweepSpec, check_points, load_spec, make_plan, parse_spec


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the sweep and analyze commands."""
    sweep = sub.add_parser(
        "sweep", help="run a parameter sweep (resumes: finished runs are skipped)",
        description="Run every point x seed x replication of a sweep spec that the ledger in "
        "--out does not hold yet. Rerunning the same command resumes.",
    )  # fmt: skip
    sweep.add_argument("spec", metavar="SPEC", help="sweep spec (YAML)")
    sweep.add_argument(
        "--out", help="sweep folder (ledger, runs.parquet); default results/sweeps/NAME"
    )
    sweep.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="local",
        help="local: a process pool (default); dask: a Dask scheduler; "
        "inline: in this process (for debugging)",
    )
    sweep.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    sweep.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster)",
    )
    sweep.add_argument("--retry-failed", action="store_true", help="run failed runs again")
    sweep.add_argument("--reps", type=int, help="override the spec's replications")
    sweep.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="add a fixed scenario override, e.g. --set days=3 (repeatable)",
    )
    sweep.add_argument(
        "--analyze",
        action="store_true",
        help="then report sensitivity indices (sobol and morris designs)",
    )
    sweep.add_argument("--metric", action="append", help="metric(s) to analyze")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.set_defaults(func=cmd_sweep)  # fmt: skip

    analyze = sub.add_parser("analyze", help="sensitivity indices of a finished sobol/morris sweep")
    analyze.add_argument("folder", metavar="DIR", help="the sweep's --out folder")
    analyze.add_argument("--metric", action="append", help="metric(s) (default: the spec's)")
    analyze.set_defaults(func=cmd_analyze)


def _fixed(assignments: list[str]) -> dict[str, object]:
    fixed = {}
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        if not sep or not key:
            raise SimInputError(f"--set {assignment!r}: expected dotted.path=value")
        fixed[key.strip()] = read_yaml(text)
    return fixed


def cmd_sweep(args: argparse.Namespace) -> int:
    """Plan, run what is missing, export, report; exit 1 when some runs failed."""
    spec = with_changes(load_spec(args.spec), _fixed(args.set), args.reps)
    if args.executor == "dask":  # before the ledger is opened: nothing written on failure
        import_extra("distributed", "sweep", "--executor dask")
    if args.analyze:
        if spec.design not in ("sobol", "morris"):
            raise SimInputError(
                f"--analyze needs a sobol or morris design; {args.spec} has {spec.design!r}"
            )
        import_extra("SALib.analyze", "sweep", "--analyze")
    plan = make_plan(spec)
    for message in check_points(plan)[:3]:
        print(f"warning: {message}", file=sys.stderr)
    out = Path(args.out or f"results/sweeps/{spec.name}")
    stats = run_sweep(
        plan, out, lambda: open_pool(args.executor, args.workers, args.scheduler),
        retry_failed=args.retry_failed, progress=not args.quiet,
    )  # fmt: skip
    failed = report(plan, stats, out)
    if args.analyze:
        _analyze(spec, pd.read_parquet(out / TABLE_NAME), out, args.metric)
    return 1 if failed else 0


def report(plan: Plan, stats: SweepStats, out: Path) -> int:
    """Print what happened; return how many of the plan's runs stand failed."""
    with Ledger(out, lock=False) as ledger:
        counts = ledger.counts(t.key for t in plan.tasks)
        failures = ledger.failures({t.key for t in plan.tasks})
    print(
        f"{plan.spec.name}: {counts['done']} of {stats.total} runs done, "
        f"{counts['failed']} failed ({stats.done + stats.failed} ran now in "
        f"{stats.seconds:.1f} s, {stats.rate_per_min:.0f} runs/min; {stats.skipped} were in "
        f"the ledger)"
    )
    if len(failures):
        first = failures.iloc[0]
        print(f"  first failure: point {first.point} {first.params}: {first.error}")
        print("  tracebacks are in the ledger; rerun with --retry-failed to run them again")
    print(f"table: {out / TABLE_NAME}")
    return counts["failed"]


def cmd_analyze(args: argparse.Namespace) -> int:
    """Sensitivity indices of a finished sweep folder."""
    folder = Path(args.folder)
    if not (folder / LEDGER_NAME).is_file() or not (folder / TABLE_NAME).is_file():
        raise SimInputError(f"{folder}: not a sweep folder (no {LEDGER_NAME} / {TABLE_NAME})")
    with Ledger(folder, lock=False) as ledger:
        raw = ledger.get_meta("spec")
    spec = parse_spec(raw, str(folder / LEDGER_NAME))
    _analyze(spec, pd.read_parquet(folder / TABLE_NAME), folder, args.metric)
    return 0


def _analyze(spec: SweepSpec, table: pd.DataFrame, out: Path, metrics: list[str] | None) -> None:
    from sim.sweeps.sensitivity import analyze, format_indices, plot_indices, untrustworthy

    frame = analyze(spec, table, metrics)
    print()
    print(format_indices(frame))
    warning = untrustworthy(frame, spec.samples)
    if warning:
        print(warning)
    figure = plot_indices(frame, out / "sensitivity.png")
    print(f"\nsensitivity: {figure} and {figure.with_suffix('.csv')}")
