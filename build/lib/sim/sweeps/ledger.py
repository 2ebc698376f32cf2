"""The sweep ledger: SQLite in WAL mode, one row per finished run, keyed by the run's hash.

Only the driver writes it, one committed row per result, so a killed driver or worker loses
nothing that finished. A ``done`` row is never overwritten; a ``failed`` one is replaced
when the run is retried. The table exports to one tidy Parquet file (one row per run).
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import SimInputError
from sim.sweeps.spec import RunTask

LEDGER_NAME = "ledger.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY,
    sweep TEXT NOT NULL,
    point INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    replication INTEGER NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    metrics TEXT,
    error TEXT,
    traceback TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    seconds REAL,
    worker TEXT,
    code_version TEXT NOT NULL,
    finished_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
UPSERT = """
INSERT INTO runs (key, sweep, point, seed, replication, params, status, metrics, error,
                  traceback, seconds, worker, code_version, finished_at)
VALUES (:key, :sweep, :point, :seed, :replication, :params, :status, :metrics, :error,
        :traceback, :seconds, :worker, :code_version, :finished_at)
ON CONFLICT (key) DO UPDATE SET
    status = excluded.status, metrics = excluded.metrics, error = excluded.error,
    traceback = excluded.traceback, seconds = excluded.seconds, worker = excluded.worker,
    finished_at = excluded.finished_at, attempts = runs.attempts + 1
WHERE runs.status != 'done'
"""


class Ledger:
    """The runs of one sweep folder. Use as a context manager; one writer at a time."""

    def __init__(self, folder: str | Path, lock: bool = True) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / LEDGER_NAME
        self._lock = _take_lock(self.folder) if lock else None
        self.db = sqlite3.connect(self.path, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # WAL: safe against process crashes
        self.db.executescript(SCHEMA)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database and release the folder."""
        self.db.close()
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    # -- reading --------------------------------------------------------------------------
    def statuses(self) -> dict[str, str]:
        """Every recorded key with its status."""
        return dict(self.db.execute("SELECT key, status FROM runs"))

    def counts(self, keys: Iterable[str]) -> dict[str, int]:
        """How many of ``keys`` are done, failed and not yet run."""
        statuses = self.statuses()
        counts = {"done": 0, "failed": 0, "todo": 0}
        for key in keys:
            counts[statuses.get(key, "todo")] += 1
        return counts

    def failures(self, keys: Iterable[str] | None = None) -> pd.DataFrame:
        """Failed runs with their error and traceback."""
        frame = pd.read_sql_query(
            "SELECT key, point, seed, replication, params, error, traceback, attempts "
            "FROM runs WHERE status = 'failed' ORDER BY point, seed, replication",
            self.db,
        )
        return frame if keys is None else frame[frame["key"].isin(set(keys))]

    def get_meta(self, name: str) -> Any:
        """A stored value (JSON), or None."""
        row = self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else json.loads(row[0])

    # -- writing --------------------------------------------------------------------------
    def set_meta(self, name: str, value: Any) -> None:
        """Store a value (JSON)."""
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                (name, json.dumps(value, default=str)),
            )

    def record(self, task: RunTask, outcome: dict[str, Any], sweep: str, code: str) -> None:
        """Commit one outcome (``done`` rows are kept as they are)."""
        row = {
            "key": task.key, "sweep": sweep, "point": task.point, "seed": task.seed,
            "replication": task.replication, "params": json.dumps(task.params, default=str),
            "status": outcome["status"],
            "metrics": json.dumps(outcome["metrics"]) if "metrics" in outcome else None,
            "error": outcome.get("error"), "traceback": outcome.get("traceback"),
            "seconds": outcome.get("seconds"), "worker": outcome.get("worker"),
            "code_version": code, "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }  # fmt: skip
        with self.db:
            self.db.execute(UPSERT, row)

    # -- export ---------------------------------------------------------------------------
    def table(self, tasks: Iterable[RunTask]) -> pd.DataFrame:
        """One row per planned run: ids, ``param.<name>`` columns, status and metrics.

        Runs are stored once per key; points that make the same run (e.g. after rounding)
        each get their row.
        """
        tasks = list(tasks)
        plan = pd.DataFrame(
            {
                "key": [t.key for t in tasks],
                "point": [t.point for t in tasks],
                "seed": [t.seed for t in tasks],
                "replication": [t.replication for t in tasks],
            }
        )
        params = pd.DataFrame([t.params for t in tasks], index=plan.index)
        params.columns = [f"param.{c}" for c in params.columns]
        rows = pd.read_sql_query(
            "SELECT key, sweep, status, attempts, seconds, worker, code_version, finished_at, "
            "error, metrics FROM runs",
            self.db,
        )
        frame = plan.merge(rows, on="key", how="left", validate="many_to_one")
        frame["status"] = frame["status"].fillna("missing")
        metrics = pd.DataFrame(
            [json.loads(m) if isinstance(m, str) else {} for m in frame.pop("metrics")],
            index=frame.index,
        )
        metrics = metrics.drop(columns=[c for c in ("seed", "replication") if c in metrics])
        return pd.concat([frame, params.map(_cell), metrics], axis=1)

    def export(self, path: str | Path, tasks: Iterable[RunTask]) -> pd.DataFrame:
        """Write :meth:`table` to Parquet (atomically) and return it."""
        frame = _arrow_safe(self.table(tasks))
        path = Path(path)
        tmp = path.with_suffix(".tmp")
        frame.to_parquet(tmp, index=False)
        tmp.replace(path)
        return frame


def _cell(value: Any) -> Any:
    """Parameter values as Parquet can hold them: structures become JSON text."""
    return json.dumps(value) if isinstance(value, list | dict) else value


def _arrow_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns that mix types (e.g. numbers and text) become text, as Arrow needs."""
    for column in [c for c in frame.columns if pd.api.types.is_object_dtype(frame[c])]:
        kinds = {type(v) for v in frame[column] if v is not None and v == v}
        if kinds and kinds <= {int, float}:
            frame[column] = pd.to_numeric(frame[column])
        elif len(kinds) > 1:
            frame[column] = frame[column].map(lambda v: None if v is None else str(v))
    return frame


def _take_lock(folder: Path) -> int:
    """An exclusive lock on the folder, released when this process ends."""
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise SimInputError(f"another sweep is writing {folder} (wait for it or stop it)") from None
    return fd
