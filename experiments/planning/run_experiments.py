"""The planning experiments of issue 12 (see README.md beside this file).

    .venv/bin/python experiments/planning/run_experiments.py [--reps 10] [--out results/planning]

1. Where the offices should go (p-median and MCLP with T = 3 min) on the synthetic district
   (`embedded`, 5 offices) and the Wuhan extract (`optics_valley_east`, as many offices as it
   ships: 4), and the simulated gain over the shipped placement (same calls, paired).
2. Offices needed for 95% of residents within 3 minutes' travel (MCLP, p = 1, 2, ...).
3. Five beats of even workload on the district, and the simulated change.
4. A staffing table by hour with its shift plan, checked by simulation.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.replications import run_replications
from sim.measures.metrics import mean_ci
from sim.planning import check_staffing, plan_beats, plan_offices, plan_staffing, write_plan
from sim.scenarios.load import load_scenario

FIGURES = {
    "response mean (min)": lambda s: s["response_min"]["mean"],
    "within 3 min": lambda s: s["within_target"]["3"],
    "within 5 min": lambda s: s["within_target"]["5"],
    "resolution rate": lambda s: s["resolution_rate"],
}


def paired(base, plan, reps: int) -> pd.DataFrame:
    """Base and plan on the same calls: means and the paired difference with 95% CIs."""
    runs = {}
    for label, scenario in (("shipped", base), ("plan", plan)):
        scenario = scenario.model_copy(update={"replications": reps})
        runs[label] = run_replications(scenario, progress=False).summaries
    rows = []
    for name, get in FIGURES.items():
        a = [get(s) for s in runs["shipped"]]
        b = [get(s) for s in runs["plan"]]
        diff = mean_ci([y - x for x, y in zip(a, b, strict=True)])
        rows.append({"figure": name, "shipped": mean_ci(a)[0], "plan": mean_ci(b)[0],
                     "difference": diff[0], "ci95": diff[1]})  # fmt: skip
    return pd.DataFrame(rows)


def siting(name: str, p: int, reps: int, out: Path) -> None:
    base = load_scenario(name)
    for objective, within in (("pmedian", None), ("mclp", 3.0)):
        started = time.perf_counter()
        plan = plan_offices(name, p=p, objective=objective, within_min=within)
        seconds = time.perf_counter() - started
        write_plan(plan, out / f"{name}_{objective}_{p}.yaml")
        print(f"\n== {name}: {p} offices by {objective} ({seconds:.1f} s to plan)")
        print({k: round(v, 3) if isinstance(v, float) else v for k, v in plan.summary.items()})
        table = paired(base, plan.scenario, reps)
        table.to_csv(out / f"{name}_{objective}_{p}_gain.csv", index=False)
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


def offices_for_coverage(name: str, share: float, within_min: float, out: Path) -> None:
    rows = []
    for p in range(1, 13):
        plan = plan_offices(name, p=p, objective="mclp", within_min=within_min)
        covered = plan.summary[f"plan_within_{within_min:g}_min"]
        rows.append({"offices": p, f"within_{within_min:g}_min": covered})
        if covered >= share:
            break
    table = pd.DataFrame(rows)
    table.to_csv(out / f"{name}_coverage.csv", index=False)
    print(f"\n== {name}: offices for {share:.0%} of residents within {within_min:g} min travel")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


def staffing(name: str, reps: int, out: Path, share: float = 0.8) -> None:
    plan = plan_staffing(name, wait=0.1, within_min=5.0, share=share)
    write_plan(plan, out / f"{name}_staffing.yaml")
    print(f"\n== {name}: staffing for P(wait) <= 0.1 and {share:.0%} within 5 min")
    print(plan.summary)
    check = check_staffing(plan, replications=reps)
    check.to_csv(out / f"{name}_staffing_check.csv", index=False)
    print(check.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    worst = check.loc[np.argmax(np.abs(check["within_error"]))]
    hour = int(worst["hour"])
    predicted, simulated = worst["within_predicted"], worst["within_simulated"]
    print(f"largest miss: {hour:02d}:00, within 5 min predicted {predicted:.1%}, ", end="")
    print(f"simulated {simulated:.1%}")


def beats(name: str, n: int, reps: int, out: Path) -> None:
    base = load_scenario(name)
    plan = plan_beats(name, n)
    write_plan(plan, out / f"{name}_beats_{n}.yaml")
    print(f"\n== {name}: {n} beats of even workload")
    print(plan.summary)
    table = paired(base, plan.scenario, reps)
    table.to_csv(out / f"{name}_beats_{n}_gain.csv", index=False)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("results/planning"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    siting("embedded", 5, args.reps, args.out)
    siting("optics_valley_east", 4, args.reps, args.out)
    offices_for_coverage("embedded", 0.95, 3.0, args.out)
    offices_for_coverage("optics_valley_east", 0.95, 3.0, args.out)
    beats("embedded", 5, args.reps, args.out)
    staffing("embedded", args.reps, args.out)
    # 80% within 5 min cannot be met there (78.6% at best from the shipped posts)
    staffing("optics_valley_east", args.reps, args.out, share=0.75)


if __name__ == "__main__":
    main()
