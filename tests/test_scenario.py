"""Scenario files: validation, overrides, extends, digests, and every shipped scenario."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sim.errors import SimInputError
from sim.scenarios.load import (
    SCENARIO_DIR,
    available_scenarios,
    find_scenario,
    load_scenario,
    read_raw,
    validate,
)
from sim.scenarios.overrides import read_yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(available_scenarios()))
def test_every_shipped_scenario_validates(name):
    sc = load_scenario(name)
    assert sc.source_dir == SCENARIO_DIR
    assert sc.name == name and sc.description
    assert validate(read_raw(find_scenario(name)), name).located(SCENARIO_DIR) == sc


def test_the_design_scenarios_are_shipped():
    assert {"central", "embedded", "erlang_c"} <= set(available_scenarios())
    assert not any(n.startswith("_") for n in available_scenarios())


def test_erlang_c_is_the_textbook_queue():
    sc = load_scenario("erlang_c")
    assert sc.network.kind == "point"
    assert [(u.count, u.other_duty.share, u.shift) for u in sc.units] == [(3, 0.0, None)]
    assert sc.calls.rate_per_hour == 2 and sc.calls.hourly_profile == "flat"
    assert sc.calls.day_of_week is None
    (t,) = sc.calls.types
    assert (t.service_min.dist, t.service_min.mean) == ("exponential", 45)
    assert (t.p_familiar, t.p_unfamiliar, t.repeat, t.escalation) == (1.0, 1.0, None, None)
    assert sc.dispatch.policy == "nearest"
    assert (
        sc.dispatch.delay_min.quantile(0.7) == 0 and sc.dispatch.mobilisation_min.quantile(0.7) == 0
    )


def test_set_overrides_list_items_and_nested_keys():
    sc = load_scenario("erlang_c", ["units.0.count=5", "dispatch.delay_min=2.5", "seed=9"])
    assert sc.units[0].count == 5 and sc.seed == 9
    assert sc.dispatch.delay_min.quantile(0.3) == 2.5
    sc = load_scenario(
        "erlang_c", ["calls.types.0.service_min={dist: fixed, value: 30}", "network.kind=point"]
    )
    assert sc.calls.types[0].service_min.quantile(0.9) == 30


def test_extends_merges_mappings_and_replaces_lists(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text(
        yaml.safe_dump(
            {
                "extends": "erlang_c",
                "name": "child",
                "days": 3,
                "dispatch": {"delay_min": 1.5},  # merged: the policy stays
                "units": [{"post": "post", "count": 7}],  # replaced
            }
        )
    )
    sc = load_scenario(child)
    assert sc.source_dir == child.parent
    assert (sc.name, sc.days, sc.units[0].count, len(sc.units)) == ("child", 3, 7, 1)
    assert sc.dispatch.policy == "nearest" and sc.dispatch.delay_min.quantile(0.5) == 1.5
    assert sc.network.kind == "point" and sc.calls.rate_per_hour == 2  # inherited
    # a chain of two, and the shipped central/embedded, which extend _district
    grandchild = tmp_path / "grandchild.yaml"
    grandchild.write_text("extends: child\nname: grandchild\nseed: 4\n")
    sc2 = load_scenario(grandchild)
    assert (sc2.days, sc2.units[0].count, sc2.seed) == (3, 7, 4)
    central = load_scenario("central")
    embedded = load_scenario("embedded")
    assert central.communities == embedded.communities and central.network == embedded.network


@pytest.mark.parametrize("text", ["1.0e9", "1e9", "1E+9", "1.e9", "+1e+09"])
def test_every_float_notation_is_a_number_for_every_key(tmp_path, text):
    assert read_yaml(text) == 1e9 and read_yaml(f"-{text.lstrip('+')}") == -1e9
    assert read_yaml("12") == 12 and isinstance(read_yaml("12"), int)  # ints stay ints
    assert read_yaml("1e9x") == "1e9x" and read_yaml("e9") == "e9"  # not numbers
    path = tmp_path / "floats.yaml"
    path.write_text(
        "extends: erlang_c\nname: floats\n"
        f"days: {text}\ncalls: {{rate_per_hour: {text}}}\n"
        f"units: [{{post: post, patrol: {{policy: random, share: 1, stint_min: {text}}}}}]\n"
    )
    sc = load_scenario(path, set={"dispatch.delay_min": 0})
    assert sc.days == 1e9 and sc.calls.rate_per_hour == 1e9
    assert sc.units[0].patrol.stint_min.quantile(0.5) == 1e9
    over = load_scenario(
        "erlang_c", [f"units.0.patrol.stint_min={text}", "units.0.patrol.policy=random"]
    )
    assert over.units[0].patrol.stint_min.quantile(0.5) == 1e9


def test_set_to_none_sets_the_key_to_null_as_set_null_does():
    """``set={key: None}`` is null in the scenario (as ``--set key=null``), never ignored."""
    switched = {"calls.rate_per_hour": None, "calls.rate_per_1000_residents_per_week": 5.0}
    sc = load_scenario("erlang_c", set=switched)
    assert sc.calls.rate_per_hour is None and sc.calls.rate_per_1000_residents_per_week == 5.0
    by_text = load_scenario(
        "erlang_c", ["calls.rate_per_hour=null", "calls.rate_per_1000_residents_per_week=5"]
    )
    assert by_text.calls == sc.calls
    assert load_scenario("erlang_c", days=None).days == 365  # a shortcut's None: not given


def test_extends_loop_is_an_error(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b\nname: a\n")
    (tmp_path / "b.yaml").write_text("extends: a\nname: b\n")
    with pytest.raises(SimInputError, match="loops"):
        load_scenario(tmp_path / "a.yaml")


@pytest.mark.slow
def test_digest_is_stable_and_sensitive():
    a = load_scenario("embedded")
    b = load_scenario("embedded")
    assert a.digest() == b.digest() and len(a.digest()) == 16
    assert load_scenario("embedded", ["seed=2"]).digest() != a.digest()
    assert load_scenario("embedded", ["units.0.count=2"]).digest() != a.digest()
    code = "from sim.scenarios.load import load_scenario; print(load_scenario('embedded').digest())"
    child = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PYTHONHASHSEED": "777", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == a.digest()


def test_scenarios_are_frozen():
    sc = load_scenario("erlang_c")
    with pytest.raises(Exception, match="frozen"):
        sc.days = 3
    with pytest.raises(Exception, match="frozen"):
        sc.units[0].count = 3


def _error(raw: dict, source: str = "/x/s.yaml") -> str:
    with pytest.raises(SimInputError) as info:
        validate(raw, source)
    return str(info.value)


@pytest.mark.parametrize(
    ("change", "key_path"),
    [
        (lambda r: r.update(dayz=3), "dayz"),
        (lambda r: r["dispatch"].update(polcy="nearest"), "dispatch.polcy"),
        (lambda r: r["units"][0].update(cont=2), "units.0.cont"),
        (lambda r: r.update(days="many"), "days"),
        (lambda r: r["calls"].update(rate_per_hour=-1), "calls.rate_per_hour"),
        (lambda r: r["units"][0].update(count=0), "units.0.count"),
        (lambda r: r.update(units=[]), "units"),
        (
            lambda r: r["calls"]["types"][0]["service_min"].update(mean=-45),
            "calls.types.0.service_min.mean",
        ),
        (lambda r: r["dispatch"].update(policy="fastest"), "dispatch.policy"),
        (lambda r: r["units"][0].update(post="nowhere"), "units.0.post"),
    ],
)
def test_validation_errors_name_file_and_key_path(change, key_path):
    raw = read_raw(find_scenario("erlang_c"))
    change(raw)
    message = _error(raw)
    lines = message.splitlines()
    assert 1 <= len(lines) <= 5
    assert all(line.startswith("/x/s.yaml: ") for line in lines), message
    assert any(f": {key_path}:" in line for line in lines), message
