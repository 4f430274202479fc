"""The call budget on the wire: Validate rejects at once what cannot be served, every accepted count is
answered exactly, and health and other experiments are answered while a server is flooded.

No timing assertions: deadlines here are "answered at all" bounds a loaded machine meets easily (health
within 5 s where kubelet allows 1 s, Validate within 30 s where the target is 2 s).
"""

from __future__ import annotations

import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from katib_api import api_pb2 as pb
from katib_api import api_pb2_grpc
from katib_suggestion import wire
from katib_suggestion.budgeted import DEGRADED_LABEL
from katib_suggestion.pipeline import FALLBACK_LABEL
from katib_validators.costs import plan_call
from katib_validators.experiment import parse_experiment
from servers import KATIB_HEALTH, in_process_server
from test_serve_process import big_request
from test_server_wire import experiment, request

C = pb.TrialStatus.TrialConditionType


@pytest.fixture(scope="module")
def served():
    with in_process_server("optuna") as (address, running):
        with grpc.insecure_channel(address) as channel:
            yield channel, running


def validate_error(channel, e) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as error:
        api_pb2_grpc.SuggestionStub(channel).ValidateAlgorithmSettings(
            pb.ValidateAlgorithmSettingsRequest(experiment=e), timeout=30)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    return error.value


def test_settings_that_would_exhaust_the_algorithm_are_rejected_at_validate(served):
    channel, _ = served
    e = experiment("multivariate-tpe", settings=[("n_ei_candidates", "100000000")])
    assert "n_ei_candidates must be 1 <= int <= 5000" in validate_error(channel, e).details()


def test_a_request_larger_than_any_katib_experiment_is_rejected_before_it_is_read(served):
    channel, _ = served
    e = experiment("random")
    e.spec.parameter_specs.parameters[2].feasible_space.list.extend(f"v{i}" for i in range(150_000))
    assert "150002 list values in all; at most 100000" in validate_error(channel, e).details()
    many = experiment("random")
    for index in range(1500):
        many.spec.parameter_specs.parameters.add(name=f"p{index}", parameter_type=pb.INT,
                                                 feasible_space=pb.FeasibleSpace(min="0", max="9"))
    assert "1503 parameters; at most 1000" in validate_error(channel, many).details()


def finished(e, count: int) -> list[pb.Trial]:
    trials = []
    for index in range(count):
        trial = pb.Trial(name=f"{e.name}-{index}")
        for name, value in (("lr", f"{0.001 * (1 + index)}"), ("units", str(32 * (1 + index))),
                            ("act", ("relu", "tanh")[index % 2])):
            trial.spec.parameter_assignments.assignments.add(name=name, value=value)
        trial.status.condition = C.SUCCEEDED
        trial.status.observation.metrics.add(name="loss", value=str(index % 5))
        trials.append(trial)
    return trials


def test_a_batch_larger_than_the_budget_is_exact_unique_and_labelled(served):
    """Issue 13's case: multivariate TPE, a small mixed space, 11 trials, 1000 points asked."""
    channel, _ = served
    e = experiment("multivariate-tpe", name="large-batch", settings=[("n_startup_trials", "0")])
    parsed, _ = parse_experiment(wire.experiment_document(e), "optuna")
    planned = plan_call("optuna", parsed, 11, 1000)
    assert planned.degraded == ("batch-limit",), "pick a batch the plan must cut"
    reply = api_pb2_grpc.SuggestionStub(channel).GetSuggestions(
        request(e, finished(e, 11), count=1000, total=1011), timeout=300)
    points = [tuple(a.value for a in p.assignments) for p in reply.parameter_assignments]
    assert len(points) == 1000 and len(set(points)) == 1000
    labels = [dict(p.labels) for p in reply.parameter_assignments]
    assert all(label[DEGRADED_LABEL] == "batch-limit" for label in labels)
    assert sum(FALLBACK_LABEL.items() <= label.items() for label in labels) == 1000 - planned.model_points


def heavy_request(trials: int = 2000) -> pb.GetSuggestionsRequest:
    return big_request(trials, "tpe", name="heavy")


def test_health_and_another_experiment_are_answered_while_one_floods_the_server(served):
    channel, running = served
    stub = api_pb2_grpc.SuggestionStub(channel)
    flood = [stub.GetSuggestions.future(heavy_request(), timeout=300) for _ in range(8)]
    try:
        for _ in range(600):  # until the server has queued most of the flood
            if running.waiting() >= 5:
                break
            time.sleep(0.05)
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=KATIB_HEALTH),
                                                           timeout=5)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        light = stub.GetSuggestions(request(experiment("random", name="light"), count=1, total=1), timeout=60)
        assert len(light.parameter_assignments) == 1
        # the light call took its turn ahead of the flood's queue
        assert sum(not f.done() for f in flood) >= 3
    finally:
        for future in flood:
            future.cancel()  # the server drops what it has not started
    for _ in range(600):
        if running.waiting() == 0:
            break
        time.sleep(0.05)
    assert running.waiting() == 0
