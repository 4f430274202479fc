"""skopt space mapping (every value feasible) and the bayesianoptimization settings schema."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("skopt")

from conftest import experiment_doc  # noqa: E402
from katib_suggestion.backends.skopt_space import SpaceCodec  # noqa: E402
from katib_validators.experiment import parse_experiment  # noqa: E402
from skopt.space import Space  # noqa: E402


def numeric(kind, low, span, step, log):
    space = {"min": repr(low) if kind == "double" else str(int(low)),
             "max": repr(low + span) if kind == "double" else str(int(low + span))}
    if step:
        space["step"] = repr(step) if kind == "double" else str(int(step))
    if log:
        space["distribution"] = "logUniform"
    return {"name": f"p-{kind}", "parameterType": kind, "feasibleSpace": space}


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(["int", "double"]), low=st.integers(1, 50), span=st.integers(1, 200),
       step=st.sampled_from([None, 1, 3, 0.5]), log=st.booleans(), seed=st.integers(0, 2**16))
def test_every_sample_is_feasible_and_round_trips(kind, low, span, step, log, seed):
    if kind == "int" and step == 0.5:
        step = 2
    if step and step > span:  # the validators reject a step wider than the range
        step = None
    parameters = [numeric(kind, float(low), float(span), step, log),
                  {"name": "d", "parameterType": "discrete", "feasibleSpace": {"list": ["0.9", "0.1", "0.5"]}},
                  {"name": "c", "parameterType": "categorical", "feasibleSpace": {"list": ["x"]}}]
    doc = experiment_doc("bayesianoptimization", parameters, max_trials=1, parallel=1)
    experiment, problems = parse_experiment(doc, "skopt")
    assert not problems, problems
    codec = SpaceCodec(experiment.space)
    for x in Space(codec.dimensions).rvs(20, random_state=seed):
        point = codec.from_skopt(x)
        for parameter in experiment.space:
            text = parameter.format(point[parameter.name])
            assert parameter.format(parameter.parse(text)) == text
        assert codec.from_skopt(codec.to_skopt(point)) == point


def test_log_only_where_asked_and_negative_doubles_work():
    parameters = [{"name": "a", "parameterType": "double", "feasibleSpace": {"min": "-1", "max": "1"}},
                  {"name": "b", "parameterType": "double",
                   "feasibleSpace": {"min": "0.001", "max": "1", "distribution": "logUniform"}}]
    experiment, _ = parse_experiment(experiment_doc("bayesianoptimization", parameters), "skopt")
    codecs = SpaceCodec(experiment.space).codecs
    # log-uniform as skopt means it: uniform on the log axis (its own prior refuses a subnormal min)
    assert [c.log for c in codecs] == [False, True]
    assert codecs[1].dimension.bounds == (math.log(0.001), 0.0)


def test_a_subnormal_log_min_is_served():
    parameters = [{"name": "b", "parameterType": "double",
                   "feasibleSpace": {"min": "5e-324", "max": "0.5", "distribution": "logUniform"}}]
    experiment, problems = parse_experiment(experiment_doc("bayesianoptimization", parameters), "skopt")
    assert not problems
    codec = SpaceCodec(experiment.space)
    values = [codec.from_skopt(x)["b"] for x in Space(codec.dimensions).rvs(50, random_state=1)]
    assert all(5e-324 <= v <= 0.5 for v in values) and min(values) < 1e-100


def problems_for(settings=None, parameters=None, algorithm="bayesianoptimization"):
    _, problems = parse_experiment(experiment_doc(algorithm, parameters, settings), "skopt")
    return " | ".join(str(p) for p in problems)


@pytest.mark.parametrize("settings", [
    {}, {"base_estimator": "GBRT", "acq_optimizer": "sampling"}, {"base_estimator": "rf"},
    {"n_initial_points": 0, "acq_func": "LCB", "acq_optimizer": "lbfgs", "random_state": 7},
    {"time_budget_seconds": 5},
])
def test_good_settings(settings):
    assert problems_for(settings) == ""


def test_alias_selects_the_same_algorithm():
    assert problems_for(algorithm="skopt-bayesianoptimization") == ""


@pytest.mark.parametrize(("settings", "expected"), [
    ({"base_estimator": "SVR"}, "base_estimator must be one of GP, RF, ET, GBRT"),
    ({"n_initial_points": -1}, "n_initial_points must be 0 <= int <= 2147483647"),
    ({"acq_func": "EIps"}, "write acq_func: EI"),
    ({"acq_func": "PIps"}, "write acq_func: PI"),
    ({"base_estimator": "ET", "acq_optimizer": "lbfgs"}, "write acq_optimizer: sampling"),
    ({"time_budget_seconds": 90}, "time_budget_seconds must be"),
    ({"n_calls": 3}, "unknown setting"),
])
def test_bad_settings_say_what_to_write(settings, expected):
    assert expected in problems_for(settings)


def test_normal_distributions_are_rejected_clearly():
    parameters = [{"name": "w", "parameterType": "double",
                   "feasibleSpace": {"min": "0.1", "max": "1", "distribution": "normal"}}]
    assert "supports logUniform, uniform" in problems_for(parameters=parameters)
