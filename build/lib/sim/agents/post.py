"""A police post: the station or a community office."""

from __future__ import annotations

import mesa


class PostAgent(mesa.Agent):
    """The police station or a community office (警务室), at a node."""

    def __init__(self, model: mesa.Model, name: str, kind: str, node: int, community: int):
        super().__init__(model)
        self.name = name
        self.kind = kind
        self.node = node
        self.community = community  # index of the community it sits in (or serves)
