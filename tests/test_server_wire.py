"""A real gRPC server on a free 127.0.0.1 port, called with a real client."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from katib_api import api_pb2 as pb
from katib_api import api_pb2_grpc
from servers import KATIB_HEALTH, in_process_server

C = pb.TrialStatus.TrialConditionType


@pytest.fixture(scope="module")
def channel():
    with in_process_server("optuna") as (address, running):
        with grpc.insecure_channel(address) as channel:
            yield channel


@pytest.fixture
def stub(channel):
    return api_pb2_grpc.SuggestionStub(channel)


def experiment(algorithm="tpe", name="wire-test", settings=()):
    e = pb.Experiment(name=name)
    e.spec.objective.type = pb.MINIMIZE
    e.spec.objective.objective_metric_name = "loss"
    e.spec.algorithm.algorithm_name = algorithm
    for key, value in settings:
        e.spec.algorithm.algorithm_settings.add(name=key, value=value)
    e.spec.max_trial_count, e.spec.parallel_trial_count = 20, 4
    params = e.spec.parameter_specs.parameters
    params.add(name="lr", parameter_type=pb.DOUBLE,
               feasible_space=pb.FeasibleSpace(min="0.001", max="0.1", distribution=pb.LOG_UNIFORM))
    params.add(name="units", parameter_type=pb.INT, feasible_space=pb.FeasibleSpace(min="32", max="512", step="32"))
    params.add(name="act", parameter_type=pb.CATEGORICAL, feasible_space=pb.FeasibleSpace(list=["relu", "tanh"]))
    return e


def request(e, trials=(), count=3, total=3):
    return pb.GetSuggestionsRequest(experiment=e, trials=trials, current_request_number=count,
                                    total_request_number=total)


@pytest.mark.parametrize("service", ["", KATIB_HEALTH, "api.v1.beta1.Suggestion"])
def test_health_is_serving(channel, service):
    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_suggestion_service(channel):
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    replies = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
    names = {s.name for reply in replies for s in reply.list_services_response.service}
    assert {"api.v1.beta1.Suggestion", "grpc.health.v1.Health"} <= names


@pytest.mark.parametrize("algorithm", ["tpe", "multivariate-tpe", "cmaes", "random", "sobol", "optuna-tpe"])
def test_get_suggestions_answers_exactly_the_count_asked(stub, algorithm):
    reply = stub.GetSuggestions(request(experiment(algorithm), count=4, total=4), timeout=30)
    assert len(reply.parameter_assignments) == 4
    for assignment in reply.parameter_assignments:
        values = {a.name: a.value for a in assignment.assignments}
        assert 0.001 <= float(values["lr"]) <= 0.1
        assert values["units"].isdigit() and int(values["units"]) % 32 == 0
        assert values["act"] in ("relu", "tanh")
    assert reply.algorithm.algorithm_name == algorithm
    assert [s.name for s in reply.algorithm.algorithm_settings] == ["random_state"]


def test_zero_requested_gives_an_empty_reply(stub):
    assert len(stub.GetSuggestions(request(experiment(), count=0), timeout=10).parameter_assignments) == 0


def test_seed_chosen_by_the_server_is_stable_and_returned(stub):
    first = stub.GetSuggestions(request(experiment()), timeout=10)
    again = stub.GetSuggestions(request(experiment()), timeout=10)
    assert first == again
    seed = first.algorithm.algorithm_settings[0].value
    explicit = stub.GetSuggestions(request(experiment(settings=[("random_state", seed)])), timeout=10)
    assert explicit.parameter_assignments == first.parameter_assignments


def test_the_call_after_a_restart_is_answered(stub):
    """Upstream's optuna service raised "unknown trial" here: trials it never suggested."""
    trials = []
    for index, (lr, units, act, condition) in enumerate([("0.01", "64", "relu", C.SUCCEEDED),
                                                         ("0.05", "128", "tanh", C.RUNNING),
                                                         ("0.002", "512", "relu", C.FAILED)]):
        trial = pb.Trial(name=f"foreign-{index}")
        for name, value in (("lr", lr), ("units", units), ("act", act)):
            trial.spec.parameter_assignments.assignments.add(name=name, value=value)
        trial.status.condition = condition
        if condition == C.SUCCEEDED:
            trial.status.observation.metrics.add(name="loss", value="0.3")
        trials.append(trial)
    reply = stub.GetSuggestions(request(experiment(), trials, count=2, total=5), timeout=10)
    assert len(reply.parameter_assignments) == 2


@pytest.mark.parametrize(("mutate", "fragment"), [
    (lambda e: setattr(e.spec.algorithm, "algorithm_name", "anneal"), "algorithmName"),
    (lambda e: e.spec.algorithm.algorithm_settings.add(name="n_startup_trials", value="-1"), "n_startup_trials"),
    (lambda e: e.spec.algorithm.algorithm_settings.add(name="bogus", value="1"), "known settings"),
    (lambda e: setattr(e.spec.parameter_specs.parameters[0].feasible_space, "min", "abc"), "feasibleSpace.min"),
    (lambda e: setattr(e.spec.parameter_specs.parameters[0].feasible_space, "distribution", pb.NORMAL),
     "hyperopt"),
])
def test_bad_experiments_are_invalid_argument_naming_the_field(stub, mutate, fragment):
    e = experiment()
    mutate(e)
    for call in (lambda: stub.GetSuggestions(request(e), timeout=10),
                 lambda: stub.ValidateAlgorithmSettings(pb.ValidateAlgorithmSettingsRequest(experiment=e), timeout=10)):
        with pytest.raises(grpc.RpcError) as error:
            call()
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert fragment in error.value.details()


def test_every_problem_is_listed_at_once(stub):
    e = experiment(settings=[("n_ei_candidates", "zero"), ("colour", "blue")])
    e.spec.parameter_specs.parameters[1].feasible_space.min = "600"
    with pytest.raises(grpc.RpcError) as error:
        stub.ValidateAlgorithmSettings(pb.ValidateAlgorithmSettingsRequest(experiment=e), timeout=10)
    details = error.value.details()
    assert details.startswith("3 problems")
    for fragment in ("algorithmSettings[0].value", "algorithmSettings[1].name", "parameters[1].feasibleSpace.min"):
        assert fragment in details


def test_valid_experiment_validates(stub):
    for algorithm in ("tpe", "multivariate-tpe", "cmaes", "random", "sobol"):
        stub.ValidateAlgorithmSettings(pb.ValidateAlgorithmSettingsRequest(experiment=experiment(algorithm)),
                                       timeout=10)


def test_exhausted_grid_is_a_clear_error(stub):
    e = experiment("grid")
    e.spec.parameter_specs.parameters[0].feasible_space.step = "0.099"  # lr: 0.001, 0.1 -> 2 values
    e.spec.parameter_specs.parameters[0].feasible_space.distribution = pb.UNIFORM
    e.spec.parameter_specs.parameters[1].feasible_space.max = "64"  # units: 32, 64
    e.spec.max_trial_count, e.spec.parallel_trial_count = 8, 8  # 2 * 2 * 2 points
    first = stub.GetSuggestions(request(e, count=8, total=8), timeout=10)
    trials = []
    for index, assignment in enumerate(first.parameter_assignments):
        trial = pb.Trial(name=f"t{index}")
        trial.spec.parameter_assignments.assignments.extend(assignment.assignments)
        trial.status.condition = C.RUNNING
        trials.append(trial)
    with pytest.raises(grpc.RpcError) as error:
        stub.GetSuggestions(request(e, trials, count=1, total=9), timeout=10)
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "8 distinct points" in error.value.details()


def test_negative_count_is_invalid_argument(stub):
    with pytest.raises(grpc.RpcError) as error:
        stub.GetSuggestions(request(experiment(), count=-1), timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_more_than_ten_thousand_trials_fit_the_message_limits(stub):
    e = experiment("random")
    trials = []
    for index in range(12_500):
        trial = pb.Trial(name=f"{e.name}-trial-{index:06d}")
        trial.spec.objective.CopyFrom(e.spec.objective)
        # what the controller really sends: Katib's own labels and timestamps on every trial
        trial.spec.labels.update({"katib.kubeflow.org/experiment": e.name, "katib.kubeflow.org/trial": trial.name,
                                  "app.kubernetes.io/part-of": "katib-experiments", "team": "ml-platform"})
        trial.status.start_time, trial.status.completion_time = "2026-11-23T10:00:00Z", "2026-11-23T11:00:00Z"
        for name, value in (("lr", f"{0.001 + index * 9e-6:.6f}"), ("units", str(32 * (1 + index % 16))),
                            ("act", "relu")):
            trial.spec.parameter_assignments.assignments.add(name=name, value=value)
        trial.status.condition = C.SUCCEEDED
        trial.status.observation.metrics.add(name="loss", value=repr(index / 10_000))
        trial.status.observation.metrics.add(name="accuracy", value=repr(1 - index / 10_000))
        trials.append(trial)
    message = request(e, trials, count=2, total=12_502)
    assert message.ByteSize() > 4 * 1024 * 1024  # beyond gRPC's default 4 MiB limit
    assert len(stub.GetSuggestions(message, timeout=60).parameter_assignments) == 2


@pytest.mark.parametrize("algorithm", ["random", "cmaes", "sobol"])  # TPE's limit: test_budget_wire.py
def test_an_enormous_categorical_list_is_answered(stub, algorithm):
    e = experiment(algorithm)
    choices = e.spec.parameter_specs.parameters[2].feasible_space.list
    del choices[:]
    choices.extend(f"choice-{i}" for i in range(100_000))
    stub.ValidateAlgorithmSettings(pb.ValidateAlgorithmSettingsRequest(experiment=e), timeout=30)
    reply = stub.GetSuggestions(request(e, count=4, total=4), timeout=60)
    assert len(reply.parameter_assignments) == 4
    assert all(a.assignments[2].value.startswith("choice-") for a in reply.parameter_assignments)


def test_a_stale_grpc_poller_wake_up_is_dropped_and_other_loop_errors_still_reported(caplog):
    """grpc.aio's "Bad file descriptor" after its core shut down between servers is noise; nothing else is."""
    import asyncio
    import errno

    from katib_suggestion.server import _quiet_stale_poller

    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level("DEBUG"):
            _quiet_stale_poller(loop, {"message": "Exception in callback None()",
                                       "exception": OSError(errno.EBADF, "Bad file descriptor")})
            _quiet_stale_poller(loop, {"message": "Exception in callback f()", "exception": ValueError("real")})
    finally:
        loop.close()
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert [r.getMessage() for r in errors] == ["Exception in callback f()"]
    assert any("closed descriptor" in r.getMessage() for r in caplog.records if r.levelname == "DEBUG")
