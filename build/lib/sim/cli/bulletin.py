"""``run_sim.py bulletin``: an office's weekly bulletin (Chinese and English)."""

from __future__ import annotations

import argparse

from sim.analysis.replications import run_once
from sim.cli.common import overrides
from sim.errors import SimInputError
from sim.reporting.bulletins import full_weeks, weekly_bulletins
from sim.scenarios.load import load_scenario


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``bulletin`` command."""
    parser = sub.add_parser("bulletin", help="print an office's weekly bulletin")
    parser.add_argument("--scenario", default="embedded", help="name or YAML path")
    parser.add_argument("--office", help="office name (default: the first office)")
    parser.add_argument("--week", type=int, default=1, help="week after warm-up (1 = first)")
    parser.add_argument("--lang", choices=("zh", "en", "both"), default="both")
    parser.add_argument("--seed", type=int, help="seed of the random streams")
    parser.add_argument("--days", type=float, help="simulated days after warm-up")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.set_defaults(func=cmd_bulletin, reps=None)


def cmd_bulletin(args: argparse.Namespace) -> int:
    """Run one replication and print one office's bulletin for one week."""
    scenario = load_scenario(args.scenario, overrides(args))
    offices = [p.name for p in scenario.posts if p.kind == "office"]
    if not offices:
        raise SimInputError(f"scenario {scenario.name!r} has no community office to publish one")
    office = args.office or offices[0]
    if office not in offices:
        raise SimInputError(f"unknown office {office!r}; offices: {', '.join(offices)}")
    weeks = full_weeks(scenario)
    if not 1 <= args.week <= weeks:
        raise SimInputError(f"--week {args.week}: the run has weeks 1 to {weeks}")
    _, records, _ = run_once(scenario, 0)
    for bulletin in weekly_bulletins(records, scenario, [args.week]):
        if bulletin.office == office:
            texts = (
                [bulletin.zh, bulletin.en]
                if args.lang == "both"
                else [getattr(bulletin, args.lang)]
            )
            print("\n\n".join(texts))
    return 0
