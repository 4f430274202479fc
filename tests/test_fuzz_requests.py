"""Hostile and broken requests: the server answers INVALID_ARGUMENT (or a correct answer), never
UNKNOWN or INTERNAL, never crashes and stays healthy. Bounded in examples, not in wall time."""

from __future__ import annotations

import math

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from katib_api import api_pb2 as pb
from katib_api import api_pb2_grpc
from servers import KATIB_HEALTH, in_process_server

ALLOWED = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION}
NAMES = ["lr", "units", "act", "x"]
odd_text = st.one_of(st.sampled_from(["", " ", "lr", "é", "a" * 300, "../../etc/passwd", "${HOME}", "\x00", "-"]),
                     st.text(max_size=20))
number_text = st.one_of(
    st.integers(-10**6, 10**6).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "abc", "1e309", "-0", "0x10", "1_000", " 3 ", "nan", "inf", "1e-320", "9" * 400]))


@st.composite
def parameters(draw):
    names = draw(st.lists(st.one_of(st.sampled_from(NAMES), odd_text), min_size=0, max_size=5))
    specs = []
    for name in names:
        space = pb.FeasibleSpace(min=draw(number_text), max=draw(number_text),
                                 step=draw(st.one_of(st.just(""), number_text)),
                                 list=draw(st.lists(st.one_of(number_text, odd_text), max_size=6)),
                                 distribution=draw(st.integers(0, 6)))
        specs.append(pb.ParameterSpec(name=name, parameter_type=draw(st.integers(0, 6)), feasible_space=space))
    return specs


@st.composite
def requests(draw):
    experiment = pb.Experiment(name=draw(st.one_of(st.just("fuzz-exp"), odd_text)))
    spec = experiment.spec
    spec.parameter_specs.parameters.extend(draw(parameters()))
    spec.objective.type = draw(st.integers(0, 3))
    spec.objective.objective_metric_name = draw(st.sampled_from(["loss", "", "acc"]))
    spec.algorithm.algorithm_name = draw(st.sampled_from(
        ["tpe", "multivariate-tpe", "random", "grid", "cmaes", "sobol", "optuna-tpe", "anneal", "", "TPE"]))
    for _ in range(draw(st.integers(0, 3))):
        spec.algorithm.algorithm_settings.add(
            name=draw(st.sampled_from(["random_state", "n_startup_trials", "sigma", "bogus", ""])),
            value=draw(number_text))
    spec.max_trial_count = draw(st.integers(-5, 2**31 - 1))
    spec.parallel_trial_count = draw(st.integers(-5, 50))
    names = [p.name for p in spec.parameter_specs.parameters] + ["extra"]
    trials = []
    for index in range(draw(st.integers(0, 12))):
        trial = pb.Trial(name=draw(st.one_of(st.just(f"t{index}"), odd_text)))
        for name in draw(st.lists(st.sampled_from(names), max_size=6)):
            trial.spec.parameter_assignments.assignments.add(name=name, value=draw(st.one_of(number_text, odd_text)))
        trial.status.condition = draw(st.integers(0, 9))
        for _ in range(draw(st.integers(0, 2))):
            trial.status.observation.metrics.add(name=draw(st.sampled_from(["loss", "acc", ""])),
                                                 value=draw(number_text))
        trials.append(trial)
    return pb.GetSuggestionsRequest(
        experiment=experiment, trials=trials,
        current_request_number=draw(st.one_of(st.integers(-3, 6), st.sampled_from([1001, 2**31 - 1, -2**31]))),
        total_request_number=draw(st.integers(-2**31, 2**31 - 1)))


@st.composite
def valid_experiment_hostile_trials(draw):
    """A valid experiment (any optuna algorithm) with broken trials and odd counts: the answer path."""
    from test_server_wire import experiment

    request = draw(requests())
    request.experiment.CopyFrom(experiment(draw(st.sampled_from(
        ["tpe", "multivariate-tpe", "random", "cmaes", "sobol"]))))
    names = ["lr", "units", "act", "extra"]
    for trial in request.trials:
        del trial.spec.parameter_assignments.assignments[:]
        for name in draw(st.lists(st.sampled_from(names), min_size=2, max_size=5)):
            value = draw(st.one_of(number_text, odd_text, st.sampled_from(["0.01", "64", "relu", "0.1", "512"])))
            trial.spec.parameter_assignments.assignments.add(name=name, value=value)
    request.current_request_number = draw(st.one_of(st.integers(-1, 6), st.just(1001)))
    return request


@pytest.fixture(scope="module")
def server():
    with in_process_server("optuna") as (address, _), grpc.insecure_channel(address) as channel:
        yield api_pb2_grpc.SuggestionStub(channel), health_pb2_grpc.HealthStub(channel)


def _check_answer(request: pb.GetSuggestionsRequest, reply: pb.GetSuggestionsReply) -> None:
    assert len(reply.parameter_assignments) == request.current_request_number
    names = [p.name for p in request.experiment.spec.parameter_specs.parameters]
    for assignment in reply.parameter_assignments:
        assert [a.name for a in assignment.assignments] == names
        parameters = request.experiment.spec.parameter_specs.parameters
        for parameter, value in zip(parameters, assignment.assignments, strict=True):
            if parameter.parameter_type in (pb.INT, pb.DOUBLE):
                number = float(value.value)
                assert math.isfinite(number)
                assert float(parameter.feasible_space.min) <= number <= float(parameter.feasible_space.max)
            else:
                assert value.value in parameter.feasible_space.list


FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(request=requests())
def test_structured_hostile_requests(server, request):
    _exercise(server, request)


@FUZZ
@given(request=valid_experiment_hostile_trials())
def test_valid_experiments_with_hostile_trials_and_counts(server, request):
    _exercise(server, request)


def _exercise(server, request):
    stub, health = server
    for call in (lambda: stub.GetSuggestions(request, timeout=60),
                 lambda: stub.ValidateAlgorithmSettings(
                     pb.ValidateAlgorithmSettingsRequest(experiment=request.experiment), timeout=60)):
        try:
            reply = call()
        except grpc.RpcError as error:
            event(error.code().name)
            assert error.code() in ALLOWED, (error.code(), error.details())
            assert error.details()
        else:
            event("OK")
            if isinstance(reply, pb.GetSuggestionsReply):
                _check_answer(request, reply)
    assert health.Check(health_pb2.HealthCheckRequest(service=KATIB_HEALTH), timeout=5).status == \
        health_pb2.HealthCheckResponse.SERVING
