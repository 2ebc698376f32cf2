"""``run_sim.py run``: one scenario with replications."""

from __future__ import annotations

import argparse

from sim.cli.common import (
    add_pool_and_bulletin_options,
    add_run_options,
    finish,
    run_scenarios,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``run`` command."""
    parser = sub.add_parser("run", help="run one scenario with replications")
    parser.add_argument("--scenario", required=True, help="a shipped scenario name or a YAML path")
    add_pool_and_bulletin_options(parser)
    add_run_options(parser, out_default=None)
    parser.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario."""
    results = run_scenarios([args.scenario], args)
    finish(results, args)
    return 0
