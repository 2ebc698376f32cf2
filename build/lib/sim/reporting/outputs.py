"""Where a command will write, checked before any work: nothing of the user's is replaced.

A results folder (``--out``) may replace only a folder this program wrote (or an empty
one); a file (``--json``, ``--gis``, a plan) may replace only a regular file. Neither may
replace anything else (a file where a folder goes, a folder where a file goes, a device
such as /dev/null, a pipe), and the place must be writable: all of this is known before a
run starts, so a run never fails at its end for a reason known at its beginning.
"""

from __future__ import annotations

import stat
import tempfile
from pathlib import Path

from sim.errors import SimInputError

#: A folder holding one of these was written by this program (a results or decomposition
#: folder) and may be replaced by a new one.
OUR_FOLDER_MARKS = ("summary.json", "decomposition.csv")


def check_folder(path: str | Path, option: str = "--out") -> Path:
    """``path`` may become a results folder: absent, empty or ours, and writable."""
    path = Path(path)
    if path.exists() or path.is_symlink():
        if not path.is_dir():
            raise SimInputError(f"{option} {path}: {_kind(path)} is there, not a results folder; "
                                "give a new folder name")  # fmt: skip
        if any(path.iterdir()) and not any((path / m).is_file() for m in OUR_FOLDER_MARKS):
            raise SimInputError(
                f"{option} {path}: a folder with other files is there (not a results folder "
                "of this program); give a new or empty folder"
            )
    check_writable(path.parent, option, path)
    return path


def check_file(path: str | Path, option: str, suffixes: tuple[str, ...] = ()) -> Path:
    """``path`` may become a file: absent or a regular file, with a right suffix, writable."""
    path = Path(path)
    if suffixes and not path.name.lower().endswith(suffixes):
        raise SimInputError(f"{option} {path}: expected a file name ending in "
                            f"{' or '.join(suffixes)}")  # fmt: skip
    if path.exists() or path.is_symlink():
        if not path.is_file():
            raise SimInputError(f"{option} {path}: {_kind(path)} is there, not a file; "
                                "give a file name")  # fmt: skip
    check_writable(path.parent, option, path)
    return path


def check_writable(folder: Path, option: str, target: Path) -> None:
    """Creating a file in ``folder`` (or its nearest existing parent) works; else one line."""
    existing = Path(folder)
    while not existing.exists():
        if existing.is_symlink() or existing == existing.parent:
            raise SimInputError(f"{option} {target}: {existing} is a broken link")
        existing = existing.parent
    if not existing.is_dir():
        raise SimInputError(f"{option} {target}: {existing} is {_kind(existing)}, not a folder")
    try:
        probe(existing)
    except OSError as exc:
        raise SimInputError(
            f"{option} {target}: cannot write in {existing} ({exc.strerror or exc})"
        ) from None


def probe(folder: Path) -> None:
    """Create and remove a small file in ``folder`` (raises OSError when it cannot)."""
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check."):
        pass


def _kind(path: Path) -> str:
    """'a file', 'a folder', 'a device', ... for what is at ``path``."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return "a broken link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISREG(mode):
        return "a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    return "a special file"
