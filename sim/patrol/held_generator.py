"""A numpy ``Generator`` held by compiled code, so that passing it to a kernel costs little.

numba unboxes a ``np.random.Generator`` argument afresh at every call (about 10 us: three
``ctypes.cast`` calls and a type look-up), more than a whole lap's circuit costs to draw.
A ``HeldGenerator`` unboxes it once, into a numba ``structref``; kernels read its ``rng``
field and draw from the very same bit generator state, so the numbers drawn, and those the
Python side draws after them, are exactly those of passing the ``Generator`` itself.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.experimental import structref


@structref.register
class HeldGeneratorType(types.StructRef):
    """The numba type of a ``HeldGenerator``."""

    def preprocess_fields(self, fields):
        """Plain (non-literal) field types."""
        return tuple((name, types.unliteral(kind)) for name, kind in fields)


_HELD = HeldGeneratorType([("rng", types.NumPyRandomGeneratorType("rng"))])


class HeldGenerator(structref.StructRefProxy):
    """``rng`` held for kernels: pass this where a kernel takes ``held`` and reads ``held.rng``."""

    def __new__(cls, rng: np.random.Generator) -> HeldGenerator:
        """Hold ``rng`` (it stays alive while held)."""
        return _hold(rng)


@njit(cache=True)
def _hold(rng):
    held = structref.new(_HELD)
    held.rng = rng
    return held


structref.define_proxy(HeldGenerator, HeldGeneratorType, ["rng"])
