"""How many offices: from the station alone to one per community and beyond.

The same ten units are spread over k posts: k = 1 is the station alone (nearest-unit
dispatch); for k >= 2 the units sit in k community offices placed by k-means over the
district's street nodes, dispatched community-first. The district keeps its five
communities, so k = 5 is about one office per community and k = 10 is beyond. Other duties
and case work are as in `embedded` (none; a case team), so only the posts change.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.cluster.vq import kmeans2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import line, options, save, summarize, sweep

from sim.network.world import build_world
from sim.scenarios.load import load_scenario

OFFICES = [1, 2, 3, 5, 7, 10]
UNITS = 10
PANELS = [("response_min.mean", "mean response (min)", 1),
          ("travel_min.mean", "mean travel (min)", 1),
          ("within_target.5", "% within 5 min", 100),
          ("resolution_rate", "% resolved at first attendance", 100)]  # fmt: skip


def layouts(seed: int = 0) -> tuple[list, list, list]:
    """posts, units and dispatch policy for each number of offices."""
    scenario = load_scenario("embedded")
    world = build_world(scenario)
    graph, ids = world.network.graph, world.router.node_ids
    xy = np.array([[graph.nodes[n]["x"], graph.nodes[n]["y"]] for n in ids])
    names = [c.name for c in scenario.communities]
    station = scenario.posts[0].model_dump(mode="json", exclude_none=True)
    posts, units, policies = [], [], []
    for k in OFFICES:
        if k == 1:
            posts.append([station])
            units.append([{"post": station["name"], "count": UNITS, "tenure_years": 1.0}])
            policies.append("nearest")
            continue
        centres, _ = kmeans2(xy, k, seed=np.random.default_rng(seed), minit="++")
        nodes = [int(np.argmin(((xy - c) ** 2).sum(axis=1))) for c in centres]
        offices = [{"name": f"office {i + 1}", "kind": "office", "at": {"node": ids[n]},
                    "community": names[world.community_of_node[n]]}
                   for i, n in enumerate(nodes)]  # fmt: skip
        posts.append([station, *offices])
        counts = [UNITS // k + (i < UNITS % k) for i in range(k)]
        units.append([{"post": o["name"], "count": c, "tenure_years": 3.0}
                      for o, c in zip(offices, counts, strict=True)])  # fmt: skip
        policies.append("community_first")
    return posts, units, policies


def main() -> None:
    args = options("03_offices", days=14, reps=10).parse_args()
    posts, units, policies = layouts()
    spec = {"name": "offices", "scenario": "embedded", "design": "list",
            "parameters": {"offices": {"values": OFFICES, "label": True}, "posts": posts,
                           "units": units, "dispatch.policy": policies}}  # fmt: skip
    table = sweep(spec, args)
    table["offices"] = table["param.offices"]
    data = summarize(table, ["offices"], [p[0] for p in PANELS])
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.2 * len(PANELS), 3.6))
    for ax, (metric, label, scale) in zip(axes, PANELS, strict=True):
        line(ax, data, "offices", metric, None, scale)
        ax.axvline(5, color="grey", lw=0.5, ls=":")
        ax.set(xlabel=f"posts holding the {UNITS} units (1 = station)", ylabel=label,
               xticks=OFFICES)  # fmt: skip
    save(fig, data, Path(args.out), "offices")
    print(data.pivot_table(index="offices", columns="metric", values="mean").round(3).to_string())


if __name__ == "__main__":
    main()
