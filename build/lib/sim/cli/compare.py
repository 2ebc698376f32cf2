"""``run_sim.py compare``: scenarios side by side on the same calls."""

from __future__ import annotations

import argparse

from sim.cli.common import (
    add_pool_and_bulletin_options,
    add_run_options,
    finish,
    run_scenarios,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``compare`` command."""
    parser = sub.add_parser("compare", help="run scenarios side by side on the same calls")
    parser.add_argument("scenarios", nargs="+", metavar="NAME|PATH")
    add_pool_and_bulletin_options(parser)
    add_run_options(parser, out_default=None)
    parser.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    """Run several scenarios with the same seeds."""
    results = run_scenarios(args.scenarios, args)
    finish(results, args)
    return 0
