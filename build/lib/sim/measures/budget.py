"""Time budgets: where unit time goes, per unit and overall (shares of all time).

Unit states are grouped into the budget's categories; a state this module does not know
(a new ``UnitState`` member) becomes a category of its own, so nothing is lost.
"Utilisation" is the share of on-shift time committed to calls, and only that: other duties,
community work, patrol and driving back to the post (dispatchable) are reported apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Budget category of each unit state (by the state's lower-case name).
CATEGORY_OF_STATE = {
    "en_route": "committed_to_calls",
    "on_scene": "committed_to_calls",
    "follow_up": "committed_to_calls",
    "patrol": "patrol",
    "community_work": "community_work",
    "other_duty": "other_duties",
    "returning": "returning",
    "idle": "available",
    "off_shift": "off_shift",
}
CATEGORIES = (
    "committed_to_calls",
    "patrol",
    "community_work",
    "other_duties",
    "returning",
    "available",
    "off_shift",
)


def categories(state_names: tuple[str, ...]) -> list[str]:
    """The budget's categories for these states, known ones first in a fixed order."""
    extra = [s for s in state_names if s not in CATEGORY_OF_STATE]
    return [*CATEGORIES, *extra]


def budget_minutes(state_min: np.ndarray, state_names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Minutes per category, per unit (a vector per category)."""
    out = {c: np.zeros(state_min.shape[0]) for c in categories(state_names)}
    for s, name in enumerate(state_names):
        out[CATEGORY_OF_STATE.get(name, name)] += state_min[:, s]
    return out


def _shares(minutes: dict[str, float]) -> dict[str, float | None]:
    total = sum(minutes.values())
    return {c: (m / total if total > 0 else None) for c, m in minutes.items()}


def time_budget(
    state_min: np.ndarray, state_names: tuple[str, ...], labels: list[str], officers: list[int]
) -> dict[str, Any]:
    """Shares of all unit time by category, overall and per unit, with officer-hours.

    ``utilisation_committed``: committed to calls over on-shift time (mean over units).
    ``officer_hours``: hours per category summed over units, times each unit's officers.
    """
    minutes = budget_minutes(state_min, state_names)
    on_shift = state_min.sum(axis=1) - minutes["off_shift"]
    committed = minutes["committed_to_calls"]
    per_unit_util = np.divide(committed, on_shift, out=np.zeros_like(committed), where=on_shift > 0)
    crew = np.asarray(officers, dtype=float)
    return {
        "overall": _shares({c: float(m.sum()) for c, m in minutes.items()}),
        "per_unit": {
            label: _shares({c: float(m[i]) for c, m in minutes.items()})
            for i, label in enumerate(labels)
        },
        "officer_hours": {c: float((m * crew).sum() / 60.0) for c, m in minutes.items()},
        "utilisation_committed": float(per_unit_util.mean()) if len(per_unit_util) else None,
    }
