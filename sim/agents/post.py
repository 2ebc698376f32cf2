"""Agents that stay put: posts (station, community offices) and residents."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from sim.model import PatrolModel


class PostAgent(mesa.Agent):
    """The police station or a community office (警务室), at a node."""

    def __init__(self, model: PatrolModel, name: str, kind: str, node: int, community: int):
        super().__init__(model)
        self.name = name
        self.kind = kind
        self.node = node
        self.community = community  # index of the community it sits in (or serves)


class Resident(mesa.Agent):
    """A block of ``people`` residents living at a node; they make the calls.

    Households are grouped into blocks (scenario ``residents.people_per_agent``) so a city of
    millions stays a few thousand agents; calls pick a block with probability proportional
    to its people.
    """

    def __init__(self, model: PatrolModel, node: int, community: int, people: int):
        super().__init__(model)
        self.node = node
        self.community = community
        self.people = people
        self.calls_made = 0
