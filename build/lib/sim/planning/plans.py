"""Plans: scenarios that extend the planned one, with a table, a summary and a map.

A plan changes only what it plans (posts and units, or communities, or shifts) and
``extends:`` the input scenario for everything else, so ``run_sim.py compare SCENARIO
PLAN.yaml`` runs both on the same calls. ``write_plan`` writes PLAN.yaml, PLAN.csv (the table)
and PLAN.png (the map) side by side.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.network.sources import resolve_path
from sim.network.world import World, build_world
from sim.reporting.maps import add_attribution, add_scale_bar, draw_streets, street_segments
from sim.scenarios.load import SCENARIO_DIR, deep_merge, find_scenario, load_scenario, validate
from sim.scenarios.schema import Scenario


@dataclass
class Plan:
    """A planned change to a scenario and what the planner computed about it."""

    kind: str  # offices | beats | staffing
    name: str
    description: str
    base: Scenario
    base_path: Path | None  # the scenario file it extends (None: given as an object)
    base_dir: Path | None  # where the base's relative paths resolve
    world: World
    overlay: dict[str, Any]  # the keys the plan sets over the base
    table: pd.DataFrame
    summary: dict[str, Any]
    sites: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    area_of_node: np.ndarray | None = None  # which planned area each node belongs to

    @property
    def scenario(self) -> Scenario:
        """The planned scenario, validated."""
        raw = deep_merge(self.base.model_dump(mode="json"), self.overlay)
        raw["name"], raw["description"] = self.name, self.description
        return validate(raw, f"<plan {self.name}>")


def load_base(
    scenario: str | Path | Scenario, base_dir: Path | None = None
) -> tuple[Scenario, Path | None, Path | None]:
    """(scenario, its file or None, the folder its relative paths resolve against)."""
    if isinstance(scenario, Scenario):
        scenario = located(scenario, base_dir)
        return scenario, None, scenario.source_dir
    path = find_scenario(scenario)
    return load_scenario(path), path, path.parent


def portable_overlay(base: Scenario, base_dir: Path | None) -> dict[str, Any]:
    """Keys that keep the plan's network where it is when the plan is saved elsewhere."""
    spec = base.network
    path = getattr(spec, "path", None)
    if path is None or Path(path).is_absolute():
        return {}
    return {"network": {"kind": spec.kind, "path": str(resolve_path(path, base_dir, "file"))}}


def spread_units(total: int, weights: np.ndarray) -> np.ndarray:
    """``total`` units over places in proportion to ``weights`` (largest remainder), >= 1 each.

    With fewer units than places, each place still gets one (a plan never leaves a post
    empty); the total then grows to the number of places.
    """
    k = len(weights)
    total = max(total, k)
    share = np.asarray(weights, dtype=float)
    share = share / share.sum() if share.sum() > 0 else np.full(k, 1.0 / k)
    counts = np.ones(k, dtype=np.int64)
    extra = (total - k) * share
    counts += np.floor(extra).astype(np.int64)
    left = total - counts.sum()
    order = np.argsort(-(extra - np.floor(extra)), kind="stable")
    counts[order[:left]] += 1
    return counts


def unit_template(base: Scenario) -> dict[str, Any]:
    """The settings of the base's units (an office's if any), without post and count."""
    posts = {p.name: p.kind for p in base.posts}
    groups = sorted(base.units, key=lambda g: posts[g.post] != "office")
    template = groups[0].model_dump(mode="json")
    template.pop("post")
    template.pop("count")
    return template


def stations(base: Scenario) -> list[dict[str, Any]]:
    """The base's stations (kept by plans that replace the offices)."""
    return [p.model_dump(mode="json", exclude_none=True) for p in base.posts if p.kind == "station"]


# -- writing ------------------------------------------------------------------------------
def write_plan(plan: Plan, out: Path) -> list[Path]:
    """Write PLAN.yaml, PLAN.csv and PLAN.png; return the paths written."""
    out = Path(out)
    if out.suffix not in (".yaml", ".yml"):
        out = out.with_suffix(".yaml")
    out.parent.mkdir(parents=True, exist_ok=True)
    plan.scenario  # noqa: B018  (validates before anything is written)
    _atomic(out, lambda tmp: tmp.write_text(plan_yaml(plan), encoding="utf-8"))
    table = out.with_suffix(".csv")
    _atomic(table, lambda tmp: plan.table.to_csv(tmp, index=False))
    figure = out.with_suffix(".png")
    _atomic(figure, lambda tmp: draw_plan(plan, tmp))
    return [out, table, figure]


def plan_yaml(plan: Plan) -> str:
    """The plan as a scenario file that extends the base."""
    if plan.base_path is None:
        body = deep_merge(plan.base.model_dump(mode="json"), plan.overlay)
        body.update(name=plan.name, description=plan.description)
    else:
        body = {
            "extends": _extends_value(plan.base_path),
            "name": plan.name,
            "description": plan.description,
            **plan.overlay,
        }
    header = [f"# {plan.description}", "# Made by run_sim.py plan; the summary of the plan:"]
    header += [f"#   {k}: {_fmt(v)}" for k, v in plan.summary.items()]
    text = yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=100)
    return "\n".join(header) + "\n" + text


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _extends_value(path: Path) -> str:
    path = Path(path).resolve()
    if path.parent == SCENARIO_DIR.resolve():
        return path.stem
    return str(path)


def _atomic(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def draw_plan(plan: Plan, path: Path) -> None:
    """A map: streets, nodes tinted by planned area, planned sites as stars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    router = plan.world.router
    x, y = router.x, router.y
    segments, _, _ = street_segments(plan.world.network.graph, router.index, x, y)
    fig, ax = plt.subplots(figsize=(8, 7))
    draw_streets(ax, segments, colors="0.75", linewidths=0.6, zorder=1)
    if plan.area_of_node is not None:
        ax.scatter(x, y, c=plan.area_of_node % 20, cmap="tab20", s=6, zorder=2, vmin=0, vmax=19)
    posts = [n for n in plan.world.post_nodes.values()]
    ax.scatter(x[posts], y[posts], marker="s", s=40, c="0.4", zorder=3, label="existing posts")
    if len(plan.sites):
        ax.scatter(x[plan.sites], y[plan.sites], marker="*", s=260, c="crimson",
                   edgecolors="black", zorder=4, label=f"planned {plan.kind}")  # fmt: skip
    ax.set_aspect("equal")
    ax.autoscale()
    ax.set_title(plan.description, fontsize=9)
    ax.legend(loc="upper right", fontsize=8)
    add_scale_bar(ax)
    add_attribution(fig, plan.world.network.is_osm_data)
    fig.savefig(path, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)


def located(scenario: Scenario, base_dir: Path | None) -> Scenario:
    """``scenario`` with its relative paths resolving in ``base_dir`` (when given)."""
    if base_dir is None or scenario.source_dir == Path(base_dir):
        return scenario
    return scenario.model_copy().located(base_dir)


def world_of(base: Scenario, base_dir: Path | None) -> World:
    """The base scenario's world (cached by ``build_world``)."""
    return build_world(located(base, base_dir))
