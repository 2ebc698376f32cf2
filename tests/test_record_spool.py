"""Records made as a run goes (finished calls dropped) equal those made at the end."""

from __future__ import annotations

import pandas as pd
import pytest

import sim
from sim.measures.records import RecordSpool, call_records


@pytest.mark.parametrize(
    ("name", "changes"),
    [
        ("embedded", {}),  # patrol, repeats, escalations, community work
        ("central", {"calls.patience_min": {"dist": "exponential", "mean": 8.0}}),
        ("erlang_c", {"calls.rate_per_hour": 4.5}),  # overloaded: calls still open at the end
    ],
)
@pytest.mark.slow
def test_spooled_records_equal_kept_ones(name, changes):
    sc = sim.load_scenario(name, days=60, set=changes)
    kept = sim.PatrolModel(sc)
    kept.run()
    spooled = sim.PatrolModel(sc, keep_calls=False)
    spooled.spool = RecordSpool(chunk_calls=97)  # many small chunks
    spooled.run()
    assert len(spooled.spool.frames) > 3
    assert len(spooled.calls) < len(kept.calls) / 3  # finished calls were let go
    assert spooled.calls_made == len(kept.calls)
    a, b = call_records(kept), call_records(spooled)
    pd.testing.assert_frame_equal(a, b)
    assert a.equals(b)
    assert kept.summary(a) == spooled.summary(b)
