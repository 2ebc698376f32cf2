"""User-facing errors: one clear message, no traceback."""

from __future__ import annotations

import importlib
from types import ModuleType


class SimInputError(Exception):
    """Bad input from the user (scenario, file, parameter): the message says what and where."""


#: Optional extras (pyproject.toml) and the command that installs each.
EXTRAS = {"sweep": "scripts/setup sweep", "viz": "scripts/setup viz"}


def import_extra(module: str, extra: str, needed_for: str) -> ModuleType:
    """Import ``module`` of an optional extra, or fail in one line naming how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise SimInputError(
            f"{needed_for} needs the '{extra}' extras ({module.split('.')[0]} is not "
            f"installed): run {EXTRAS[extra]} (or pip install 'community-patrol-sim[{extra}]')"
        ) from None


class WorkerLostError(Exception):
    """A worker process died (killed, out of memory) twice: the message names the task."""
