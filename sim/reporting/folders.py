"""What a run leaves behind: a results folder (records, summaries, tables, figures).

Everything is written into a temporary folder beside the target and moved into place at the
end, so a failed or interrupted run never leaves a half-written results folder, and an
earlier folder is only replaced once the new one is complete.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.comparison import comparison_table
from sim.analysis.replications import RunResult
from sim.reporting.figures import write_figures


# -- the results folder -----------------------------------------------------------------
@contextmanager
def results_folder(target: Path) -> Iterator[Path]:
    """A temporary folder that becomes ``target`` only if the block finishes."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old.{os.getpid()}")
        target.rename(old)
    tmp.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_json(data: Any, path: Path) -> None:
    """JSON with NaN turned into null, written atomically."""
    text = json.dumps(_no_nan(data), indent=2, ensure_ascii=False)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(path)


def _no_nan(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_no_nan(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _no_nan(value.item())
    return value


def write_results(results: list[RunResult], folder: Path) -> None:
    """Records (Parquet), summaries (JSON), per-replication figures (CSV), table, figures."""
    records = pd.concat(
        [r.records.assign(scenario=r.scenario.name) for r in results], ignore_index=True
    )
    records.to_parquet(folder / "records.parquet", index=False)
    write_json({r.scenario.name: r.summary for r in results}, folder / "summary.json")
    per_rep = [{"scenario": r.scenario.name, **_headline(s)} for r in results for s in r.summaries]
    pd.DataFrame(per_rep).to_csv(folder / "replications.csv", index=False)
    comparison_table(results).to_csv(folder / "comparison.csv")
    write_figures(results, folder)
    for result in results:
        write_bulletins(result, folder / "bulletins" / result.scenario.name)


def write_bulletins(result: RunResult, folder: Path) -> None:
    """Replication 0's weekly bulletins, one file per office and language."""
    from sim.reporting.bulletins import weekly_bulletins

    first = result.records[result.records["replication"] == 0]
    by_office: dict[str, list] = {}
    for bulletin in weekly_bulletins(first, result.scenario):
        by_office.setdefault(bulletin.office, []).append(bulletin)
    for office, bulletins in by_office.items():
        folder.mkdir(parents=True, exist_ok=True)
        slug = "".join(ch if ch.isalnum() else "_" for ch in office).strip("_")
        for lang in ("zh", "en"):
            text = "\n\n".join(getattr(b, lang) for b in bulletins)
            (folder / f"{slug}.{lang}.txt").write_text(text + "\n", encoding="utf-8")


def _headline(summary: dict) -> dict:
    from sim.measures.metrics import flatten

    flat = flatten(summary)
    return {k: v for k, v in flat.items() if not k.startswith(("by_community", "by_type"))}
