"""Command line: ``python run_sim.py [command] ...``.

Each command lives in its own module as ``add_parser(subparsers)`` that sets ``func`` on its
parser; this module only wires them and turns bad input into one clear line and exit code 2.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

from sim.errors import SimInputError, WorkerLostError

#: command -> (module that defines it with ``add_parser``, one line of help). A module is
#: imported only when its command runs, so ``--help`` and every command start quickly.
COMMANDS: dict[str, tuple[str, str]] = {
    "main": ("sim.cli.main_job", "compare 'central' and 'embedded' (the default)"),
    "run": ("sim.cli.run", "run one scenario with replications"),
    "compare": ("sim.cli.compare", "run scenarios side by side on the same calls"),
    "decompose": ("sim.cli.decompose", "take a reform apart: each change's share (Shapley)"),
    "scenarios": ("sim.cli.scenarios", "list the shipped scenarios"),
    "bulletin": ("sim.cli.bulletin", "print an office's weekly bulletin"),
    "network": ("sim.cli.network", "load or generate a street network and describe it"),
    "fit": ("sim.cli.fit", "fit a scenario's calls to a table of past calls (CSV or Parquet)"),
    "district": ("sim.cli.district", "write a before/after pair of scenarios for a network"),
    "plan": ("sim.cli.plan", "optimise offices, beats or staffing (writes a scenario)"),
    "hypercube": ("sim.cli.plan", "Larson's hypercube for a scenario, beside the simulation"),
    "sweep": ("sim.cli.sweep", "run a parameter sweep (resumes: finished runs are skipped)"),
    "analyze": ("sim.cli.sweep", "sensitivity indices of a finished sobol/morris sweep"),
    "viz": ("sim.cli.viz", "open the browser app: watch, change and compare live"),
}
#: commands that run replications in a pool of processes (``--workers``)
POOLED = ("main", "run", "compare")


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (with a pointer to ``--help``)."""

    def error(self, message: str) -> NoReturn:
        """Print one line and exit with code 2."""
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser: every command listed, with the full options of ``command`` (or of all)."""
    import importlib

    parser = Parser(
        prog="run_sim.py",
        description="Community patrol simulator. With no command: compare the 'central' and "
        "'embedded' scenarios (the main job).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    full = {m for name, (m, _) in COMMANDS.items() if command in (None, name)}
    for module in dict.fromkeys(m for m, _ in COMMANDS.values()):
        if module in full:
            importlib.import_module(module).add_parser(sub)
    done = set(sub.choices)
    for name, (_, help_text) in COMMANDS.items():
        if name not in done:
            sub.add_parser(name, help=help_text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (Ctrl-C: 130, at any moment).

    Ctrl-C inside compiled code can surface as another error instead of
    ``KeyboardInterrupt``: an ``ImportError`` while numpy or pandas is imported, a
    ``SystemError`` while numba loads a compiled function. The interrupt is noted as it comes,
    so any error that follows it still ends the command with one line and 130.
    """
    interrupted: list[bool] = []
    previous = _note_interrupts(interrupted)
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:
        if not interrupted:
            raise
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _note_interrupts(interrupted: list[bool]):
    """Make Ctrl-C also append to ``interrupted``; return the handler it replaces (or None)."""
    if threading.current_thread() is not threading.main_thread():
        return None  # (only the main thread may set handlers; it alone gets the signal)
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.default_int_handler:
        return None  # ignored, or someone else's: left alone

    def on_interrupt(signum, frame):
        interrupted.append(True)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_interrupt)
    return previous


def _main(argv: list[str]) -> int:
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["main", *argv]  # options alone go to the main job
    if argv[0] in POOLED:  # the pool's server loads while this process does
        from sim.analysis.pool import start_server

        start_server(argv)
    parser = build_parser(argv[0] if argv[0] in COMMANDS else "")
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except SimInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except WorkerLostError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a full disk, a file system gone read-only: one line
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: cannot write or read{where}: {exc.strerror or exc}", file=sys.stderr)
        return 1
