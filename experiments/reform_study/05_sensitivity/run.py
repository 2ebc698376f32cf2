"""Global sensitivity (Sobol) of resolution rate and mean response to assumed parameters.

On the `embedded` (after) scenario: familiarity's time constant, the lateness effect on
criminal calls, community work's daily detection probability, the other-duty share, the
dispatch delay (median and p90 scaled together) and the call rate. First-order and total
indices with 95% bootstrap intervals, as a table and a figure.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import options, sweep

from sim.sweeps.sensitivity import analyze, format_indices, plot_indices
from sim.sweeps.spec import parse_spec

PARAMETERS = {
    "outcomes.familiarity.tau_years": {"low": 0.5, "high": 5.0},
    "outcomes.lateness.pp_per_10pct": {"low": 0.0, "high": 10.0},
    "community_work.p_detect_per_day": {"low": 0.02, "high": 0.5},
    "units.*.other_duty.share": {"low": 0.0, "high": 0.4},
    "dispatch delay x": {"low": 0.5, "high": 2.0, "relative": True,
                         "paths": ["dispatch.delay_min.median", "dispatch.delay_min.p90"]},
    "call rate x": {"low": 0.5, "high": 2.0, "relative": True,
                    "paths": ["calls.rate_per_1000_residents_per_week"]},
}  # fmt: skip
METRICS = ["resolution_rate", "repeat_rate", "response_min.mean"]


def main() -> None:
    parser = options("05_sensitivity", days=28, reps=2)
    parser.add_argument("--samples", type=int, default=64, help="Sobol base samples (2^m)")
    args = parser.parse_args()
    spec = {"name": "sensitivity", "scenario": "embedded", "design": "sobol",
            "samples": args.samples, "seed": 1, "parameters": PARAMETERS,
            "metrics": METRICS}  # fmt: skip
    table = sweep(spec, args)
    frame = analyze(parse_spec({**spec, "replications": args.reps}), table, METRICS)
    print(format_indices(frame))
    figure = plot_indices(frame, Path(args.out) / "sensitivity.png")
    print(f"wrote {figure} and {figure.with_suffix('.csv')}")


if __name__ == "__main__":
    main()
