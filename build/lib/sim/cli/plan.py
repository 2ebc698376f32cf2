"""Planning commands: ``plan offices|beats|staffing SCENARIO --out PLAN.yaml`` and ``hypercube``.

Each plan command writes PLAN.yaml (a scenario that extends SCENARIO: ``run_sim.py compare
SCENARIO PLAN.yaml`` shows the gain), PLAN.csv (the table) and PLAN.png (the map).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.errors import SimInputError
from sim.reporting.outputs import check_file


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``plan`` and ``hypercube`` commands."""
    plan = sub.add_parser("plan", help="optimise offices, beats or staffing (writes a scenario)")
    kinds = plan.add_subparsers(dest="plan_kind", metavar="KIND", required=True)

    offices = kinds.add_parser("offices", help="where offices should go (spopt siting)")
    _common(offices)
    offices.add_argument("--p", type=int, help="number of offices (lscp: the most allowed)")
    offices.add_argument(
        "--objective", choices=("pmedian", "mclp", "lscp", "pcenter"), default="pmedian"
    )
    offices.add_argument("--within", type=float, metavar="MIN", help="mclp/lscp target minutes")
    offices.add_argument(
        "--candidates",
        type=int,
        metavar="N",
        help="N well-spread candidate sites (default: every node up to 100 nodes, else 100)",
    )
    offices.set_defaults(func=cmd_offices)

    beats = kinds.add_parser("beats", help="contiguous beats with even workload")
    _common(beats)
    beats.add_argument("--beats", type=int, required=True, metavar="N")
    beats.add_argument("--seed", type=int, default=0, help="seed of the local search")
    beats.set_defaults(func=cmd_beats)

    staffing = kinds.add_parser("staffing", help="units per hour (Erlang C) and a shift plan")
    _common(staffing)
    staffing.add_argument("--wait", type=float, default=0.1, metavar="ALPHA", help="P(wait) max")
    staffing.add_argument("--within", type=float, default=5.0, metavar="MIN")
    staffing.add_argument("--share", type=float, default=0.8, metavar="BETA",
                          help="least share of calls answered within MIN")  # fmt: skip
    staffing.add_argument("--shifts", default="8,10,12", help="shift lengths in hours")
    staffing.add_argument("--check", type=int, metavar="REPS", help="then simulate REPS reps")
    staffing.set_defaults(func=cmd_staffing)

    cube = sub.add_parser("hypercube", help="Larson's hypercube beside the simulation")
    cube.add_argument("scenario", metavar="SCENARIO", help="a shipped name or a YAML path")
    cube.add_argument("--method", choices=("auto", "exact", "approximate"), default="auto")
    cube.add_argument("--reps", type=int, help="simulated replications (default: scenario's)")
    cube.add_argument("--days", type=float, help="simulated days")
    cube.add_argument("--no-sim", action="store_true", help="the analytic side only")
    cube.set_defaults(func=cmd_hypercube)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", help="a shipped name or a YAML path")
    parser.add_argument("--out", required=True, type=Path, metavar="PLAN.yaml")


def check_plan_out(out: Path, extra: tuple[str, ...] = ()) -> None:
    """PLAN.yaml and the files beside it (.csv, .png, ...) can be written over nothing else."""
    yaml = out if out.suffix in (".yaml", ".yml") else out.with_suffix(".yaml")
    for suffix in (".yaml", ".csv", ".png", *extra):
        path = yaml if suffix == ".yaml" else yaml.with_name(yaml.stem + suffix)
        check_file(path, "--out")


def _finish(plan, out: Path) -> int:
    from sim.planning import write_plan

    paths = write_plan(plan, out)
    print(plan.description)
    for key, value in plan.summary.items():
        print(f"  {key:<32}{value:.4g}" if isinstance(value, float) else f"  {key:<32}{value}")
    print()
    print(plan.table.to_string(index=False, max_rows=30, float_format=lambda v: f"{v:.3g}"))
    print("\nwrote " + ", ".join(str(p) for p in paths))
    return 0


def cmd_offices(args: argparse.Namespace) -> int:
    """Site offices."""
    from sim.planning import plan_offices
    from sim.planning.verdicts import offices_verdict

    check_plan_out(args.out)
    plan = plan_offices(args.scenario, args.p, args.objective, args.within, args.candidates)
    code = _finish(plan, args.out)
    print(offices_verdict(plan.summary))
    return code


def cmd_beats(args: argparse.Namespace) -> int:
    """Draw beats."""
    from sim.planning import plan_beats

    check_plan_out(args.out)
    return _finish(plan_beats(args.scenario, args.beats, seed=args.seed), args.out)


def cmd_staffing(args: argparse.Namespace) -> int:
    """Staff by hour and plan shifts; optionally check by simulation."""
    from sim.planning import check_staffing, plan_staffing
    from sim.planning.verdicts import staffing_verdict

    check_plan_out(args.out, ("_check.csv",) if args.check else ())

    try:
        shifts = tuple(int(h) for h in args.shifts.split(","))
    except ValueError:
        raise SimInputError(f"--shifts {args.shifts!r}: hours separated by commas") from None
    plan = plan_staffing(args.scenario, args.wait, args.within, args.share, shifts)
    code = _finish(plan, args.out)
    if args.check:
        check = check_staffing(plan, replications=args.check)
        path = Path(args.out).with_suffix("").with_name(Path(args.out).stem + "_check.csv")
        check.to_csv(path, index=False)
        print("\nchecked by simulation (per hour of day):")
        print(check.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print(f"wrote {path}")
        print(staffing_verdict(check, plan.summary))
    return code


def cmd_hypercube(args: argparse.Namespace) -> int:
    """Print the hypercube beside the simulation."""
    from sim.planning.hypercube import hypercube, side_by_side, simulated
    from sim.scenarios.load import load_scenario

    overrides = [f"replications={args.reps}"] if args.reps else []
    overrides += [f"days={args.days}"] if args.days else []
    scenario = load_scenario(args.scenario, overrides)
    result = hypercube(scenario, args.method)
    sim = None if args.no_sim else simulated(scenario)
    print(f"{scenario.name}: {len(result.units)} units")
    print(side_by_side(result, sim))
    return 0
