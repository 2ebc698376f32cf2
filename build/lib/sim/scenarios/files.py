"""Finding the files a scenario names: as given if absolute, else beside it, else in the cwd."""

from __future__ import annotations

from pathlib import Path

from sim.errors import SimInputError


def find_file(path: str | Path, base_dir: Path | None, key: str, what: str, hint: str = "") -> Path:
    """The file ``path``, or one clear error naming the scenario ``key`` and where it looked."""
    path = Path(path).expanduser()
    if path.is_absolute():
        candidates = [path]
    else:
        candidates = [Path(base_dir) / path] if base_dir is not None else []
        candidates.append(Path.cwd() / path)
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    where = " or ".join(f"'{c}'" for c in dict.fromkeys(candidates))
    raise SimInputError(f"{key}: {what} not found: {where}{hint}")
