"""How much work one skopt call may do: a deterministic plan that shrinks to fit a time budget."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from katib_suggestion.backends.skopt_costs import COSTS
from katib_validators.budget import largest

# The budget is CPU seconds of one core; a plan is made for SAFETY of it on the machine the
# constants were measured on (benchmarks/skopt_cost.py, whose predictions no probe exceeded),
# so a node up to 1/SAFETY times slower per core still keeps the budget. Katib's default CPU
# limit (500m) doubles wall time: on such a node a call then takes at most twice its budget,
# 40 s for the default (20 s) and Katib's 60 s deadline for the largest (30 s,
# katib_validators.skopt_algorithms).
SAFETY = 0.5

CANDIDATES = 10_000  # skopt's default n_points
MIN_CANDIDATES = 1_000
GP_FIT_WINDOW = 200  # GP hyperparameters are learned from at most this many points
MIN_WINDOW = 100
MAX_WINDOW = 2_000  # tree models: memory and fit time grow with the window
# A GP over n points holds about a dozen n x n matrices while it fits: with skopt and
# scikit-learn imported (~145 MiB), this window keeps a server under 200 MiB (server
# peaks at 1,000 trials: window 1,000 -> 245 MiB, 500 -> 200, 400 -> 199 with the
# fixed mmap threshold of katib_suggestion.memory).
GP_MAX_WINDOW = 350
# Each point of a batch is told back before the next, so the GP of the last point is larger
# still: at most this many observations (the server peak measured at 500 is 200 MiB).
GP_MAX_MODEL = 500
LBFGS_RESTARTS = 5  # skopt's default n_restarts_optimizer for the acquisition function


@dataclass(frozen=True)
class Shape:
    """What the request fixes about a call's cost: the surrogate and the space as skopt sees it."""

    estimator: str
    dims: int  # input dimensions after skopt's transform (a categorical counts one per value)
    parameters: int  # skopt dimensions (each is sampled and transformed on its own)
    acq_func: str = "gp_hedge"  # L-BFGS runs once per acquisition function (gp_hedge: three, LCB the dearest)
    trials: int = 0  # trials in the request (each is decoded, converted and checked against repeats)
    points: int = 0  # points in the reply, model-based or random


@dataclass(frozen=True)
class Plan:
    """The knobs of one call; ``degraded`` names every reduction from skopt's full procedure."""

    shape: Shape
    count: int  # model-based points in this call (one model fit each); the rest of the batch is random
    window: int  # finished trials the model is conditioned on
    pending: int  # running trials told as believed points (the most recent ones)
    fit_window: int  # observations GP hyperparameters are learned from
    restarts: int  # extra starts of the GP hyperparameter search
    candidates: int  # points the acquisition function is scored on
    acq_optimizer: str  # "lbfgs" or "sampling"
    degraded: tuple[str, ...] = ()

    @property
    def estimator(self) -> str:
        return self.shape.estimator

    def seconds(self) -> float:
        """Predicted CPU seconds of the call on one core of the calibration machine."""
        constants = COSTS[self.estimator]
        return sum(constants.get(term, 0.0) * value for term, value in features(self).items())


def _power_sums(sizes: list[int]) -> tuple[float, float, float, float]:
    """Sums of n**0..3 over the model's size at each fit."""
    return (float(len(sizes)), float(sum(sizes)), float(sum(n * n for n in sizes)),
            float(sum(n ** 3 for n in sizes)))


def features(plan: Plan) -> dict[str, float]:
    """The sizes each cost constant multiplies (constants: skopt_costs.py, fitted by benchmarks/skopt_cost.py).

    Each model point is one fit and one acquisition search. The model is fitted
    on the window, the kept running trials and the batch so far (each point is
    told back before the next), so the i-th fit sees n = window + pending + i;
    running trials cost one more fit first, which predicts the values they are told.
    """
    s = plan.shape
    start = plan.window + plan.pending
    sizes = list(range(start, start + plan.count))
    fits, n1, n2, n3 = _power_sums(sizes + ([plan.window] if plan.pending and plan.count else []))
    tells, t1, t2, _ = _power_sums(sizes)
    depth = sum(math.log2(n + 1) for n in sizes)
    c = plan.candidates
    acq = s.acq_func.upper()
    lbfgs = plan.acq_optimizer == "lbfgs"
    runs = LBFGS_RESTARTS * (3 if acq == "GP_HEDGE" else 1) if lbfgs else 0  # per tell
    lcb = LBFGS_RESTARTS if lbfgs and acq in ("GP_HEDGE", "LCB") else 0  # LCB's searches run longest
    starts = (plan.restarts + 1) if s.estimator == "GP" and plan.count else 0
    return {
        "call": 1.0,
        "trial_parameter": s.trials * s.parameters,
        "point_parameter": s.points * s.parameters,
        "fit": fits,
        "fit_parameter": fits * s.parameters,
        "fit_obs_dim": n1 * s.dims,
        "fit_obs2_dim": n2 * s.dims,
        "fit_obs3": n3,
        "candidate": tells * c,
        "candidate_parameter": tells * c * s.parameters,
        "candidate_dim": tells * c * s.dims,
        "candidate_depth": depth * c,
        "candidate_obs_dim": t1 * c * s.dims,
        "candidate_obs2": t2 * c,
        "lbfgs": runs * tells,
        "lbfgs_lcb": lcb * tells,
        "lbfgs_obs_dim": runs * t1 * s.dims,
        "lbfgs_obs2": runs * t2,
        "hyperfit": starts,
        "hyperfit_obs3": starts * plan.fit_window ** 3,
        "hyperfit_obs2_dim": starts * plan.fit_window ** 2 * s.dims,
    }


def _shrink(plan: Plan, target: float) -> Plan | None:
    """The next cheaper plan, or None when nothing is left to give up."""
    top = _max_window(plan.estimator)
    if plan.window + plan.pending > top:
        return _tag(_with_history(plan, top), "history-window")
    if _too_big(plan):
        return _tag(replace(plan, count=max(1, GP_MAX_MODEL - plan.window - plan.pending)), "random-rest")
    if plan.fit_window > GP_FIT_WINDOW:
        return _tag(replace(plan, fit_window=GP_FIT_WINDOW), "hp-window")
    if plan.candidates > MIN_CANDIDATES * 4:
        return _tag(replace(plan, candidates=plan.candidates // 2), "candidates")
    if plan.acq_optimizer == "lbfgs":
        return _tag(replace(plan, acq_optimizer="sampling"), "sampling")
    if plan.restarts:
        return _tag(replace(plan, restarts=0), "restarts")
    if plan.window + plan.pending > MIN_WINDOW:
        return _tag(_with_history(plan, max(MIN_WINDOW, (plan.window + plan.pending) // 2)), "history-window")
    if plan.candidates > MIN_CANDIDATES:
        return _tag(replace(plan, candidates=MIN_CANDIDATES), "candidates")
    if plan.count > 1:
        # a batch too large for a fit per point even at the smallest settings: the model places
        # the most points that fit, the rest of the batch is drawn at random
        most = largest(1, plan.count - 1, lambda count: replace(plan, count=count).seconds() <= target)
        return _tag(replace(plan, count=most), "random-rest")
    return None


def _with_history(plan: Plan, size: int) -> Plan:
    """At most ``size`` trials seen: running ones up to half of it, finished ones fill the rest."""
    pending = min(plan.pending, size // 2)
    window = min(plan.window, size - pending)
    return replace(plan, window=window, pending=pending, fit_window=min(plan.fit_window, window))


def _too_big(plan: Plan) -> bool:
    return plan.estimator == "GP" and plan.window + plan.pending + plan.count > GP_MAX_MODEL


def _max_window(estimator: str) -> int:
    return GP_MAX_WINDOW if estimator == "GP" else MAX_WINDOW


def _tag(plan: Plan, step: str) -> Plan:
    return plan if step in plan.degraded else replace(plan, degraded=(*plan.degraded, step))


def plan_for(shape: Shape, observations: int, pending: int, count: int, acq_optimizer: str, budget: float) -> Plan:
    """skopt's full procedure, reduced step by step until its prediction fits SAFETY of ``budget``."""
    gp = shape.estimator == "GP"
    plan = Plan(shape, count, observations, pending, observations if gp else 0, 2 if gp else 0, CANDIDATES,
                acq_optimizer)
    target = budget * SAFETY
    while plan.seconds() > target or plan.window + plan.pending > _max_window(shape.estimator) or _too_big(plan):
        cheaper = _shrink(plan, target)
        if cheaper is None:
            break
        plan = cheaper
    return plan


def label_value(plan: Plan, extra: tuple[str, ...] = ()) -> str | None:
    """The degraded-label value: short steps joined by dots (a valid Kubernetes label value)."""
    steps = (*plan.degraded, *(s for s in extra if s not in plan.degraded))
    return ".".join(steps)[:63].strip(".") or None
