"""Community patrol simulator: embedded community police offices vs central dispatch."""

__version__ = "0.1.0"
