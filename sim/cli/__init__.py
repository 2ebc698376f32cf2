"""Command line: ``python run_sim.py [command] ...``.

Each command lives in its own module as ``add_parser(subparsers)`` that sets ``func`` on its
parser; this module only wires them and turns bad input into one clear line and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sim.errors import SimInputError

COMMAND_MODULES = (
    "sim.cli.main_job",
    "sim.cli.run",
    "sim.cli.compare",
    "sim.cli.decompose",
    "sim.cli.scenarios",
    "sim.cli.bulletin",
    "sim.cli.network",
    "sim.cli.sweep",
    "sim.cli.viz",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available command."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="run_sim.py",
        description="Community patrol simulator. With no command: compare the 'central' and "
        "'embedded' scenarios (the main job).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["main", *argv]  # options alone go to the main job
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except SimInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
