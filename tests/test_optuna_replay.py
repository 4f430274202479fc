"""The replayed optuna study is the one create_trial + add_trials would build: pinned against optuna itself.

The replay skips optuna's per-trial checks and its search-space scan; these
tests fail when an optuna upgrade changes what those shortcuts stand in for.
"""

from __future__ import annotations

import optuna
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from katib_suggestion.backends.optuna_replay import REPLAYED_AT, relative_search_space, replayed, study_with
from katib_suggestion.backends.optuna_space import SpaceCodec
from katib_suggestion.model import Trial, TrialState
from katib_suggestion.testing.requests import MIXED_PARAMETERS, make_experiment
from optuna.trial import TrialState as OptunaState

EXPERIMENT = make_experiment("optuna", "multivariate-tpe", MIXED_PARAMETERS + [
    {"name": "fixed", "parameterType": "int", "feasibleSpace": {"min": "2", "max": "2"}}])
CODEC = SpaceCodec(EXPERIMENT.space)

histories = st.lists(st.tuples(st.sampled_from(list(TrialState)),
                               st.lists(st.floats(0, 1), min_size=len(EXPERIMENT.space),
                                        max_size=len(EXPERIMENT.space)),
                               st.sampled_from([0.0, 1.0, -2.5]) | st.floats(-1e6, 1e6)),  # ties for the best
                     max_size=25)


def _history(rows) -> list[Trial]:
    return [Trial(f"t{i}", EXPERIMENT.space.from_unit(unit), state,
                  value if state in (TrialState.COMPLETED, TrialState.PRUNED) else None)
            for i, (state, unit, value) in enumerate(rows)]


def _by_optuna(trial: Trial) -> optuna.trial.FrozenTrial:
    """What the replay stood for before: optuna's own create_trial."""
    params, distributions = CODEC.to_optuna(trial.params), CODEC.distributions
    if trial.state is TrialState.COMPLETED:
        return optuna.trial.create_trial(params=params, distributions=distributions, value=trial.value)
    if trial.state is TrialState.PRUNED:
        return optuna.trial.create_trial(params=params, distributions=distributions, state=OptunaState.PRUNED,
                                         intermediate_values={0: trial.value})
    state = OptunaState.RUNNING if trial.state is TrialState.PENDING else OptunaState.FAIL
    return optuna.trial.create_trial(params=params, distributions=distributions, state=state)


def _fields(trial: optuna.trial.FrozenTrial) -> dict:
    fields = dict(vars(trial))
    for name in ("_datetime_start", "datetime_complete"):
        fields[name] = fields[name] is not None  # the clock's time there, ours fixed
    return fields


@settings(max_examples=60, deadline=None)
@given(histories)
def test_each_replayed_trial_is_what_create_trial_makes_and_passes_optunas_check(rows):
    for trial in _history(rows):
        ours = replayed(trial, CODEC, CODEC.distributions)
        ours._validate()  # optuna's own check, which the replay skips: a new rule in it fails here
        assert _fields(ours) == _fields(_by_optuna(trial))
        assert ours.datetime_start == REPLAYED_AT


def _storage_state(study: optuna.Study) -> dict:
    """Every table of the in-memory storage, trials by their fields: what the replay writes directly."""
    storage = study._storage
    state = {name: value for name, value in vars(storage).items() if name not in ("_lock", "_studies")}
    state["_study_name_to_id"] = sorted(state["_study_name_to_id"].values())  # names are random
    state["_studies"] = {study_id: {**vars(info), "trials": [_fields(t) for t in info.trials], "name": None}
                         for study_id, info in storage._studies.items()}
    return state


TIED = [(TrialState.FAILED, [0.1] * 7, 0.0), (TrialState.COMPLETED, [0.5] * 7, 1.0),
        (TrialState.COMPLETED, [0.2] * 7, 1.0)]


@settings(max_examples=40, deadline=None)
@given(histories, st.booleans())
@example(TIED, False)
@example(TIED, True)
def test_the_storage_holds_what_add_trials_would_store(rows, maximize):
    history = _history(rows)
    ours = study_with(history, CODEC, optuna.samplers.RandomSampler(seed=0), maximize)
    theirs = optuna.create_study(direction="maximize" if maximize else "minimize")
    theirs.add_trials([_by_optuna(t) for t in history])
    assert _storage_state(ours) == _storage_state(theirs)
    assert [_fields(t) for t in ours.trials] == [_fields(t) for t in theirs.trials]
    if any(t.state is TrialState.COMPLETED for t in history):
        assert ours.best_trial.number == theirs.best_trial.number


@settings(max_examples=60, deadline=None)
@given(histories)
def test_multivariate_tpe_is_given_the_space_optuna_infers(rows):
    history = _history(rows)
    sampler = optuna.samplers.TPESampler(multivariate=True, seed=0)
    study = study_with(history, CODEC, sampler, maximize=False)
    asked = study.ask()  # the trial TPE infers the space for
    inferred = sampler.infer_relative_search_space(study, asked)
    ours = relative_search_space(history, CODEC)
    assert ours == inferred
    assert list(ours) == list(inferred)  # the order decides which random draws go where


@pytest.mark.parametrize("algorithm", ["tpe", "multivariate-tpe"])
def test_tpe_multivariate_only_when_asked(algorithm):
    """optuna 5 makes TPE multivariate by default for one objective: ours must say which it is."""
    from katib_suggestion.backends.optuna_samplers import SAMPLERS
    from katib_suggestion.model import SuggestionRequest

    request = SuggestionRequest(make_experiment("optuna", algorithm), (), 1, seed=1)
    sampler = SAMPLERS[algorithm](request, SpaceCodec(request.experiment.space))
    study = optuna.create_study()
    assert sampler._is_multivariate(study) is (algorithm == "multivariate-tpe")  # pinned on purpose
