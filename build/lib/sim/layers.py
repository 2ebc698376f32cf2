"""The package's layers, top to bottom: a module imports only from layers below its own.

Import-linter enforces the same list (``pyproject.toml``, ``[tool.importlinter]``; a test
checks the two agree). Sub-packages on one line are independent of each other.
"""

from __future__ import annotations

LAYERS: tuple[tuple[str, ...], ...] = (
    ("cli",),
    ("viz",),
    ("planning", "sweeps", "fitting"),
    ("reporting",),
    ("analysis",),
    ("model",),
    ("lifecycle",),
    ("measures",),
    ("dispatch", "outcomes", "patrol"),
    ("travel",),
    ("agents",),
    ("calls",),
    ("network",),
    ("scenarios",),
    ("registry",),
    ("events", "mesa_adapter", "streams", "clock", "errors"),
)

#: Layers whose code cannot change a run's results (left out of the sweep code version).
CLIENT_LAYERS = LAYERS[:4]


def result_modules() -> tuple[str, ...]:
    """Top-level names (sub-packages and modules of ``sim``) whose code shapes results."""
    clients = {name for layer in CLIENT_LAYERS for name in layer}
    return tuple(name for layer in LAYERS for name in layer if name not in clients)
