"""The library arms of the statelessness-tax benchmark: each library used directly, holding a given history.

A worker process per arm (warm or cold) so each arm's peak memory is its own.
``build`` puts the history into the library as a user would (optuna
``add_trials``, hyperopt trial documents, one skopt ``tell``, the cmaes library
told a generation at a time); ``ask`` asks for ``k`` points, each one left
running so the next differs (optuna's constant liar, hyperopt's running
documents, skopt's ``ask(n_points=k)``). Warm times ``ask`` on a fresh build;
cold times ``build`` and ``ask`` together. Settings are the experiment's,
parsed by our validators, so both sides run the same sampler with the same
numbers.
"""

from __future__ import annotations

import math
import resource
import time
import warnings
from functools import partial

from katib_api import api_pb2 as pb
from katib_suggestion.model import Experiment, Point, Trial, TrialState
from katib_suggestion.pipeline import with_seed
from katib_suggestion.wire import experiment_document, trials_to_history
from katib_validators.experiment import parse_experiment

warnings.filterwarnings("ignore")  # experimental samplers, skopt's repeated-point warning


class OptunaLibrary:
    def __init__(self, experiment: Experiment):
        import optuna
        from katib_suggestion.quality.reference_optuna import distribution

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.optuna, self.experiment = optuna, experiment
        self.distributions = {p.name: distribution(p) for p in experiment.space}

    def _sampler(self):
        samplers, settings = self.optuna.samplers, self.experiment.settings
        seed = settings["random_state"]
        if self.experiment.algorithm == "random":
            return samplers.RandomSampler(seed=seed)
        if self.experiment.algorithm == "sobol":
            return samplers.QMCSampler(qmc_type="sobol", scramble=True, seed=seed)
        return samplers.TPESampler(n_startup_trials=settings["n_startup_trials"], seed=seed,
                                   n_ei_candidates=settings["n_ei_candidates"], constant_liar=True,
                                   multivariate=self.experiment.algorithm == "multivariate-tpe")

    def build(self, history: list[Trial]):
        study = self.optuna.create_study(sampler=self._sampler(),
                                         direction="maximize" if self.experiment.objective.maximize else "minimize")
        study.add_trials([self.optuna.trial.create_trial(params=t.params, distributions=self.distributions,
                                                         value=t.value) for t in history])
        return study

    def ask(self, study, count: int) -> list[Point]:
        return [study.ask(self.distributions).params for _ in range(count)]


class CmaesLibrary:
    """The cmaes library in the unit cube (optuna's CmaEsSampler keeps its state in storage a rebuilt
    study does not have: the library is what a stateless user would drive)."""

    def __init__(self, experiment: Experiment):
        import numpy as np
        from cmaes import CMA
        from katib_validators.cmaes_rules import unit_steps

        self.np, self.cma, self.experiment = np, CMA, experiment
        self.numeric = [p for p in experiment.space if p.is_numeric]
        self.steps = np.array(unit_steps(experiment.settings["sigma"], self.numeric))
        self.popsize = experiment.settings["popsize"] or 4 + math.floor(3 * math.log(len(self.numeric)))

    def build(self, history: list[Trial]):
        np, top, dim = self.np, float(self.steps.max()), len(self.numeric)
        optimizer = self.cma(mean=np.full(dim, 0.5), sigma=top, bounds=np.array([[0.0, 1.0]] * dim),
                             cov=np.diag((self.steps / top) ** 2), population_size=self.popsize,
                             seed=self.experiment.settings["random_state"] % 2**31)
        sign = -1.0 if self.experiment.objective.maximize else 1.0
        solutions = [(np.array([_unit(p, t.params[p.name]) for p in self.numeric]), sign * t.value) for t in history]
        for first in range(0, len(solutions) - self.popsize + 1, self.popsize):
            optimizer.tell(solutions[first:first + self.popsize])
        return optimizer

    def ask(self, optimizer, count: int) -> list:
        return [optimizer.ask() for _ in range(count)]


def _unit(p, value) -> float:
    """A user's own encoding into the unit cube (not ours: speeding ours up must not speed this arm)."""
    if p.is_log:
        return (math.log(value) - math.log(p.low)) / (math.log(p.high) - math.log(p.low))
    if p.kind.value == "int":
        return (value - p.low + 0.5) / (p.high - p.low + 1)
    return (value - p.low) / (p.high - p.low)


class HyperoptLibrary:
    def __init__(self, experiment: Experiment):
        import hyperopt
        from katib_suggestion.quality.reference_hyperopt import _algorithm, expression

        self.hyperopt, self.experiment = hyperopt, experiment
        self.expressions = {p.name: expression(p) for p in experiment.space}
        self.algorithm = _algorithm(experiment)

    def build(self, history: list[Trial]):
        hyperopt, sign = self.hyperopt, -1.0 if self.experiment.objective.maximize else 1.0
        trials, domain = hyperopt.Trials(), hyperopt.Domain(None, self.expressions)
        tids = list(range(len(history)))
        miscs = [{"tid": tid, "cmd": None, "workdir": None, "idxs": {p.name: [tid] for p in self.experiment.space},
                  "vals": {p.name: [self._internal(p, t.params[p.name])] for p in self.experiment.space}}
                 for tid, t in zip(tids, history, strict=True)]
        results = [{"loss": sign * t.value, "status": hyperopt.STATUS_OK} for t in history]
        docs = trials.new_trial_docs(tids, [None] * len(history), results, miscs)
        for doc in docs:
            doc["state"] = hyperopt.JOB_STATE_DONE
        trials.insert_trial_docs(docs)
        trials.refresh()
        return trials, domain

    @staticmethod
    def _internal(parameter, value):
        return parameter.choices.index(value) if parameter.choices else value

    def ask(self, built, count: int) -> list:
        trials, domain = built
        seed = self.experiment.settings["random_state"] % 2**31
        points = []
        for index in range(count):
            ids = trials.new_trial_ids(1)
            doc = self.algorithm(ids, domain, trials, seed + index)[0]
            doc["state"] = self.hyperopt.JOB_STATE_RUNNING
            trials.insert_trial_docs([doc])
            trials.refresh()
            points.append(doc["misc"]["vals"])
        return points


class SkoptLibrary:
    def __init__(self, experiment: Experiment):
        from katib_suggestion.quality.reference_skopt import dimension
        from skopt import Optimizer

        settings = experiment.settings
        self.experiment = experiment
        self.new = partial(Optimizer, [dimension(p) for p in experiment.space],
                           base_estimator=settings["base_estimator"], n_initial_points=settings["n_initial_points"],
                           acq_func=settings["acq_func"], acq_optimizer=settings["acq_optimizer"],
                           random_state=settings["random_state"] % 2**31)

    def build(self, history: list[Trial]):
        optimizer, sign = self.new(), -1.0 if self.experiment.objective.maximize else 1.0
        optimizer.tell([[t.params[p.name] for p in self.experiment.space] for t in history],
                       [sign * t.value for t in history])
        return optimizer

    def ask(self, optimizer, count: int) -> list:
        return [optimizer.ask()] if count == 1 else optimizer.ask(n_points=count)


def library(backend: str, experiment: Experiment):
    if backend == "skopt":
        return SkoptLibrary(experiment)
    if backend == "hyperopt":
        return HyperoptLibrary(experiment)
    return CmaesLibrary(experiment) if experiment.algorithm == "cmaes" else OptunaLibrary(experiment)


def _cpu() -> float:
    return time.process_time()


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(connection, backend: str, request_bytes: bytes, mode: str) -> None:
    """Serve ``(k)`` messages with ``(wall s, CPU s)`` of one warm or cold ask; None ends it with the peak."""
    request = pb.GetSuggestionsRequest.FromString(request_bytes)
    experiment, problems = parse_experiment(experiment_document(request.experiment), backend)
    assert not problems, [str(p) for p in problems]
    experiment = with_seed(experiment)
    history = [t for t in trials_to_history(request.trials, experiment.space, experiment.objective).trials
               if t.state is TrialState.COMPLETED]
    arm = library(backend, experiment)
    while (count := connection.recv()) is not None:
        built = arm.build(history) if mode == "warm" else None
        wall, cpu = time.perf_counter(), _cpu()
        arm.ask(built if built is not None else arm.build(history), count)
        connection.send((time.perf_counter() - wall, _cpu() - cpu))
    connection.send(peak_mib())
