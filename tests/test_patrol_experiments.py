"""Smoke tests of the patrol experiments (experiments/patrol/*/run.py --quick)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments" / "patrol"
FILES = {
    "kansas_city": ["kansas_city", "response_by_community", "coverage_normal"],
    "hot_spots": ["hot_spots"],
    "foot_ebike_car": ["foot_ebike_car", "coverage_maps"],
}


def _script(name: str):
    spec = importlib.util.spec_from_file_location(f"patrol_{name}", EXPERIMENTS / name / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", list(FILES))
@pytest.mark.slow
def test_quick_mode_writes_its_files(tmp_path, name):
    _script(name).main(["--quick", "--out", str(tmp_path)])
    for stem in FILES[name]:
        assert (tmp_path / f"{stem}.png").stat().st_size > 0
        assert (tmp_path / f"{stem}.csv").stat().st_size > 0
    for table in ["summary.csv", "replications.csv", "table.md"]:
        assert (tmp_path / table).stat().st_size > 0
    assert "|---" in (tmp_path / "table.md").read_text()
