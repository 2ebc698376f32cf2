"""What a server process holds now: threads, live objects of the app, memory (``--debug`` only).

``snapshot()`` is what ``/debugz`` answers when the server runs with ``--debug`` (the gate
answers 404 otherwise): a leak shows as a count that grows from one class of sessions to
the next.
"""

from __future__ import annotations

import collections
import gc
import inspect
import sys
import threading
import warnings
from pathlib import Path

WATCHED_TYPES = (  # the objects a session makes: none should outlive it
    "AppModel",
    "PatrolModel",
    "Player",
    "StreetMapWidget",
    "ChartRenderer",
    "Figure",
    "VirtualKernelContext",
    "SessionWebsocket",
    "Widget",
)


def rss_mb() -> float:
    """The process's resident memory, MB (0 where /proc is absent)."""
    status = Path("/proc/self/status")
    if not status.exists():
        return 0.0
    for line in status.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def snapshot() -> dict:
    """Threads by name, live app objects by type, widget and kernel counts, memory."""
    gc.collect()
    names = collections.Counter(_thread_kind(t.name) for t in threading.enumerate())
    types = collections.Counter(type(o).__name__ for o in gc.get_objects())
    found = {"rss_mb": round(rss_mb(), 1), "threads": dict(names.most_common())}
    found["objects"] = {name: types.get(name, 0) for name in WATCHED_TYPES}
    widgets = sys.modules.get("ipywidgets")
    if widgets is not None:
        with warnings.catch_warnings():  # ipywidgets 8 calls its registry deprecated
            warnings.simplefilter("ignore", DeprecationWarning)
            found["ipywidgets_registry"] = len(getattr(widgets.Widget, "widgets", {}) or {})
    kernels = sys.modules.get("solara.server.kernel_context")
    if kernels is not None:
        found["solara_contexts"] = len(kernels.contexts)
    return found


def _thread_kind(name: str) -> str:
    """A thread's name without its number (``ThreadPoolExecutor-0_3`` -> its pool)."""
    return name.rsplit("_", 1)[0] if name.startswith("ThreadPoolExecutor") else name


def holders(type_name: str, max_depth: int = 25) -> list[str]:
    """What keeps the first live object of ``type_name``: a chain of referrers from a root.

    A breadth-first walk up ``gc.get_referrers`` until a module, a running frame or a class
    (the roots that outlive a session); each step is the referrer's type and a short repr.
    """
    gc.collect()
    start = next((o for o in gc.get_objects() if type(o).__name__ == type_name), None)
    if start is None:
        return []
    seen = [start]  # every object met; the walk's own containers are left out below
    parent = [-1]  # index in ``seen`` of the object each one refers to
    known = {id(start)}
    ours = {id(seen), id(parent), id(known), id(inspect.currentframe())}
    position = 0
    while position < len(seen):
        obj = seen[position]
        if _is_root(obj) or _depth(parent, position) >= max_depth:
            return _chain(seen, parent, position)
        for ref in gc.get_referrers(obj):
            if id(ref) not in known and id(ref) not in ours:
                known.add(id(ref))
                seen.append(ref)
                parent.append(position)
        position += 1
    return ["(no root found: only cycles hold it)"]


def _is_root(obj: object) -> bool:
    import types

    return isinstance(obj, types.ModuleType | types.FrameType | type)


def _depth(parent: list[int], position: int) -> int:
    depth = 0
    while parent[position] >= 0:
        position, depth = parent[position], depth + 1
    return depth


def _chain(seen: list, parent: list[int], position: int) -> list[str]:
    steps = []
    while position >= 0:
        obj = seen[position]
        steps.append(f"{type(obj).__name__}: {_short(obj)}")
        position = parent[position]
    return steps


def _short(obj: object) -> str:
    if isinstance(obj, dict):
        return "dict keys " + repr(list(obj)[:8])[:160]
    try:
        return repr(obj)[:160]
    except Exception:
        return "?"
