"""The ``viz`` command: serve the browser app (Mesa SolaraViz) on this machine."""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import subprocess
import sys

from sim.errors import EXTRAS, SimInputError
from sim.scenarios.load import find_scenario

DEFAULT_PORT = 8765


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``viz`` command."""
    viz = sub.add_parser("viz", help="open the browser app: watch, change and compare live")
    viz.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    viz.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0: any free port)",
    )
    viz.add_argument("--scenario", help="the scenario shown first (name or YAML path)")
    viz.add_argument(
        "--behind-proxy",
        action="store_true",
        help="trust X-Forwarded-* and X-Script-Name headers (only behind your own reverse proxy)",
    )
    viz.add_argument(
        "--debug", action="store_true", help="serve the diagnostic routes (/resourcez, /readyz)"
    )
    viz.add_argument(
        "--max-playing",
        type=int,
        help="pages that may play at once at most (default 8 per core; fewer while the server's "
        "CPU is short); more are told the server is busy",
    )
    viz.set_defaults(func=cmd_viz)


def server_command(
    host: str, port: int, behind_proxy: bool = False, debug: bool = False
) -> list[str]:
    """The command line that serves the app (``sim.viz.serve``: Solara behind a gate)."""
    command = [sys.executable, "-m", "sim.viz.serve", "--host", host, "--port", str(port)]
    return command + ["--behind-proxy"] * behind_proxy + ["--debug"] * debug


def server_env(scenario: str | None = None) -> dict[str, str]:
    """The server's environment: no telemetry, and the first scenario if one was chosen."""
    from sim.viz.controls import SCENARIO_ENV
    from sim.viz.janitor import ARENA_ENV

    env = dict(
        os.environ,
        SOLARA_TELEMETRY_MIXPANEL_ENABLE="False",
        # solara warns on every plain-http page load about cookies for iframes: noise here
        PYTHONWARNINGS="ignore::UserWarning:solara.server.starlette",
    )
    env |= ARENA_ENV  # few malloc arenas: a closed page's memory can be given back
    if scenario:
        env[SCENARIO_ENV] = scenario
    return env


def cmd_viz(args: argparse.Namespace) -> int:
    """Check the options, then run the server until it stops (Ctrl-C)."""
    if importlib.util.find_spec("solara") is None:
        raise SimInputError(
            "the browser app needs the 'viz' extras (solara is not installed): "
            f"run {EXTRAS['viz']} (or scripts/setup dev)"
        )
    if not 0 <= args.port <= 65535:
        raise SimInputError(f"--port {args.port}: a port from 0 to 65535 was expected")
    if args.max_playing is not None and args.max_playing < 1:
        raise SimInputError(f"--max-playing {args.max_playing}: 1 or more was expected")
    scenario = None
    if args.scenario:
        path = find_scenario(args.scenario)  # an unknown name is one clear line, exit 2
        scenario = args.scenario if path.parent.name == "scenarios" else str(path.resolve())
    if args.port == 0:
        args.port = _free_port(args.host)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"Community patrol simulator: open http://{shown}:{args.port}/ (Ctrl-C stops it)",
        flush=True,
    )
    command = server_command(args.host, args.port, args.behind_proxy, args.debug)
    env = server_env(scenario)
    if args.max_playing is not None:
        from sim.viz.admission import MAX_PLAYING_ENV

        env[MAX_PLAYING_ENV] = str(args.max_playing)
    if hasattr(os, "execve"):  # become the server: signals reach it, no orphan is left
        os.execve(command[0], command, env)
    return subprocess.call(command, env=env)


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
