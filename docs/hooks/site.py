"""MkDocs hooks: generate what can drift from the code, and fail the build when it drifts.

- ``reference/api.md`` is written at build time from ``sim.__all__`` (one mkdocstrings
  entry per public name, grouped by the sub-package that defines it); a public name, or a
  public member of a public class, without a docstring is a warning, so ``--strict`` fails.
- ``<!-- parameters: ... -->`` and ``<!-- assumptions: ... -->`` markers become tables from
  the scenario schema and the shipped scenarios (``parameters.py``).
- Every repository path a page names in backticks (``sim/dispatch/policies.py``,
  ``experiments/sweeps/``) must exist, so a page cannot point at a module that moved.
- Nothing is fetched from outside when a page is viewed: mkdocs-jupyter's MathJax loader
  (a CDN script; the notebooks have no mathematics) is removed, and any script, style
  sheet, image or frame loaded from another host is a warning.
"""

from __future__ import annotations

import inspect
import logging
import re
import sys
from pathlib import Path

from mkdocs.structure.files import File

sys.path.insert(0, str(Path(__file__).parent))

import parameters

import sim

ROOT = Path(__file__).resolve().parents[2]
API_PAGE = "reference/api.md"
log = logging.getLogger("mkdocs.plugins.sim_docs")
MATHJAX_LOADER = re.compile(r"<script data-mkdocs-jupyter-mathjax=.*?</script>", re.S)
EXTERNAL_LOAD = re.compile(
    r"<(?:script|img|iframe|source)\b[^>]*\bsrc=[\"']?(?:https?:)?//"
    r"|<link\b[^>]*\bhref=[\"']?(?:https?:)?//"
    r"|@import\s+url\([\"']?(?:https?:)?//"
)
PATH_IN_CODE = re.compile(r"`((?:sim|experiments|tests|scripts|docs)/[\w./-]*?)`")

#: Section titles of the API page, by the sub-package that defines a name (in this order).
SECTIONS = {
    "scenarios": "Scenarios",
    "model": "The model",
    "agents": "Agents",
    "dispatch": "Extension points",
    "patrol": "Extension points",
    "outcomes": "Extension points",
    "reporting": "Runs, comparisons and results",
    "analysis": "Runs, comparisons and results",
    "sweeps": "Sweeps",
    "planning": "Planning",
    "errors": "Errors",
}


def on_files(files, config):
    """Add the generated API reference page."""
    files.append(File.generated(config, API_PAGE, content=api_page()))
    return files


def on_page_markdown(markdown, page, config, files):
    """Expand parameter tables and check the repository paths a page names."""
    for path in PATH_IN_CODE.findall(markdown):
        if not (ROOT / path).exists():
            log.warning("%s names %s, which does not exist", page.file.src_uri, path)
    try:
        return parameters.expand(markdown)
    except ValueError as error:
        log.warning("%s: %s", page.file.src_uri, error)
        return markdown


def on_post_page(output, page, config):
    """Remove the MathJax loader and refuse anything loaded from another host."""
    output = MATHJAX_LOADER.sub("", output)
    for match in EXTERNAL_LOAD.finditer(output):
        snippet = output[match.start() : match.start() + 160].replace("\n", " ")
        log.warning("%s loads from another host: %s", page.file.src_uri, snippet)
    return output


def api_page() -> str:
    """The API reference: every name in ``sim.__all__``, its docstring checked."""
    groups: dict[str, list[str]] = {}
    for name in sorted(sim.__all__):
        obj = getattr(sim, name)
        for missing in undocumented(name, obj):
            log.warning("the public name %s has no docstring", missing)
        part = obj.__module__.split(".")[1]
        section = SECTIONS.get(part, "Other")
        groups.setdefault(section, []).append(name)
    order = list(dict.fromkeys([*SECTIONS.values(), "Other"]))
    lines = [
        "# API reference",
        "",
        "Everything in `sim.__all__`, generated from the docstrings at build time. "
        "`import sim` is quick: names are imported on first use.",
        "",
    ]
    for section in (s for s in order if s in groups):
        lines += [f"## {section}", ""]
        for name in groups[section]:
            lines += [f"::: sim.{name}", "    options:", "      heading_level: 3", ""]
    return "\n".join(lines)


def undocumented(name: str, obj) -> list[str]:
    """``name`` and its public members (defined in ``sim``) that have no docstring."""
    missing = [] if inspect.getdoc(obj) else [f"sim.{name}"]
    if inspect.isclass(obj):
        for member, value in vars(obj).items():
            if member.startswith("_") or not _is_routine(value):
                continue
            if not inspect.getdoc(value):
                missing.append(f"sim.{name}.{member}")
    return missing


def _is_routine(value) -> bool:
    value = getattr(value, "__func__", value)
    return inspect.isfunction(value) or isinstance(value, property)
