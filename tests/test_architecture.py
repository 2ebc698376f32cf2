"""The package's shape: layers as declared, no import cycles, a quick ``import sim``."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import networkx as nx
import pytest

from sim.layers import LAYERS, result_modules

ROOT = Path(__file__).resolve().parents[1]


def _graph():
    return grimp.build_graph("sim", exclude_type_checking_imports=False, cache_dir=None)


def test_import_linter_layers_are_the_ones_sim_layers_declares():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    [layers] = [c["layers"] for c in config["contracts"] if c["type"] == "layers"]
    declared = [tuple(name.strip(" ()") for name in layer.split("|")) for layer in layers]
    assert declared == list(LAYERS)


def test_every_subpackage_and_module_of_sim_sits_in_a_layer():
    placed = {name for layer in LAYERS for name in layer}
    children = {p.stem for p in (ROOT / "sim").glob("*.py")} | {
        p.name for p in (ROOT / "sim").iterdir() if (p / "__init__.py").is_file()
    }
    unplaced = children - placed - {"__init__", "layers", "data", "examples"}
    assert not unplaced, f"put these in sim/layers.py and pyproject's contract: {unplaced}"


def test_no_module_imports_another_in_a_circle_type_only_imports_included():
    graph = _graph()
    modules = [m for m in graph.modules if m != "sim"]
    g = nx.DiGraph()
    for module in modules:
        for imported in graph.find_modules_directly_imported_by(module):
            if imported != "sim":
                g.add_edge(module, imported)
    circles = [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]
    assert not circles, circles


def test_nothing_inside_the_package_imports_the_package_root():
    """``sim/__init__`` names the public API lazily; modules import from where things live."""
    graph = _graph()
    assert graph.find_modules_that_directly_import("sim") == set()


def test_the_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]


def test_the_sweep_code_version_covers_the_simulation_layers():
    assert {"model", "measures", "analysis", "network", "scenarios"} <= set(result_modules())
    assert not {"cli", "viz", "reporting", "sweeps"} & set(result_modules())


@pytest.mark.parametrize("module", ["sim", "sim.cli"])
def test_light_imports_stay_light(module):
    """``import sim`` and the command-line entry load no osmnx, matplotlib or scipy.stats."""
    code = (
        f"import sys, {module}; heavy = [m for m in ('osmnx', 'matplotlib', 'scipy.stats', "
        "'geopandas', 'solara', 'mesa') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_public_name_of_sim_resolves():
    import sim

    for name in sim.__all__:
        assert getattr(sim, name) is not None, name


def test_the_model_stays_small_and_no_class_of_sim_is_over_400_lines():
    import ast

    assert len((ROOT / "sim" / "model.py").read_text().splitlines()) < 300
    big = []
    for path in (ROOT / "sim").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno >= 400:
                big.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert not big, big


def test_unit_states_are_changed_only_through_set_state():
    """No module assigns ``unit.state`` but the unit itself (the one owner of unit states)."""
    import re

    assign = re.compile(r"\b(?!self\b)\w+\.state\s*=[^=]")
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "sim").rglob("*.py")
        if path.name != "unit.py" and assign.search(path.read_text())
    ]
    assert not offenders, offenders
