"""The documentation site: it builds (strict), covers the API, runs its notebooks and examples.

The build (``mkdocs build --strict``, as ``scripts/docs`` runs it) executes every notebook
and fails on a warning: a broken link or reference, a public name without a docstring, a
page naming a path that does not exist, anything loaded from another host.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sim
from sim.registry import DISPATCH_POLICIES, OUTCOME_RULES, PATROL_POLICIES
from sim.reporting.figures import FIGURES

REGISTRIES = (DISPATCH_POLICIES, PATROL_POLICIES, OUTCOME_RULES, FIGURES)
ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "hooks"))

import parameters  # noqa: E402

NOTEBOOKS = sorted(DOCS.rglob("*.ipynb"))
PAGES = sorted(p for p in DOCS.rglob("*.md") if "hooks" not in p.parts)
EXAMPLES = [
    (page, index, block)
    for page in PAGES
    for index, block in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.S))
]
#: The notebooks together must run in CI within this (the issue's budget).
NOTEBOOK_BUDGET_S = 300


def _mkdocs(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DOCS_CACHE": "false"}
    env.pop("MPLBACKEND", None)  # the notebooks draw inline
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    started = time.perf_counter()
    built = _mkdocs("--site-dir", str(out))
    took_s = time.perf_counter() - started
    assert built.returncode == 0, built.stderr[-6000:]
    print(f"site built in {took_s:.0f} s")
    return out


def _html(site: Path, page: str) -> str:
    return (site / page / "index.html").read_text(encoding="utf-8")


# -- the build ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_every_public_name_has_an_entry_in_the_api_reference(site):
    html = _html(site, "reference/api")
    missing = [name for name in sim.__all__ if f'id="sim.{name}"' not in html]
    assert not missing, f"no API entry for {missing}"


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_ran_and_its_figures_are_in_the_site(site, notebook):
    page = notebook.relative_to(DOCS).with_suffix("").as_posix()
    html = _html(site, page)
    assert "data:image/png;base64," in html, f"{page}: no figure in the built page"
    assert "Traceback" not in html and 'class="ansi-red-fg"' not in html


@pytest.mark.slow
def test_no_page_loads_anything_from_another_host(site):
    pattern = re.compile(
        r"<(?:script|img|iframe)\b[^>]*\bsrc=[\"']?(?:https?:)?//"
        r"|<link\b[^>]*\bhref=[\"']?(?:https?:)?//|fonts\.googleapis|cdn\.jsdelivr"
    )
    offending = {
        str(page.relative_to(site)): pattern.search(page.read_text(encoding="utf-8")).group(0)
        for page in site.rglob("*.html")
        if pattern.search(page.read_text(encoding="utf-8"))
    }
    assert not offending, offending


@pytest.mark.slow
def test_a_failing_notebook_fails_the_build(tmp_path):
    (tmp_path / "docs").mkdir()
    cell = {"cell_type": "code", "execution_count": None, "id": "a", "metadata": {},
            "outputs": [], "source": "raise ValueError('this notebook fails')"}  # fmt: skip
    notebook = {"cells": [cell], "metadata": {"kernelspec": {"name": "python3",
                "display_name": "Python 3", "language": "python"}}, "nbformat": 4,
                "nbformat_minor": 5}  # fmt: skip
    (tmp_path / "docs" / "broken.ipynb").write_text(json.dumps(notebook))
    config = (ROOT / "mkdocs.yml").read_text()
    plugin = re.search(r"  - mkdocs-jupyter:\n(?:      .*\n)+", config).group(0)
    (tmp_path / "mkdocs.yml").write_text(f"site_name: t\nplugins:\n{plugin}")
    built = _mkdocs(cwd=tmp_path)
    assert built.returncode != 0
    assert "this notebook fails" in built.stderr + built.stdout


def test_the_notebooks_budget_is_stated_in_the_issue_terms():
    assert NOTEBOOK_BUDGET_S == 300 and len(NOTEBOOKS) >= 4  # three tutorials and validation


# -- the ODD description -------------------------------------------------------------------------
def _odd_submodels() -> dict[str, str]:
    text = (DOCS / "model" / "odd.md").read_text()
    part = text.split("## 7. Submodels", 1)[1].split("\n## ", 1)[0]
    sections = re.split(r"^### (.+)$", part, flags=re.M)
    return dict(zip(sections[1::2], sections[2::2], strict=True))


def test_the_odd_has_a_section_for_every_submodel_the_issue_names():
    names = " ".join(_odd_submodels()).lower()
    for word in ("calls", "dispatch", "travel", "patrol", "on scene", "repeats",
                 "community work", "shifts"):  # fmt: skip
        assert word in names, f"no ODD submodel section for {word}"


@pytest.mark.parametrize("section", list(_odd_submodels()))
def test_every_odd_submodel_names_modules_that_exist(section):
    body = _odd_submodels()[section]
    module_line = re.search(r"^\*\*Modules?:\*\*(.*?)(?:\.\n|\n\n)", body, flags=re.M | re.S)
    assert module_line, f"ODD section {section!r} names no module"
    paths = re.findall(r"`(sim/[\w/]+\.py)`", module_line.group(1))
    assert paths, f"ODD section {section!r}: no module path in {module_line.group(0)!r}"
    for path in paths:
        assert (ROOT / path).is_file(), f"ODD section {section!r} names {path}: not a module"


def test_odd_parameter_tables_cover_every_scenario_key():
    text = (DOCS / "model" / "odd.md").read_text()
    prefixes = [p for m in re.findall(r"<!--\s*parameters:\s*([\w.* ]+?)\s*-->", text)
                for p in m.split()]  # fmt: skip
    every_key = parameters.all_keys()
    covered = {row[0].strip("`") for row in parameters.parameter_rows(prefixes)[1]}
    missing = [key for key in every_key if key not in covered]
    assert not missing, (
        f"scenario keys in no ODD parameter table: {missing}; add them to a "
        "'<!-- parameters: ... -->' marker in docs/model/odd.md"
    )


def test_parameter_tables_come_from_the_schema_and_the_shipped_scenarios():
    table = parameters.expand("<!-- parameters: dispatch -->")
    assert "| `dispatch.policy` | str | `nearest` |" in table
    assert "`dispatch.borrow_after_min`" in table and "`calls.rate_per_hour`" not in table
    assumed = parameters.expand("<!-- assumptions: dispatch -->")
    row = next(line for line in assumed.splitlines() if "dispatch.delay_min.median" in line)
    assert "| 1.5 | 1 – 2.5 |" in row and "ASSUMPTION" in row and "`central`" in row
    with pytest.raises(ValueError, match="no scenario key starts with"):
        parameters.expand("<!-- parameters: no_such_key -->")


# -- the examples on the pages -------------------------------------------------------------------
def test_the_examples_the_readme_had_are_on_the_pages():
    count = {page.relative_to(DOCS).as_posix(): 0 for page in PAGES}
    for page, _, _ in EXAMPLES:
        count[page.relative_to(DOCS).as_posix()] += 1
    # the Python API (run, compare, workers; sweeps) and the five extension examples
    assert count["how-to/python.md"] >= 2 and count["how-to/extend.md"] >= 5, count


def test_the_four_extension_examples_are_there():
    text = "\n".join(block for page, _, block in EXAMPLES if page.name == "extend.md")
    for decorator in ("register_policy", "register_patrol", "register_rule", "register_figure"):
        assert f"@sim.{decorator}(" in text


@pytest.fixture
def registries():
    """Forget what an example registers (a figure would otherwise join every later folder)."""
    kept = {reg: set(reg.names()) for reg in REGISTRIES}
    yield
    for reg, names in kept.items():
        for name in set(reg.names()) - names:
            reg.unregister(name)


@pytest.mark.parametrize(
    ("page", "index", "block"),
    EXAMPLES,
    ids=[f"{p.relative_to(DOCS)}-{i + 1}" for p, i, _ in EXAMPLES],
)
def test_docs_example_runs(page, index, block, monkeypatch, tmp_path, capsys, registries):
    monkeypatch.chdir(tmp_path)  # examples write where they run ...
    (tmp_path / "experiments").symlink_to(ROOT / "experiments")  # ... and read the specs
    exec(compile(block, f"{page.relative_to(ROOT)} python block {index + 1}", "exec"), {})
    assert capsys.readouterr().out.strip()  # each example prints what it shows
