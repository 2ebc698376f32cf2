"""Independent random streams, one per source of randomness (DESIGN 3.9).

Stream ``name`` of replication ``r`` under seed ``s`` is seeded by
``SeedSequence(s, spawn_key=(r, code(name)))``: adding a stream or a replication never shifts
another, and the same (seed, replication, name) gives the same numbers in any process.
Nothing here touches numpy's or Python's global random state.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_code(name: str) -> int:
    """A stable small integer for a stream name (CRC32: the same on every machine)."""
    return zlib.crc32(name.encode())


class Streams:
    """Named generators for one replication of one seed."""

    def __init__(self, seed: int, replication: int = 0):
        self.seed = seed
        self.replication = replication

    def generator(self, name: str) -> np.random.Generator:
        """A fresh generator for stream ``name`` (same name, same numbers)."""
        seq = np.random.SeedSequence(self.seed, spawn_key=(self.replication, stream_code(name)))
        return np.random.Generator(np.random.PCG64(seq))
