"""ValidateAlgorithmSettings over a real gRPC channel: every problem listed, good experiments pass."""

from __future__ import annotations

import grpc
import pytest
from conftest import experiment_doc
from katib_api import api_pb2, api_pb2_grpc
from katib_suggestion.wire import experiment_message
from katib_validators.catalog import served_by
from servers import in_process_server


@pytest.fixture(scope="module")
def stub():
    with in_process_server("optuna") as (address, _):
        with grpc.insecure_channel(address) as channel:
            yield api_pb2_grpc.SuggestionStub(channel)


def _validate(stub, message: api_pb2.Experiment) -> grpc.RpcError | None:
    try:
        stub.ValidateAlgorithmSettings(api_pb2.ValidateAlgorithmSettingsRequest(experiment=message), timeout=30)
    except grpc.RpcError as error:
        return error
    return None


def _double(name, low, high, **extra):
    return {"name": name, "parameterType": "double", "feasibleSpace": {"min": low, "max": high, **extra}}


# Shapes of upstream's own example Experiments (examples/v1beta1/hp-tuning), which upstream accepts and runs.
UPSTREAM_STYLE = {
    "cmaes-ipop": experiment_doc("cmaes", [_double("lr", "0.01", "0.05"), _double("momentum", "0.5", "0.9")],
                                 {"restart_strategy": "ipop"}, max_trials=12, parallel=3),
    "grid": experiment_doc("grid", [_double("lr", "0.001", "0.01", step="0.001"),
                                    {"name": "momentum", "parameterType": "discrete",
                                     "feasibleSpace": {"list": ["0.5", "0.9"]}}], max_trials=12, parallel=3),
    "multivariate-tpe": experiment_doc("multivariate-tpe", None, {"n_startup_trials": "5"}, max_trials=12),
    "sobol": experiment_doc("sobol", None, max_trials=12, parallel=3),
    "restart-none": experiment_doc("cmaes", None, {"restart_strategy": "None", "sigma": "0.5"}),
}


@pytest.mark.parametrize("algorithm", sorted(served_by("optuna")))
def test_every_optuna_algorithm_accepts_a_good_experiment(stub, algorithm):
    parameters = None
    if algorithm.endswith("grid"):
        parameters = [_double("x", "0.1", "0.3", step="0.1"),
                      {"name": "n", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "4"}}]
    doc = experiment_doc(algorithm, parameters, max_trials=12, parallel=3)
    assert _validate(stub, experiment_message(doc)) is None


@pytest.mark.parametrize("name", sorted(UPSTREAM_STYLE))
def test_what_upstream_accepts_is_accepted(stub, name):
    assert _validate(stub, experiment_message(UPSTREAM_STYLE[name])) is None


def test_every_problem_is_listed_at_once(stub):
    doc = experiment_doc("tpe", [
        _double("lr", "0.1", "0.01"),
        _double("lr", "0", "1", distribution="logUniform"),
        {"name": "n", "parameterType": "int", "feasibleSpace": {"min": "1.5", "max": "4"}},
        {"name": "c", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "a"]}},
    ], {"n_startup_trials": "-1", "gamma": "0.5"}, name="Bad_Name", max_trials=3, parallel=4)
    error = _validate(stub, experiment_message(doc))
    assert error is not None and error.code() is grpc.StatusCode.INVALID_ARGUMENT
    details = error.details()
    expected = ["metadata.name", "spec.parallelTrialCount", "spec.parameters[0].feasibleSpace.min",
                "spec.parameters[1].name", "spec.parameters[1].feasibleSpace.min",
                "spec.parameters[2].feasibleSpace.min", "spec.parameters[3].feasibleSpace.list[1]",
                "spec.algorithm.algorithmSettings[0].value", "spec.algorithm.algorithmSettings[1].name"]
    for path in expected:
        assert f"- {path}: " in details, (path, details)
    assert details.startswith(f"{len(expected)} problems in the experiment:")
    assert "known settings: n_startup_trials, n_ei_candidates, random_state" in details


@pytest.mark.parametrize("case, mutate, path", [
    ("tiny-step", lambda m: _set_space(m, 1, min="0", max="1", step="1e-320"), "spec.parameters[1].feasibleSpace.step"),
    ("overflowing-range", lambda m: _set_space(m, 1, min="-1e308", max="1e308"),
     "spec.parameters[1].feasibleSpace.max"),
    ("huge-int", lambda m: _set_space(m, 2, min="0", max="9" * 400), "spec.parameters[2].feasibleSpace.max"),
    ("unknown-type-number", lambda m: setattr(m.spec.parameter_specs.parameters[0], "parameter_type", 99),
     "spec.parameters[0].parameterType"),
    ("unknown-distribution", lambda m: setattr(m.spec.parameter_specs.parameters[1].feasible_space,
                                               "distribution", api_pb2.NORMAL),
     "spec.parameters[1].feasibleSpace.distribution"),
    ("other-backends-algorithm", lambda m: setattr(m.spec.algorithm, "algorithm_name", "anneal"),
     "spec.algorithm.algorithmName"),
    ("no-objective", lambda m: m.spec.objective.Clear(), "spec.objective.type"),
    ("grid-double-without-step", lambda m: setattr(m.spec.algorithm, "algorithm_name", "grid"),
     "spec.parameters[0].feasibleSpace.step"),
])
def test_what_would_fail_later_is_rejected_now(stub, case, mutate, path):
    message = experiment_message(experiment_doc("tpe"))
    mutate(message)
    error = _validate(stub, message)
    assert error is not None and error.code() is grpc.StatusCode.INVALID_ARGUMENT, case
    assert f"- {path}: " in error.details(), error.details()


def _set_space(message, index, **fields):
    space = message.spec.parameter_specs.parameters[index].feasible_space
    for key, value in fields.items():
        setattr(space, key, value)
    if "step" not in fields:
        space.step = ""
