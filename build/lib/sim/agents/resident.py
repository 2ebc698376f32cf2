"""Residents: blocks of households at a node; they make the calls."""

from __future__ import annotations

import math
from collections.abc import Sequence

import mesa
import numpy as np


class Resident(mesa.Agent):
    """A block of ``people`` residents living at a node; they make the calls.

    Households are grouped into blocks (scenario ``residents.people_per_agent``) so a city of
    millions stays a few thousand agents; calls pick a block with probability proportional
    to its people.
    """

    def __init__(self, model: mesa.Model, node: int, community: int, people: int):
        super().__init__(model)
        self.node = node
        self.community = community
        self.people = people
        self.calls_made = 0


def place_residents(
    model: mesa.Model,
    populations: Sequence[int],
    community_nodes: Sequence[np.ndarray],
    anchor_nodes: Sequence[int],
    people_per_agent: int,
    rng: np.random.Generator,
) -> list[Resident]:
    """Residents of every community in blocks of about ``people_per_agent``, at random nodes.

    A community with no node of its own (several communities on a one-node network) lives
    at its anchor node.
    """
    residents = []
    for c, population in enumerate(populations):
        nodes = community_nodes[c]
        if len(nodes) == 0:
            nodes = np.array([anchor_nodes[c]])
        blocks = max(1, math.ceil(population / people_per_agent))
        people = np.full(blocks, population // blocks)
        people[: population % blocks] += 1
        for node, n_people in zip(rng.choice(nodes, size=blocks), people, strict=True):
            residents.append(Resident(model, int(node), c, int(n_people)))
    return residents
