"""The headline result on the shipped district: embedded offices answer faster than the station."""

from __future__ import annotations

import numpy as np

from sim.analysis.replications import run_replications
from sim.measures.metrics import mean_ci
from sim.scenarios.load import load_scenario


def test_embedded_answers_faster_than_central():
    results = {}
    for name in ("central", "embedded"):
        sc = load_scenario(name)
        assert sc.replications >= 5  # the shipped default, used as it is
        results[name] = run_replications(sc, progress=False)
    central, embedded = results["central"], results["embedded"]
    assert central.scenario.seed == embedded.scenario.seed
    for key in ("mean", "p90"):
        c = [s["response_min"][key] for s in central.summaries]
        e = [s["response_min"][key] for s in embedded.summaries]
        # paired by replication (common random numbers): the whole 95% CI is below zero
        diff, half = mean_ci(list(np.subtract(e, c)))
        assert diff + half < 0, f"response {key}: embedded - central = {diff:.2f} ± {half:.2f}"
        assert embedded.summary["response_min"][key] < central.summary["response_min"][key]
    # the source's figure: most calls answered within 5 minutes from an office, fewer from
    # the station
    assert embedded.summary["within_target"]["5"] > central.summary["within_target"]["5"]
