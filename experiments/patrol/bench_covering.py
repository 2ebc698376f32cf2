"""CPU time of the beats' covering walks (``sim.patrol.covering``), before and after, same walks.

Each measurement is a fresh process (as every replication worker, sweep worker and command
line run is): the world is built untimed, then ``covering_multiset`` for every beat of the
scenario is timed with ``time.process_time`` (cold memo; for the current code that
includes loading its compiled kernels from numba's cache, but not numba's own start-up,
about 0.25 s, which a model run has paid before its first tour: one router search is made
first, as dispatch does). "before" is
``sim/patrol/covering.py`` as it was at ``--before`` (read with ``git show``, so no copy of
the old code is kept), "after" the installed one. Runs alternate, medians are printed with
their ratio, and every beat's multiset must be the same array (same entries, same order)
and the same minutes in both: the script fails otherwise.

    .venv/bin/python experiments/patrol/bench_covering.py            # city and Wuhan, 3 each
    .venv/bin/python experiments/patrol/bench_covering.py --check    # every shipped scenario

The city is ``experiments/bench_model.py``'s ``city_patrol`` (10k nodes, 40 beats);
Wuhan is the shipped ``optics_valley_east`` (4 beats).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BEFORE = "82cf6ac"  # main before the compiled covering steps (issue 21)
TARGET = 4.0  # the brief: at least 4x less CPU time


def _scenario(name: str):
    import sim
    from sim.scenarios.load import validate

    if name == "city":
        sys.path.insert(0, str(ROOT / "experiments"))
        from bench_model import city_patrol_scenario

        return validate(city_patrol_scenario(1000), "<bench city_patrol>")
    return sim.load_scenario(name)


def _module(version: str):
    """``sim.patrol.covering`` now ("after") or at a git revision."""
    if version == "after":
        import sim.patrol.covering as covering

        return covering
    text = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{version}:sim/patrol/covering.py"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp()) / "covering_before.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("covering_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def child(version: str, name: str) -> dict:
    """Time every beat's covering walk in this process: CPU seconds, digests, minutes."""
    import numpy as np

    import sim
    from sim.network.world import build_world

    covering = _module(version)
    scenario = _scenario(name)
    model = sim.PatrolModel(scenario, 0, build_world(scenario), keep_calls=False)
    patroller = model.patroller
    beats = list({id(b): b for b in map(patroller.beat_of, model.units)}.values())
    patroller.router.time(0, model.router.n_nodes - 1)  # numba's start-up, paid by dispatch
    started = time.process_time()
    walks = [covering.covering_multiset(patroller.coverage, patroller.router, b) for b in beats]
    cpu_s = time.process_time() - started
    minutes = patroller.coverage.edge_min
    return {
        "cpu_s": cpu_s,
        "beats": len(beats),
        "digests": [None if w is None else hashlib.sha256(w.tobytes()).hexdigest() for w in walks],
        "minutes": [None if w is None else float(np.sum(minutes[w])) for w in walks],
    }


def _run(version: str, name: str) -> dict:
    argv = [sys.executable, __file__, "--child", version, "--scenario", name]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def compare(name: str, before: str, repeats: int) -> float:
    """Print the medians and ratio for one scenario; fail unless the walks are the same."""
    runs: dict[str, list[dict]] = {"before": [], "after": []}
    for _ in range(repeats):
        runs["before"].append(_run(before, name))
        runs["after"].append(_run("after", name))
    old, new = runs["before"][0], runs["after"][0]
    if old["digests"] != new["digests"] or old["minutes"] != new["minutes"]:
        raise SystemExit(f"{name}: the covering walks differ from {before}'s")
    seconds = {k: [r["cpu_s"] for r in v] for k, v in runs.items()}
    medians = {k: statistics.median(v) for k, v in seconds.items()}
    ratio = medians["before"] / medians["after"]
    shown = {k: ", ".join(f"{s:.2f}" for s in v) for k, v in seconds.items()}
    print(
        f"{name}: {new['beats']} beats, CPU s (median of {repeats}): "
        f"before {medians['before']:.2f} ({shown['before']}), "
        f"after {medians['after']:.2f} ({shown['after']}): {ratio:.1f}x; walks identical"
    )
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help="git revision of the old code")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="every shipped scenario, once")
    parser.add_argument("--scenario", default=None)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.scenario)))
        return
    if args.check:
        import sim

        for name in sorted(sim.available_scenarios()):
            compare(name, args.before, 1)
        return
    names = [args.scenario] if args.scenario else ["city", "optics_valley_east"]
    ratios = [compare(name, args.before, args.repeats) for name in names]
    verdict = "met" if min(ratios) >= TARGET else "not met"
    print(f"target: at least {TARGET:g}x on each: {verdict}")


if __name__ == "__main__":
    main()
