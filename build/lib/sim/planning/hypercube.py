"""Larson's hypercube queueing model of a scenario's deployment: the analytic twin.

Units are servers at their posts; demand comes from nodes ("atoms"), each with a fixed
preference order of units (the dispatch policy's declared ``order`` applied to units at
their posts: ``travel``, as ``nearest``, or ``own_community_first``, as ``community_first``;
a policy that declares none cannot be modelled); a call goes to the first free unit
in its atom's order, or waits (first come, first served) when all are busy.

- ``exact``: the continuous-time Markov chain on the 2^N busy sets, solved with
  scipy.sparse (Larson 1974). The infinite queue is exact too: when all units are busy the
  queue is a birth-death chain (rates lambda, N mu), so its levels lump into one state
  whose units free at rate mu (1 - lambda / (N mu)) each.
- ``approximate``: Larson's (1975) approximation, for any N: unit workloads from a fixed point
  in which the k-th preferred unit is dispatched with probability
  Q(N, rho, k) * (busy workloads of the k before it) * (1 - its workload), Q being the
  correction factor exact for identical units (computed here from M/M/N state
  probabilities), and queued calls shared equally.

Assumptions: stationary Poisson calls at the scenario's mean rate (the hourly profile is
averaged out); exponential service of the mean busy time (travel out, mobilisation, time on
scene and follow-up work; ``staffing.busy_min_per_call``), the same for every unit and atom;
units are always at their posts when dispatched (no dispatch from the road), on duty all the
time (shifts and other duties are ignored), and one unit per call. A queued call is served by
whichever unit frees first, travelling from its post. A unit's beat is its post's community.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import spsolve

from sim.calls.stream import rate_per_min
from sim.errors import SimInputError
from sim.planning.costs import demand_per_min
from sim.planning.plans import load_base, located, world_of
from sim.planning.staffing import busy_min_per_call
from sim.registry import DISPATCH_POLICIES
from sim.scenarios.schema import Scenario

EXACT_MAX_UNITS = 12
CALIBRATION_ROUNDS = 4  # re-solve with the busy time implied by the model's own travel


@dataclass(frozen=True)
class System:
    """A hypercube system: N units, atoms with rates and preference orders."""

    rates_per_min: np.ndarray  # per atom
    prefs: np.ndarray  # (atoms, N) unit indices, most preferred first
    busy_min: float  # mean service time (exponential)


@dataclass(frozen=True)
class Solution:
    """Steady-state figures of a system."""

    workload: np.ndarray  # per unit: share of time busy
    dispatch: np.ndarray  # (N, atoms): share of all calls sent from unit n to atom j
    p_wait: float  # share of calls that find every unit busy
    wait_mean_min: float
    method: str


def exact(system: System) -> Solution:
    """Solve the hypercube's Markov chain exactly (N up to ``EXACT_MAX_UNITS``)."""
    n = system.prefs.shape[1]
    if n > EXACT_MAX_UNITS + 4:
        raise SimInputError(f"the exact hypercube has 2^{n} states; use the approximation")
    lam, mu = float(system.rates_per_min.sum()), 1.0 / system.busy_min
    r = _stable_ratio(lam, mu, n)
    full = (1 << n) - 1
    states = np.arange(1 << n)
    first_free = _first_free(system.prefs, states)  # (atoms, states), -1 when full
    rows, cols, rates = [], [], []
    for j, rate in enumerate(system.rates_per_min):
        ok = first_free[j] >= 0
        rows.append(states[ok])
        cols.append(states[ok] | (1 << first_free[j][ok]))
        rates.append(np.full(ok.sum(), rate))
    for u in range(n):
        busy = (states >> u) & 1 == 1
        rows.append(states[busy])
        cols.append(states[busy] & ~(1 << u))
        rates.append(np.where(states[busy] == full, mu * (1 - r), mu))
    pi = _stationary(np.concatenate(rows), np.concatenate(cols), np.concatenate(rates), 1 << n)
    bits = (states[:, None] >> np.arange(n)) & 1
    workload = pi @ bits
    dispatch = np.zeros((n, len(system.rates_per_min)))
    for j, rate in enumerate(system.rates_per_min):
        ok = first_free[j] >= 0
        np.add.at(dispatch[:, j], first_free[j][ok], pi[ok] * rate)
    p_wait = float(pi[full])
    dispatch += p_wait * system.rates_per_min[None, :] / n  # queued calls, shared equally
    return Solution(workload, dispatch / lam, p_wait, _wait(p_wait, lam, mu, n), "exact")


def _stable_ratio(lam: float, mu: float, n: int) -> float:
    r = lam / (n * mu)
    if r >= 1:
        raise SimInputError(
            f"the deployment cannot keep up: offered load {lam / mu:.2f} units' worth of "
            f"work for {n} units (utilisation {r:.0%} >= 100%), queues grow without bound"
        )
    return r


def _first_free(prefs: np.ndarray, states: np.ndarray) -> np.ndarray:
    """For every atom and busy set: the first free unit in the atom's order (-1: none)."""
    out = np.full((len(prefs), len(states)), -1, dtype=np.int64)
    for k in range(prefs.shape[1] - 1, -1, -1):  # last first, so earlier choices overwrite
        unit = prefs[:, k][:, None]
        free = ((states[None, :] >> unit) & 1) == 0
        out = np.where(free, unit, out)
    return out


def _stationary(rows, cols, rates, size) -> np.ndarray:
    """Pi with pi Q = 0, sum(pi) = 1, from transitions (row -> col at rate)."""
    q = sparse.coo_array((rates, (rows, cols)), shape=(size, size)).tocsr()
    q = q - sparse.diags_array(np.asarray(q.sum(axis=1)).ravel())
    a = q.T.tolil()
    a[size - 1, :] = np.ones(size)
    rhs = np.zeros(size)
    rhs[-1] = 1.0
    pi = spsolve(a.tocsc(), rhs)
    return np.clip(pi, 0, None) / np.clip(pi, 0, None).sum()


def _wait(p_wait: float, lam: float, mu: float, n: int) -> float:
    return p_wait / (n * mu - lam)


# -- Larson's approximation --------------------------------------------------------------
def mmn_probabilities(n: int, load: float) -> tuple[np.ndarray, float]:
    """M/M/N: P(j busy) for j < N, and P(all N busy) (Erlang C), offered load ``load``."""
    terms = np.array([load**j / math.factorial(j) for j in range(n)])
    tail = load**n / math.factorial(n) / (1 - load / n)
    p0 = 1.0 / (terms.sum() + tail)
    return terms * p0, tail * p0


def correction_factors(n: int, rho: float) -> np.ndarray:
    """Larson's Q(N, rho, k), k = 0..N-1: exact for identical units.

    P(k given units busy, one other free) in M/M/N with random busy sets, over
    rho^k (1 - rho): sum over j >= k busy of P_j C(N-k-1, j-k) / C(N, j).
    """
    p, _ = mmn_probabilities(n, rho * n)
    q = np.zeros(n)
    for k in range(n):
        s = sum(p[j] * math.comb(n - k - 1, j - k) / math.comb(n, j) for j in range(k, n))
        q[k] = s / (rho**k * (1 - rho))
    return q


def approximate(system: System, tol: float = 1e-10, max_iter: int = 1000) -> Solution:
    """Larson's (1975) approximation with an infinite queue."""
    n = system.prefs.shape[1]
    lam, mu = float(system.rates_per_min.sum()), 1.0 / system.busy_min
    rho = _stable_ratio(lam, mu, n)
    q = correction_factors(n, rho)
    _, p_wait = mmn_probabilities(n, lam / mu)
    total = lam / mu  # workloads sum to the offered load (infinite queue)
    queued = lam * p_wait / (n * mu)  # each unit's share of queued calls
    rho_u = np.full(n, rho)
    for _ in range(max_iter):
        first = _approx_dispatch(system, rho_u, q, 0.0).sum(axis=1) / mu  # = V_n (1 - rho_n)
        v = first / (1 - rho_u)
        new = (v + queued) / (1 + v)  # rho_n = V_n (1 - rho_n) + queued share
        new = np.clip(new * total / new.sum(), 0.0, 1 - 1e-12)
        done = np.max(np.abs(new - rho_u)) < tol
        rho_u = new
        if done:
            break
    dispatch = _approx_dispatch(system, rho_u, q, p_wait)
    return Solution(rho_u, dispatch / lam, p_wait, _wait(p_wait, lam, mu, n), "approximation")


def _approx_dispatch(system: System, rho_u, q, p_wait) -> np.ndarray:
    """Dispatch rates (N, atoms) implied by workloads ``rho_u``."""
    n = system.prefs.shape[1]
    rates = system.rates_per_min
    prefs = system.prefs
    busy_before = np.ones(len(rates))
    out = np.zeros((n, len(rates)))
    for k in range(n):
        unit = prefs[:, k]
        p = q[k] * busy_before * (1 - rho_u[unit])
        np.add.at(out, (unit, np.arange(len(rates))), rates * p)
        busy_before = busy_before * rho_u[unit]
    out += p_wait * rates[None, :] / n
    return out


def solve(system: System, method: str = "auto") -> Solution:
    """``exact`` up to ``EXACT_MAX_UNITS`` units, else ``approximate`` (``method="auto"``)."""
    if method == "auto":
        method = "exact" if system.prefs.shape[1] <= EXACT_MAX_UNITS else "approximate"
    return exact(system) if method == "exact" else approximate(system)


# -- a scenario's system ---------------------------------------------------------------------
@dataclass(frozen=True)
class HypercubeResult:
    """The hypercube of a scenario: per unit and overall figures."""

    units: list[str]
    workload: np.ndarray
    calls_share: np.ndarray  # share of calls each unit takes
    cross_beat_share: float
    travel_mean_min: float
    p_wait: float
    wait_mean_min: float
    busy_min: float
    method: str


def hypercube(
    scenario: str | Path | Scenario, method: str = "auto", base_dir: Path | None = None
) -> HypercubeResult:
    """Larson's hypercube for the scenario's units, posts, demand and dispatch policy."""
    base, _, base_dir = load_base(scenario, base_dir)
    world = world_of(base, base_dir)
    labels, posts = [], []
    for group in base.units:
        for k in range(group.count):
            labels.append(f"{group.post}#{k + 1}")
            posts.append(group.post)
    demand = demand_per_min(base, world)
    atoms = np.flatnonzero(demand > 0)
    post_nodes = np.array([world.post_nodes[p] for p in posts])
    travel = np.array([world.router.times_from(int(n))[atoms] for n in post_nodes])  # (N, atoms)
    own = np.array([world.post_community[p] for p in posts])
    atom_community = world.community_of_node[atoms]
    order = DISPATCH_POLICIES.entry(base.dispatch.policy).trait("order", "The hypercube")
    prefs = _preferences(order, travel, own, atom_community)
    lam = rate_per_min(base.calls, sum(c.population for c in base.communities))
    rates = lam * demand[atoms] / demand.sum()
    busy = busy_min_per_call(base, float((rates * travel.min(axis=0)).sum() / lam))
    for _ in range(CALIBRATION_ROUNDS):
        sol = solve(System(rates, prefs, busy), method)
        travel_mean = float((sol.dispatch * travel).sum())
        busy = busy_min_per_call(base, travel_mean)
    sol = solve(System(rates, prefs, busy), method)
    cross = own[:, None] != atom_community[None, :]
    return HypercubeResult(
        units=labels,
        workload=sol.workload,
        calls_share=sol.dispatch.sum(axis=1),
        cross_beat_share=float(sol.dispatch[cross].sum()),
        travel_mean_min=float((sol.dispatch * travel).sum())
        + base.dispatch.mobilisation_min.mean_value,
        p_wait=sol.p_wait,
        wait_mean_min=sol.wait_mean_min,
        busy_min=busy,
        method=sol.method,
    )


ORDERS = ("travel", "own_community_first")


def _preferences(order: str, travel, own, atom_community) -> np.ndarray:
    """(atoms, N) unit orders: by travel time, own community first if ``order`` says so."""
    if order not in ORDERS:
        raise SimInputError(f"The hypercube knows the unit orders {ORDERS}, not {order!r}")
    n = travel.shape[0]
    key = travel.T + np.arange(n)[None, :] * 1e-9  # ties to the first listed unit
    if order == "own_community_first":
        key = key + np.where(own[None, :] == atom_community[:, None], 0.0, 1e6)
    return np.argsort(key, axis=1, kind="stable")


# -- beside the simulation -------------------------------------------------------------------
def simulated(scenario: Scenario, base_dir: Path | None = None) -> dict:
    """The simulator's figures for what the hypercube predicts (mean and 95% CI per figure).

    A unit's workload here is its share of on-shift time en route, on scene or in follow-up
    (returning units are free in both), other duties excluded from neither.
    """
    from sim.agents.unit import UnitState
    from sim.analysis.replications import run_once
    from sim.measures.metrics import mean_ci

    world = world_of(scenario, base_dir)
    names = [c.name for c in scenario.communities]
    beat = {post: names[c] for post, c in world.post_community.items()}
    per_rep: dict[str, list] = {"workload": [], "cross": [], "travel": [], "p_wait": []}
    per_rep["wait"] = []
    for rep in range(scenario.replications):
        model, records, summary = run_once(located(scenario, base_dir), rep)
        state = np.array([u.state_min for u in model.units])
        on = state.sum(axis=1) - state[:, UnitState.OFF_SHIFT]
        busy = state[:, [UnitState.EN_ROUTE, UnitState.ON_SCENE, UnitState.FOLLOW_UP]].sum(axis=1)
        per_rep["workload"].append(busy / on)
        counted = records[~records["in_warmup"] & records["t_arrive"].notna()]
        cross = counted["unit_post"].map(beat) != counted["community"]
        per_rep["cross"].append(float(cross.mean()))
        per_rep["travel"].append(summary["travel_min"]["mean"])
        per_rep["p_wait"].append(summary["p_queued"])
        per_rep["wait"].append(summary["queue_min"]["mean"])
    work = np.array(per_rep.pop("workload"))
    out = {k: mean_ci(v) for k, v in per_rep.items()}
    out["workload"] = [mean_ci(work[:, u].tolist()) for u in range(work.shape[1])]
    return out


def side_by_side(result: HypercubeResult, sim: dict | None) -> str:
    """A text table: hypercube figures and, when given, the simulator's with 95% CIs."""

    def cell(pair, pct: bool) -> str:
        mean, half = pair
        if mean is None:
            return "-"
        if pct:
            return f"{mean:.1%}" + (f" ± {half:.1%}" if half is not None else "")
        return f"{mean:.2f}" + (f" ± {half:.2f}" if half is not None else "")

    rows = [
        (f"workload {u}", w, sim["workload"][k] if sim else None, True)
        for k, (u, w) in enumerate(zip(result.units, result.workload, strict=True))
    ]
    rows += [
        ("cross-beat dispatches", result.cross_beat_share, sim and sim["cross"], True),
        ("travel mean (min)", result.travel_mean_min, sim and sim["travel"], False),
        ("P(wait)", result.p_wait, sim and sim["p_wait"], True),
        ("wait mean (min)", result.wait_mean_min, sim and sim["wait"], False),
    ]
    width = max(len(r[0]) for r in rows) + 2
    lines = [f"{'':<{width}}{'hypercube (' + result.method + ')':>24}{'simulation':>22}"]
    for name, value, simulated_pair, pct in rows:
        analytic = cell((value, None), pct)
        other = cell(simulated_pair, pct) if simulated_pair else "-"
        lines.append(f"{name:<{width}}{analytic:>24}{other:>22}")
    lines.append(f"(busy time per call assumed: {result.busy_min:.1f} min, exponential)")
    return "\n".join(lines)
