"""Experimental designs: grid, list, Latin hypercube, Sobol and Morris.

Each design turns a sweep's parameters into a matrix of points (one row per point, one column
per parameter). Sampled designs are seeded and deterministic: same spec, same points.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from sim.errors import SimInputError, import_extra

DESIGNS = ("grid", "list", "lhs", "sobol", "morris")
SAMPLED = ("lhs", "sobol", "morris")


def design_points(
    design: str,
    names: Sequence[str],
    values: Sequence[Sequence[Any] | None],
    bounds: Sequence[tuple[float, float] | None],
    samples: int = 0,
    levels: int = 4,
    seed: int = 0,
) -> list[tuple[Any, ...]]:
    """The design's points as tuples of raw values (before integer rounding or log scaling)."""
    if design == "grid":
        return list(itertools.product(*values))
    if design == "list":
        lengths = {len(v) for v in values}
        if len(lengths) > 1:
            sizes = ", ".join(f"{n} has {len(v)}" for n, v in zip(names, values, strict=True))
            raise SimInputError(f"design 'list' needs value lists of one length ({sizes})")
        return list(zip(*values, strict=True))
    unit = unit_sample(design, len(names), samples, levels, seed)
    low = np.array([b[0] for b in bounds])
    high = np.array([b[1] for b in bounds])
    return [tuple(float(x) for x in row) for row in low + unit * (high - low)]


def unit_sample(design: str, dims: int, samples: int, levels: int, seed: int) -> np.ndarray:
    """Points in the unit cube [0, 1]^dims for a sampled design."""
    if design == "lhs":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d=dims, rng=np.random.default_rng(seed)).random(samples)
    problem = unit_problem(dims)
    if design == "sobol":
        sobol = import_extra("SALib.sample.sobol", "sweep", "a sobol design")
        return sobol.sample(problem, samples, calc_second_order=False, seed=seed)
    if design == "morris":
        morris = import_extra("SALib.sample.morris", "sweep", "a morris design")
        return morris.sample(problem, samples, num_levels=levels, seed=seed)
    raise SimInputError(f"unknown design {design!r}; known: {', '.join(DESIGNS)}")


def unit_problem(dims: int) -> dict[str, Any]:
    """A SALib problem on the unit cube (the spec scales points afterwards)."""
    return {"num_vars": dims, "names": [f"x{i}" for i in range(dims)], "bounds": [[0, 1]] * dims}


def design_size(design: str, dims: int, samples: int) -> int:
    """How many points a sampled design makes from ``samples``."""
    return {"lhs": samples, "sobol": samples * (dims + 2), "morris": samples * (dims + 1)}[design]
