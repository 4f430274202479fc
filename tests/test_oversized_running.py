"""An Experiment upstream's image accepted with maxTrialCount above its space's size keeps running on ours: every
untried point is served, then a clear failure; Validate still refuses new ones (issue 24, item 17)."""

from __future__ import annotations

import grpc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from katib_api import api_pb2
from katib_suggestion import oversized
from katib_suggestion.local.driver import ExperimentDriver
from katib_suggestion.wire import experiment_message
from katib_validators.experiment import parse_experiment
from servers import in_process_server

# 3 x 2 = 6 points; upstream accepted maxTrialCount 10 (its webhook and Python services do not count them)
SIX = [{"name": "layers", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "3"}},
       {"name": "optimizer", "parameterType": "categorical", "feasibleSpace": {"list": ["sgd", "adam"]}}]
FIVE = [{"name": "layers", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "5"}}]
CASES = [("optuna", "tpe"), ("optuna", "random"), ("optuna", "grid"), ("hyperopt", "tpe"), ("hyperopt", "anneal"),
         ("skopt", "bayesianoptimization")]


def _doc(algorithm: str, parameters, parallel: int = 2) -> dict:
    return {"metadata": {"name": "legacy"}, "spec": {
        "parameters": parameters, "objective": {"type": "minimize", "objectiveMetricName": "loss"},
        "algorithm": {"algorithmName": algorithm, "algorithmSettings": [{"name": "random_state", "value": "3"}]},
        "maxTrialCount": 10, "parallelTrialCount": parallel, "maxFailedTrialCount": 3}}


def _loss(assignments: dict[str, str]) -> float:
    return (int(assignments["layers"]) - 2) ** 2 + (assignments.get("optimizer") == "sgd")


@pytest.mark.parametrize("backend, algorithm", CASES, ids=[f"{b}-{a}" for b, a in CASES])
def test_every_untried_point_then_a_clear_failure(backend, algorithm):
    message = experiment_message(_doc(algorithm, SIX))
    with in_process_server(backend) as (address, running), grpc.insecure_channel(address) as channel:
        from katib_api import api_pb2_grpc

        stub = api_pb2_grpc.SuggestionStub(channel)
        with pytest.raises(grpc.RpcError) as refused:  # a new such Experiment is still refused at once
            stub.ValidateAlgorithmSettings(api_pb2.ValidateAlgorithmSettingsRequest(experiment=message), timeout=60)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "set maxTrialCount to at most 6" in refused.value.details()
        driver = ExperimentDriver(message, lambda: stub, _loss, seed=1)
        with pytest.raises(grpc.RpcError) as stopped:
            driver.run()
    tried = {tuple(sorted(a)) for a in driver.report.assignments()}
    assert len(driver.report.trials) == 6 and len(tried) == 6 and driver.report.repeats() == 0
    assert stopped.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    details = stopped.value.details()
    assert details.startswith("every one of the 6 distinct points of the search space has been tried, and Katib asks")
    assert ("maxTrialCount is larger than the space (this Experiment was accepted by another suggestion service; "
            "ours refuses it at validation). Nothing new can be suggested") in details


def test_a_batch_larger_than_what_is_left_gets_the_rest_and_labelled_repeats():
    message = experiment_message(_doc("random", FIVE))
    request = api_pb2.GetSuggestionsRequest(experiment=message, current_request_number=2, total_request_number=6)
    for layers in ("1", "2", "3", "4"):  # four of five points tried; the loss is lowest at 2
        trial = request.trials.add(name=f"legacy-{layers}")
        trial.spec.parameter_assignments.assignments.add(name="layers", value=layers)
        trial.status.condition = api_pb2.TrialStatus.TrialConditionType.SUCCEEDED
        trial.status.observation.metrics.add(name="loss", value=str(_loss({"layers": layers})))
    with in_process_server("hyperopt") as (address, _), grpc.insecure_channel(address) as channel:
        from katib_api import api_pb2_grpc

        reply = api_pb2_grpc.SuggestionStub(channel).GetSuggestions(request, timeout=60)
    served = [(a.assignments[0].value, dict(a.labels)) for a in reply.parameter_assignments]
    # Katib needs exactly 2: the one untried point, then the best trial again, labelled so it shows
    assert served == [("5", {}), ("2", {"katib-suggest/origin": "repeat-space-exhausted"})]


@settings(max_examples=60, database=None)
@given(st.integers(1, 8), st.sampled_from([None, "0", "-1", "1", "3", "8", "9", "1e3", "x", "2147483648"]),
       st.sampled_from([None, "1", "3", "20"]), st.booleans())
def test_only_a_refused_experiment_can_be_oversized(values, max_trials, parallel, continuous):
    """Suggester.experiment caps a running Experiment only when it is refused as it stands: every
    Experiment Validate accepts is one that oversized.capped leaves as it is."""
    parameters = [{"name": "k", "parameterType": "int", "feasibleSpace": {"min": "1", "max": str(values)}}]
    if continuous:
        parameters.append({"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}})
    doc = _doc("random", parameters)
    for field, value in (("maxTrialCount", max_trials), ("parallelTrialCount", parallel)):
        if value is None:
            del doc["spec"][field]
        else:
            doc["spec"][field] = value
    _, problems = parse_experiment(doc, "optuna")
    if not problems:
        assert oversized.capped(doc) == (doc, None)
