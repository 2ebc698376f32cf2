"""Planning: where offices go, how beats are drawn, how many units each hour, and an analytic
twin (Larson's hypercube) of a scenario's deployment, each checkable by simulation.
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
