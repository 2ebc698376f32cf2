"""The main job (no command): central vs embedded, common random numbers, replications, CIs."""

from __future__ import annotations

import argparse

from sim.cli.common import add_run_options, finish, run_scenarios

MAIN_SCENARIOS = ("central", "embedded")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``main`` command."""
    parser = sub.add_parser("main", help="compare 'central' and 'embedded' (the default)")
    add_run_options(parser, out_default="results/central-vs-embedded")
    parser.set_defaults(func=cmd_main)


def cmd_main(args: argparse.Namespace) -> int:
    """The main job: central vs embedded, common random numbers, replications, CIs."""
    results = run_scenarios(list(MAIN_SCENARIOS), args)
    finish(results, args, "results/central-vs-embedded")
    return 0
