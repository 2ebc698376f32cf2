"""Planning: where offices go, how beats are drawn, how many units each hour, and an analytic
twin (Larson's hypercube) of a scenario's deployment, all checkable by simulation.
"""

from sim.planning.offices import plan_offices
from sim.planning.plans import Plan, write_plan

__all__ = ["Plan", "plan_offices", "write_plan"]
