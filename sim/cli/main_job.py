"""The main job (no command): central vs embedded, common random numbers, replications, CIs."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.analysis.decomposition import format_decomposition
from sim.cli.common import (
    add_pool_and_bulletin_options,
    add_run_options,
    finish,
    run_scenarios,
)
from sim.cli.decompose import run_decomposition
from sim.reporting.decomposition import write_decomposition

MAIN_SCENARIOS = ("central", "embedded")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``main`` command."""
    parser = sub.add_parser("main", help="compare 'central' and 'embedded' (the default)")
    add_pool_and_bulletin_options(parser)
    add_run_options(parser, out_default="results/central-vs-embedded")
    parser.set_defaults(func=cmd_main)


#: Replications per subset of the main job's decomposition (exact over all subsets: with
#: 7 factors, 128 subsets; 3 replications keep the main job within about a minute).
DECOMPOSITION_REPS = 3


def cmd_main(args: argparse.Namespace) -> int:
    """The main job: central vs embedded with CIs, and the difference taken apart.

    Common random numbers, replications; the Shapley decomposition uses fewer replications.
    """
    results = run_scenarios(list(MAIN_SCENARIOS), args)
    finish(results, args, "results/central-vs-embedded")
    reps = min(DECOMPOSITION_REPS, args.reps or DECOMPOSITION_REPS)
    decomposition = run_decomposition(*MAIN_SCENARIOS, args, reps, 0)
    print()
    print(format_decomposition(decomposition))
    out = Path(args.out or "results/central-vs-embedded")
    write_decomposition(decomposition, out / "decomposition")
    return 0
