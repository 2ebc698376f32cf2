"""``run_sim.py decompose BEFORE AFTER``: the difference taken apart, one change at a time."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sim.analysis.decomposition import decompose, format_decomposition
from sim.cli.common import add_run_options, overrides
from sim.reporting.decomposition import write_decomposition
from sim.scenarios.load import load_scenario


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


def run_decomposition(before_name: str, after_name: str, args, reps: int | None, orders: int):
    """Load both scenarios (bad input fails first), decompose, report the time taken."""
    before = load_scenario(before_name, overrides(args))
    after = load_scenario(after_name, overrides(args))
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
    result = run_decomposition(args.before, args.after, args, args.reps, args.orders)
    print(format_decomposition(result))
    out = Path(args.out or f"results/decompose-{result.before}-to-{result.after}")
    write_decomposition(result, out)
    print(f"\nresults: {out}/ (decomposition.csv, decomposition_waterfall.png)")
    return 0
