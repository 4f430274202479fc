"""TPE, multivariate TPE and random search: optuna samplers over a replayed history."""

from __future__ import annotations

import warnings

import optuna
from katib_suggestion.backends.optuna_space import SpaceCodec
from katib_suggestion.cancellation import checkpoint
from katib_suggestion.model import Proposal, SuggestionRequest, Trial, TrialState
from optuna.trial import TrialState as OptunaState
from optuna.trial import create_trial

optuna.logging.set_verbosity(optuna.logging.WARNING)
# multivariate TPE is stable in practice but still flagged experimental
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def _tpe(request: SuggestionRequest, multivariate: bool) -> optuna.samplers.BaseSampler:
    settings = request.experiment.settings
    return optuna.samplers.TPESampler(
        n_startup_trials=settings["n_startup_trials"],
        n_ei_candidates=settings["n_ei_candidates"],
        seed=request.seed,
        multivariate=multivariate,
        # Pending trials count as bad guesses, so a batch spreads out. Measured at
        # parallelism 4, 10 seeds, sum over 6 problems (branin, hartmann6, rosenbrock4,
        # training-run, boosting-run, svm-digits) of the mean normalised final regret:
        # TPE 0.74 with the liar, 1.07 without; optuna used directly 1.03, with the liar
        # 0.87. Multivariate TPE 0.62 with, 0.64 without; optuna directly 0.64 / 0.65.
        constant_liar=True,
    )


SAMPLERS = {
    "tpe": lambda request: _tpe(request, multivariate=False),
    "multivariate-tpe": lambda request: _tpe(request, multivariate=True),
    "random": lambda request: optuna.samplers.RandomSampler(seed=request.seed),
}


def sample(request: SuggestionRequest) -> Proposal:
    """Replay the history into a fresh in-memory study, then ask ``count`` times."""
    experiment = request.experiment
    codec = SpaceCodec(experiment.space)
    study = optuna.create_study(
        sampler=SAMPLERS[experiment.algorithm](request),
        direction="maximize" if experiment.objective.maximize else "minimize",
    )
    study.add_trials([_replayed(t, codec) for t in request.history])
    points = []
    for _ in range(request.count):
        checkpoint()
        # asked trials stay RUNNING, so the constant liar sees the batch so far
        points.append(codec.from_optuna(study.ask(codec.distributions).params))
    return Proposal(points)


_STATES = {TrialState.PENDING: OptunaState.RUNNING, TrialState.FAILED: OptunaState.FAIL}


class _ReplayedTrial(optuna.trial.FrozenTrial):
    """A history trial: the in-memory storage deep-copies every added trial (over half
    of a 1,000-trial call), but nothing ever mutates these, so a copy can be the trial."""

    def __deepcopy__(self, memo):
        return self


def _replayed(trial: Trial, codec: SpaceCodec) -> optuna.trial.FrozenTrial:
    frozen = _frozen(trial, codec.to_optuna(trial.params), codec.distributions)
    frozen.__class__ = _ReplayedTrial
    return frozen


def _frozen(trial: Trial, params, distributions) -> optuna.trial.FrozenTrial:
    if trial.state is TrialState.COMPLETED:
        return create_trial(params=params, distributions=distributions, value=trial.value)
    if trial.state is TrialState.PRUNED:
        # the last observation, ranked below every completed trial by TPE
        return create_trial(params=params, distributions=distributions, state=OptunaState.PRUNED,
                            intermediate_values={0: trial.value})
    return create_trial(params=params, distributions=distributions, state=_STATES[trial.state])
