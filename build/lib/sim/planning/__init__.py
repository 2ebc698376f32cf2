"""Planning: offices, beats, staffing by hour, and an analytic twin (Larson's hypercube).

Each plan is a scenario that extends the planned one, so the simulator can check it.
"""

from sim.planning.beats import plan_beats
from sim.planning.hypercube import HypercubeResult, hypercube
from sim.planning.offices import plan_offices
from sim.planning.plans import Plan, write_plan
from sim.planning.staffing import check_staffing, plan_staffing

__all__ = [
    "HypercubeResult",
    "Plan",
    "check_staffing",
    "hypercube",
    "plan_beats",
    "plan_offices",
    "plan_staffing",
    "write_plan",
]
