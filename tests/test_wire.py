"""Protobuf <-> model conversion: documents, trial states, tolerated bad trials, reply format."""

import pytest
from katib_api import api_pb2 as pb
from katib_suggestion import wire
from katib_suggestion.model import Direction, Kind, Objective, Parameter, SearchSpace, TrialState

C = pb.TrialStatus.TrialConditionType
SPACE = SearchSpace((Parameter("x", Kind.DOUBLE, 0.0, 1.0), Parameter("n", Kind.INT, 1, 5)))
OBJECTIVE = Objective(Direction.MINIMIZE, "loss")


def _trial(name, condition, x="0.5", n="3", metrics=(("loss", "0.25"),)):
    trial = pb.Trial(name=name)
    trial.spec.parameter_assignments.assignments.add(name="x", value=x)
    if n is not None:
        trial.spec.parameter_assignments.assignments.add(name="n", value=n)
    trial.status.condition = condition
    for metric, value in metrics:
        trial.status.observation.metrics.add(name=metric, value=value)
    return trial


def test_experiment_document_uses_kubernetes_field_names():
    experiment = pb.Experiment(name="e")
    experiment.spec.objective.type = pb.MAXIMIZE
    experiment.spec.objective.objective_metric_name = "acc"
    experiment.spec.algorithm.algorithm_name = "tpe"
    experiment.spec.algorithm.algorithm_settings.add(name="random_state", value="3")
    experiment.spec.max_trial_count = 9
    experiment.spec.parameter_specs.parameters.add(
        name="lr", parameter_type=pb.DOUBLE,
        feasible_space=pb.FeasibleSpace(min="0.01", max="0.1", distribution=pb.LOG_UNIFORM))
    doc = wire.experiment_document(experiment)
    assert doc["metadata"]["name"] == "e"
    assert doc["spec"]["objective"]["type"] == "maximize"
    assert doc["spec"]["maxTrialCount"] == 9 and "parallelTrialCount" not in doc["spec"]
    assert doc["spec"]["parameters"][0] == {
        "name": "lr", "parameterType": "double",
        "feasibleSpace": {"min": "0.01", "max": "0.1", "step": "", "list": [], "distribution": "logUniform"}}
    assert doc["spec"]["algorithm"]["algorithmSettings"] == [{"name": "random_state", "value": "3"}]


def test_unknown_enum_numbers_stay_visible():
    experiment = pb.Experiment(name="e")
    experiment.spec.parameter_specs.parameters.add(name="p", parameter_type=42)
    assert wire.experiment_document(experiment)["spec"]["parameters"][0]["parameterType"] == "<enum value 42>"


@pytest.mark.parametrize(("condition", "metrics", "state", "value"), [
    (C.SUCCEEDED, (("loss", "0.25"),), TrialState.COMPLETED, 0.25),
    (C.SUCCEEDED, (("acc", "0.9"),), TrialState.FAILED, None),  # no objective metric
    (C.SUCCEEDED, (("loss", "unavailable"),), TrialState.FAILED, None),
    (C.SUCCEEDED, (("loss", "nan"),), TrialState.FAILED, None),
    (C.SUCCEEDED, (("loss", "-inf"),), TrialState.FAILED, None),
    (C.CREATED, (), TrialState.PENDING, None),
    (C.RUNNING, (), TrialState.PENDING, None),
    (C.FAILED, (("loss", "0.1"),), TrialState.FAILED, None),
    (C.KILLED, (), TrialState.FAILED, None),
    (C.METRICSUNAVAILABLE, (), TrialState.FAILED, None),
    (C.UNKNOWN, (), TrialState.FAILED, None),
    (C.EARLYSTOPPED, (("loss", "0.7"),), TrialState.PRUNED, 0.7),
    (C.EARLYSTOPPED, (), TrialState.FAILED, None),
])
def test_conditions_map_to_trial_states(condition, metrics, state, value):
    history = wire.trials_to_history([_trial("t", condition, metrics=metrics)], SPACE, OBJECTIVE)
    assert [(t.state, t.value) for t in history.trials] == [(state, value)]


@pytest.mark.parametrize(("x", "n", "reason"), [
    ("0.5", None, "no value for n"),
    ("abc", "3", "x:"),
    ("1.5", "3", "outside"),
    ("0.5", "2.5", "not an integer"),
])
def test_trials_that_do_not_fit_the_space_are_skipped_with_a_reason(x, n, reason):
    history = wire.trials_to_history([_trial("bad", C.SUCCEEDED, x=x, n=n)], SPACE, OBJECTIVE)
    assert history.trials == []
    assert len(history.skipped) == 1 and history.skipped[0].startswith("bad:") and reason in history.skipped[0]


def test_extra_assignments_are_ignored():
    trial = _trial("t", C.SUCCEEDED)
    trial.spec.parameter_assignments.assignments.add(name="unrelated", value="1")
    assert wire.trials_to_history([trial], SPACE, OBJECTIVE).trials[0].params == {"x": 0.5, "n": 3}


def test_reply_formats_values_and_carries_settings_and_labels():
    reply = wire.suggestions_reply([{"x": 0.25, "n": 4}], SPACE, "tpe", {"random_state": "7"}, [{"k": "v"}])
    (assignment,) = reply.parameter_assignments
    assert [(a.name, a.value) for a in assignment.assignments] == [("x", "0.25"), ("n", "4")]
    assert dict(assignment.labels) == {"k": "v"}
    assert reply.algorithm.algorithm_name == "tpe"
    assert [(s.name, s.value) for s in reply.algorithm.algorithm_settings] == [("random_state", "7")]
