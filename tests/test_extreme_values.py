"""Extreme but legal numbers keep every model-based algorithm answering (issue 13, classes 3 and 4)."""

from __future__ import annotations

import pytest
from conftest import experiment_doc
from katib_api import api_pb2
from katib_suggestion.pipeline import Suggester
from katib_suggestion.registry import load_backend
from katib_suggestion.wire import experiment_message

# short GP fits stop at a bound; the server filters this at import, pytest resets filters per test
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Start-up settings low enough that the model (not the random phase) answers the second call.
MODELS = [
    *(pytest.param("skopt", "bayesianoptimization", {"base_estimator": e, "n_initial_points": 2}, id=f"skopt-{e}")
      for e in ("GP", "RF", "ET", "GBRT")),
    pytest.param("optuna", "tpe", {"n_startup_trials": 2}, id="optuna-tpe"),
    pytest.param("optuna", "multivariate-tpe", {"n_startup_trials": 2}, id="optuna-multivariate-tpe"),
    pytest.param("optuna", "cmaes", {"popsize": 6}, id="optuna-cmaes"),
    pytest.param("hyperopt", "tpe", {"n_startup_jobs": 2, "n_EI_candidates": 24}, id="hyperopt-tpe"),
    pytest.param("hyperopt", "anneal", {}, id="hyperopt-anneal"),
]
# Metric values as Katib sends them: the largest and smallest finite doubles, both signs, and ordinary ones.
EXTREME_METRICS = ("1e200", "-1e200", "1.7976931348623157e308", "-1.7976931348623157e308", "5e-324", "0.5")


# "a" is wider than float32 (about +-3.4e38) reaches.
SPACE = [{"name": "a", "parameterType": "double", "feasibleSpace": {"min": "-1e39", "max": "1e39"}},
         {"name": "b", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}]


def _drive(backend: str, algorithm: str, settings: dict, space: list[dict], metrics):
    """One suggestion per metric value, each told back as succeeded with it; then the model answers."""
    suggester = Suggester(backend, load_backend(backend))
    experiment = experiment_message(experiment_doc(algorithm, space, settings, max_trials=30, parallel=6))
    trials: list[api_pb2.Trial] = []
    for count in (len(metrics), 2):
        request = api_pb2.GetSuggestionsRequest(experiment=experiment, trials=trials, current_request_number=count,
                                                total_request_number=len(trials) + count)
        reply = suggester.suggest(request, {})
        assert len(reply.parameter_assignments) == count
        for assignment in reply.parameter_assignments:
            trial = api_pb2.Trial(name=f"t{len(trials)}")
            trial.spec.parameter_assignments.assignments.extend(assignment.assignments)
            trial.status.condition = api_pb2.TrialStatus.SUCCEEDED
            trial.status.observation.metrics.add(name="loss", value=metrics[len(trials) % len(metrics)])
            trials.append(trial)
    return [{a.name: float(a.value) for a in t.spec.parameter_assignments.assignments} for t in trials]


@pytest.mark.parametrize(("backend", "algorithm", "settings"), MODELS)
def test_extreme_metric_values_and_bounds_beyond_float32_keep_the_model_answering(backend, algorithm, settings):
    """Metric values up to the largest double overflowed skopt's GP ("Input contains NaN") and
    gp_hedge's gains; bounds beyond float32 overflowed scikit-learn's trees (RF, ET, GBRT)."""
    pytest.importorskip({"skopt": "skopt", "optuna": "optuna", "hyperopt": "hyperopt"}[backend])
    points = _drive(backend, algorithm, settings, SPACE, EXTREME_METRICS)
    assert all(-1e39 <= p["a"] <= 1e39 and 0 <= p["b"] <= 1 for p in points)
    assert len({(p["a"], p["b"]) for p in points}) == len(points)
