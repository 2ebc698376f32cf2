"""The README's Python examples run as they are written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from sim.registry import DISPATCH_POLICIES, OUTCOME_RULES, PATROL_POLICIES
from sim.reporting.figures import FIGURES

REGISTRIES = (DISPATCH_POLICIES, PATROL_POLICIES, OUTCOME_RULES, FIGURES)

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 1  # the other examples live on the docs pages (tests/test_docs.py)


@pytest.fixture
def registries():
    """Forget what an example registers (a figure would otherwise join every later folder)."""
    kept = {reg: set(reg.names()) for reg in REGISTRIES}
    yield
    for reg, names in kept.items():
        for name in set(reg.names()) - names:
            reg.unregister(name)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
@pytest.mark.slow
def test_readme_example_runs(index, monkeypatch, capsys, registries):
    monkeypatch.chdir(ROOT)  # the examples name files relative to the repository
    out = ROOT / "results" / "readme-sweep"
    shutil.rmtree(out, ignore_errors=True)
    try:
        exec(compile(BLOCKS[index], f"README.md python block {index + 1}", "exec"), {})
    finally:
        shutil.rmtree(out, ignore_errors=True)
    assert capsys.readouterr().out.strip()  # each example prints what it shows
