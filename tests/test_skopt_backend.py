"""The scikit-optimize backend: estimators, lies, determinism, restarts and the time budget."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("skopt")
# short GP fits stop at a bound; the server filters this at import, pytest resets filters per test
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

from conftest import make_experiment  # noqa: E402
from katib_suggestion.backends import skopt_budget  # noqa: E402
from katib_suggestion.backends.skopt_backend import BACKEND, DEGRADED_LABEL  # noqa: E402
from katib_suggestion.backends.skopt_models import CompatibleGBRT, tree_model  # noqa: E402
from katib_suggestion.batch import suggest_unique  # noqa: E402
from katib_suggestion.model import SuggestionRequest, Trial, TrialState  # noqa: E402

ESTIMATORS = ("GP", "RF", "ET", "GBRT")


def request_with(settings=None, *, completed=20, pending=3, failed=0, pruned=0, count=4, seed=5,
                 maximize=False) -> SuggestionRequest:
    experiment = make_experiment("skopt", "bayesianoptimization", settings=settings or {}, maximize=maximize)
    rng = random.Random(3)
    states = ([TrialState.COMPLETED] * completed + [TrialState.FAILED] * failed
              + [TrialState.PRUNED] * pruned + [TrialState.PENDING] * pending)
    history = []
    for index, state in enumerate(states):
        vector = [rng.random() for _ in experiment.space]
        value = sum((u - 0.4) ** 2 for u in vector) if state in (TrialState.COMPLETED, TrialState.PRUNED) else None
        history.append(Trial(f"t-{index}", experiment.space.from_unit(vector), state, value))
    return SuggestionRequest(experiment, tuple(history), count, seed)


def assert_feasible(request, points):
    for point in points:
        for parameter in request.experiment.space:
            text = parameter.format(point[parameter.name])
            assert parameter.format(parameter.parse(text)) == text, (parameter.name, text)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_every_estimator_suggests_from_history(estimator):
    request = request_with({"base_estimator": estimator})
    batch = suggest_unique(BACKEND, request)
    assert len(batch.points) == 4 and batch.fallback == 0
    assert_feasible(request, batch.points)
    keys = [request.experiment.space.key(p) for p in batch.points]
    taken = {request.experiment.space.key(t.params) for t in request.history}
    assert len(set(keys)) == 4 and not set(keys) & taken


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_backend_itself_avoids_pending_points(estimator):
    request = request_with({"base_estimator": estimator}, completed=15, pending=4)
    points = BACKEND.suggest(request).points
    pending = {request.experiment.space.key(t.params) for t in request.history if t.state is TrialState.PENDING}
    keys = [request.experiment.space.key(p) for p in points]
    assert len(set(keys)) == len(keys) and not set(keys) & pending


def test_gbrt_repair_is_a_regressor_that_predicts_std():
    model = tree_model("GBRT", [(0.0, 1.0), (0.0, 1.0)], seed=1)
    X = np.random.RandomState(0).rand(30, 2)
    mean, std = model.fit(X, X.sum(axis=1)).predict(X, return_std=True)
    assert mean.shape == std.shape == (30,) and (std >= 0).all()
    if not hasattr(np, "in1d"):  # the versions we ship need the repair
        assert isinstance(model, CompatibleGBRT)


@pytest.mark.parametrize("estimator", ["RF", "ET"])
def test_our_forests_score_exactly_as_skopts(estimator):
    """The faster spread over trees gives skopt's numbers bit for bit, and again from its cache."""
    from skopt.utils import cook_estimator

    rng = np.random.RandomState(0)
    X, y, candidates = rng.rand(60, 3), rng.rand(60), rng.rand(500, 3)
    stock = cook_estimator(estimator, space=[(0.0, 1.0)] * 3, random_state=4).fit(X, y)
    ours = tree_model(estimator, [(0.0, 1.0)] * 3, seed=4).fit(X, y)
    expected = stock.predict(candidates, return_std=True)
    for _ in range(2):
        got = ours.predict(candidates, return_std=True)
        assert all(np.array_equal(a, b) for a, b in zip(expected, got, strict=True))
    assert np.array_equal(stock.predict(candidates), ours.predict(candidates))


@pytest.mark.parametrize("settings", [{}, {"base_estimator": "RF", "acq_func": "LCB"},
                                      {"acq_optimizer": "sampling", "acq_func": "EI"}])
def test_same_request_same_answer(settings):
    request = request_with(settings)
    assert BACKEND.suggest(request).points == BACKEND.suggest(request).points


def test_seed_changes_the_answer():
    request = request_with()
    assert BACKEND.suggest(request).points != BACKEND.suggest(replace(request, seed=6)).points


_FRESH = """
import json, sys
sys.path.insert(0, {tests!r})
from test_skopt_backend import request_with
from katib_suggestion.backends.skopt_backend import BACKEND
print(json.dumps(BACKEND.suggest(request_with({settings!r})).points))
"""


@pytest.mark.parametrize("settings", [{}, {"base_estimator": "GBRT"}])
def test_fresh_process_gives_the_same_answer(settings):
    import pathlib

    code = _FRESH.format(tests=str(pathlib.Path(__file__).parent), settings=settings)
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    here = BACKEND.suggest(request_with(settings)).points
    assert json.loads(output.strip().splitlines()[-1]) == json.loads(json.dumps(here))


@pytest.mark.parametrize("maximize", [False, True])
def test_failed_and_pruned_trials_are_handled(maximize):
    request = request_with(completed=6, failed=5, pruned=4, pending=2, maximize=maximize)
    batch = suggest_unique(BACKEND, request)
    assert len(batch.points) == 4 and batch.fallback == 0
    assert_feasible(request, batch.points)


def test_only_failed_and_pending_trials_give_random_points():
    request = request_with(completed=0, failed=4, pending=2)
    assert len(BACKEND.suggest(request).points) == 4


def test_initial_points_are_random_then_the_model_takes_over():
    early = request_with({"n_initial_points": 30}, completed=10, pending=0)
    late = request_with({"n_initial_points": 0}, completed=10, pending=0)
    assert BACKEND.suggest(early).labels == {} and len(BACKEND.suggest(late).points) == 4


def test_big_history_is_windowed_and_labelled(monkeypatch):
    monkeypatch.setattr(skopt_budget, "GP_MAX_WINDOW", 40)
    request = request_with(completed=60, pending=2)
    proposal = BACKEND.suggest(request)
    assert "history-window" in proposal.labels[DEGRADED_LABEL]
    assert len(proposal.points) == 4


def test_tiny_budget_degrades_instead_of_waiting():
    request = request_with({"time_budget_seconds": 1}, completed=400, pending=0)
    proposal = BACKEND.suggest(request)
    steps = proposal.labels[DEGRADED_LABEL].split(".")
    assert {"hp-window", "candidates", "sampling"} <= set(steps)
    assert len(proposal.points) == 4


def test_the_answer_does_not_depend_on_the_clock(monkeypatch):
    """A busy machine makes a call slower, never its answer different (issue 13, class 11)."""
    import time

    request = request_with({"time_budget_seconds": 1}, pending=2)
    calm = BACKEND.suggest(request)
    clock = iter(range(0, 10**9, 1000))  # every reading of the clock is 1,000 s after the last
    for name in ("monotonic", "perf_counter", "time"):
        monkeypatch.setattr(time, name, lambda: float(next(clock)))
    busy = BACKEND.suggest(request)
    assert busy.points == calm.points and busy.labels == calm.labels


@pytest.mark.parametrize("observations", [10, 500, 1000, 5000])
@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_plans_fit_the_default_budget(estimator, observations):
    shape = skopt_budget.Shape(estimator, dims=24, parameters=24, trials=observations, points=4)
    plan = skopt_budget.plan_for(shape, observations, 0, 4, "lbfgs" if estimator == "GP" else "sampling", 20)
    assert plan.seconds() <= 20 * skopt_budget.SAFETY
    assert plan.window <= (skopt_budget.GP_MAX_WINDOW if estimator == "GP" else skopt_budget.MAX_WINDOW)
    value = skopt_budget.label_value(plan)
    assert value is None or (len(value) <= 63 and value[0].isalnum() and value[-1].isalnum())


_THREADS = """
import json, sys
sys.path.insert(0, {tests!r})
from test_skopt_backend import request_with
from katib_suggestion.backends.skopt_backend import BACKEND
for estimator in ("GP", "RF"):
    request = request_with({{"base_estimator": estimator}}, completed=40, pending=3)
    print(json.dumps(BACKEND.suggest(request).points))
"""


def test_the_answer_does_not_depend_on_the_blas_thread_count():
    """The same request in fresh processes with 1 and 4 BLAS/OpenMP threads: the same bytes.

    A server in a test process (one thread per core) and `katib-suggest serve`
    (OMP_NUM_THREADS=1) answered the same request differently in the last digits.
    """
    import os
    import pathlib

    code = _THREADS.format(tests=str(pathlib.Path(__file__).parent))
    answers = []
    for threads in ("1", "4"):
        env = {**os.environ, **{name: threads for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                              "MKL_NUM_THREADS")}}
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, env=env)
        answers.append(run.stdout)
    assert answers[0] == answers[1] and answers[0].count(b"\n") == 2


def test_a_batch_too_large_for_a_fit_per_point_gets_its_rest_at_random_and_says_so():
    shape = skopt_budget.Shape("RF", dims=6, parameters=6, trials=350, points=1000)
    plan = skopt_budget.plan_for(shape, 350, 0, 1000, "sampling", 20)
    assert plan.seconds() <= 20 * skopt_budget.SAFETY
    assert 1 <= plan.count < 1000 and "random-rest" in plan.degraded
    # the model places as many points as fit, not half of them
    assert replace(plan, count=plan.count + 1).seconds() > 20 * skopt_budget.SAFETY
    # a GP grows by every point told back: its last fit stays within the memory measured
    gp = skopt_budget.plan_for(replace(shape, estimator="GP"), 10, 0, 1000, "lbfgs", budget=10_000)
    assert gp.count == skopt_budget.GP_MAX_MODEL - 10 and "random-rest" in gp.degraded
    # an ordinary batch keeps a model fit per point
    assert skopt_budget.plan_for(skopt_budget.Shape("GP", 6, 6, "gp_hedge", 40, 4), 40, 0, 4, "lbfgs", 20).count == 4


def test_running_trials_count_against_the_window_and_are_cut_to_the_most_recent_half(monkeypatch):
    shape = skopt_budget.Shape("GP", dims=4, parameters=4, trials=900, points=4)
    plan = skopt_budget.plan_for(shape, 300, 600, 4, "sampling", 20)
    assert plan.window + plan.pending <= skopt_budget.GP_MAX_WINDOW and "history-window" in plan.degraded
    assert plan.pending == skopt_budget.GP_MAX_WINDOW // 2
    monkeypatch.setattr(skopt_budget, "GP_MAX_WINDOW", 40)
    proposal = BACKEND.suggest(request_with(completed=30, pending=30))
    assert "history-window" in proposal.labels[DEGRADED_LABEL] and len(proposal.points) == 4


@pytest.mark.filterwarnings("ignore:The objective has been evaluated:UserWarning")  # skopt, on repeats
@pytest.mark.parametrize("estimator", ["GP", "RF"])
def test_a_small_finite_space_is_answered_in_one_round_without_repeats(monkeypatch, estimator):
    """Each round of the core's re-asking spent the whole budget again (issue 22): the backend
    itself replaces repeats by unseen points, so one plan pays for the call."""
    from conftest import FINITE_PARAMETERS

    experiment = make_experiment("skopt", "bayesianoptimization", FINITE_PARAMETERS,
                                 {"base_estimator": estimator, "n_initial_points": 0}, max_trials=24)
    history = tuple(Trial(f"t{i}", experiment.space.point_at(i), TrialState.COMPLETED, float(i % 5))
                    for i in range(0, 24, 3))
    asked = []
    original = BACKEND.suggest
    monkeypatch.setattr(BACKEND, "suggest", lambda request: (asked.append(request.count), original(request))[1])
    batch = suggest_unique(BACKEND, SuggestionRequest(experiment, history, 14, 3))
    keys = {experiment.space.key(p) for p in batch.points}
    assert asked == [14] and batch.fallback == 0
    assert len(keys) == 14 and not keys & {experiment.space.key(t.params) for t in history}
