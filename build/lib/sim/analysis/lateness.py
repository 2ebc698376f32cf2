"""The lateness effect a scenario assumes, shown where a reader can see its shape.

``lateness_curve(scenario)``: for every call type lateness applies to, its chance of being
resolved at first attendance over response times of 1-60 min (at the midpoint of its
familiar and unfamiliar chances), and the mean slope in pp per 10% longer response in three
bands (under 5, 5-15, 15-60 min), so a flat band (a floor or a ceiling) shows as 0.
"""

from __future__ import annotations

import pandas as pd

from sim.outcomes.resolution import lateness_bands, lateness_probability
from sim.scenarios.schema import Scenario

CURVE_MIN = (1, 2, 3, 5, 10, 12, 15, 20, 30, 45, 60)


def lateness_curve(scenario: Scenario) -> pd.DataFrame:
    """One row per call type lateness applies to: p by response time and slopes by band."""
    lateness = scenario.outcomes.lateness
    rows = []
    for call_type in scenario.calls.types:
        if not call_type.lateness_applies:
            continue
        p_reference = (call_type.p_familiar + call_type.p_unfamiliar) / 2.0
        row = {"type": call_type.name, "p_at_reference": p_reference}
        row |= {f"p_{t}_min": lateness_probability(p_reference, t, lateness) for t in CURVE_MIN}
        bands = lateness_bands(p_reference, lateness)
        row |= {f"pp_per_10pct_{band}_min": slope for band, slope in bands.items()}
        rows.append(row)
    return pd.DataFrame(rows)
