"""Draw the example dispatch export for the Wuhan extract: sim/examples/wuhan_calls.csv.

A SYNTHETIC table (no real call is in it), in the documented calls-table format
(sim/inputs/calls_table.py), as a planner's dispatch system might export it: eight weeks from
Monday 3 March 2025 (Asia/Shanghai, times written with +08:00), points as lat/lon with GPS
jitter, call types, priorities, minutes on scene, and the response times "achieved".

The truth it is drawn from (what `run_sim.py fit` should find back):
- calls: the `optics_valley_east` scenario's type mix and on-scene times, at
  RATE_PER_HOUR with its default hour-of-day profile and the day-of-week factors DAILY;
- where: callers in proportion to the scenario's community populations, on random street
  nodes of their community (as the model places residents), 0-25 m of GPS jitter;
- achieved response: a central station's (before the reform): dispatch delay and
  mobilisation as in the scenario, then network travel from the station with traffic
  (x TRAFFIC).

A few rows are deliberately bad (BAD_ROWS): an impossible date, a missing time, a point in
Beijing, an unknown and a missing call type, and a call a year later (outside any 8-week
horizon). Run from the repository root (needs ../shared/data/optics_valley_east.osm):

    python experiments/make_example_calls.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

from sim.calls.stream import generate_calls
from sim.network.world import build_world
from sim.scenarios.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "sim" / "examples" / "wuhan_calls.csv"
SEED = 20250303
START = pd.Timestamp("2025-03-03 00:00", tz="Asia/Shanghai")  # a Monday
DAYS = 56
RATE_PER_HOUR = 0.6  # about 100 calls a week for the four communities' 46,000 residents
DAILY = (0.95, 0.9, 0.95, 1.0, 1.1, 1.15, 0.95)
TRAFFIC = 1.3
JITTER_M = 25.0
BAD_ROWS = {
    "impossible time": {"time": "2025-02-30 25:61"},
    "missing time": {"time": ""},
    "point in Beijing": {"lat": 39.9087, "lon": 116.3975},
    "unknown type": {"type": "noise_complaint"},
    "missing type": {"type": ""},
    "a year later": {"time": "2026-03-10T09:30:00+08:00"},
}


def main() -> None:
    """Draw the table and write it."""
    scenario = load_scenario("optics_valley_east")
    world = build_world(scenario)
    rng = [np.random.default_rng([SEED, k]) for k in range(4)]
    calls = scenario.calls.model_copy(
        update={"rate_per_hour": RATE_PER_HOUR, "rate_per_1000_residents_per_week": None,
                "day_of_week": DAILY}
    )  # fmt: skip
    population = np.array([c.population for c in scenario.communities], dtype=float)
    stream = generate_calls(calls, population, DAYS * 1440.0, rng[0], rng[1])
    n = len(stream)
    nodes = np.array([rng[2].choice(world.community_nodes[c]) for c in stream.resident_index])
    types = [calls.types[k] for k in stream.type_index]
    table = pd.DataFrame(
        {
            "time": (START + pd.to_timedelta(stream.t_call_min, unit="min")).strftime(
                "%Y-%m-%dT%H:%M:%S%z"
            ),
            **_lat_lon(world, nodes, rng[3]),
            "type": [t.name for t in types],
            "priority": [t.priority for t in types],
            "on_scene_min": np.round(
                [t.service_min.quantile(u) for t, u in zip(types, stream.draws[:, 0], strict=True)],
                1,
            ),
            "response_min": np.round(_achieved(scenario, world, nodes, stream.draws), 1),
        }
    )
    table["time"] = table["time"].str.replace(r"(\d\d)(\d\d)$", r"\1:\2", regex=True)
    table = _spoil(table, rng[3])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUT, index=False)
    print(f"wrote {OUT}: {n} calls + {len(BAD_ROWS)} bad rows, {OUT.stat().st_size / 1024:.0f} KB")


def _lat_lon(world, nodes: np.ndarray, rng: np.random.Generator) -> dict:
    """Degrees of the nodes, each moved up to JITTER_M in a random direction."""
    angle = rng.uniform(0, 2 * np.pi, len(nodes))
    radius = JITTER_M * np.sqrt(rng.random(len(nodes)))
    x = world.router.x[nodes] + radius * np.cos(angle)
    y = world.router.y[nodes] + radius * np.sin(angle)
    to_degrees = Transformer.from_crs(world.network.crs, "EPSG:4326", always_xy=True)
    lon, lat = to_degrees.transform(x, y)
    return {"lat": np.round(lat, 6), "lon": np.round(lon, 6)}


def _achieved(scenario, world, nodes: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Response times of a central station: delay, mobilisation, travel with traffic."""
    station = next(p.name for p in scenario.posts if p.kind == "station")
    travel_min = world.router.times_from(world.post_nodes[station])[nodes] * TRAFFIC
    delay = [scenario.dispatch.delay_min.quantile(u) for u in draws[:, 1]]
    mobilise = [scenario.dispatch.mobilisation_min.quantile(u) for u in draws[:, 2]]
    return np.asarray(delay) + np.asarray(mobilise) + travel_min


def _spoil(table: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Overwrite a few random rows with the bad values of BAD_ROWS."""
    rows = np.sort(rng.choice(np.arange(5, len(table)), size=len(BAD_ROWS), replace=False))
    for row, change in zip(rows, BAD_ROWS.values(), strict=True):
        for column, value in change.items():
            table.loc[row, column] = value
    return table


if __name__ == "__main__":
    main()
