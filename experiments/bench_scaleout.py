"""Scale-out and start-up cases of ``bench_model.py`` (issue 21), each a whole command.

- ``ceiling``: the machine's own limit: two pure-Python loops at once against one (what no
  pool can beat on a shared 2-core machine);
- ``reps``: ``run --reps 20`` of the Wuhan scenario, one year, 1 worker and 2: every output
  file must be the same byte for byte; and one replication over 3 hours, a part no worker shares,
  which with ``ceiling`` bounds what 2 workers can give (``best_ratio``);
- ``sweep``: a 28-run sample of ``experiments/sweeps/wuhan_assumptions_sobol.yaml`` on a local
  Dask cluster of 1 and 2 worker processes: the same ledger rows; from the 2-worker run, the
  study's runs per hour per core and the projected wall time of the whole study;
- ``pool``: how long a pool takes to start (to a worker with the Wuhan world built) and
  ``run --reps 4`` of 7 days with 1 and 2 workers (short runs: does a pool cost anything);
- ``startup``: ``run --scenario erlang_c --days 1 --reps 1`` against ``python -c "import mesa"``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "experiments" / "sweeps" / "wuhan_assumptions_sobol.yaml"
SAMPLE = 2  # Sobol samples of the measured part of the study: 2 x (12 + 2) = 28 runs
TARGETS = {"reps": 1.8, "sweep": 1.7}
FIXED_DAYS = 0.125  # the reps case's fixed part: the same command over 3 hours
STARTUP_TARGET = 2.5  # start-up at most this times `python -c "import mesa"`
SPIN = "x = 0\nfor i in range(30_000_000):\n    x += i\n"


def _wall(argv: list[str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - started


def _files(folder: Path) -> list[tuple[str, bytes]]:
    return [(str(p.relative_to(folder)), p.read_bytes()) for p in sorted(folder.rglob("*"))
            if p.is_file()]  # fmt: skip


def ceiling() -> dict:
    """One pure-Python loop, then two at once: the machine's parallel speed-up."""
    one = _wall([sys.executable, "-c", SPIN])
    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(2)]
    for proc in procs:
        proc.wait()
    two = time.perf_counter() - started
    return {"one_s": one, "two_s": two, "ratio": 2 * one / two}


def reps(n: int = 20, days: int = 365) -> dict:
    """``run --reps n`` of optics_valley_east with 1 and 2 workers: wall times, same files."""
    times, outputs = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        fixed_argv = [sys.executable, "run_sim.py", "run", "--scenario", "optics_valley_east",
                      "--days", str(FIXED_DAYS), "--reps", "1", "--quiet", "--workers", "1",
                      "--out", str(Path(tmp) / "fixed")]  # fmt: skip
        _wall(fixed_argv)  # untimed: the network cache is filled, no timed run parses the map
        for workers in (1, 2):
            out, summary = Path(tmp) / f"w{workers}", Path(tmp) / f"w{workers}.json"
            times[workers] = _wall([sys.executable, "run_sim.py", "run", "--scenario",
                                    "optics_valley_east", "--days", str(days), "--reps", str(n),
                                    "--quiet", "--workers", str(workers), "--out", str(out),
                                    "--json", str(summary)])  # fmt: skip
            outputs[workers] = [*_files(out), ("--json", summary.read_bytes())]
        fixed = _wall(fixed_argv)
    return {"one_s": times[1], "two_s": times[2], "same": outputs[1] == outputs[2],
            "fixed_s": fixed}  # fmt: skip


def best_ratio(one_s: float, fixed_s: float, ceiling: float) -> float:
    """The most 2 workers can gain: only the part beyond ``fixed_s`` runs side by side.

    ``fixed_s``: one replication of the same command over a few hours (start-up, scenario,
    world, results folder), done once whatever the workers; the rest goes at most ``ceiling``
    times faster (two pure-Python loops at once against one). An upper bound: a pool's own
    start, each worker's world and the writing of 20 replications' records are left out.
    """
    return one_s / (fixed_s + (one_s - fixed_s) / ceiling)


def _ledger_rows(folder: Path) -> str:
    """The ledger's rows, less where, when and how long each ran, as JSON."""
    import pandas as pd

    table = pd.read_parquet(folder / "runs.parquet")
    table = table.drop(columns=["worker", "seconds", "finished_at", "attempts"], errors="ignore")
    return table.sort_values("key").reset_index(drop=True).to_json()


def sweep() -> dict:
    """The study's 28-run sample on a local Dask cluster of 1 and 2 workers."""
    times, rows = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        spec = yaml.safe_load(STUDY.read_text()) | {"samples": SAMPLE}
        spec_file = Path(tmp) / "sample.yaml"
        spec_file.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
        for workers in (1, 2):
            out = Path(tmp) / f"w{workers}"
            times[workers] = _wall([sys.executable, "run_sim.py", "sweep", str(spec_file),
                                    "--executor", "dask", "--workers", str(workers), "--quiet",
                                    "--out", str(out)])  # fmt: skip
            rows[workers] = _ledger_rows(out)
    full = yaml.safe_load(STUDY.read_text())
    runs = SAMPLE * (len(spec["parameters"]) + 2)
    return {"one_s": times[1], "two_s": times[2], "same": rows[1] == rows[2], "runs": runs,
            "study_runs": full["samples"] * (len(full["parameters"]) + 2)}  # fmt: skip


def pool() -> dict:
    """Seconds to a started worker with the Wuhan world; short runs with 1 and 2 workers."""
    code = ("import time; t = time.perf_counter()\n"
            "from sim.analysis.pool import process_pool\n"
            "from sim.analysis.replications import warm_up\n"
            "from sim.scenarios.load import load_scenario\n"
            "sc = load_scenario('optics_valley_east')\n"
            "p = process_pool(1); s = time.perf_counter(); p.submit(warm_up, (sc, 0)).result()\n"
            "print(time.perf_counter() - s); p.shutdown()\n")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    start_s = float(proc.stdout.strip().splitlines()[-1])
    short = {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            argv = ["run_sim.py", "run", "--scenario", "optics_valley_east", "--days", "7",
                    "--reps", "4", "--quiet", "--workers", str(workers),
                    "--out", f"{tmp}/w{workers}"]  # fmt: skip
            short[workers] = _wall([sys.executable, *argv])
    return {"start_s": start_s, "short_one_s": short[1], "short_two_s": short[2]}


def startup() -> dict:
    """The command's whole time for one simulated day of erlang_c, and Mesa's import."""
    with tempfile.TemporaryDirectory() as tmp:
        run = _wall([sys.executable, "run_sim.py", "run", "--scenario", "erlang_c", "--days",
                     "1", "--reps", "1", "--quiet", "--out", f"{tmp}/o"])  # fmt: skip
    return {"run_s": run, "mesa_s": _wall([sys.executable, "-c", "import mesa"])}


CASES = {"ceiling": ceiling, "reps": reps, "sweep": sweep, "pool": pool, "startup": startup}


def report(runs: dict[str, list[dict]]) -> None:
    """Print each measured case's medians, ratio and target."""

    def med(case: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[case])

    print(f"\nscale-out and start-up, whole commands, median of {len(next(iter(runs.values())))}")
    if "ceiling" in runs:
        print(f"  ceiling  two pure-Python loops at once vs one: {med('ceiling', 'ratio'):.2f}x "
              "(this machine's limit for 2 processes)")  # fmt: skip
    for case, what in (("reps", "run --reps 20, Wuhan, 365 days"),
                       ("sweep", "Dask sweep, 28 runs of the Wuhan Sobol study")):  # fmt: skip
        if case in runs:
            one, two = med(case, "one_s"), med(case, "two_s")
            ratio = statistics.median(r["one_s"] / r["two_s"] for r in runs[case])
            same = all(r["same"] for r in runs[case])
            verdict = "met" if ratio >= TARGETS[case] else "MISSED"
            kept = "files" if case == "reps" else "ledger rows"
            each = ", ".join(f"{r['one_s'] / r['two_s']:.2f}" for r in runs[case])
            print(f"  {case:<8} {what}: 1 worker {one:.1f} s, 2 workers {two:.1f} s, {ratio:.2f}x "
                  f"(>= {TARGETS[case]}x: {verdict}; each: {each}); same {kept}: "
                  f"{same}")  # fmt: skip
    if "reps" in runs and "fixed_s" in runs["reps"][0]:
        ceiling = med("ceiling", "ratio") if "ceiling" in runs else 2.0
        fixed = med("reps", "fixed_s")
        best = best_ratio(med("reps", "one_s"), fixed, ceiling)
        print(f"  bound    reps: {fixed:.1f} s are fixed (one replication over "
              f"{FIXED_DAYS * 24:g} h); with the rest {ceiling:.2f}x faster at best, 2 workers "
              f"can give at most {best:.2f}x")  # fmt: skip
    if "sweep" in runs:
        r = runs["sweep"]
        per_core_h = statistics.median(3600 * x["runs"] / (2 * x["two_s"]) for x in r)
        total = r[0]["study_runs"]
        print(f"  study    {per_core_h:,.0f} runs per hour per core (2 Dask workers, start-up "
              f"included); the whole study ({total:,} runs) projected: "
              f"{total / per_core_h / 2:.1f} h on 2 cores, "
              f"{total / per_core_h:.1f} h on 1")  # fmt: skip
    if "pool" in runs:
        print(f"  pool     a worker ready with the Wuhan world in {med('pool', 'start_s'):.1f} s; "
              f"run --reps 4 --days 7: 1 worker {med('pool', 'short_one_s'):.1f} s, "
              f"2 workers {med('pool', 'short_two_s'):.1f} s")  # fmt: skip
    if "startup" in runs:
        ratio = statistics.median(r["run_s"] / r["mesa_s"] for r in runs["startup"])
        verdict = "met" if ratio <= STARTUP_TARGET else "MISSED"
        print(f"  startup  run erlang_c --days 1: {med('startup', 'run_s'):.2f} s, import mesa "
              f"{med('startup', 'mesa_s'):.2f} s: {ratio:.2f}x "
              f"(<= {STARTUP_TARGET}x: {verdict})")  # fmt: skip
