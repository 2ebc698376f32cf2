"""Parameter tables generated from the scenario schema, so the docs cannot drift from it.

A page says ``<!-- parameters: calls dispatch -->`` and gets a table of every scenario key
under those prefixes: its type, its default and the note written beside it in the schema
(a ``Field(description=...)``, the comment on or above the field, or the class docstring's
first line). ``<!-- assumptions: calls outcomes -->`` lists the numbers that the shipped
scenarios give as ``{value, range, source}`` under those prefixes.
"""

from __future__ import annotations

import inspect
import io
import re
import tokenize
import types
import typing
from functools import cache

from pydantic import BaseModel

from sim.scenarios.distributions import Dist
from sim.scenarios.frozen import Frozen
from sim.scenarios.load import available_scenarios, load_scenario
from sim.scenarios.schema import Scenario

MARKER = re.compile(r"<!--\s*(parameters|assumptions):\s*([\w.* ]+?)\s*-->")


def expand(markdown: str) -> str:
    """``markdown`` with every parameter or assumption marker replaced by its table."""

    def table(match: re.Match) -> str:
        kind, prefixes = match.group(1), match.group(2).split()
        rows = parameter_rows(prefixes) if kind == "parameters" else assumption_rows(prefixes)
        if not rows:
            raise ValueError(f"no scenario key starts with {' or '.join(prefixes)}")
        return _markdown_table(*rows)

    return MARKER.sub(table, markdown)


def parameter_rows(prefixes: list[str]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: every schema key under ``prefixes``, with type, default and note."""
    rows = [
        [f"`{path}`", _type_name(annotation), _default(field), note]
        for path, annotation, field, note in _flatten(Scenario, "")
        if _under(path, prefixes)
    ]
    return (["key", "type", "default", "note"], rows) if rows else None


def assumption_rows(prefixes: list[str]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: the shipped scenarios' assumed numbers under ``prefixes``."""
    found: dict[tuple, list[str]] = {}
    for name in _shipped():
        for path, item in load_scenario(name).assumptions.items():
            if _under(path, prefixes):
                key = (path, item.value, tuple(item.range), item.source)
                found.setdefault(key, []).append(f"`{name}`")
    rows = [
        [f"`{path}`", f"{value:g}", f"{lo:g} – {hi:g}", source or "ASSUMPTION", ", ".join(names)]
        for (path, value, (lo, hi), source), names in sorted(found.items())
    ]
    return (["key", "value", "range", "source", "scenarios"], rows) if rows else None


def all_keys() -> list[str]:
    """Every leaf key of the scenario schema, as a dotted path (list items as ``*``)."""
    return [path for path, *_ in _flatten(Scenario, "")]


@cache
def _shipped() -> tuple[str, ...]:
    return tuple(available_scenarios())


def _under(path: str, prefixes: list[str]) -> bool:
    return any(path == p or path.startswith(f"{p}.") for p in prefixes)


def _flatten(model: type[BaseModel], prefix: str):
    """(dotted path, annotation, field, note) of every leaf key, nested models expanded.

    A choice of settings classes told apart by ``kind`` (the network sources) is expanded
    too, each key noting the kinds it belongs to.
    """
    notes = _field_notes(model)
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        if name == "assumptions" and model is Scenario:
            continue
        nested, many = _nested_model(field.annotation)
        if nested is not None:
            yield from _flatten(nested, f"{path}.*." if many else f"{path}.")
        elif _variants(field.annotation):
            yield from _flatten_variants(_variants(field.annotation), f"{path}.")
        else:
            yield path, field.annotation, field, field.description or notes.get(name, "")


def _variants(annotation) -> list[type[BaseModel]]:
    """The settings classes of a choice told apart by ``kind`` (else none)."""
    members = typing.get_args(annotation)
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return []
    if all(isinstance(m, type) and issubclass(m, Frozen) for m in members):
        if all("kind" in m.model_fields for m in members):
            return list(members)
    return []


def _flatten_variants(variants: list[type[BaseModel]], prefix: str):
    rows: dict[str, list] = {}
    for variant in variants:
        kind = typing.get_args(variant.model_fields["kind"].annotation)[0]
        for path, annotation, field, note in _flatten(variant, prefix):
            if path in rows:
                rows[path][4].append(kind)
            else:
                rows[path] = [path, annotation, field, note, [kind]]
    for path, annotation, field, note, kinds in rows.values():
        if path.endswith(".kind"):
            annotation = typing.Literal[tuple(kinds)]
        elif len(kinds) < len(variants):
            note = f"({', '.join(kinds)}) {note}".strip()
        yield path, annotation, field, note


def _nested_model(annotation) -> tuple[type[BaseModel] | None, bool]:
    """The settings class a field holds (alone, optional or as a tuple of them), if one."""
    if isinstance(annotation, type) and issubclass(annotation, Frozen):
        return annotation, False
    args = [a for a in typing.get_args(annotation) if a is not type(None) and a is not Ellipsis]
    origin = typing.get_origin(annotation)
    if len(args) == 1 and isinstance(args[0], type) and issubclass(args[0], Frozen):
        return args[0], origin is tuple
    return None, False


@cache
def _field_notes(model: type[BaseModel]) -> dict[str, str]:
    """Field name -> the comment written on its line or just above it in the source."""
    try:
        source = inspect.getsource(model)
    except (OSError, TypeError):
        return {}
    comments: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and not token.string.startswith("# fmt"):
            comments[token.start[0]] = token.string.lstrip("#").strip()
    notes = {}
    for number, line in enumerate(source.splitlines(), start=1):
        match = re.match(r"\s{4}(\w+):", line)
        if not match or match.group(1) in ("model_config",):
            continue
        above, row = [], number - 1
        while row in comments and source.splitlines()[row - 1].lstrip().startswith("#"):
            above.insert(0, comments[row])
            row -= 1
        own = comments.get(number) or _closing_comment(source, number, comments)
        notes[match.group(1)] = " ".join([*above, own] if own else above)
    return notes


def _closing_comment(source: str, number: int, comments: dict[int, str]) -> str:
    """The comment after a field written over several lines (on its closing line)."""
    lines = source.splitlines()
    if lines[number - 1].rstrip().endswith("("):
        for row in range(number + 1, min(number + 6, len(lines) + 1)):
            if lines[row - 1].strip().startswith(")"):
                return comments.get(row, "")
    return ""


def _type_name(annotation) -> str:
    members = typing.get_args(annotation)
    if annotation is Dist or (members and all(hasattr(m, "quantile") for m in members)):
        return "distribution"
    if annotation is type(None):
        return "null"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in args)
    if origin is tuple:
        inner = [a for a in args if a is not Ellipsis]
        return f"list of {_type_name(inner[0])}" if inner else "list"
    if origin is dict:
        return "mapping"
    if origin is typing.Annotated:
        return _type_name(args[0])
    return getattr(annotation, "__name__", str(annotation))


def _default(field) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        value = value.model_dump(exclude_defaults=True) or "(defaults)"
    if isinstance(value, tuple) and len(value) > 6:
        return f"{len(value)} values"
    text = "null" if value is None else str(value)
    return f"`{text}`" if text else "`''`"


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    def line(cells):
        return "| " + " | ".join(c.replace("|", "\\|") if "\\|" not in c else c for c in cells)

    out = [line(header) + " |", "|" + "---|" * len(header)]
    out += [line(row) + " |" for row in rows]
    return "\n".join(out)
