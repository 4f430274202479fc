"""The hyperopt backend: batches without repeats, seeded determinism, history states, settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import experiment_doc, make_experiment
from hypothesis import given, settings
from hypothesis import strategies as st
from katib_suggestion.backends.hyperopt_backend import BACKEND
from katib_suggestion.backends.hyperopt_replay import losses
from katib_suggestion.model import SuggestionRequest, Trial, TrialState
from katib_validators.catalog import served_by
from katib_validators.experiment import parse_experiment

ALGORITHMS = ("tpe", "random", "anneal")
TESTS = Path(__file__).parent
# 3 x 10 x 2 = 60 points: small enough that a careless batch repeats itself
SMALL = [
    {"name": "dropout", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "0.3", "step": "0.1"}},
    {"name": "layers", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "10"}},
    {"name": "optimizer", "parameterType": "categorical", "feasibleSpace": {"list": ["sgd", "adam"]}},
]


def history_of(experiment, completed: int, pending: int, seed: int = 11) -> tuple[Trial, ...]:
    """Distinct prior points; the first ``completed`` have results, the next ``pending`` are running."""
    start = replace(experiment, algorithm="random")
    points = BACKEND.suggest(SuggestionRequest(start, (), completed + pending, seed)).points
    return tuple(
        Trial(f"t{i}", point, TrialState.COMPLETED, float((i * 7) % 5)) if i < completed
        else Trial(f"t{i}", point, TrialState.PENDING)
        for i, point in enumerate(points)
    )


def keys(experiment, points) -> list[tuple[str, ...]]:
    return [experiment.space.key(p) for p in points]


@settings(max_examples=40, deadline=None)
@given(algorithm=st.sampled_from(ALGORITHMS), completed=st.integers(6, 16), pending=st.integers(0, 4),
       count=st.integers(1, 8), seed=st.integers(0, 2**32 - 1))
def test_a_batch_never_repeats_itself_or_a_trial_once_tpe_models(algorithm, completed, pending, count, seed):
    settings_ = {"n_startup_jobs": 5} if algorithm == "tpe" else {}
    experiment = make_experiment("hyperopt", algorithm, SMALL, settings_, max_trials=60)
    history = history_of(experiment, completed, pending)
    points = BACKEND.suggest(SuggestionRequest(experiment, history, count, seed)).points
    assert len(points) == count
    new = keys(experiment, points)
    assert len(set(new)) == count
    assert not set(new) & set(keys(experiment, [t.params for t in history]))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_failed_and_pending_points_are_never_suggested_again(algorithm):
    doc = [{"name": "c", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "b", "c"]}}]
    settings_ = {"n_startup_jobs": 0} if algorithm == "tpe" else {}
    experiment = make_experiment("hyperopt", algorithm, doc, settings_, max_trials=3, parallel=1)
    history = (Trial("t0", {"c": "a"}, TrialState.FAILED), Trial("t1", {"c": "b"}, TrialState.PENDING))
    for seed in range(5):
        assert BACKEND.suggest(SuggestionRequest(experiment, history, 1, seed)).points == [{"c": "c"}]


def test_losses_rank_pruned_below_completed_and_lie_about_open_points():
    history = (
        Trial("done-good", {}, TrialState.COMPLETED, 1.0),
        Trial("done-bad", {}, TrialState.COMPLETED, 5.0),
        Trial("pruned-good", {}, TrialState.PRUNED, 0.5),  # looked great when it was stopped
        Trial("pruned-awful", {}, TrialState.PRUNED, 9.0),
        Trial("failed", {}, TrialState.FAILED),
        Trial("running", {}, TrialState.PENDING),
    )
    values, liar = losses(history, maximize=False)
    assert values == [1.0, 5.0, 5.0, 9.0, 9.0, 9.0] and liar == 9.0
    values, liar = losses(history, maximize=True)  # hyperopt minimises: values are negated
    assert values == [-1.0, -5.0, -0.5, -1.0, -0.5, -0.5] and liar == -0.5


def test_pruned_trials_keep_their_own_value_when_nothing_has_completed():
    history = (Trial("p", {}, TrialState.PRUNED, 2.0), Trial("r", {}, TrialState.PENDING))
    assert losses(history, maximize=False) == ([2.0, 2.0], 2.0)
    assert losses((Trial("r", {}, TrialState.PENDING),), maximize=False) == ([0.0], 0.0)


def test_every_state_replays_and_answers():
    experiment = make_experiment("hyperopt", "tpe", None, {"n_startup_jobs": 0})
    history = list(history_of(experiment, 8, 2))
    history[0] = Trial("f", history[0].params, TrialState.FAILED)
    history[1] = Trial("p", history[1].params, TrialState.PRUNED, -3.0)
    points = BACKEND.suggest(SuggestionRequest(experiment, tuple(history), 4, 5)).points
    assert len(set(keys(experiment, points))) == 4


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_same_request_same_answer_and_the_seed_matters(algorithm):
    experiment = make_experiment("hyperopt", algorithm, None, {"n_startup_jobs": 4} if algorithm == "tpe" else {})
    history = history_of(experiment, 10, 3)
    ask = SuggestionRequest(experiment, history, 4, seed=99)
    assert BACKEND.suggest(ask).points == BACKEND.suggest(ask).points
    other = SuggestionRequest(experiment, history, 4, seed=100)
    assert BACKEND.suggest(other).points != BACKEND.suggest(ask).points


def test_tpe_draws_from_the_prior_until_n_startup_jobs_then_models():
    tpe = make_experiment("hyperopt", "tpe", None, {"n_startup_jobs": 20})
    rand = make_experiment("hyperopt", "random")
    history = history_of(tpe, 12, 4)
    ask = SuggestionRequest(tpe, history, 3, seed=7)
    assert BACKEND.suggest(ask).points == BACKEND.suggest(SuggestionRequest(rand, history, 3, seed=7)).points
    modelling = make_experiment("hyperopt", "tpe", None, {"n_startup_jobs": 10})
    assert BACKEND.suggest(SuggestionRequest(modelling, history, 3, seed=7)).points != BACKEND.suggest(ask).points


FRESH_PROCESS = """
import json, sys
sys.path.insert(0, sys.argv[1])
from test_hyperopt_backend import BACKEND, fresh_request
print(json.dumps(BACKEND.suggest(fresh_request()).points))
"""


def fresh_request() -> SuggestionRequest:
    experiment = make_experiment("hyperopt", "tpe", None, {"n_startup_jobs": 5, "random_state": 3})
    return SuggestionRequest(experiment, history_of(experiment, 9, 3), 4, seed=1234)


def test_a_fresh_process_gives_the_same_answer():
    run = subprocess.run([sys.executable, "-c", FRESH_PROCESS, str(TESTS)], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONHASHSEED": "77"})
    assert json.loads(run.stdout) == BACKEND.suggest(fresh_request()).points


LAZY = """
import sys
import katib_suggestion.pipeline, katib_suggestion.registry, katib_suggestion.server, katib_validators.catalog
assert "hyperopt" not in sys.modules, "hyperopt imported before the backend was asked for"
from katib_suggestion.registry import load_backend
backend = load_backend("hyperopt")
from katib_suggestion.testing.requests import make_experiment
from katib_suggestion.model import SuggestionRequest
backend.suggest(SuggestionRequest(make_experiment("hyperopt", "tpe", None, {"n_startup_jobs": 0}), (), 2, seed=1))
assert "scipy.stats" not in sys.modules and "hyperopt.atpe_models" not in sys.modules
assert "networkx" not in sys.modules and "scipy.special" not in sys.modules  # ~18 MiB hyperopt never needs
import hyperopt
assert callable(hyperopt.atpe.suggest)  # still reachable, imported on first use
print("ok")
"""


def test_hyperopt_is_imported_only_by_its_backend_and_without_atpe():
    run = subprocess.run([sys.executable, "-c", LAZY], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr


@pytest.mark.parametrize("name", ["tpe", "hyperopt-tpe", "random", "hyperopt-random", "anneal", "hyperopt-anneal"])
def test_every_name_selects_its_algorithm(name):
    assert served_by("hyperopt")[name].key == name.removeprefix("hyperopt-")


GOOD = [
    ("tpe", {"gamma": "0.5", "prior_weight": "2", "n_EI_candidates": "10", "random_state": "4"}),  # upstream's
    ("tpe", {"n_startup_jobs": "0", "gamma": "0.01"}),
    ("hyperopt-tpe", {"n_ei_candidates": "5", "n_startup_trials": "3"}),  # optuna's spelling
    ("random", {"random_state": "0"}),
    ("anneal", {"avg_best_idx": "1", "shrink_coef": "0"}),
]
BAD = [
    ("tpe", {"gamma": "0"}, "gamma"), ("tpe", {"gamma": "1"}, "gamma"), ("tpe", {"gamma": "x"}, "gamma"),
    ("tpe", {"prior_weight": "0"}, "prior_weight"), ("tpe", {"n_EI_candidates": "0"}, "n_EI_candidates"),
    ("tpe", {"n_EI_candidates": "2.5"}, "n_EI_candidates"), ("tpe", {"n_startup_jobs": "-1"}, "n_startup_jobs"),
    ("tpe", {"random_state": "-1"}, "random_state"), ("random", {"gamma": "0.2"}, "unknown setting"),
    ("anneal", {"avg_best_idx": "0.5"}, "avg_best_idx"), ("anneal", {"shrink_coef": "-0.1"}, "shrink_coef"),
]


@pytest.mark.parametrize(("algorithm", "values"), GOOD)
def test_settings_accepted(algorithm, values):
    experiment, problems = parse_experiment(experiment_doc(algorithm, settings=values), "hyperopt")
    assert not problems, [str(p) for p in problems]
    given = {served_by("hyperopt")[algorithm].schema.lookup(name).name for name in values}
    defaults = {"tpe": {"gamma": 0.25, "prior_weight": 1.0, "n_EI_candidates": 24, "n_startup_jobs": 20},
                "anneal": {"avg_best_idx": 2.0, "shrink_coef": 0.1}}
    for name, default in defaults.get(experiment.algorithm, {}).items():
        assert experiment.settings[name] == (default if name not in given else experiment.settings[name])
    if "n_ei_candidates" in values:  # an alias fills the canonical setting
        assert experiment.settings["n_EI_candidates"] == int(values["n_ei_candidates"])


@pytest.mark.parametrize(("algorithm", "values", "mentioned"), BAD)
def test_settings_rejected_with_the_reason(algorithm, values, mentioned):
    _, problems = parse_experiment(experiment_doc(algorithm, settings=values), "hyperopt")
    assert len(problems) == 1 and mentioned in str(problems[0])
