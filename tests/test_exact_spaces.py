"""Issue 13's search-space classes and issue 15's min == max, one focused test each, through every algorithm.

Each experiment is validated and driven by Katib's calls until its space is used
up (katib_suggestion.testing.contract checks every answer from the request's
texts), so a grid value past max, a 64-bit int read through a double or a
point the count forgot would show.
"""

from __future__ import annotations

import math

import pytest
from katib_suggestion import wire
from katib_suggestion.backends.sobol_sequence import sobol
from katib_suggestion.errors import InvalidExperiment, SearchSpaceExhausted
from katib_suggestion.pipeline import Suggester
from katib_suggestion.registry import load_backend
from katib_suggestion.testing.adversarial import Outcome, Scenario
from katib_suggestion.testing.contract import run_scenario
from katib_validators.catalog import ALGORITHMS
from katib_validators.experiment import parse_experiment

OUTCOMES = (Outcome("SUCCEEDED", "1.5"), Outcome("FAILED", None), Outcome("SUCCEEDED", "-2"),
            Outcome("EARLYSTOPPED", "3"), Outcome("SUCCEEDED", "0.25", pending_calls=1))
BY_ID = {f"{a.backend}-{a.key}": a for a in ALGORITHMS}
_SUGGESTERS: dict[str, Suggester] = {}


def suggester(backend: str) -> Suggester:
    if backend not in _SUGGESTERS:
        _SUGGESTERS[backend] = Suggester(backend, load_backend(backend))
    return _SUGGESTERS[backend]


def double(name, low, high, step=None, distribution=None):
    space = {"min": low, "max": high, **({"step": step} if step else {}),
             **({"distribution": distribution} if distribution else {})}
    return {"name": name, "parameterType": "double", "feasibleSpace": space}


def integer(name, low, high, step=None):
    return {"name": name, "parameterType": "int", "feasibleSpace": {"min": low, "max": high,
                                                                    **({"step": step} if step else {})}}


def listed(name, kind, *values):
    return {"name": name, "parameterType": kind, "feasibleSpace": {"list": list(values)}}


# skopt models from the third trial on, with the cheaper acquisition search: the same codec, less time
SETTINGS = {"skopt": [{"name": "n_initial_points", "value": "2"}, {"name": "acq_optimizer", "value": "sampling"}]}


def document(algorithm, parameters, max_trials):
    spec = {"parameters": parameters, "objective": {"type": "minimize", "objectiveMetricName": "loss"},
            "algorithm": {"algorithmName": algorithm.names[0],
                          "algorithmSettings": SETTINGS.get(algorithm.backend, [])}}
    if max_trials is not None:
        spec["maxTrialCount"] = max_trials
    return {"metadata": {"name": "exact"}, "spec": spec}


def exhaust(algorithm, parameters, size: int):
    """Validate with maxTrialCount = size, then ask for every point in three calls; all values served."""
    rest = size - 1
    counts = tuple(c for c in (1, rest // 2, rest - rest // 2) if c)
    scenario = Scenario(algorithm.backend, document(algorithm, parameters, size), counts, 0, OUTCOMES)
    report = run_scenario(scenario, suggester(algorithm.backend))
    assert report.accepted and not report.findings, report.findings
    request, reply = report.last_request, report.last_reply
    points = [{a.name: a.value for a in t.spec.parameter_assignments.assignments} for t in request.trials]
    points += [{a.name: a.value for a in p.assignments} for p in reply.parameter_assignments]
    assert len(points) == size
    return points


def rejection(algorithm, parameters, max_trials) -> list[str]:
    """The problems ValidateAlgorithmSettings reports, as the user reads them."""
    with pytest.raises(InvalidExperiment) as error:
        suggester(algorithm.backend).validate(wire.experiment_message(document(algorithm, parameters, max_trials)))
    return [str(p) for p in error.value.problems]


# Class 1: a top grid point that rounds past max (log and linear, double and int), as two
# parameters so cmaes has two to tune: 3 x 2 points.
PAST_MAX = {
    "log-double": ([double("a", "1", "3.9999999999", "1", "logUniform"),
                    double("b", "0.001", "0.01", "0.0030000000000000005", "logUniform")],
                   {"a": {"1.0", "2.0", "3.0"}, "b": {"0.001", "0.004", "0.007000000000000001"}}),
    "linear": ([double("a", "0", "2.9999999999", "1"), integer("b", "0", "19999999999", "10000000000")],
               {"a": {"0.0", "1.0", "2.0"}, "b": {"0", "10000000000"}}),
}


@pytest.mark.parametrize("space", PAST_MAX, ids=str)
@pytest.mark.parametrize("algorithm", BY_ID.values(), ids=BY_ID)
def test_no_grid_value_rounds_past_max(algorithm, space):
    parameters, values = PAST_MAX[space]
    points = exhaust(algorithm, parameters, math.prod(len(v) for v in values.values()))
    for name, expected in values.items():
        assert {p[name] for p in points} == expected


# Class 2: 64-bit ints, exactly, in every backend: 8 x 2 points at the top of int64 and past 2**53.
@pytest.mark.parametrize("algorithm", BY_ID.values(), ids=BY_ID)
def test_64_bit_ints_are_exact(algorithm):
    parameters = [integer("a", "9223372036854775800", "9223372036854775807"),
                  integer("b", "9007199254740992", "9007199254740993")]
    points = exhaust(algorithm, parameters, 16)
    assert {p["a"] for p in points} == {str(9223372036854775800 + i) for i in range(8)}
    assert {p["b"] for p in points} == {"9007199254740992", "9007199254740993"}


@pytest.mark.parametrize("algorithm", BY_ID.values(), ids=BY_ID)
def test_the_whole_int64_range_is_served(algorithm):
    parameters = [integer("a", "-9223372036854775807", "9223372036854775807"),
                  integer("b", "1", "9223372036854775807")]
    scenario = Scenario(algorithm.backend, document(algorithm, parameters, 30), (3, 5, 4), 0, OUTCOMES)
    report = run_scenario(scenario, suggester(algorithm.backend))
    assert report.accepted and not report.findings, report.findings


# Class 6: a finite space smaller than the experiment, for every algorithm, and maxTrialCount unset.
SMALL = [listed("optimizer", "categorical", "adam", "sgd"), listed("batch", "discrete", "16", "32")]


@pytest.mark.parametrize("algorithm", BY_ID.values(), ids=BY_ID)
def test_a_space_smaller_than_the_experiment_is_rejected_at_validate(algorithm):
    for max_trials in (10, None):
        problems = rejection(algorithm, SMALL, max_trials)
        assert any(p.startswith("spec.maxTrialCount: the search space has only 4 distinct points (optimizer: 2 "
                                "listed; batch: 2 listed)") and "set maxTrialCount to at most 4" in p
                   for p in problems), problems


@pytest.mark.parametrize("algorithm", [a for a in BY_ID.values() if a.key != "cmaes"],
                         ids=[k for k, a in BY_ID.items() if a.key != "cmaes"])
def test_a_space_as_large_as_the_experiment_is_served_to_the_last_point(algorithm):
    points = exhaust(algorithm, SMALL, 4)
    assert {(p["optimizer"], p["batch"]) for p in points} == {(o, b) for o in ("adam", "sgd") for b in ("16", "32")}


# Class 7: a step finer than the spacing of doubles is rejected; one on that spacing is served.
@pytest.mark.parametrize("algorithm", BY_ID.values(), ids=BY_ID)
def test_steps_finer_than_doubles(algorithm):
    fine = [double("a", "1e16", "10000000000000010", "1"), integer("n", "1", "2")]
    problems = rejection(algorithm, fine, 2)
    assert any(p.startswith("spec.parameters[0].feasibleSpace.step: step is finer than the spacing of doubles "
                            "near 10000000000000010 (2.0)") for p in problems), problems
    representable = [double("a", "1e16", "10000000000000010", "2"), integer("n", "1", "2")]
    points = exhaust(algorithm, representable, 12)
    assert {float(p["a"]) for p in points} == {1e16 + 2 * i for i in range(6)}


# Class 13: a continuous double with few doubles in it: the size is true, and each one is served.
NARROW = [double("x", "-1000000.0", "-999999.999999999"), integer("n", "1", "2")]


def _doubles_in_narrow() -> int:
    doubles, x = 1, -1000000.0  # counted one ulp (1.16e-10) at a time
    while (x := math.nextafter(x, 0)) <= -999999.999999999:
        doubles += 1
    return doubles


@pytest.mark.parametrize("algorithm", BY_ID.values(), ids=BY_ID)
def test_a_narrow_double_counts_its_doubles(algorithm):
    doubles = _doubles_in_narrow()
    problems = rejection(algorithm, NARROW, 1000)
    expected = f"spec.maxTrialCount: the search space has only {2 * doubles} distinct points (x: {doubles} doubles"
    assert any(p.startswith(expected) and f"at most {2 * doubles}" in p for p in problems), problems
    if algorithm.key == "grid":
        return  # grid wants a step for every double: rejected above for that too
    points = exhaust(algorithm, NARROW, 2 * doubles)
    assert len({float(p["x"]) for p in points}) == doubles


def test_exhaustion_is_reported_with_the_true_size():
    size = 2 * _doubles_in_narrow()
    experiment, problems = parse_experiment(document(BY_ID["optuna-random"], NARROW, size), "optuna")
    assert not problems
    assert experiment.space.cardinality() == size
    error = SearchSpaceExhausted(experiment.space.cardinality(), size - 1, 2)
    assert f"has {size} distinct points and {size - 1} are already taken" in str(error)
    assert f"lower maxTrialCount to at most {size}" in str(error)


# Class 8: Sobol at every position Katib's int32 counter can send.
@pytest.mark.parametrize("position", [2**30 - 1, 2**30, 2**31 - 1])
def test_sobol_at_large_positions(position):
    algorithm = BY_ID["optuna-sobol"]
    parameters = [double("x", "0", "1"), integer("n", "-9223372036854775807", "9223372036854775807")]
    scenario = Scenario("optuna", document(algorithm, parameters, 100), (3, 4), position - 7, OUTCOMES)
    report = run_scenario(scenario, suggester("optuna"))
    assert report.accepted and not report.findings, report.findings
    assert report.last_request.total_request_number == position


def test_the_sobol_sequence_continues_past_two_to_the_thirty():
    points = sobol(3, 2**30 - 2, 4, seed=5)
    assert ((points >= 0) & (points < 1)).all()
    assert (sobol(3, 2**30, 2, seed=5) == points[2:]).all()
    assert len({tuple(p) for p in sobol(2, 2**32 - 8, 8, seed=None)}) == 8
    with pytest.raises(ValueError, match="Sobol positions"):
        sobol(2, 2**32 - 1, 2, seed=None)


# Issue 15: min == max holds a parameter fixed, for every algorithm.
FIXED = [integer("layers", "5", "5"), double("dropout", "0.5", "0.5", "0.1"), double("lr", "0.001", "0.1"),
         integer("units", "16", "512", "16"), listed("act", "categorical", "relu")]


@pytest.mark.parametrize("algorithm", BY_ID.values(), ids=BY_ID)
def test_min_equal_to_max_is_a_fixed_value(algorithm):
    parameters = [p for p in FIXED if algorithm.key != "grid" or p["name"] != "lr"]
    scenario = Scenario(algorithm.backend, document(algorithm, parameters, 20), (1, 3, 2), 0, OUTCOMES)
    report = run_scenario(scenario, suggester(algorithm.backend))
    assert report.accepted and not report.findings, report.findings
    for point in report.last_reply.parameter_assignments:
        values = {a.name: a.value for a in point.assignments}
        assert (values["layers"], values["dropout"], values["act"]) == ("5", "0.5", "relu")


@pytest.mark.parametrize("algorithm", BY_ID.values(), ids=BY_ID)
def test_fixed_parameters_do_not_count_as_tunable(algorithm):
    only_fixed = [integer("layers", "5", "5"), double("dropout", "0.5", "0.5")]
    if algorithm.key == "cmaes":
        problems = rejection(algorithm, [*only_fixed, double("lr", "0.001", "0.1")], 20)
        assert any("found 1, not counting 2 held fixed by min == max" in p for p in problems), problems
        return
    points = exhaust(algorithm, only_fixed, 1)
    assert points == [{"layers": "5", "dropout": "0.5"}]


def test_a_wide_log_int_is_modelled_by_optuna_as_a_log_double_and_served_as_ints():
    # value by value, optuna's TPE took over 300 s for 11 points at 920 trials on [11, 5440837]
    from katib_suggestion.backends.optuna_space import LOG_INT_VALUES, codec_for
    from katib_suggestion.model import Distribution, Kind, Parameter
    from optuna.distributions import FloatDistribution, IntDistribution

    wide = Parameter("p0", Kind.INT, 11, 5440837, 1, Distribution.LOG_UNIFORM)
    narrow = Parameter("p1", Kind.INT, 1, LOG_INT_VALUES, 1, Distribution.LOG_UNIFORM)
    assert isinstance(codec_for(wide).distribution, FloatDistribution) and codec_for(wide).distribution.log
    assert isinstance(codec_for(narrow).distribution, IntDistribution)
    for internal in (11.0, 11.4, 1234.5678, 5440836.6, 5440837.0):
        value = codec_for(wide).from_optuna(internal)
        assert isinstance(value, int) and 11 <= value <= 5440837
