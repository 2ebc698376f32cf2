"""``run_sim.py scenarios``: list the shipped scenarios."""

from __future__ import annotations

import argparse

from sim.scenarios.load import available_scenarios, load_scenario


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``scenarios`` command."""
    parser = sub.add_parser("scenarios", help="list the shipped scenarios")
    parser.set_defaults(func=cmd_scenarios)


def cmd_scenarios(args: argparse.Namespace) -> int:
    """List the shipped scenarios."""
    for name, path in available_scenarios().items():
        scenario = load_scenario(path)
        print(f"{name:<24}{scenario.description}")
    return 0
