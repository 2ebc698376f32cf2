"""``sim.sweep``: run a sweep spec from Python, as ``run_sim.py sweep`` does."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sim.sweeps.driver import TABLE_NAME, run_sweep
from sim.sweeps.executors import open_pool
from sim.sweeps.spec import SweepSpec, check_points, load_spec, make_plan, parse_spec


def with_changes(
    spec: SweepSpec, fixed: Mapping[str, Any] | None = None, reps: int | None = None
) -> SweepSpec:
    """The spec with more fixed overrides (dotted path -> value) and/or replications."""
    if not fixed and reps is None:
        return spec
    raw = spec.model_dump(mode="json", exclude_defaults=False)
    raw["set"].update(fixed or {})
    if reps is not None:
        raw["replications"] = reps
    return parse_spec(raw, spec.name).located(spec.source_dir)


def sweep(
    spec: SweepSpec | str | Path,
    out: str | Path,
    *,
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    set: Mapping[str, Any] | None = None,
    reps: int | None = None,
    retry_failed: bool = False,
    progress: bool = False,
) -> pd.DataFrame:
    """Run (or resume) a sweep into ``out``; return its table, one row per finished run.

    ``executor``: ``local`` (a process pool of ``workers``) or ``dask`` (``scheduler``: a
    Dask scheduler address, or none for a local Dask cluster).
    """
    spec = load_spec(spec) if not isinstance(spec, SweepSpec) else spec
    plan = make_plan(with_changes(spec, set, reps))
    for message in check_points(plan)[:3]:
        print(f"warning: {message}", file=sys.stderr)
    out = Path(out)
    run_sweep(
        plan,
        out,
        lambda: open_pool(executor, workers, scheduler),
        retry_failed=retry_failed,
        progress=progress,
    )
    return pd.read_parquet(out / TABLE_NAME)
