"""The request's history as optuna trials in a fresh in-memory study, built without optuna's per-trial checks."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import optuna
from katib_suggestion.backends.optuna_space import SpaceCodec
from katib_suggestion.model import Trial, TrialState
from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial
from optuna.trial import TrialState as OptunaState

_STATES = {TrialState.COMPLETED: OptunaState.COMPLETE, TrialState.PRUNED: OptunaState.PRUNED,
           TrialState.PENDING: OptunaState.RUNNING, TrialState.FAILED: OptunaState.FAIL}
# Replayed trials carry this start (and, when finished, completion) time instead of the clock's:
# no sampler reads it, and an answer must not depend on when the call came.
REPLAYED_AT = datetime.datetime(2000, 1, 1)


def study_with(history: Sequence[Trial], codec: SpaceCodec, sampler: optuna.samplers.BaseSampler,
               maximize: bool) -> optuna.Study:
    """A study holding ``history``, as ``create_trial`` + ``add_trials`` would build it, without their cost.

    Both validate every trial (twice in all) and rebuild its distributions, which
    took most of a 5,000-trial call; our parser has already proven every value
    feasible, and the storage would deep-copy each one (over half of a 1,000-trial
    call) although nothing ever changes them. tests/test_optuna_replay.py pins the
    trials equal to create_trial's and valid by optuna's own check, and the storage
    equal to what add_trials leaves, so an optuna upgrade that changes either fails there.
    """
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage, sampler=sampler, direction="maximize" if maximize else "minimize")
    distributions = codec.distributions
    _store(storage, storage.get_study_id_from_name(study.study_name),
           [replayed(trial, codec, distributions) for trial in history], maximize)
    return study


def _store(storage: optuna.storages.InMemoryStorage, study_id: int, trials: list[FrozenTrial], maximize: bool) -> None:
    """What ``create_new_trial(template_trial=...)`` does for each trial (number, id, index, best
    trial), in one pass over the in-memory storage's own tables: it costs as much again per trial as
    building the trial. tests/test_optuna_replay.py pins the storage's whole state to add_trials'."""
    with storage._lock:  # the in-memory storage's own tables, pinned by the tests
        info = storage._studies[study_id]
        index = storage._trial_id_to_study_id_and_number
        trial_id = storage._max_trial_id
        for trial in trials:
            trial_id += 1
            trial.number, trial._trial_id = len(info.trials), trial_id
            index[trial_id] = (study_id, trial.number)
            info.trials.append(trial)
        storage._max_trial_id = trial_id
        completed = [t for t in trials if t.state is OptunaState.COMPLETE]
        if completed and info.best_trial_id is None:  # the first of the best, as optuna keeps it
            info.best_trial_id = (max if maximize else min)(completed, key=_value)._trial_id


def _value(trial: FrozenTrial) -> float:
    return trial.value


def replayed(trial: Trial, codec: SpaceCodec, distributions: dict[str, BaseDistribution]) -> FrozenTrial:
    """What ``create_trial`` makes of a history trial (a PRUNED one keeps its last observation, which
    TPE ranks below every completed trial)."""
    state = _STATES[trial.state]
    pruned = state is OptunaState.PRUNED
    return FrozenTrial(number=-1, trial_id=-1, state=state, value=trial.value if state is OptunaState.COMPLETE
                          else None, datetime_start=REPLAYED_AT, datetime_complete=REPLAYED_AT
                          if state.is_finished() else None, params=codec.to_optuna(trial.params),
                          distributions=distributions, user_attrs={}, system_attrs={},
                          intermediate_values={0: trial.value} if pruned else {})


def relative_search_space(history: Sequence[Trial], codec: SpaceCodec) -> dict[str, BaseDistribution]:
    """The search space multivariate TPE infers from a replayed study, without scanning its trials.

    optuna intersects the distributions of every finished (complete or pruned)
    trial, sorted by name, leaving out single-valued ones; all our trials share
    one set of distributions, so that is the space itself once any trial has
    finished, and nothing before.
    """
    if not any(t.state in (TrialState.COMPLETED, TrialState.PRUNED) for t in history):
        return {}
    return {name: d for name, d in sorted(codec.distributions.items()) if not d.single()}
