"""``run_sim.py decompose BEFORE AFTER``: the difference taken apart, one change at a time."""

from __future__ import annotations

import argparse
import sys
import time

from sim.analysis.decomposition import decompose, format_decomposition
from sim.cli.common import add_run_options, overrides
from sim.errors import SimInputError
from sim.reporting.decomposition import write_decomposition
from sim.reporting.folders import results_folder
from sim.reporting.outputs import check_folder
from sim.scenarios.load import load_scenario
from sim.scenarios.schema import Scenario


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``decompose`` command."""
    parser = sub.add_parser(
        "decompose", help="Shapley decomposition of AFTER - BEFORE into the changes that make it"
    )
    parser.add_argument("before", metavar="BEFORE")
    parser.add_argument("after", metavar="AFTER")
    parser.add_argument(
        "--orders",
        type=int,
        default=0,
        help="sampled orders (0: exact over all subsets, up to 8 factors)",
    )
    add_run_options(parser, out_default=None)
    parser.set_defaults(func=cmd_decompose)


def load_pair(before_name: str, after_name: str, args) -> tuple[Scenario, Scenario]:
    """Both scenarios, loaded before any work (bad input fails first)."""
    return load_scenario(before_name, overrides(args)), load_scenario(after_name, overrides(args))


def run_decomposition(before: Scenario, after: Scenario, reps: int | None, orders: int):
    """Decompose, report the time taken."""
    started = time.perf_counter()
    result = decompose(before, after, replications=reps, orders=orders)
    print(
        f"decomposition: {result.runs} subsets x {result.replications} replications "
        f"in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return result


def cmd_decompose(args: argparse.Namespace) -> int:
    """Decompose, print the table, write the folder."""
    unused = [o for o, v in (("--json", args.json), ("--gis", args.gis),
                             ("--uncertainty", args.uncertainty)) if v]  # fmt: skip
    if unused:
        raise SimInputError(f"decompose: {', '.join(unused)} not supported here (run or "
                            "compare write those)")  # fmt: skip
    before, after = load_pair(args.before, args.after, args)
    out = check_folder(args.out or f"results/decompose-{before.name}-to-{after.name}")
    result = run_decomposition(before, after, args.reps, args.orders)
    print(format_decomposition(result))
    with results_folder(out) as folder:
        write_decomposition(result, folder)
    print(f"\nresults: {out}/ (decomposition.csv, decomposition_waterfall.png)")
    return 0
