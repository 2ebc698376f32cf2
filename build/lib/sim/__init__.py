"""Community patrol simulator: embedded community police offices vs central dispatch.

The public API (everything the command line does, as functions)::

    import sim
    sc = sim.load_scenario("embedded", days=56, set={"units.0.count": 2})
    model = sim.PatrolModel(sc, seed=3)
    model.run()
    model.records()        # one row per call
    model.summary()        # the summary JSON's figures
    res = sim.run(sc, reps=10)                        # replications with 95% CIs
    cmp = sim.compare("central", "embedded", reps=10)  # paired, on the same calls

Names are imported on first use, so ``import sim`` is quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> module that defines it
_EXPORTS = {
    "load_scenario": "sim.scenarios.load",
    "available_scenarios": "sim.scenarios.load",
    "Scenario": "sim.scenarios.schema",
    "SimInputError": "sim.errors",
    "WorkerLostError": "sim.errors",
    "PatrolModel": "sim.model",
    "Unit": "sim.agents.unit",
    "UnitState": "sim.agents.unit",
    "Resident": "sim.agents.resident",
    "PostAgent": "sim.agents.post",
    "register_policy": "sim.dispatch.policies",
    "register_patrol": "sim.patrol.policies",
    "register_rule": "sim.outcomes.rules",
    "OutcomeRule": "sim.outcomes.rules",
    "register_figure": "sim.reporting.figures",
    "run": "sim.analysis.runs",
    "compare": "sim.analysis.runs",
    "RunResult": "sim.analysis.replications",
    "Comparison": "sim.analysis.comparison",
    "lateness_curve": "sim.analysis.lateness",
    "write_results": "sim.reporting.folders",
    "sweep": "sim.sweeps.api",
    "plan_offices": "sim.planning",
    "plan_beats": "sim.planning",
    "plan_staffing": "sim.planning",
    "hypercube": "sim.planning",
}
__all__ = [
    "Comparison",
    "OutcomeRule",
    "PatrolModel",
    "PostAgent",
    "Resident",
    "RunResult",
    "Scenario",
    "SimInputError",
    "Unit",
    "UnitState",
    "WorkerLostError",
    "available_scenarios",
    "compare",
    "hypercube",
    "lateness_curve",
    "load_scenario",
    "plan_beats",
    "plan_offices",
    "plan_staffing",
    "register_figure",
    "register_patrol",
    "register_policy",
    "register_rule",
    "run",
    "sweep",
    "write_results",
]

if TYPE_CHECKING:
    from sim.agents.post import PostAgent
    from sim.agents.resident import Resident
    from sim.agents.unit import Unit, UnitState
    from sim.analysis.comparison import Comparison
    from sim.analysis.lateness import lateness_curve
    from sim.analysis.replications import RunResult
    from sim.analysis.runs import compare, run
    from sim.dispatch.policies import register_policy
    from sim.errors import SimInputError, WorkerLostError
    from sim.model import PatrolModel
    from sim.outcomes.rules import OutcomeRule, register_rule
    from sim.patrol.policies import register_patrol
    from sim.planning import hypercube, plan_beats, plan_offices, plan_staffing
    from sim.reporting.figures import register_figure
    from sim.reporting.folders import write_results
    from sim.scenarios.load import available_scenarios, load_scenario
    from sim.scenarios.schema import Scenario
    from sim.sweeps.api import sweep


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
