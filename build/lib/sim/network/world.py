"""The world a scenario runs in: its network, router, communities and posts.

Built once per scenario and shared by every replication (it holds no random state that a
run changes), and cached within a process by the parts of the scenario it depends on.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.errors import SimInputError
from sim.network.places import assign_communities, generate_anchors, snap_point
from sim.network.routing import Router
from sim.network.sources import Network, load_network
from sim.scenarios.schema import Location, Scenario


@dataclass(frozen=True)
class World:
    """Network, routing and places of one scenario (node indices are the router's)."""

    network: Network
    router: Router
    anchor_nodes: tuple[int, ...]  # per community
    community_of_node: np.ndarray  # community index of every node
    community_nodes: tuple[np.ndarray, ...]  # node indices of every community
    post_nodes: dict[str, int]
    post_community: dict[str, int]
    hot_spot_nodes: tuple[int, ...] = ()  # the listed hot spots (none: chosen by the model)
    route_nodes: tuple[tuple[int, ...], ...] = ()  # each unit group's patrol route stops


def build_world(scenario: Scenario) -> World:
    """The world of ``scenario`` (its files relative to the folder it came from).

    Worlds are cached by the parts of the scenario they depend on (the last few), so
    replications and scenarios that differ elsewhere share one. A world changes no state
    when models read it, except its router's row caches, which are thread-safe.
    """
    data = scenario.model_dump(mode="json")
    parts = {k: data[k] for k in ("network", "communities", "posts", "snap_tolerance_m")}
    parts["places"] = [data["hot_spots"]["places"], [g["patrol"]["route"] for g in data["units"]]]
    key = json.dumps(parts, sort_keys=True) + str(scenario.source_dir)
    with _LOCK:
        if key not in _CACHE:
            while len(_CACHE) >= _CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = _build(scenario, scenario.source_dir)
        return _CACHE[key]


_CACHE: dict[str, World] = {}
_CACHE_SIZE = 4
_LOCK = threading.Lock()


def _build(scenario: Scenario, base_dir: Path | None) -> World:
    network = load_network(scenario.network, base_dir)
    router = Router(network.graph)
    anchors = _anchor_nodes(scenario, network, router)
    community_of_node = assign_communities(router, list(anchors))
    if any(c.area is not None for c in scenario.communities):  # GIS areas: by containment
        from sim.network.areas import apply_areas

        anchors, community_of_node = apply_areas(scenario, network, router, anchors)
    community_nodes = tuple(np.flatnonzero(community_of_node == c) for c in range(len(anchors)))
    post_nodes, post_community = {}, {}
    names = [c.name for c in scenario.communities]
    for post in scenario.posts:
        if post.at is not None:
            node = _snap(network, router, post.at, scenario, f"post {post.name!r}")
        elif post.kind == "office":
            node = anchors[names.index(post.community)]
        elif network.graph.number_of_nodes() == 1:
            node = 0
        else:
            raise SimInputError(f"post {post.name!r}: a station needs 'at' (where it is)")
        post_nodes[post.name] = node
        own = names.index(post.community) if post.community else int(community_of_node[node])
        post_community[post.name] = own
    router.precompute(sorted(set(post_nodes.values())))
    snap = _place_snapper(network, router, scenario)
    hot_spots = tuple(snap(p, "hot spot") for p in scenario.hot_spots.places)
    routes = tuple(tuple(snap(p, "patrol stop") for p in g.patrol.route) for g in scenario.units)
    return World(
        network,
        router,
        anchors,
        community_of_node,
        community_nodes,
        post_nodes,
        post_community,
        hot_spots,
        routes,
    )


def _place_snapper(network: Network, router: Router, scenario: Scenario):
    """Snap a patrol place (hot spot, route stop) to its node, naming it in errors."""

    def snap(place, what: str) -> int:
        if router.n_nodes == 1:
            return 0
        return _snap(
            network, router, place, scenario, f"{what} {place.name!r}" if place.name else what
        )

    return snap


def _anchor_nodes(scenario: Scenario, network: Network, router: Router) -> tuple[int, ...]:
    """One node per community: snapped where given, well spread where not."""
    if router.n_nodes == 1:  # a point network: everyone lives on the one node
        return (0,) * len(scenario.communities)
    given = {
        i: _snap(network, router, c.at, scenario, f"community {c.name!r}")
        for i, c in enumerate(scenario.communities)
        if c.at is not None
    }
    missing = [i for i, c in enumerate(scenario.communities) if c.at is None]
    if missing:
        spread = generate_anchors(router, len(scenario.communities), seed=0)
        free = [a for a in spread if a not in given.values()]
        given.update(zip(missing, free, strict=False))
    anchors = tuple(given[i] for i in range(len(scenario.communities)))
    if len(set(anchors)) < len(anchors) and router.n_nodes >= len(anchors):
        names = [c.name for c in scenario.communities]
        clash = [n for n, a in zip(names, anchors, strict=True) if anchors.count(a) > 1]
        raise SimInputError(f"communities {', '.join(clash)} sit on the same street node")
    return anchors


def _snap(network: Network, router: Router, at: Location, scenario: Scenario, what: str) -> int:
    node_id = snap_point(network, at.location(), scenario.snap_tolerance_m, what=what)
    return router.index[node_id]
