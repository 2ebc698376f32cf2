"""The fit report: a table (CSV) and a figure (PNG) of observed against fitted call settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtri

from sim.calls.table import CallsTable
from sim.fitting.fit import Z90, Fit

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def report_table(fit: Fit, base_hourly: tuple[float, ...], base_shares: dict[str, float]):
    """One row per fitted figure: observed, fitted, its 95% interval and the base's value."""
    rows = [_row("rate", "calls per hour", fit.counts.sum() / fit.exposure_h.sum(),
                 fit.rate_per_hour, fit.rate_ci, n=fit.counts.sum())]  # fmt: skip
    observed_h = _observed_factors(fit.counts.sum(axis=0), fit.exposure_h.sum(axis=0))
    for h in range(24):
        n = fit.counts[:, h].sum()
        rows.append(_row("hour_of_day", f"{h:02d}", observed_h[h], fit.hourly[h],
                         fit.hourly_ci[h], base=base_hourly[h], n=n))  # fmt: skip
    observed_d = _observed_factors(fit.counts.sum(axis=1), fit.exposure_h.sum(axis=1))
    for d in range(7):
        rows.append(_row("day_of_week", DAYS[d], observed_d[d], fit.daily[d], fit.daily_ci[d],
                         n=fit.counts[d].sum()))  # fmt: skip
    total = fit.types["calls"].sum()
    for name, t in fit.types.iterrows():
        rows.append(_row("type_share", name, t["calls"] / total, t["share"],
                         (t["share_lo"], t["share_hi"]), base=base_shares.get(name),
                         n=t["calls"]))  # fmt: skip
    for name, s in fit.on_scene.iterrows():
        for q in ("median", "p90"):
            rows.append(_row(f"on_scene_{q}_min", name, None, s[q],
                             (s[f"{q}_lo"], s[f"{q}_hi"]), n=s["n"]))  # fmt: skip
    for name, population in fit.populations.items():
        rows.append(_row("community_population", name, fit.community_calls[name], population,
                         (None, None), n=fit.community_calls[name]))  # fmt: skip
    return pd.DataFrame(rows)


def _row(kind, key, observed, fitted, ci, base=None, n=None) -> dict:
    return {"kind": kind, "key": key, "observed": observed, "fitted": fitted,
            "ci95_low": ci[0], "ci95_high": ci[1], "base": base, "n": n}  # fmt: skip


def _observed_factors(counts: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    rate = np.divide(counts, exposure, out=np.zeros_like(counts), where=exposure > 0)
    seen = exposure > 0
    return rate / rate[seen].mean() if rate[seen].sum() > 0 else rate


def report_figure(fit: Fit, table: CallsTable, report: pd.DataFrame, path: Path) -> None:
    """Hour of week, hour of day, type shares and on-scene quantile plots in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
    _hour_of_week(axes[0, 0], fit)
    _hour_of_day(axes[0, 1], report[report["kind"] == "hour_of_day"])
    _shares(axes[1, 0], report[report["kind"] == "type_share"])
    _qq(axes[1, 1], fit, table)
    fig.suptitle(f"Fit of {table.source.name}: {len(table.calls)} usable calls over {fit.days} "
                 f"days from {fit.start:%Y-%m-%d} (times in {table.timezone})")  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _hour_of_week(ax, fit: Fit) -> None:
    observed = np.divide(fit.counts, fit.exposure_h, out=np.zeros_like(fit.counts),
                         where=fit.exposure_h > 0).ravel()  # fmt: skip
    fitted = (fit.rate_per_hour * np.outer(fit.daily, fit.hourly)).ravel()
    hours = np.arange(168)
    ax.bar(hours, observed, width=1.0, color="#9ecae1", label="observed (calls per hour)")
    ax.step(hours, fitted, where="mid", color="crimson", label="fitted rate x hour x day")
    ax.set_xticks(np.arange(0, 168, 24) + 12, DAYS)
    ax.set(title="hour of week", ylabel="calls per hour", xlim=(-0.5, 167.5))
    ax.legend(fontsize=8)


def _hour_of_day(ax, rows: pd.DataFrame) -> None:
    hours = np.arange(24)
    ax.plot(hours, rows["observed"], "o", color="#3182bd", label="observed")
    ax.fill_between(hours, rows["ci95_low"].astype(float), rows["ci95_high"].astype(float),
                    color="crimson", alpha=0.15, label="fitted 95% interval")  # fmt: skip
    ax.plot(hours, rows["fitted"], color="crimson", label="fitted")
    ax.plot(hours, rows["base"].astype(float), "--", color="grey", label="base scenario")
    ax.set(title="hour-of-day factor (mean 1)", xlabel="hour", xticks=range(0, 24, 3))
    ax.legend(fontsize=8)


def _shares(ax, rows: pd.DataFrame) -> None:
    x = np.arange(len(rows))
    fitted = rows["fitted"].astype(float).to_numpy()
    errors = np.abs(rows[["ci95_low", "ci95_high"]].astype(float).to_numpy().T - fitted)
    ax.bar(x - 0.2, fitted, 0.4, yerr=errors, capsize=3, color="crimson", alpha=0.7,
           label="fitted (95% interval)")  # fmt: skip
    ax.bar(x + 0.2, rows["base"].astype(float).fillna(0), 0.4, color="grey", label="base")
    ax.set_xticks(x, rows["key"], rotation=30, ha="right", fontsize=8)
    ax.set(title="call type shares", ylabel="share of calls")
    ax.legend(fontsize=8)


def _qq(ax, fit: Fit, table: CallsTable) -> None:
    calls = table.calls
    for name, scene in fit.on_scene.iterrows():
        minutes = np.sort(calls.loc[calls["type"] == name, "on_scene_min"].dropna().to_numpy())
        minutes = minutes[minutes > 0]
        probs = (np.arange(1, len(minutes) + 1) - 0.5) / len(minutes)
        sigma = np.log(scene["p90"] / scene["median"]) / Z90
        model = scene["median"] * np.exp(sigma * ndtri(probs))
        ax.plot(model, minutes, ".", ms=3, label=name)
    lims = ax.get_xlim()
    ax.plot(lims, lims, color="black", lw=0.8)
    ax.set(xscale="log", yscale="log", title="on-scene time: quantile plot",
           xlabel="fitted lognormal quantile (min)", ylabel="observed (min)")  # fmt: skip
    if len(fit.on_scene):
        ax.legend(fontsize=7, ncol=2)
    else:
        ax.text(0.5, 0.5, "no on-scene times in the table", ha="center", transform=ax.transAxes)
