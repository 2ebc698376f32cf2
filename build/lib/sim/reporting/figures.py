"""Figures of a comparison (DESIGN 4.3), each saved as PNG with its data beside it (CSV).

- response-time distribution (empirical CDF) per scenario;
- resolution and repeat rates with 95% CIs;
- a map of the network coloured by mean response time at each call's node;
- unit utilisation by state.

Every results folder gets every figure in ``FIGURES`` (the one list: the folder's index
reads its descriptions from it too). Add one with ``@register_figure("name.png", about=...)``
(also ``sim.register_figure``): ``figure(results, path)``, or ``figure(result, path)`` for
each scenario with ``per_scenario=True`` (``*`` in the name becomes the scenario's name).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.agents.unit import STATE_NAMES
from sim.analysis.replications import RunResult
from sim.network.world import World, build_world
from sim.registry import Registry
from sim.reporting.maps import (
    add_attribution,
    add_scale_bar,
    cjk_font,
    draw_streets,
    label_text,
    street_segments,
)

FIGURES = Registry("figure", __name__)


def register_figure(
    file: str,
    *,
    about: str,
    per_scenario: bool = False,
    drawn_if: Callable[[RunResult], bool] | None = None,
) -> Callable[[Callable], Callable]:
    """Register a figure every results folder gets (a decorator).

    ``file``: its PNG name (``*``: the scenario's name, with ``per_scenario``); ``about``: a
    line for the folder's index; ``drawn_if(result)``: whether it applies (None: always).
    """
    return FIGURES.register(file, about=about, per_scenario=per_scenario, drawn_if=drawn_if)


def world_of(result: RunResult) -> World:
    """The (cached) world a result ran in."""
    return build_world(result.scenario)


def _save(fig, path: Path, data: pd.DataFrame, osm: bool = False) -> None:
    add_attribution(fig, osm)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    data.to_csv(path.with_suffix(".csv"), index=False)


#: The response-time CDF's resolution: exact at every 1/100 minute (0.6 s).
CDF_STEPS_PER_MIN = 100


def cdf_steps(response_min: np.ndarray, calls: int) -> tuple[np.ndarray, np.ndarray]:
    """(t, share of ``calls`` answered within t) where it rises, t in 1/100 minutes.

    Exact at every such t, and a few thousand points however many calls there are.
    """
    steps = np.ceil(np.round(response_min * CDF_STEPS_PER_MIN, 6))
    t, counts = np.unique(steps, return_counts=True)
    return t / CDF_STEPS_PER_MIN, np.cumsum(counts) / calls


@register_figure("response_cdf.png", about="share of calls answered within t minutes, per scenario")
def response_cdf(results: list[RunResult], path: Path) -> None:
    """Share of calls answered within t minutes, per scenario."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    rows, upper = [], 20.0
    for result in results:
        counted = result.records[~result.records["in_warmup"]]
        values, share = cdf_steps(counted["response_min"].dropna().to_numpy(), len(counted))
        if len(values) == 0:
            continue
        ax.step(values, share, where="post", label=result.scenario.name)
        upper = max(upper, float(np.quantile(values, 0.99)) * 1.1)
        rows.append(
            pd.DataFrame(
                {
                    "scenario": result.scenario.name,
                    "response_min": values,
                    "share_answered_within": share,
                }
            )
        )
    for target in (3, 5, 10, 15):
        ax.axvline(target, color="grey", lw=0.6, ls=":")
    ax.set(
        xlabel="response time (min, call received to first unit on scene)",
        ylabel="share of calls answered within",
        xlim=(0, upper),
        ylim=(0, 1),
    )
    ax.legend()
    ax.grid(alpha=0.3)
    data = pd.concat(rows) if rows else pd.DataFrame()
    _save(fig, path, data, osm=any(world_of(r).network.is_osm_data for r in results))


@register_figure(
    "outcome_rates.png", about="resolution at first attendance and repeat rate, 95% CIs"
)
def outcome_rates(results: list[RunResult], path: Path) -> None:
    """Resolution at first attendance and repeat rate per scenario, with 95% CIs."""
    keys = {"resolution_rate": "resolved at first attendance", "repeat_rate": "repeat calls"}
    rows = [
        {
            "scenario": r.scenario.name,
            "metric": key,
            "mean": r.summary.get(key),
            "ci95": r.summary.get("ci95", {}).get(key),
        }
        for r in results
        for key in keys
    ]
    data = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / max(len(results), 1)
    for i, result in enumerate(results):
        mine = data[data["scenario"] == result.scenario.name]
        means = mine["mean"].astype(float).fillna(0).to_numpy()
        errors = mine["ci95"].astype(float).fillna(0).to_numpy()
        ax.bar(
            np.arange(len(keys)) + i * width,
            means,
            width,
            yerr=errors,
            capsize=4,
            label=result.scenario.name,
        )
    ax.set_xticks(np.arange(len(keys)) + width * (len(results) - 1) / 2, list(keys.values()))
    ax.set(ylabel="share of calls", ylim=(0, 1), title="error bars: 95% CI, random noise only")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    _save(fig, path, data)


@register_figure("utilisation.png", about="share of unit time in each state")
def utilisation(results: list[RunResult], path: Path) -> None:
    """Share of unit time in each state, per scenario (stacked)."""
    rows = [
        {
            "scenario": r.scenario.name,
            "state": state,
            "share": (r.summary["utilization"]["by_state"].get(state) or 0.0),
        }
        for r in results
        for state in STATE_NAMES
    ]
    data = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(7, 0.9 * len(results) + 1.6))
    left = np.zeros(len(results))
    for state in STATE_NAMES:
        shares = data[data["state"] == state]["share"].to_numpy()
        ax.barh([r.scenario.name for r in results], shares, left=left, label=state)
        left += shares
    ax.set(xlabel="share of unit time", xlim=(0, 1))
    ax.legend(ncol=4, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    _save(fig, path, data)


def _has_streets(result: RunResult) -> bool:
    return world_of(result).router.n_nodes > 1


@register_figure(
    "response_map_*.png",
    about="the streets, calls coloured by mean response time",
    per_scenario=True,
    drawn_if=_has_streets,
)
def response_map(result: RunResult, path: Path) -> None:
    """The street network, each call node coloured by its mean response time."""
    world = world_of(result)
    router = world.router
    counted = result.records[~result.records["in_warmup"]]
    by_node = counted.groupby("node")["response_min"].agg(["mean", "count"]).reset_index()
    index = {str(node): i for i, node in enumerate(router.node_ids)}
    by_node["x"] = [router.x[index[n]] for n in by_node["node"]]
    by_node["y"] = [router.y[index[n]] for n in by_node["node"]]
    fig, ax = plt.subplots(figsize=(8, 6))
    segments, _, _ = street_segments(world.network.graph, router.index, router.x, router.y)
    draw_streets(ax, segments)
    points = ax.scatter(
        by_node["x"],
        by_node["y"],
        c=by_node["mean"],
        s=8 + by_node["count"],
        cmap="viridis_r",
        zorder=3,
    )
    fig.colorbar(points, ax=ax, label="mean response time (min)")
    posts = list(world.post_nodes.values())  # one call for every marker: 40 cost 0.15 s
    ax.plot(router.x[posts], router.y[posts], ls="none", marker="s", color="crimson", ms=7,
            zorder=4)  # fmt: skip
    for name, node in world.post_nodes.items():
        ax.annotate(
            label_text(name),
            (router.x[node], router.y[node]),
            xytext=(4, 4),
            fontsize=7,
            textcoords="offset points",
        )
    ax.set_aspect("equal")
    ax.autoscale()
    add_scale_bar(ax)
    ax.set(
        title=f"{result.scenario.name}: mean response time by call location",
        xlabel="x (m)",
        ylabel="y (m)",
    )
    _save(fig, path, by_node, osm=world.network.is_osm_data)


def write_figures(results: list[RunResult], folder: Path) -> None:
    """All figures of a comparison into ``folder``."""
    font = cjk_font()
    if font is not None and font not in plt.rcParams["font.sans-serif"]:
        plt.rcParams["font.sans-serif"] = [font, *plt.rcParams["font.sans-serif"]]
    for name in FIGURES.names():
        entry = FIGURES.entry(name)
        if not entry.traits["per_scenario"]:
            entry.value(results, folder / name)
            continue
        drawn_if = entry.traits["drawn_if"]
        for result in results:
            if drawn_if is None or drawn_if(result):
                entry.value(result, folder / name.replace("*", result.scenario.name))
