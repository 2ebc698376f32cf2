"""Before vs after on the synthetic district and on the real Wuhan extract.

Response-time distributions (CDF with 95% CIs), shares within 3/5/10 minutes, resolution and
repeat rates, all paired by seed and replication (common random numbers).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import LABELS, OSM_CREDIT, ROOT, options, save, summarize, sweep

from sim.sweeps.executors import CDF_MINUTES

NETWORKS = {
    "synthetic district": ["central", "embedded"],
    "Wuhan, Optics Valley east (OSM)": ["optics_valley_east_central", "optics_valley_east"],
}
OUTCOMES = ["within_target.3", "within_target.5", "within_target.10", "resolution_rate",
            "repeat_rate"]  # fmt: skip
CDF = [f"extra.within_min.{m}" for m in CDF_MINUTES]


def main() -> None:
    parser = options("01_before_after", days=14, reps=10)
    parser.add_argument("--no-wuhan", action="store_true", help="the synthetic district only")
    args = parser.parse_args()
    wuhan = not args.no_wuhan and (ROOT.parent / "shared/data/optics_valley_east.osm").is_file()
    networks = {k: v for k, v in NETWORKS.items() if wuhan or k.startswith("synthetic")}
    scenarios = [s for pair in networks.values() for s in pair]
    table = sweep({"name": "before_after", "scenario": "embedded",
                   "parameters": {"scenario": scenarios}}, args)  # fmt: skip
    network_of = {s: net for net, pair in networks.items() for s in pair}
    table["network"] = table["param.scenario"].map(network_of)
    data = summarize(table, ["network", "param.scenario"], [*OUTCOMES, *CDF, "response_min.mean"])
    out = Path(args.out)
    plot_cdf(data, networks, out)
    plot_outcomes(data, networks, out)
    print(data[data["metric"].isin([*OUTCOMES, "response_min.mean"])].to_string(index=False))


def plot_cdf(data: pd.DataFrame, networks: dict, out: Path) -> None:
    cdf = data[data["metric"].isin(CDF)].copy()
    cdf["minutes"] = cdf["metric"].str.rsplit(".", n=1).str[-1].astype(float)
    fig, axes = plt.subplots(1, len(networks), figsize=(5.5 * len(networks), 4), squeeze=False)
    for ax, (network, pair) in zip(axes[0], networks.items(), strict=True):
        for scenario in pair:
            part = cdf[cdf["param.scenario"] == scenario]
            ax.plot(part["minutes"], part["mean"], marker=".", label=LABELS[scenario])
            ax.fill_between(part["minutes"], part["mean"] - part["ci95"].fillna(0),
                            part["mean"] + part["ci95"].fillna(0), alpha=0.25)  # fmt: skip
        for target in (3, 5, 10):
            ax.axvline(target, color="grey", lw=0.5, ls=":")
        ax.set(title=network, xlabel="response time (min)", ylabel="share of calls answered within",
               ylim=(0, 1), xlim=(0, 60))  # fmt: skip
        ax.legend(loc="lower right")
    if len(networks) > 1:
        fig.text(0.99, 0.01, OSM_CREDIT, ha="right", fontsize=6)
    save(fig, cdf, out, "response_cdf")


def plot_outcomes(data: pd.DataFrame, networks: dict, out: Path) -> None:
    sub = data[data["metric"].isin(OUTCOMES)]
    fig, axes = plt.subplots(1, len(networks), figsize=(6 * len(networks), 4), squeeze=False)
    for ax, (network, pair) in zip(axes[0], networks.items(), strict=True):
        for i, scenario in enumerate(pair):
            part = sub[sub["param.scenario"] == scenario].set_index("metric").loc[OUTCOMES]
            pos = [j + (i - 0.5) * 0.38 for j in range(len(OUTCOMES))]
            ax.bar(pos, part["mean"] * 100, 0.38, yerr=part["ci95"].fillna(0) * 100, capsize=3,
                   label=LABELS[scenario])  # fmt: skip
        ax.set_xticks(range(len(OUTCOMES)), ["≤3 min", "≤5 min", "≤10 min", "resolved",
                                             "repeat calls"])  # fmt: skip
        ax.set(title=network, ylabel="% of calls (95% CI)", ylim=(0, 100))
        ax.legend()
    save(fig, sub, out, "outcomes")


if __name__ == "__main__":
    main()
