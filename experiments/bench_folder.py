"""Results-folder benchmark: ``write_results`` for a one-year run of the 40-office city.

    python experiments/bench_folder.py --make          # simulate once, keep the result
    python experiments/bench_folder.py --repeats 3     # time write_results (cProfile)

The run itself is simulated once (``--make``, about 20 s) and pickled to ``--result``, so
only the results folder is timed. Each repeat writes a fresh folder in its own process-free
loop under cProfile; the median and the slowest functions of the last repeat are printed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pickle
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_model import city_scenario

RESULT = Path(tempfile.gettempdir()) / "bench_city_result.pkl"


def make(path: Path, calls: int) -> None:
    from sim.analysis.replications import run_replications
    from sim.scenarios.load import validate

    scenario = validate(city_scenario(calls), "<bench city>")
    result = run_replications(scenario, progress=False)
    path.write_bytes(pickle.dumps(result))
    print(f"{len(result.records)} calls -> {path}")


def time_folder(path: Path, repeats: int, top: int, bulletins: str | None) -> None:
    from sim.reporting.folders import write_results

    options = {} if bulletins is None else {"bulletins": bulletins}  # None: the default

    result = pickle.loads(path.read_bytes())
    seconds = []
    for _ in range(repeats):
        folder = Path(tempfile.mkdtemp(prefix="bench_folder."))
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.runcall(write_results, [result], folder, **options)
        seconds.append(time.perf_counter() - started)
        files = sum(1 for p in folder.rglob("*") if p.is_file())
        shutil.rmtree(folder)
    print(f"write_results: {', '.join(f'{s:.2f}' for s in seconds)} s; "
          f"median {statistics.median(seconds):.2f} s; {files} files")  # fmt: skip
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats(top)
    print(text.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--make", action="store_true", help="simulate and pickle the run")
    parser.add_argument("--result", type=Path, default=RESULT)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--top", type=int, default=25, help="functions of the profile shown")
    parser.add_argument("--bulletins", choices=("last", "all", "none"), help="default: last")
    args = parser.parse_args()
    if args.make:
        make(args.result, args.calls)
    else:
        time_folder(args.result, args.repeats, args.top, args.bulletins)


if __name__ == "__main__":
    main()
