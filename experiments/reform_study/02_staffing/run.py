"""Staffing: units per office from 1 to 4 against response time and resolution.

Before (all units at the station) and after (units in the five community offices) with the
same total number of units: 5 x k at the station vs k in each of the five offices.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import line, options, save, summarize, sweep

PER_OFFICE = [1, 2, 3, 4]
PANELS = [("response_min.mean", "mean response (min)", 1),
          ("within_target.5", "% within 5 min", 100),
          ("resolution_rate", "% resolved at first attendance", 100),
          ("utilization.mean", "% of unit time busy", 100)]  # fmt: skip


def main() -> None:
    args = options("02_staffing", days=14, reps=10).parse_args()
    spec = {
        "name": "staffing",
        "scenario": "embedded",
        # every unit group's count times k: central's 5 station units, embedded's 1 per office
        "parameters": {"scenario": ["central", "embedded"],
                       "units.*.count": {"values": PER_OFFICE, "relative": True}},
    }  # fmt: skip
    table = sweep(spec, args)
    table["units per office"] = table["param.units.*.count"]
    data = summarize(table, ["param.scenario", "units per office"], [p[0] for p in PANELS])
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.2 * len(PANELS), 3.6))
    for ax, (metric, label, scale) in zip(axes, PANELS, strict=True):
        line(ax, data, "units per office", metric, "param.scenario", scale)
        ax.set(xlabel="units per office (before: 5 x this at the station)", ylabel=label,
               xticks=PER_OFFICE)  # fmt: skip
    axes[0].legend()
    save(fig, data, Path(args.out), "staffing")
    print(data.pivot_table(index=["param.scenario", "units per office"], columns="metric",
                           values="mean").round(3).to_string())  # fmt: skip


if __name__ == "__main__":
    main()
