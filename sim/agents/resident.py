"""Residents: blocks of households at a node; they make the calls."""

from __future__ import annotations

import mesa


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
