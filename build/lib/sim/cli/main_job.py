"""The main job (no command): central vs embedded, common random numbers, replications, CIs."""

from __future__ import annotations

import argparse

from sim.analysis.decomposition import format_decomposition
from sim.cli.common import (
    add_pool_and_bulletin_options,
    add_run_options,
    finish,
    out_folder,
    run_scenarios,
)
from sim.cli.decompose import run_decomposition
from sim.reporting.decomposition import write_decomposition
from sim.reporting.folders import results_folder

MAIN_SCENARIOS = ("central", "embedded")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``main`` command."""
    parser = sub.add_parser("main", help="compare 'central' and 'embedded' (the default)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a first look: {QUICK_REPS} replications, no decomposition "
        "(run 'decompose central embedded' for it)",
    )
    add_pool_and_bulletin_options(parser)
    add_run_options(parser, out_default="results/central-vs-embedded")
    parser.set_defaults(func=cmd_main)


#: Replications per subset of the main job's decomposition (exact over all subsets: with
#: 7 factors, 128 subsets).
DECOMPOSITION_REPS = 3
#: Replications of ``--quick`` (the scenarios' own: 10).
QUICK_REPS = 4


def cmd_main(args: argparse.Namespace) -> int:
    """The main job: central vs embedded with CIs, and the difference taken apart.

    Common random numbers, replications; the Shapley decomposition uses fewer replications.
    ``--quick``: fewer replications and no decomposition.
    """
    if args.quick and args.reps is None:
        args.reps = QUICK_REPS
    results = run_scenarios(list(MAIN_SCENARIOS), args)
    finish(results, args)
    if args.quick:
        print("\n--quick: no decomposition; 'python run_sim.py decompose central embedded "
              f"--reps {DECOMPOSITION_REPS}' takes the difference apart")  # fmt: skip
        return 0
    reps = min(DECOMPOSITION_REPS, args.reps or DECOMPOSITION_REPS)
    before, after = (r.scenario for r in results)
    decomposition = run_decomposition(before, after, reps, 0)
    print()
    print(format_decomposition(decomposition))
    with results_folder(out_folder(args, [before, after]) / "decomposition") as folder:
        write_decomposition(decomposition, folder)
    return 0
