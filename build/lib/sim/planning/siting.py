"""Office siting with spopt (PySAL), solved by PuLP's CBC.

Four classic models on a demand x candidate cost matrix of travel minutes:

- ``pmedian``: ``p`` sites with the least demand-weighted travel time (Hakimi);
- ``mclp``: ``p`` sites covering the most demand within ``within_min`` (Church & ReVelle);
  ties (often many: on a small district every few sites cover everything within 3 min) are
  broken by the least demand-weighted travel time: spopt's p-median with the coverage the
  MCLP reached added as a constraint;
- ``lscp``: the fewest sites covering *all* demand within ``within_min`` (Toregas et al.);
- ``pcenter``: ``p`` sites with the least worst travel time.

Requests that cannot be met end with a ``SimInputError`` that says what cannot be met and the
best that can, never a solver traceback.
"""

from __future__ import annotations

import warnings

import numpy as np

from sim.errors import SimInputError

OBJECTIVES = ("pmedian", "mclp", "lscp", "pcenter")


def solve_siting(
    cost_min: np.ndarray,
    weights: np.ndarray,
    objective: str,
    p: int | None = None,
    within_min: float | None = None,
    time_limit_s: float | None = None,
) -> np.ndarray:
    """Chosen candidate positions (columns of ``cost_min``, rows are demand points), sorted.

    ``p`` is required except for ``lscp``, where, if given, it is the most sites allowed.
    """
    n_sites = cost_min.shape[1]
    _check_request(objective, p, within_min, n_sites)
    cost = _finite_costs(cost_min)
    if objective == "lscp":
        return _lscp(cost, weights, within_min, p, time_limit_s)
    from spopt.locate import MCLP, PCenter, PMedian

    if p == n_sites:
        return np.arange(n_sites)
    if objective == "pmedian":
        model = PMedian.from_cost_matrix(cost, weights, p_facilities=p)
    elif objective == "mclp":
        model = MCLP.from_cost_matrix(cost, weights, service_radius=within_min, p_facilities=p)
        covered = coverage(cost, weights, _solve(model, time_limit_s, objective), within_min)
        model = _pmedian_covering(cost, weights, p, within_min, covered)
    else:
        model = PCenter.from_cost_matrix(cost, p_facilities=p)
    return _solve(model, time_limit_s, objective)


def _check_request(objective: str, p: int | None, within_min: float | None, n_sites: int):
    if objective not in OBJECTIVES:
        raise SimInputError(f"unknown objective {objective!r}; known: {', '.join(OBJECTIVES)}")
    if objective in ("mclp", "lscp") and (within_min is None or not within_min > 0):
        raise SimInputError(f"{objective} needs a positive travel-time target (--within MIN)")
    if p is None and objective != "lscp":
        raise SimInputError(f"{objective} needs the number of offices (--p N)")
    if p is not None and not 1 <= p <= n_sites:
        raise SimInputError(
            f"--p {p}: there are {n_sites} candidate sites, so 1 to {n_sites} offices can be placed"
        )


def _finite_costs(cost_min: np.ndarray) -> np.ndarray:
    """Unreachable pairs get a cost above any real one; demand no site reaches is an error."""
    reach = np.isfinite(cost_min)
    lost = ~reach.any(axis=1)
    if lost.any():
        raise SimInputError(
            f"no candidate site can reach {int(lost.sum())} demand point(s): "
            "give candidates on the same connected street network"
        )
    big = float(cost_min[reach].max()) * 10 + 1.0
    return np.where(reach, cost_min, big)


def _lscp(cost, weights, within_min, p, time_limit_s) -> np.ndarray:
    nearest = cost.min(axis=1)
    far = nearest > within_min
    if far.any():
        share = float(weights[far].sum() / weights.sum())
        raise SimInputError(
            f"no set of offices covers all demand within {within_min:g} min: "
            f"{int(far.sum())} demand point(s) ({share:.1%} of demand) are farther than that "
            f"from every candidate site; the smallest target any cover can meet is "
            f"{nearest.max():.2f} min (or use --objective mclp to cover the most demand)"
        )
    from spopt.locate import LSCP

    chosen = _solve(LSCP.from_cost_matrix(cost, service_radius=within_min), time_limit_s, "lscp")
    if p is not None and len(chosen) > p:
        best = solve_siting(cost, weights, "mclp", p, within_min, time_limit_s)
        share = coverage(cost, weights, best, within_min)
        raise SimInputError(
            f"covering all demand within {within_min:g} min needs {len(chosen)} offices, "
            f"more than --p {p}; the best {p} offices cover {share:.1%} of demand"
        )
    return chosen


def _pmedian_covering(cost, weights, p, within_min, share):
    """The p-median (spopt) with: demand assigned within ``within_min`` >= ``share`` of all."""
    import pulp
    from spopt.locate import PMedian

    model = PMedian.from_cost_matrix(cost, weights, p_facilities=p)
    rows, cols = np.nonzero(cost <= within_min)
    inside = pulp.lpSum(
        float(weights[i]) * model.cli_assgn_vars[i, j] for i, j in zip(rows, cols, strict=True)
    )
    model.problem += inside >= (share - 1e-9) * float(weights.sum()), "keep_mclp_coverage"
    return model


def _solve(model, time_limit_s: float | None, objective: str) -> np.ndarray:
    import pulp

    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # spopt on PuLP >= 3.3
        try:
            model.solve(solver, results=False)
        except RuntimeError as exc:  # spopt raises when CBC finds no solution
            raise SimInputError(f"{objective}: the solver found no solution ({exc})") from None
    chosen = np.array([i for i, v in enumerate(model.fac_vars) if (v.varValue or 0) > 0.5])
    return np.sort(chosen).astype(np.int64)


# -- evaluating a choice ----------------------------------------------------------------------
def assign(cost_min: np.ndarray, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each demand point: (position in ``chosen`` of its nearest site, minutes)."""
    sub = cost_min[:, chosen]
    which = sub.argmin(axis=1)
    return which, sub[np.arange(len(sub)), which]


def coverage(cost_min, weights, chosen, within_min: float) -> float:
    """Share of demand within ``within_min`` of a chosen site."""
    _, t = assign(cost_min, chosen)
    return float(weights[t <= within_min].sum() / weights.sum())


def weighted_mean_min(cost_min, weights, chosen) -> float:
    """Demand-weighted mean travel minutes to the nearest chosen site."""
    _, t = assign(cost_min, chosen)
    return float((weights * t).sum() / weights.sum())


def max_min(cost_min, weights, chosen) -> float:
    """Worst travel minutes to the nearest chosen site over demand points with demand."""
    _, t = assign(cost_min, chosen)
    return float(t[weights > 0].max())
