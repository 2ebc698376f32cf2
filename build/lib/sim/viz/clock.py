"""The simulated clock in words."""

from __future__ import annotations

import math

from sim.clock import MIN_PER_DAY


def clock_text(now_min: float) -> str:
    """'Day 2, 14:05' for a time in minutes (day 1 starts at minute 0)."""
    from sim.viz.messages import t

    day, minute = divmod(math.floor(now_min), int(MIN_PER_DAY))
    return t("clock", day=day + 1, time=f"{minute // 60:02d}:{minute % 60:02d}")
