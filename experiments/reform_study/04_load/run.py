"""Load: the call rate x 0.5 ... x 4 until saturation, before and after.

Shows response time, queueing and utilisation rising with load, and where community-first
dispatch starts to borrow units from neighbouring communities (share of calls answered by
a unit based in another community).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import line, options, save, summarize, sweep

FACTORS = [0.5, 1, 1.5, 2, 3, 4]
PANELS = [("response_min.mean", "mean response (min)", 1), ("p_queued", "% of calls queued", 100),
          ("utilization.mean", "% of unit time busy", 100),
          ("extra.borrowed_share", "% answered from another community", 100)]  # fmt: skip


def main() -> None:
    args = options("04_load", days=14, reps=10).parse_args()
    rate = "calls.rate_per_1000_residents_per_week"
    spec = {"name": "load", "scenario": "embedded",
            "parameters": {"scenario": ["central", "embedded"],
                           rate: {"values": FACTORS, "relative": True}}}  # fmt: skip
    table = sweep(spec, args)
    table["call rate x"] = table[f"param.{rate}"]
    data = summarize(table, ["param.scenario", "call rate x"], [p[0] for p in PANELS])
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.2 * len(PANELS), 3.6))
    for ax, (metric, label, scale) in zip(axes, PANELS, strict=True):
        shown = data[data["param.scenario"] == "embedded"] if "borrowed" in metric else data
        line(ax, shown, "call rate x", metric, "param.scenario", scale)
        if "borrowed" in metric:
            ax.set_title("after (embedded): borrowing", fontsize=9)
        ax.set(xlabel="call rate (x today's)", ylabel=label, xticks=FACTORS)
    axes[0].legend()
    save(fig, data, Path(args.out), "load")
    print(data.pivot_table(index=["param.scenario", "call rate x"], columns="metric",
                           values="mean").round(3).to_string())  # fmt: skip


if __name__ == "__main__":
    main()
