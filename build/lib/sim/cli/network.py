"""``run_sim.py network SOURCE``: load or generate a street network and describe it.

SOURCE is ``synthetic`` (sized by ``--width-km`` etc.), ``point``, a file ending in .osm,
.osm.bz2 or .graphml, or ``place:NAME`` (downloaded once, then cached). Prints nodes, edges,
km of road, the nodes routable (map data: streets cut by the extract's edge joined by
boundary links) and generated communities (balanced areas of the streets, see
``sim.network.balanced``); ``--json`` writes the same, ``--map`` draws it (PNG).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import TypeAdapter, ValidationError

from sim.errors import SimInputError
from sim.network.balanced import balanced_communities
from sim.network.routing import Router
from sim.network.sources import OSM_SUFFIXES, Network, NetworkSpec, load_network
from sim.reporting.maps import OSM_ATTRIBUTION, network_map
from sim.reporting.outputs import check_file

DEFAULT_COMMUNITIES = 6
_SYNTHETIC_OPTIONS = {
    "width_km": "--width-km",
    "height_km": "--height-km",
    "local_spacing_m": "--local-spacing-m",
    "arterial_spacing_m": "--arterial-spacing-m",
    "seed": "--seed",
}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``network`` command."""
    p = subparsers.add_parser(
        "network",
        help="load or generate a street network and describe it",
        description=__doc__.split("\n\n")[1].replace("``", "'"),
    )
    p.add_argument(
        "source", help="synthetic | point | FILE.osm | FILE.osm.bz2 | FILE.graphml | place:NAME"
    )
    p.add_argument("--width-km", type=float, help="synthetic: width (default 3)")
    p.add_argument("--height-km", type=float, help="synthetic: height (default 2.5)")
    p.add_argument("--local-spacing-m", type=float, help="synthetic: local street spacing")
    p.add_argument("--arterial-spacing-m", type=float, help="synthetic: arterial spacing")
    p.add_argument("--seed", type=int, help="synthetic: generator seed (default 0)")
    p.add_argument("--speed-factor", type=float, help="multiply all speeds (default 1)")
    p.add_argument("--cache-dir", type=Path, help="place: GraphML cache folder")
    p.add_argument(
        "--communities", type=int, metavar="K", help="communities to generate (default 6)"
    )
    p.add_argument("--json", type=Path, metavar="OUT", help="write the summary as JSON")
    p.add_argument("--map", type=Path, metavar="OUT.png", help="draw the network (PNG)")
    p.set_defaults(func=run)


def spec_from_args(args: argparse.Namespace) -> NetworkSpec:
    """Turn SOURCE and the options into a validated network spec."""
    source: str = args.source
    synthetic = {k: getattr(args, k) for k in _SYNTHETIC_OPTIONS if getattr(args, k) is not None}
    data: dict = {}
    if source == "synthetic":
        data = {"kind": "synthetic", **synthetic}
    elif synthetic:
        used = ", ".join(_SYNTHETIC_OPTIONS[k] for k in synthetic)
        raise SimInputError(f"network: {used} apply only to the synthetic source")
    elif source == "point":
        data = {"kind": "point"}
    elif source.startswith("place:"):
        data = {"kind": "place", "query": source.removeprefix("place:").strip()}
        if args.cache_dir is not None:
            data["cache_dir"] = args.cache_dir
    elif source.lower().endswith(OSM_SUFFIXES):
        data = {"kind": "osm", "path": source}
    elif source.lower().endswith(".graphml"):
        data = {"kind": "graphml", "path": source}
    else:
        raise SimInputError(
            f"network: unknown source {source!r}: give synthetic, point, place:NAME or a file "
            f"ending in {', '.join((*OSM_SUFFIXES, '.graphml'))}"
        )
    if args.speed_factor is not None:
        data["speed_factor"] = args.speed_factor
    try:
        return TypeAdapter(NetworkSpec).validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'network'}: {e['msg']}"
            for e in exc.errors()
        )
        raise SimInputError(f"network: {problems}") from None


def run(args: argparse.Namespace) -> int:
    """Describe the network; write JSON and a map when asked."""
    spec = spec_from_args(args)
    if args.json:
        check_file(args.json, "--json")
    if args.map:
        check_file(args.map, "--map", (".png",))
    network = load_network(spec)
    router = Router(network.graph)
    k = (
        args.communities
        if args.communities is not None
        else min(DEFAULT_COMMUNITIES, network.nodes)
    )
    if not 1 <= k <= network.nodes:
        raise SimInputError(f"cannot make {k} communities on a network of {network.nodes} nodes")
    anchors, which = balanced_communities(router, k, seed=args.seed or 0)
    summary = describe(network, router, anchors, which)
    print(format_summary(summary))
    if args.json:
        text = json.dumps(summary, indent=2, ensure_ascii=False) + "\n"
        write_atomic(args.json, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        print(f"wrote {args.json}")
    if args.map:
        write_atomic(args.map, lambda tmp: network_map(network, router, anchors, which, tmp))
        print(f"wrote {args.map}")
    return 0


def describe(network: Network, router: Router, anchors: list[int], which: np.ndarray) -> dict:
    """Return the summary as plain JSON-ready data."""
    counts = np.bincount(which, minlength=len(anchors))
    return {
        "kind": network.kind,
        "source": network.source,
        "crs": network.crs,
        "nodes": network.nodes,
        "edges": network.edges,
        "nodes_loaded": network.nodes_loaded,
        "edges_loaded": network.edges_loaded,
        "kept_share": round(network.kept_share, 4),
        "boundary_links": network.boundary_links,
        "nodes_joined": network.nodes_joined,
        "km_of_road": round(network.km_of_road, 2),
        "is_osm_data": network.is_osm_data,
        "digest": network.digest,
        "communities": [
            {
                "name": f"C{i + 1}",
                "anchor_node": _plain(router.node_ids[a]),
                "x": round(float(router.x[a]), 1),
                "y": round(float(router.y[a]), 1),
                "nodes": int(counts[i]),
            }
            for i, a in enumerate(anchors)
        ],
    }


def format_summary(s: dict) -> str:
    """Return the summary as lines of text."""
    lines = [
        f"network     {s['kind']}: {s['source']}",
        nodes_line(s),
        edges_line(s),
        f"road        {s['km_of_road']:,.1f} km (directed edges: a two-way street counts twice)",
        f"crs         {s['crs']}",
        f"digest      {s['digest']}",
        f"communities {len(s['communities'])}: "
        + ", ".join(f"{c['name']} {c['nodes']:,} nodes" for c in s["communities"]),
    ]
    if s["is_osm_data"]:
        lines.append(OSM_ATTRIBUTION)
    return "\n".join(lines)


def nodes_line(s: dict) -> str:
    """How many nodes are routable, and what was dropped or joined, and why."""
    text = f"nodes       {s['nodes']:,} routable of {s['nodes_loaded']:,} ({s['kept_share']:.1%})"
    dropped = s["nodes_loaded"] - s["nodes"]
    if dropped:
        text += (f"; {dropped:,} dropped: outside the largest strongly connected component "
                 "(one-way streets cut by the extract's edge, or unconnected)")  # fmt: skip
    if s["boundary_links"]:
        text += (f"; {s['nodes_joined']:,} of them joined by {s['boundary_links']} boundary "
                 "links (streets cut by the extract's edge, dashed on --map)")  # fmt: skip
    return text


def edges_line(s: dict) -> str:
    """Directed edges kept of those loaded, and the boundary links added."""
    if s["boundary_links"]:
        return (f"edges       {s['edges']:,} ({s['edges_loaded']:,} loaded + "
                f"{s['boundary_links']} boundary links, directed)")  # fmt: skip
    return f"edges       {s['edges']:,} kept of {s['edges_loaded']:,} (directed)"


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary file beside ``path``, then rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _plain(node: object) -> object:
    return node.item() if isinstance(node, np.generic) else node
