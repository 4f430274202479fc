"""How much work one skopt call may do: a deterministic plan that shrinks to fit a time budget."""

from __future__ import annotations

from dataclasses import dataclass, replace

# Seconds on one core of our 2026 reference machine (see benchmarks/skopt_latency.py);
# the plan depends only on the request, so the same request gets the same answer.
GP_HYPERFIT_200 = 0.8  # learning GP hyperparameters on 200 points, 3 starts
# Per tell (one model point of a batch), in process CPU seconds on this project's 2-core test
# machine, 6 parameters, measured 2026-11-30: sampling 10,000 candidates at 300 observations
# 0.53 s; with L-BFGS 0.45 s at 40 observations and 1.25 s at 300. The constants before these
# (0.06 s and 0.04 s estimated) let 40 points at 300 observations take 50 s of one core and
# 189 points at 350 take 147 s (adversarial campaign, seed 22).
GP_CANDIDATE = 1.5e-5  # per candidate scored (sampling and transforming it)
GP_PREDICT = 4e-10  # per candidate x observation^2 (predictive variance)
GP_FACTOR = 2e-10  # per observation^3 (Cholesky and inverse)
GP_LBFGS = 0.35  # L-BFGS restarts of the acquisition search, per tell
GP_LBFGS_PER_OBS = 3e-3  # and their growth with the observations
TREE_FIT = {"RF": 2.5e-4, "ET": 1.2e-4, "GBRT": 3e-4}  # per observation, per fit
TREE_PREDICT = 4e-5  # per candidate, per fit
SAFETY = 0.5  # plan for half the budget: other tenants, decoding, the first fit's variance

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


@dataclass(frozen=True)
class Plan:
    """The knobs of one call; ``degraded`` names every reduction from skopt's full procedure."""

    estimator: str
    count: int  # model-based points in this call (one model fit each); the rest of the batch is random
    window: int  # observations the model is conditioned on
    fit_window: int  # observations GP hyperparameters are learned from
    restarts: int  # extra starts of the GP hyperparameter search
    candidates: int  # points the acquisition function is scored on
    acq_optimizer: str  # "lbfgs" or "sampling"
    degraded: tuple[str, ...] = ()

    def seconds(self) -> float:
        """Estimated run time of the plan (single core)."""
        if self.estimator != "GP":
            return self.count * (TREE_FIT[self.estimator] * self.window + TREE_PREDICT * self.candidates)
        n = self.window + self.count / 2  # each point of the batch is told back before the next
        tell = (GP_CANDIDATE + GP_PREDICT * n * n) * self.candidates + GP_FACTOR * n ** 3
        if self.acq_optimizer == "lbfgs":
            tell += GP_LBFGS + GP_LBFGS_PER_OBS * n
        hyperfit = GP_HYPERFIT_200 * (self.restarts + 1) / 3 * (self.fit_window / 200) ** 3
        return hyperfit + self.count * tell


def _shrink(plan: Plan) -> Plan | None:
    """The next cheaper plan, or None when nothing is left to give up."""
    if plan.window > _max_window(plan.estimator):
        window = _max_window(plan.estimator)
        return _tag(replace(plan, window=window, fit_window=min(plan.fit_window, window)), "history-window")
    if plan.fit_window > GP_FIT_WINDOW:
        return _tag(replace(plan, fit_window=GP_FIT_WINDOW), "hp-window")
    if plan.candidates > MIN_CANDIDATES * 4:
        return _tag(replace(plan, candidates=plan.candidates // 2), "candidates")
    if plan.acq_optimizer == "lbfgs":
        return _tag(replace(plan, acq_optimizer="sampling"), "sampling")
    if plan.restarts:
        return _tag(replace(plan, restarts=0), "restarts")
    if plan.window > MIN_WINDOW:
        window = max(MIN_WINDOW, plan.window // 2)
        return _tag(replace(plan, window=window, fit_window=min(plan.fit_window, window)), "history-window")
    if plan.candidates > MIN_CANDIDATES:
        return _tag(replace(plan, candidates=MIN_CANDIDATES), "candidates")
    if plan.count > 1:
        # a batch too large for a fit per point even at the smallest settings: the model places
        # the first half, the rest of the batch is drawn at random (189 GP points at 350
        # observations took 147 s of one core before this step existed)
        return _tag(replace(plan, count=plan.count // 2), "random-rest")
    return None


def _max_window(estimator: str) -> int:
    return GP_MAX_WINDOW if estimator == "GP" else MAX_WINDOW


def _tag(plan: Plan, step: str) -> Plan:
    return plan if step in plan.degraded else replace(plan, degraded=(*plan.degraded, step))


def plan_for(estimator: str, observations: int, count: int, acq_optimizer: str, budget: float) -> Plan:
    """skopt's full procedure, reduced step by step until its estimate fits ``budget`` seconds."""
    plan = Plan(estimator, count, observations, observations if estimator == "GP" else 0,
                2 if estimator == "GP" else 0, CANDIDATES, acq_optimizer)
    while plan.seconds() > budget * SAFETY or plan.window > _max_window(estimator):
        cheaper = _shrink(plan)
        if cheaper is None:
            break
        plan = cheaper
    return plan


def label_value(plan: Plan, extra: tuple[str, ...] = ()) -> str | None:
    """The degraded-label value: short steps joined by dots (a valid Kubernetes label value)."""
    steps = (*plan.degraded, *(s for s in extra if s not in plan.degraded))
    return ".".join(steps)[:63].strip(".") or None
