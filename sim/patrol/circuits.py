"""Random Euler circuits of a balanced multiset of directed edges, with no needless U-turn.

An Euler circuit is fixed by its transitions: at every node, which edge leaves after each
edge that arrives. Drawing them at random (never pairing an arrival with the way straight
back when another pairing exists) splits the edges into closed trails; two trails meeting
at a node are then joined by swapping their transitions there (again never into a U-turn
when another swap exists), until one circuit is left. So a U-turn happens only where every
pairing has one (a dead end). Plain ``networkx.eulerian_circuit`` (Hierholzer) makes
U-turns wherever its splicing lands, about six a lap on an 8x8 grid.

``Circuits(kernel="numba")`` (the default) draws with the compiled copy in
``sim.patrol.circuit_kernel``; ``kernel="python"`` keeps this plain reference, which draws
the identical circuit from the same generator state.
"""

from __future__ import annotations

import numpy as np

from sim.patrol.circuit_kernel import draw_circuit
from sim.patrol.held_generator import HeldGenerator

KERNELS = ("numba", "python")


class Circuits:
    """Draws Euler circuits of one multiset of directed edges, each from ``start``."""

    def __init__(
        self, tails: np.ndarray, heads: np.ndarray, segments: np.ndarray, start: int,
        kernel: str = "numba",
    ):  # fmt: skip
        """Edge ``i`` runs ``tails[i] -> heads[i]`` along street ``segments[i]``."""
        if kernel not in KERNELS:
            raise ValueError(f"Circuits: kernel {kernel!r} is not one of {KERNELS}")
        self.kernel = kernel
        self.tails, self.heads = tails.tolist(), heads.tolist()
        self.segments = segments.tolist()
        self.start = start
        arriving: dict[int, list[int]] = {}
        leaving: dict[int, list[int]] = {}
        for i, (tail, head) in enumerate(zip(self.tails, self.heads, strict=True)):
            leaving.setdefault(tail, []).append(i)
            arriving.setdefault(head, []).append(i)
        self.nodes = sorted(leaving)
        self.arriving = [arriving[n] for n in self.nodes]
        self.leaving = [leaving[n] for n in self.nodes]
        self._start_at = self.nodes.index(start)  # its row in the CSR arrays
        self._arrays = (
            np.asarray(tails, dtype=np.int64), np.asarray(heads, dtype=np.int64),
            np.asarray(segments, dtype=np.int64), *_csr(self.arriving), *_csr(self.leaving),
        )  # fmt: skip
        self._held: tuple[np.random.Generator, HeldGenerator] | None = None

    def u_turn(self, arrive: int, leave: int) -> bool:
        """Whether leaving by ``leave`` after ``arrive`` goes straight back along the street."""
        return (
            self.segments[arrive] == self.segments[leave]
            and self.tails[arrive] == self.heads[leave]
        )

    def draw(self, rng: np.random.Generator, after: int = -1) -> np.ndarray:
        """A random Euler circuit from ``start``: the edges in order.

        ``after``: the edge driven just before (the last of the previous lap), so the
        circuit does not begin by turning back along it where it can help it.
        """
        if self.kernel == "python":
            return np.array(self._draw_python(rng, after), dtype=np.int64)
        if self._held is None or self._held[0] is not rng:  # held once, not unboxed per draw
            self._held = (rng, HeldGenerator(rng))
        return draw_circuit(*self._arrays, self._start_at, after, self._held[1])

    def _draw_python(self, rng: np.random.Generator, after: int) -> list[int]:
        """The plain reference of ``draw``."""
        following = [-1] * len(self.tails)
        for arrive, leave in zip(self.arriving, self.leaving, strict=True):
            order = rng.permutation(len(leave))
            self._pair(arrive, [leave[k] for k in order.tolist()], following)
        self._join(following)
        return self._from_start(following, after)

    def _pair(self, arrive: list[int], leave: list[int], following: list[int]) -> None:
        """Pair each arrival with a departure, avoiding U-turns where a swap can."""
        for i, a in enumerate(arrive):
            for j in range(i, len(leave)):
                if not self.u_turn(a, leave[j]):
                    leave[i], leave[j] = leave[j], leave[i]
                    break
            else:  # every departure left turns back: swap with an earlier pairing
                for k in range(i):
                    if not self.u_turn(a, leave[k]) and not self.u_turn(arrive[k], leave[i]):
                        leave[i], leave[k] = leave[k], leave[i]
                        break
        for a, b in zip(arrive, leave, strict=True):
            following[a] = b

    def _join(self, following: list[int]) -> None:
        """Join the closed trails into one circuit by swapping transitions where they meet."""
        trail = [-1] * len(following)
        count = 0
        for first in range(len(following)):
            if trail[first] < 0:
                edge = first
                while trail[edge] < 0:
                    trail[edge] = count
                    edge = following[edge]
                count += 1
        if count == 1:
            return
        parent = list(range(count))

        def root(t: int) -> int:
            while parent[t] != t:
                parent[t] = parent[parent[t]]
                t = parent[t]
            return t

        for allow_u_turn in (False, True):
            for arrive in self.arriving:
                for i in range(len(arrive)):
                    for j in range(i + 1, len(arrive)):
                        a, b = arrive[i], arrive[j]
                        ta, tb = root(trail[a]), root(trail[b])
                        if ta == tb:
                            continue
                        fa, fb = following[a], following[b]
                        if allow_u_turn or not (self.u_turn(a, fb) or self.u_turn(b, fa)):
                            following[a], following[b] = fb, fa
                            parent[ta] = tb
                            count -= 1
                            if count == 1:
                                return

    def _from_start(self, following: list[int], after: int) -> list[int]:
        """The circuit as a list, beginning at a departure from ``start``."""
        starts = self.leaving[self.nodes.index(self.start)]
        first = starts[0]
        if after >= 0:
            first = next((s for s in starts if not self.u_turn(after, s)), first)
        circuit, edge = [first], following[first]
        while edge != first:
            circuit.append(edge)
            edge = following[edge]
        return circuit


def _csr(lists: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Lists of edges per node as (pointers, edges)."""
    ptr = np.zeros(len(lists) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(x) for x in lists])
    edges = np.array([e for x in lists for e in x], dtype=np.int64)
    return ptr, edges
