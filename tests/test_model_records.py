"""The output contract (DESIGN 4.3): call record columns and summary keys."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.analysis.replications import run_once, run_replications
from sim.measures.metrics import codes_of, flatten
from sim.measures.records import COLUMNS
from sim.reporting.folders import write_json
from sim.scenarios.load import load_scenario

#: DESIGN 4.3, in order, with their dtypes.
DESIGN_COLUMNS = {
    "id": "int64",
    "type": "string",
    "priority": "int64",
    "community": "string",
    "node": "string",
    "t_call": "float64",
    "t_ready": "float64",
    "t_assigned": "float64",
    "t_arrive": "float64",
    "t_clear": "float64",
    "unit": "string",
    "unit_post": "string",
    "queued": "bool",
    "travel_min": "float64",
    "response_min": "float64",
    "resolved": "bool",
    "repeat_of": "Int64",
    "escalated": "bool",
}
#: Columns added beyond DESIGN 4.3, pinned too.
EXTRA_COLUMNS = {
    "criminal": "bool",
    "units": "int64",  # crews sent to the call
    "first_type": "string",  # the type when made (escalation changes `type`)
    "familiarity": "float64",  # of the attending unit with the call's community
    "problem": "Int64",  # the latent problem behind the call, if any
    "in_warmup": "bool",
    "found_by": "string",  # how it became known: call, patrol (on view), report
}

FIGURES = {"mean", "median", "p90", "max"}
CALL_KEYS = {
    "calls", "answered", "response_min", "queue_min", "p_queued", "travel_min",
    "within_target", "resolution_rate", "repeat_rate", "escalations",
}  # fmt: skip
META_KEYS = {"scenario", "seed", "days", "replications", "scenario_hash", "network_hash"}
EXTRA_SUMMARY_KEYS = {"problems", "patrol"}  # community work (3.8) and patrol (3.9), beyond 4.3
HEALTH_KEYS = {  # issue 11: censoring, load, overload, time budget
    "response_km", "offered_load", "overloaded", "overloaded_pools", "queue_growing",
    "unanswered_at_end", "time_budget", "abandoned", "by_phone", "queue_saturated", "queue_bound",
}  # fmt: skip
RUN_KEYS = (
    CALL_KEYS | META_KEYS | EXTRA_SUMMARY_KEYS | HEALTH_KEYS
    | {"utilization", "by_community", "by_type"}
)  # fmt: skip


def test_record_columns_are_pinned():
    assert {k: COLUMNS.get(k) for k in DESIGN_COLUMNS} == DESIGN_COLUMNS
    assert set(COLUMNS) == set(DESIGN_COLUMNS) | set(EXTRA_COLUMNS)
    assert {k: COLUMNS[k] for k in EXTRA_COLUMNS} == EXTRA_COLUMNS
    # the DESIGN columns keep their documented order
    order = [c for c in COLUMNS if c in DESIGN_COLUMNS]
    assert order == list(DESIGN_COLUMNS)


@pytest.fixture(scope="module")
def embedded_run():
    sc = load_scenario("embedded", ["days=7", "replications=3"])
    return sc, run_once(sc, 0), run_replications(sc, progress=False)


def test_records_have_the_pinned_columns_and_dtypes(embedded_run):
    _, (model, records, _), result = embedded_run
    assert list(records.columns) == list(COLUMNS)
    assert {c: str(t) for c, t in records.dtypes.items()} == COLUMNS
    assert len(records) == len(model.calls) > 50
    assert list(result.records.columns) == [*COLUMNS, "replication"]
    answered = records[records["t_arrive"].notna()]
    assert np.allclose(answered["travel_min"], answered["t_arrive"] - answered["t_assigned"])
    assert np.allclose(answered["response_min"], answered["t_arrive"] - answered["t_call"])
    assert answered["unit"].notna().all() and answered["unit_post"].notna().all()


def test_summary_has_the_design_keys(embedded_run):
    sc, (_, records, summary), _ = embedded_run
    assert set(summary) == RUN_KEYS | {"replication"}
    for key in ("response_min", "queue_min", "travel_min"):
        assert set(summary[key]) == FIGURES
    assert set(summary["within_target"]) == {"3", "5", "10", "15"}
    assert set(summary["utilization"]) == {"mean", "by_state"}
    assert set(summary["utilization"]["by_state"]) == {
        "idle", "en_route", "on_scene", "returning", "follow_up", "other_duty", "off_shift",
        "patrol",
        "community_work",
    }  # fmt: skip
    assert sum(summary["utilization"]["by_state"].values()) == pytest.approx(1.0)
    assert set(summary["by_community"]) == {c.name for c in sc.communities}
    assert set(summary["by_type"]) == {t.name for t in sc.calls.types}
    for part in [*summary["by_community"].values(), *summary["by_type"].values()]:
        assert set(part) == CALL_KEYS
    assert (summary["scenario"], summary["seed"], summary["days"]) == ("embedded", 1, 7)
    assert summary["scenario_hash"] == sc.digest()
    # the figures are those of the counted (post warm-up) records
    counted = records[~records["in_warmup"]]
    answered = counted[counted["t_arrive"].notna()]
    assert summary["calls"] == len(counted) and summary["answered"] == len(answered)
    assert summary["response_min"]["mean"] == pytest.approx(answered["response_min"].mean())
    assert summary["p_queued"] == pytest.approx(counted["queued"].mean())
    assert summary["within_target"]["5"] == pytest.approx((counted["response_min"] <= 5).mean())
    assert sum(p["calls"] for p in summary["by_community"].values()) == summary["calls"]


def test_summary_by_community_and_type_are_those_of_their_own_records(embedded_run):
    _, (_, records, summary), _ = embedded_run
    counted = records[~records["in_warmup"] & (records["found_by"] != "patrol")]
    for key, column in (("by_community", "community"), ("by_type", "type")):
        for name, part in summary[key].items():
            rows = counted[counted[column] == name]
            answered = rows[rows["t_arrive"].notna()]
            assert (part["calls"], part["answered"]) == (len(rows), len(answered)), (key, name)
            mean = answered["response_min"].mean() if len(answered) else None
            assert part["response_min"]["mean"] == pytest.approx(mean), (key, name)


def test_codes_of_text_with_missing_and_unknown_names():
    text = pd.Series(["b", None, "z", "a"], dtype="string")
    assert codes_of(text, ["a", "b"]).tolist() == [1, -1, -1, 0]
    assert codes_of(pd.Series(["a", None], dtype=object), ["a"]).tolist() == [0, -1]
    assert codes_of(pd.Series([], dtype=object), ["a"]).tolist() == []


def test_summary_is_plain_json(embedded_run):
    """Plain Python numbers only (no numpy scalars), so json.dumps works without help."""
    _, (_, _, summary), _ = embedded_run
    assert json.loads(json.dumps(summary))["calls"] == summary["calls"]


def test_replication_summary_means_with_ci(embedded_run, tmp_path):
    _, _, result = embedded_run
    summary = result.summary
    assert set(summary) == RUN_KEYS | {"ci95", "warmup_check"}
    assert summary["replications"] == 3 == len(result.summaries)
    means = np.mean([s["response_min"]["mean"] for s in result.summaries])
    assert summary["response_min"]["mean"] == pytest.approx(means)
    # ci95 has the summary's shape: a half-width for every numeric figure but the metadata
    flat, ci = flatten(summary), flatten(summary["ci95"])
    numeric = {
        k for k, v in flat.items()
        if not k.startswith("ci95.") and isinstance(v, int | float) and not isinstance(v, bool)
        and k not in {"seed", "days", "replications"}
        and not k.startswith("warmup_check.")  # of all replications together: no CI
    }  # fmt: skip
    assert set(ci) == numeric
    assert all(v is None or v >= 0 for v in ci.values())
    assert ci["response_min.mean"] > 0
    write_json(summary, tmp_path / "summary.json")
    assert json.loads((tmp_path / "summary.json").read_text())["ci95"]["calls"] is not None
