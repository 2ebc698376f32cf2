"""The decomposition's waterfall: from BEFORE's value, each factor's Shapley part, to AFTER's."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from sim.analysis.decomposition import Decomposition, format_decomposition


def waterfall(d: Decomposition, path: Path) -> None:
    """One panel per metric: BEFORE, a bar per factor (± 95% CI), AFTER."""
    metrics = list(d.totals["metric"])
    fig, axes = plt.subplots(len(metrics), 1, figsize=(8, 2.6 * len(metrics)), squeeze=False)
    for ax, total in zip(axes[:, 0], d.totals.itertuples(), strict=True):
        part = d.table[d.table["metric"] == total.metric]
        level = total.before or 0.0
        names = [d.before]
        ax.bar(0, level, color="#888888")
        for k, row in enumerate(part.itertuples(), start=1):
            value = row.value or 0.0
            color = "#2a7ab0" if value >= 0 else "#c0504d"
            ax.bar(k, value, bottom=level, color=color, yerr=row.ci95 or 0.0, capsize=3)
            level += value
            names.append(row.factor)
        ax.bar(len(names), total.after or 0.0, color="#444444")
        names.append(d.after)
        ax.set_xticks(range(len(names)), names, rotation=25, ha="right", fontsize=8)
        ax.set_title(f"{total.metric}: {d.after} - {d.before}", fontsize=9)
    fig.suptitle("Shapley decomposition (bars: 95% CI, random noise only)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_decomposition(d: Decomposition, folder: Path) -> None:
    """decomposition.csv (factor parts), decomposition_totals.csv, .txt and waterfall.png."""
    folder.mkdir(parents=True, exist_ok=True)
    d.table.assign(interval="95% CI, random noise only").to_csv(
        folder / "decomposition.csv", index=False
    )
    pd.DataFrame(d.totals).to_csv(folder / "decomposition_totals.csv", index=False)
    (folder / "decomposition.txt").write_text(format_decomposition(d) + "\n", encoding="utf-8")
    waterfall(d, folder / "decomposition_waterfall.png")
