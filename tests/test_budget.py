"""The call budget: settings ranges, what Validate rejects, and the plan of a call (pure functions)."""

from __future__ import annotations

import threading
import warnings
from concurrent.futures import CancelledError

import pytest
from katib_suggestion.budgeted import DEGRADED_LABEL, degraded_labels, window
from katib_suggestion.errors import ServerBusy
from katib_suggestion.model import SuggestionRequest, Trial, TrialState
from katib_suggestion.registry import load_backend
from katib_suggestion.scheduler import KEY_WAITING, WAITING_BYTES, FairExecutor
from katib_validators.budget import MAX_CANDIDATES, MIN_WINDOW, Plan, plan
from katib_validators.catalog import ALGORITHMS
from katib_validators.costs import COSTS, dry_run_fits
from katib_validators.experiment import parse_experiment


def document(algorithm="tpe", settings=(), doubles=2, values=0, parameters=None):
    params = parameters or [{"name": f"x{i}", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}
                            for i in range(doubles)]
    if values:
        params.append({"name": "c", "parameterType": "categorical",
                       "feasibleSpace": {"list": [f"v{i}" for i in range(values)]}})
    return {"metadata": {"name": "budget"}, "spec": {
        "parameters": params, "objective": {"type": "minimize", "objectiveMetricName": "loss"},
        "algorithm": {"algorithmName": algorithm, "algorithmSettings": [{"name": k, "value": v} for k, v in settings]},
        "maxTrialCount": 100, "parallelTrialCount": 4}}


def problems_of(backend, **kwargs):
    return [str(p) for p in parse_experiment(document(**kwargs), backend)[1]]


@pytest.mark.parametrize(("backend", "name"), [("optuna", "n_ei_candidates"), ("hyperopt", "n_EI_candidates")])
def test_candidates_have_a_ceiling_with_its_reason(backend, name):
    assert problems_of(backend, settings=[(name, str(MAX_CANDIDATES))]) == []
    found = problems_of(backend, settings=[(name, "100000000")])
    assert len(found) == 1 and f"{name} must be 1 <= int <= {MAX_CANDIDATES}" in found[0]


def test_every_number_setting_of_our_algorithms_has_a_range_that_keeps_a_call_in_budget():
    numbers = [(a.backend, a.key, s) for a in ALGORITHMS if a.backend in ("optuna", "hyperopt", "skopt")
               and a.key != "cmaes" for s in a.schema.settings if s.kind != "choice"]  # cmaes: its own rules
    assert len(numbers) > 15
    assert [(b, k, s.name) for b, k, s in numbers if s.low is None or s.high is None] == []


@pytest.mark.parametrize(("algorithm", "settings"), [
    ("tpe", [("prior_weight", "1e-6"), ("n_startup_jobs", "0")]),
    ("tpe", [("prior_weight", "1e6"), ("n_startup_jobs", "0")]),
    ("anneal", [("avg_best_idx", "1e6"), ("shrink_coef", "1e6")]),
])
def test_hyperopt_weights_at_their_bounds_stay_finite(algorithm, settings):
    experiment, problems = parse_experiment(document(algorithm, settings, doubles=2, values=3), "hyperopt")
    assert problems == []
    history = tuple(Trial(f"t{i}", {"x0": i / 10, "x1": 1 - i / 10, "c": f"v{i % 3}"}, TrialState.COMPLETED,
                          float(i % 4)) for i in range(8))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # 1.7e308 overflowed, 5e-324 took log(0)
        points = load_backend("hyperopt").suggest(SuggestionRequest(experiment, history, 3, 7))
    assert len(points.points) == 3


def test_candidates_that_overflow_the_memory_of_a_joint_model_name_the_most_that_fits():
    settings = [("random_state", "3"), ("n_ei_candidates", "5000")]
    (found,) = problems_of("optuna", algorithm="multivariate-tpe", settings=settings, doubles=20)
    assert found.startswith("spec.algorithm.algorithmSettings[1].value: multivariate-tpe (optuna)")
    most = int(found.split("use at most ")[1].split(" ")[0])
    assert 24 <= most < 5000
    assert problems_of("optuna", algorithm="multivariate-tpe", settings=[("n_ei_candidates", str(most))],
                       doubles=20) == []


def test_a_list_too_long_for_optuna_tpe_names_the_list_and_the_length_that_fits():
    (found,) = problems_of("optuna", values=100_000, doubles=1)
    assert found.startswith("spec.parameters[1].feasibleSpace.list: tpe (optuna) weighs every value")
    most = int(found.split("use at most ")[1].split(" ")[0])
    assert problems_of("optuna", values=most, doubles=1) == []
    assert problems_of("optuna", values=most + 1, doubles=1) != []
    # algorithms that sample lists directly take the longest lists an Experiment can hold
    assert problems_of("optuna", algorithm="random", values=100_000) == []
    assert problems_of("hyperopt", values=100_000) == []


def test_too_many_parameters_are_blamed_on_the_parameters_not_on_a_short_list():
    (found,) = problems_of("hyperopt", settings=[("n_startup_jobs", "0")], doubles=600, values=4)
    assert found.startswith("spec.parameters: 601 parameters are too many for tpe (hyperopt)")


def test_sizes_no_katib_experiment_reaches_are_rejected():
    assert "at most 100000 fit one Experiment" in problems_of("optuna", algorithm="random", values=100_001)[0]
    many = [{"name": f"p{i}", "parameterType": "int", "feasibleSpace": {"min": "0", "max": "9"}} for i in range(1001)]
    assert "1001 parameters; at most 1000" in problems_of("optuna", algorithm="random", parameters=many)[0]


def test_skopt_refuses_more_input_dimensions_than_it_can_model_in_time():
    assert problems_of("skopt", algorithm="bayesianoptimization", values=22) == []  # 2 doubles + 22 one-hot
    (found,) = problems_of("skopt", algorithm="bayesianoptimization", values=23)
    assert found.startswith("spec.parameters[2].feasibleSpace.list: 25 input dimensions")
    (found,) = problems_of("skopt", algorithm="bayesianoptimization", doubles=25)
    assert found.startswith("spec.parameters: 25 input dimensions")


def test_validate_runs_its_dry_run_only_when_it_is_cheap():
    typical, _ = parse_experiment(document(), "optuna")
    assert dry_run_fits("optuna", typical)
    wide, problems = parse_experiment(document(settings=[("n_startup_trials", "0")], doubles=400), "optuna")
    assert problems == [] and not dry_run_fits("optuna", wide)
    assert dry_run_fits("skopt", parse_experiment(document("bayesianoptimization", doubles=20), "skopt")[0])


def test_small_calls_are_planned_in_full():
    experiment, _ = parse_experiment(document(), "optuna")
    assert plan(COSTS["optuna", "tpe"], experiment.space, experiment.settings, 1000, 4) == Plan(None, 4, ())


def test_a_large_batch_keeps_the_model_for_what_fits_and_says_so():
    experiment, _ = parse_experiment(document("multivariate-tpe", doubles=5), "optuna")
    first = plan(COSTS["optuna", "multivariate-tpe"], experiment.space, experiment.settings, 11, 1000)
    assert 4 <= first.model_points < 1000 and first.degraded == ("batch-limit",) and first.window is None
    assert first == plan(COSTS["optuna", "multivariate-tpe"], experiment.space, experiment.settings, 11, 1000)


def test_a_history_too_large_for_the_candidates_is_windowed_not_refused():
    experiment, _ = parse_experiment(document(settings=[("n_ei_candidates", str(MAX_CANDIDATES))]), "optuna")
    planned = plan(COSTS["optuna", "tpe"], experiment.space, experiment.settings, 20_000, 4)
    assert MIN_WINDOW <= planned.window < 20_000 and planned.model_points == 4
    assert planned.degraded == ("history-window",)


def test_random_search_never_replays_the_history():
    experiment, _ = parse_experiment(document("random"), "optuna")
    assert plan(COSTS["optuna", "random"], experiment.space, experiment.settings, 12_500, 3).window == 0


def test_a_window_keeps_the_best_quarter_and_the_most_recent_in_request_order():
    trials = [Trial(f"t{i}", {}, TrialState.COMPLETED, float(i)) for i in range(20)]
    trials.append(Trial("running", {}, TrialState.PENDING))
    kept = [t.name for t in window(trials, 8, maximize=False)]
    assert kept == ["t0", "t1", "t15", "t16", "t17", "t18", "t19", "running"]
    assert [t.name for t in window(trials, 8, maximize=True)] == [f"t{i}" for i in range(13, 20)] + ["running"]
    assert window(trials, 100, maximize=False) == tuple(trials)


def test_degraded_steps_join_a_backends_own():
    planned = Plan(50, 2, ("history-window", "batch-limit"))
    labels = degraded_labels({DEGRADED_LABEL: "history-window.sampling"}, planned)
    assert labels == {DEGRADED_LABEL: "history-window.sampling.batch-limit"}
    assert degraded_labels({"a": "b"}, None) == {"a": "b"}


def test_the_fair_executor_serves_experiments_in_turn_and_drops_abandoned_work():
    executor = FairExecutor(1, "test")
    started, gate, order = threading.Event(), threading.Event(), []
    executor.submit("busy", 0, lambda: (started.set(), gate.wait()))
    started.wait(timeout=30)
    futures = [executor.submit("busy", 10, order.append, f"busy-{i}") for i in range(3)]
    abandoned = executor.submit("other", 10, order.append, "abandoned")
    light = executor.submit("light", 10, order.append, "light")
    assert abandoned.cancel()
    gate.set()
    for future in (*futures, light):
        future.result(timeout=30)
    assert order == ["light", "busy-0", "busy-1", "busy-2"]  # busy already had its turn (the running job)
    with pytest.raises(CancelledError):
        abandoned.result()
    executor.shutdown()


def test_the_waiting_room_is_bounded_per_experiment_and_in_bytes():
    executor = FairExecutor(1, "test")
    started, gate = threading.Event(), threading.Event()
    executor.submit("busy", 0, lambda: (started.set(), gate.wait()))
    started.wait(timeout=30)
    waiting = [executor.submit("busy", 1, int) for _ in range(KEY_WAITING)]
    with pytest.raises(ServerBusy, match=f"{KEY_WAITING} calls of this experiment"):
        executor.submit("busy", 1, int)
    with pytest.raises(ServerBusy, match="MiB of requests are already waiting"):
        executor.submit("other", WAITING_BYTES, int)
    gate.set()
    assert [future.result(timeout=30) for future in waiting] == [0] * KEY_WAITING
    assert executor.submit("other", WAITING_BYTES, int).result(timeout=30) == 0  # an empty room takes any size
    executor.shutdown()
