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
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.comparison import comparison_table, with_kinds
from sim.analysis.replications import RunResult
from sim.errors import SimInputError
from sim.reporting.bulletins import BULLETINS, full_weeks
from sim.reporting.figures import FIGURES, write_figures
from sim.reporting.outputs import check_file, check_folder


# -- the results folder -----------------------------------------------------------------
@contextmanager
def results_folder(target: Path) -> Iterator[Path]:
    """A temporary folder that becomes ``target`` only if the block finishes.

    ``target`` may be absent, empty or a folder this program wrote (``check_folder``).
    """
    target = check_folder(target)
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
    """JSON with NaN turned into null, written atomically (only over a regular file)."""
    path = Path(path)
    if (path.exists() or path.is_symlink()) and not path.is_file():
        check_file(path, "json")  # one line naming what is there
    text = json.dumps(_no_nan(data), indent=2, ensure_ascii=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text + "\n", encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


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


def write_results(results: list[RunResult], folder: Path, bulletins: str = "last") -> None:
    """Records, summaries, table, figures, bulletins and an index (README.txt) into ``folder``.

    ``bulletins``: ``last`` (the last weeks of each office), ``all`` or ``none``.
    """
    if bulletins not in BULLETINS:
        raise SimInputError(f"bulletins={bulletins!r}: one of {', '.join(BULLETINS)}")
    records = pd.concat(
        [r.records.assign(scenario=r.scenario.name) for r in results], ignore_index=True
    )
    write_parquet(records, folder / "records.parquet")
    write_json({r.scenario.name: with_kinds(r.summary, r.scenario) for r in results},
               folder / "summary.json")  # fmt: skip
    per_rep = [{"scenario": r.scenario.name, **_headline(s)} for r in results for s in r.summaries]
    pd.DataFrame(per_rep).to_csv(folder / "replications.csv", index=False)
    comparison_table(results).to_csv(folder / "comparison.csv")
    write_figures(results, folder)
    weeks = {}
    for result in results:
        weeks[result.scenario.name] = write_bulletins(
            result, folder / "bulletins" / result.scenario.name, bulletins
        )
    write_index(results, folder, weeks)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as Parquet, dictionary-encoded for its text columns only.

    Times and ids are nearly all distinct: a dictionary of them costs more to build than it
    saves (measured: a third less time to write 100,000 records, and a smaller file).
    """
    text = [c for c, dtype in frame.dtypes.items() if not pd.api.types.is_numeric_dtype(dtype)]
    frame.to_parquet(path, index=False, use_dictionary=text)


def write_bulletins(result: RunResult, folder: Path, which: str = "last") -> list[int]:
    """Replication 0's weekly bulletins, one file per office and language; the weeks written."""
    from sim.reporting.bulletins import chosen_weeks, weekly_bulletins

    weeks = chosen_weeks(result.scenario, which)
    first = result.records[result.records["replication"] == 0]
    by_office: dict[str, list] = {}
    for bulletin in weekly_bulletins(first, result.scenario, weeks):
        by_office.setdefault(bulletin.office, []).append(bulletin)
    for office, bulletins in by_office.items():
        folder.mkdir(parents=True, exist_ok=True)
        slug = "".join(ch if ch.isalnum() else "_" for ch in office).strip("_")
        for lang in ("zh", "en"):
            text = "\n\n".join(getattr(b, lang) for b in bulletins)
            (folder / f"{slug}.{lang}.txt").write_text(text + "\n", encoding="utf-8")
    return weeks if by_office else []


#: What a results folder's files are besides the figures (``FIGURES``), for its index
#: (README.txt); ``*`` stands for a name.
FILES = {
    "records.parquet": "one row per call, every replication (column 'replication', 'scenario')",
    "summary.json": "the summary figures per scenario: means over replications, 95% CI "
    "half-widths under 'ci95'",
    "replications.csv": "headline figures of every replication",
    "comparison.csv": "the table printed at the end (the 'interval' row says what ± covers)",
    "uncertainty.csv": "intervals incl. parameter uncertainty (--uncertainty)",
    "trace_rejects_*.csv": "rows of the replayed table that were not used, and why",
    "calibration_*.csv": "replayed calls against the simulated ones",
}


def write_index(results: list[RunResult], folder: Path, weeks: dict[str, list[int]]) -> None:
    """README.txt: what each file of the folder is, and which bulletins were written."""
    names = ", ".join(r.scenario.name for r in results)
    lines = [f"Results of {names}", ""]
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        about = _about(path.name)
        if about:
            lines.append(f"{path.name:<32} {about}")
    lines += ["", *bulletin_note(results, weeks)]
    (folder / "README.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _about(name: str) -> str | None:
    """The description of a file of the folder (a PNG's CSV is its data)."""
    figures = {name: FIGURES.entry(name).traits["about"] for name in FIGURES.names()}
    for pattern, about in {**FILES, **figures}.items():
        if fnmatch(name, pattern):
            return about
        if pattern.endswith(".png") and fnmatch(name, pattern[:-4] + ".csv"):
            return f"the data of {name[:-4]}.png"
    return None


def bulletin_note(results: list[RunResult], weeks: dict[str, list[int]]) -> list[str]:
    """Which weekly bulletins the folder holds, and how to get any other office and week."""
    lines, missing = [], []
    for result in results:
        sc, mine = result.scenario, weeks.get(result.scenario.name, [])
        total = full_weeks(sc)
        if not any(p.kind == "office" for p in sc.posts) or not total:
            held = "none (no community office, or no full week)"
        elif len(mine) == total:
            held = f"every week (1-{total})"
        else:
            held = f"weeks {mine[0]}-{mine[-1]} of 1-{total}" if mine else f"none of 1-{total}"
            missing.append(sc)
        lines.append(f"bulletins/{sc.name}/: weekly bulletins of each office, replication 0: "
                     f"{held}.")  # fmt: skip
    if missing:
        sc = missing[0]
        lines += [
            "Every week: run again with --bulletins all. One office and week:",
            f"  python run_sim.py bulletin --scenario {sc.name} --seed {sc.seed} "
            f"--days {sc.days:g} --office NAME --week N",
            "  (the name or YAML path you ran, with the same --set options).",
        ]
    return lines


def _headline(summary: dict) -> dict:
    from sim.measures.metrics import flatten

    flat = flatten(summary)
    return {k: v for k, v in flat.items() if not k.startswith(("by_community", "by_type"))}
