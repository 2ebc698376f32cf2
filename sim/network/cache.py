"""A file cache of loaded map networks: an OSM or GraphML file is parsed once, not per process.

Parsing the Wuhan extract (osmnx: XML, simplification, projection, speeds, boundary links)
costs about 2 s with osmnx's import; every process that builds a world paid it, the command
and each pool worker. The loaded :class:`~sim.network.sources.Network` is pickled into the
user's cache folder (``$XDG_CACHE_HOME/community-patrol-sim/networks``, or the folder named
by ``PATROL_SIM_NETWORK_CACHE``; ``off`` turns the cache off), under a key of everything the
result depends on: the file's bytes and path, the network spec, the source of
``sim.network`` and the versions of the libraries in ``LIBRARIES``. An unreadable entry is
rebuilt; a cache that cannot be written is skipped silently (the network is the same); the
folder keeps the ``KEEP`` most recently used entries.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from sim.scenarios.network_spec import NetworkSpecBase

CACHE_ENV = "PATROL_SIM_NETWORK_CACHE"
CODE_DIR = Path(__file__).resolve().parent  # sim/network: what shapes a loaded network
LIBRARIES = ("osmnx", "networkx", "pyproj", "shapely")
KEEP = 16  # entries kept in the folder, the most recently used


def cache_folder() -> Path | None:
    """Where loaded networks are kept (None: the cache is off)."""
    chosen = os.environ.get(CACHE_ENV, "")
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "community-patrol-sim" / "networks"


def cache_key(path: Path, spec: NetworkSpecBase) -> str:
    """A digest of everything the network loaded from ``path`` with ``spec`` depends on."""
    h = hashlib.sha256(path.read_bytes())
    h.update(str(path).encode() + b"\0" + spec.model_dump_json().encode())
    for source in sorted(CODE_DIR.glob("*.py")):
        h.update(source.name.encode() + b"\0" + source.read_bytes())
    for library in LIBRARIES:
        h.update(f"{library}={_version(library)}".encode())
    return h.hexdigest()[:24]


def _version(library: str) -> str:
    try:
        return metadata.version(library)
    except metadata.PackageNotFoundError:
        return "absent"


def cached_network[Net](path: Path, spec: NetworkSpecBase, load: Callable[[], Net]) -> Net:
    """The network of ``path`` and ``spec``: from the cache, else ``load()`` and cached.

    ``Net``: :class:`~sim.network.sources.Network` (not imported: that module calls this).
    """
    folder = cache_folder()
    if folder is None:
        return load()
    try:
        entry = folder / f"{path.name}.{cache_key(path, spec)}.pickle"
    except OSError:  # the file cannot be read: load() says so
        return load()
    try:
        network = pickle.loads(entry.read_bytes())
        os.utime(entry)  # recently used: kept when the folder is pruned
        return network
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        pass  # absent, or written by other code: load again
    network = load()
    _store(network, entry)
    _prune(folder, KEEP)
    return network


def _store(network: object, entry: Path) -> None:
    """Write ``network`` to ``entry`` atomically; nothing when it cannot be written."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{entry.name}.", dir=entry.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                pickle.dump(network, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, entry)
        finally:
            Path(tmp).unlink(missing_ok=True)
    except OSError:
        pass


def _prune(folder: Path, keep: int) -> None:
    """Delete all but the ``keep`` most recently used entries (stale code, other files)."""
    try:
        entries = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[keep:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass
