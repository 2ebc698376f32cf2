"""The one base of every scenario object: frozen, unknown keys are errors, defaults checked."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, PrivateAttr


class Frozen(BaseModel):
    """An immutable, validated settings object (``extra="forbid"``: a typo is an error)."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class FromFile(Frozen):
    """A settings object read from a file, which remembers the file's folder."""

    _source_dir: Path | None = PrivateAttr(default=None)

    @property
    def source_dir(self) -> Path | None:
        """The folder of the file it came from: its relative paths resolve there."""
        return self._source_dir

    def located(self, folder: Path | str | None):
        """Return this object, its relative paths resolving in ``folder`` (returns itself)."""
        self._source_dir = None if folder is None else Path(folder)
        return self
