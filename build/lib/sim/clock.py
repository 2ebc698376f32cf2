"""Time in the model: minutes (float) from a Monday 00:00, and the constants to convert."""

from __future__ import annotations

SECONDS_PER_MIN = 60.0  # osmnx travel times are seconds: converted once, at the router
MIN_PER_HOUR = 60.0
HOURS_PER_DAY = 24
MIN_PER_DAY = 1440.0
DAYS_PER_WEEK = 7
MIN_PER_WEEK = MIN_PER_DAY * DAYS_PER_WEEK


def hour_of_day(t_min: float) -> int:
    """The hour of the day (0-23) at ``t_min``."""
    return int(t_min // MIN_PER_HOUR) % HOURS_PER_DAY


def day_of_run(t_min: float) -> int:
    """The day (0 for the first) at ``t_min``."""
    return int(t_min // MIN_PER_DAY)
