"""Sweep specs: validation messages, designs (sizes, determinism), paired seeds, paths."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.errors import SimInputError
from sim.scenarios.overrides import set_path
from sim.sweeps.spec import code_version, design, load_spec, make_plan, parse_spec

BASE = {"scenario": "erlang_c", "set": {"days": 1, "warmup_days": 0}}


def spec(**kw):
    return parse_spec({**BASE, **kw})


def write(tmp_path: Path, data: dict, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"parameters": {"units.0.count": [1]}, "desing": "grid"}, "desing: unknown key"),
        ({"parameters": {}}, "parameters"),
        ({"parameters": {"units.0.count": [1]}, "design": "sobol", "samples": 4}, "range"),
        ({"parameters": {"a": {"low": 1, "high": 2}}}, "list of values"),
        ({"parameters": {"a": {"low": 3, "high": 2}}, "design": "lhs", "samples": 2}, "below"),
        ({"parameters": {"a": {"low": 1, "high": 2}}, "design": "sobol", "samples": 6}, "power"),
        ({"parameters": {"a": {"low": 1, "high": 2}}, "design": "lhs"}, "samples"),
        ({"parameters": {"a": [1]}, "replications": 0}, "replications"),
    ],
)
def test_spec_errors_name_the_key(tmp_path, extra, expected):
    path = write(tmp_path, {**BASE, **extra})
    with pytest.raises(SimInputError) as err:
        load_spec(path)
    message = str(err.value)
    assert str(path) in message and expected in message
    assert len(message.splitlines()) <= 5


def test_bad_path_and_scenario_fail_before_any_run(tmp_path):
    with pytest.raises(SimInputError, match=r"units\.7\.count: units\.7 needs a list index"):
        make_plan(spec(parameters={"units.7.count": [1]}).located(tmp_path))
    with pytest.raises(SimInputError, match="unknown scenario 'nowhere'"):
        make_plan(spec(scenario="nowhere", parameters={"seed": [1]}).located(tmp_path))
    bad = tmp_path / "bad.yaml"
    bad.write_text("parameters: [", encoding="utf-8")
    with pytest.raises(SimInputError, match="not valid YAML"):
        load_spec(bad)


def test_grid_and_list_sizes():
    grid = spec(parameters={"units.0.count": [2, 3], "calls.rate_per_hour": [1, 2, 3]})
    assert len(design(grid)) == 6
    assert design(grid)[1] == {"units.0.count": 2, "calls.rate_per_hour": 2}
    listed = spec(
        design="list", parameters={"units.0.count": [2, 3], "calls.rate_per_hour": [1, 2]}
    )
    assert design(listed) == [
        {"units.0.count": 2, "calls.rate_per_hour": 1},
        {"units.0.count": 3, "calls.rate_per_hour": 2},
    ]
    with pytest.raises(SimInputError, match="one length"):
        design(spec(design="list", parameters={"a": [1, 2], "b": [1]}))


@pytest.mark.parametrize(("kind", "samples", "size"), [("lhs", 7, 7), ("sobol", 8, 8 * 5),
                                                       ("morris", 3, 3 * 4)])  # fmt: skip
def test_sampled_designs_sizes_bounds_and_determinism(kind, samples, size):
    params = {
        "calls.rate_per_hour": {"low": 1, "high": 3},
        "units.0.count": {"low": 1, "high": 4, "integer": True},
        "dispatch.delay_min": {"low": 0.1, "high": 10, "log": True},
    }
    one = design(spec(design=kind, samples=samples, seed=5, parameters=params))
    assert len(one) == size
    assert one == design(spec(design=kind, samples=samples, seed=5, parameters=params))
    assert one != design(spec(design=kind, samples=samples, seed=6, parameters=params))
    rates = np.array([p["calls.rate_per_hour"] for p in one])
    assert rates.min() >= 1 and rates.max() <= 3
    assert all(isinstance(p["units.0.count"], int) and 1 <= p["units.0.count"] <= 4 for p in one)
    delays = np.array([p["dispatch.delay_min"] for p in one])
    assert delays.min() >= 0.1 and delays.max() <= 10


def test_lhs_stratifies_each_parameter():
    points = design(spec(design="lhs", samples=10, parameters={"a": {"low": 0, "high": 1}}))
    strata = sorted(int(p["a"] * 10) for p in points)
    assert strata == list(range(10))


def test_replications_are_paired_across_points(tmp_path):
    plan = make_plan(
        spec(parameters={"units.0.count": [2, 3, 4]}, replications=2, seeds=[7, 9]).located(
            tmp_path
        )
    )
    assert len(plan.tasks) == 3 * 2 * 2
    pairs = {}
    for task in plan.tasks:
        pairs.setdefault(task.point, []).append((task.seed, task.replication))
        assert task.raw["seed"] == task.seed
        assert task.raw["units"][0]["count"] == task.params["units.0.count"]
    assert pairs[0] == pairs[1] == pairs[2] == [(7, 0), (7, 1), (9, 0), (9, 1)]
    assert len({t.key for t in plan.tasks}) == len(plan.tasks)
    again = make_plan(
        spec(parameters={"units.0.count": [2, 3, 4]}, replications=2, seeds=[7, 9]).located(
            tmp_path
        )
    )
    assert [t.key for t in again.tasks] == [t.key for t in plan.tasks]
    default_seed = make_plan(spec(parameters={"units.0.count": [2]}).located(tmp_path))
    assert default_seed.tasks[0].seed == 1  # erlang_c's own seed


def test_set_path_wildcard_relative_and_errors():
    raw = {"units": [{"count": 1}, {"count": 2}], "calls": {"rate_per_hour": 2.0}}
    set_path(raw, "units.*.count", 3)
    set_path(raw, "calls.rate_per_hour", 1.5, relative=True)
    set_path(raw, "dispatch.delay_min", 0.5)  # new keys are created
    assert raw == {"units": [{"count": 3}, {"count": 3}], "calls": {"rate_per_hour": 3.0},
                   "dispatch": {"delay_min": 0.5}}  # fmt: skip
    with pytest.raises(SimInputError, match="relative needs a number"):
        set_path(raw, "dispatch.policy", 2, relative=True)
    with pytest.raises(SimInputError, match="is not a mapping or list"):
        set_path(raw, "calls.rate_per_hour.x", 1)


def test_linked_paths_and_scenario_parameter(tmp_path):
    plan = make_plan(
        spec(
            parameters={
                "scenario": ["erlang_c", "central"],
                "scale": {"values": [2], "paths": ["days", "warmup_days"], "relative": False},
            }
        ).located(tmp_path)
    )
    first, second = plan.tasks
    assert first.raw["days"] == first.raw["warmup_days"] == 2
    assert first.raw["network"] == {"kind": "point"} and second.raw["name"] == "central"


def test_code_version_is_stable_and_follows_the_simulation_layers():
    from sim.layers import result_modules

    assert code_version() == code_version() and len(code_version()) == 16
    names = result_modules()
    for simulation in ("model", "analysis", "network", "scenarios", "dispatch", "outcomes"):
        assert simulation in names  # metrics stored in the ledger are computed in analysis
    for client in ("cli", "viz", "reporting", "sweeps"):
        assert client not in names
