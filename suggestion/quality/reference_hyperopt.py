"""hyperopt used directly: its own Trials for the whole run, the same algorithm and settings.

This is fmin's own loop made asynchronous, as with a MongoTrials worker pool:
each new point is a document inserted into the Trials as running, its result
is written into the document when the trial ends (status "fail" when it
failed), and every algorithm call gets a seed from one generator seeded with
the experiment's seed. Points still running stay in the Trials with no loss,
which hyperopt's TPE counts as infinitely bad: that is hyperopt's own answer
to parallelism, and part of the reference.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
from hyperopt import JOB_STATE_DONE, JOB_STATE_RUNNING, STATUS_FAIL, STATUS_OK, Domain, Trials, anneal, hp, rand, tpe
from katib_suggestion.model import Distribution, Experiment, Kind, Parameter, Point


def _algorithm(experiment: Experiment):
    settings = experiment.settings
    if experiment.algorithm == "tpe":
        return partial(tpe.suggest, gamma=settings["gamma"], prior_weight=settings["prior_weight"],
                       n_EI_candidates=settings["n_EI_candidates"], n_startup_jobs=settings["n_startup_jobs"],
                       verbose=False)
    if experiment.algorithm == "anneal":
        return partial(anneal.suggest, avg_best_idx=settings["avg_best_idx"], shrink_coef=settings["shrink_coef"])
    return rand.suggest


_CALLS = {"tpe": "tpe.suggest(gamma, prior_weight, n_EI_candidates, n_startup_jobs)",
          "anneal": "anneal.suggest(avg_best_idx, shrink_coef)", "random": "rand.suggest"}


def describe(algorithm: str, settings: dict) -> str:
    import hyperopt

    return f"hyperopt {hyperopt.__version__}: one Trials, {_CALLS[algorithm]}, running points left in the Trials"


def expression(p: Parameter):
    """The hp expression a user would write for this parameter."""
    if p.choices:
        return hp.choice(p.name, list(p.choices))
    log_low, log_high = (math.log(p.low), math.log(p.high)) if p.is_log else (0.0, 0.0)
    if p.distribution is Distribution.NORMAL:
        return hp.normal(p.name, (p.low + p.high) / 2, (p.high - p.low) / 6)
    if p.distribution is Distribution.LOG_NORMAL:
        return hp.lognormal(p.name, (log_low + log_high) / 2, (log_high - log_low) / 6)
    quantum = p.step or (1 if p.kind is Kind.INT else None)  # ints are stepped by 1 unless told otherwise
    if p.is_log:
        return hp.qloguniform(p.name, log_low, log_high, quantum) if quantum else hp.loguniform(p.name, log_low,
                                                                                                log_high)
    return hp.quniform(p.name, p.low, p.high, quantum) if quantum else hp.uniform(p.name, p.low, p.high)


class HyperoptArm:
    def __init__(self, experiment: Experiment, seed: int):
        self.space = experiment.space
        self.domain = Domain(None, {p.name: expression(p) for p in self.space})
        self.trials = Trials()
        self.algorithm = _algorithm(experiment)
        self.rstate = np.random.default_rng(seed)  # as fmin(rstate=np.random.default_rng(seed))
        self.docs: list[dict] = []

    def ask(self, count: int) -> list[Point]:
        points = []
        for _ in range(count):
            ids = self.trials.new_trial_ids(1)
            self.trials.refresh()
            doc = self.algorithm(ids, self.domain, self.trials, int(self.rstate.integers(2**31 - 1)))[0]
            doc["state"] = JOB_STATE_RUNNING
            self.trials.insert_trial_docs([doc])
            self.trials.refresh()
            # insert_trial_docs stores a copy; fmin's serial loop also writes results into these documents
            self.docs.append(self.trials._dynamic_trials[-1])
            vals = doc["misc"]["vals"]
            points.append({p.name: _value(p, vals[p.name][0]) for p in self.space})
        return points

    def tell(self, results: list[tuple[int, float | None]]) -> None:
        for index, value in results:
            doc = self.docs[index]
            doc["result"] = {"status": STATUS_FAIL} if value is None else {"status": STATUS_OK, "loss": value}
            doc["state"] = JOB_STATE_DONE
        self.trials.refresh()


def _value(p: Parameter, raw) -> object:
    if p.choices:
        return p.choices[int(raw)]
    return p.snap(raw)


def make_arm(experiment: Experiment, seed: int) -> HyperoptArm:
    return HyperoptArm(experiment, seed)
