"""optuna used directly: one study per run, the same sampler and settings, ask/tell.

Samplers are built as a user would build them, with optuna's defaults for
everything the algorithm's settings do not name (so TPE runs without
``constant_liar``: what optuna does with running trials is part of the
reference). Where our algorithm has no optuna sampler in the same form, the
closest honest one stands in: grid -> GridSampler over the same values,
sobol -> QMCSampler(sobol, scrambled), cmaes -> CmaEsSampler, and cmaes with
``restart_strategy: ipop`` (which optuna 5 ignores) -> the cmaes library with
IPOP restarts (reference_cmaes). ``sigma`` is goptuna's (absolute, in each
parameter's units): CmaEsSampler takes one step for all parameters in the unit
cube, so when the steps differ per parameter the cmaes library (which takes a
covariance) stands in. ``bipop`` has no direct reference here: the reference
runs without restarts, and the report says so.
"""

from __future__ import annotations

import warnings

import optuna
from katib_suggestion.model import Experiment, Kind, Parameter, Point
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _tpe(experiment: Experiment, seed: int, multivariate: bool) -> optuna.samplers.BaseSampler:
    settings = experiment.settings
    return optuna.samplers.TPESampler(n_startup_trials=settings["n_startup_trials"],
                                      n_ei_candidates=settings["n_ei_candidates"], seed=seed,
                                      multivariate=multivariate)


def _grid(experiment: Experiment, seed: int) -> optuna.samplers.BaseSampler:
    values = {p.name: [p.value_at(i) for i in range(p.cardinality())] for p in experiment.space}
    return optuna.samplers.GridSampler(values, seed=seed)


def _cmaes(experiment: Experiment, seed: int) -> optuna.samplers.BaseSampler:
    settings = experiment.settings
    with warnings.catch_warnings():  # sigma0 is deprecated in optuna 5 but still honoured
        warnings.simplefilter("ignore", FutureWarning)
        # lists are sampled at random by its independent sampler (as ours does); no warning per trial
        return optuna.samplers.CmaEsSampler(sigma0=_unit_steps(experiment)[0], popsize=settings["popsize"], seed=seed,
                                            warn_independent_sampling=False)


SAMPLERS = {
    "tpe": lambda experiment, seed: _tpe(experiment, seed, multivariate=False),
    "multivariate-tpe": lambda experiment, seed: _tpe(experiment, seed, multivariate=True),
    "random": lambda experiment, seed: optuna.samplers.RandomSampler(seed=seed),
    "grid": _grid,
    "sobol": lambda experiment, seed: optuna.samplers.QMCSampler(qmc_type="sobol", scramble=True, seed=seed),
    "cmaes": _cmaes,
}

_CALLS = {
    "tpe": "TPESampler(n_startup_trials, n_ei_candidates, seed)",
    "multivariate-tpe": "TPESampler(multivariate=True, n_startup_trials, n_ei_candidates, seed)",
    "random": "RandomSampler(seed)",
    "grid": "GridSampler(the same grid values, seed)",
    "sobol": "QMCSampler(qmc_type='sobol', scramble=True, seed)",
    "cmaes": "CmaEsSampler(sigma0, popsize, seed)",
}


def describe(algorithm: str, settings: dict) -> str:
    if algorithm == "cmaes" and settings.get("restart_strategy") == "ipop":
        from katib_suggestion.quality.reference_cmaes import DESCRIPTION

        return DESCRIPTION
    if algorithm == "cmaes" and settings.get("restart_strategy") == "bipop":
        return f"optuna {optuna.__version__}: one study, {_CALLS[algorithm]}, ask/tell (no BIPOP restarts: closest)"
    if algorithm == "cmaes" and settings.get("sigma"):
        from katib_suggestion.quality.reference_cmaes import PLAIN

        return f"{PLAIN} where sigma gives parameters different steps, else optuna's CmaEsSampler"
    return f"optuna {optuna.__version__}: one study, {_CALLS[algorithm]}, ask/tell"


def distribution(p: Parameter) -> BaseDistribution:
    """The distribution a user would write for this parameter (suggest_float/int/categorical)."""
    if p.choices:
        return CategoricalDistribution(p.choices)
    step = None if p.is_log else p.step
    if p.kind is Kind.INT:
        return IntDistribution(int(p.low), int(p.high), log=p.is_log, step=int(step or 1))
    return FloatDistribution(p.low, p.high, log=p.is_log, step=step)


class OptunaArm:
    def __init__(self, experiment: Experiment, seed: int):
        self.space = experiment.space
        self.grid = experiment.algorithm == "grid"
        with warnings.catch_warnings():  # QMCSampler and multivariate TPE are flagged experimental
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = SAMPLERS[experiment.algorithm](experiment, seed)
        self.study = optuna.create_study(sampler=sampler)
        self.distributions = {p.name: distribution(p) for p in self.space}
        self.trials: list[optuna.trial.Trial] = []

    def ask(self, count: int) -> list[Point]:
        points = []
        for _ in range(count):
            trial = self.study.ask(self.distributions)
            self.trials.append(trial)
            points.append({p.name: _value(p, trial.params[p.name]) for p in self.space})
        return points

    def tell(self, results: list[tuple[int, float | None]]) -> None:
        for index, value in results:
            try:
                if value is None:
                    self.study.tell(self.trials[index], state=TrialState.FAIL)
                else:
                    self.study.tell(self.trials[index], value)
            except RuntimeError:
                # GridSampler raises once the grid is complete, after storing the trial (stack-facts.md)
                if not self.grid:
                    raise


def _value(p: Parameter, raw) -> object:
    return raw if p.choices else p.snap(raw)


def make_arm(experiment: Experiment, seed: int):
    if experiment.algorithm == "cmaes" and (experiment.settings.get("restart_strategy") == "ipop"
                                            or len(set(_unit_steps(experiment))) > 1):
        from katib_suggestion.quality.reference_cmaes import CmaesIpopArm

        return CmaesIpopArm(experiment, seed, restarts=experiment.settings.get("restart_strategy") == "ipop")
    return OptunaArm(experiment, seed)


def _unit_steps(experiment: Experiment) -> list[float]:
    from katib_validators.cmaes_rules import unit_steps

    return unit_steps(experiment.settings.get("sigma"), [p for p in experiment.space if p.is_numeric])
