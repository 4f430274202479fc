"""The hyperopt space mapping: every value it can produce is feasible, whatever the distribution."""

from __future__ import annotations

import math
import statistics

import pytest
from conftest import make_experiment
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from katib_suggestion.backends.hyperopt_backend import BACKEND
from katib_suggestion.backends.hyperopt_space import SpaceCodec, codec_for
from katib_suggestion.model import Kind, Parameter, SuggestionRequest, Trial, TrialState
from katib_validators.search_space import parse_search_space

DISTRIBUTIONS = ["uniform", "logUniform", "normal", "logNormal"]
BOUNDED = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def numeric_doc(draw, name: str = "x") -> dict:
    """An int or double parameter as users write it, any distribution, with or without a step."""
    kind = draw(st.sampled_from(["int", "double"]))
    distribution = draw(st.sampled_from(DISTRIBUTIONS))
    log = distribution.startswith("log")
    if kind == "int":
        low = draw(st.integers(1 if log else -100, 100))
        high = low + draw(st.integers(1, 500))
        step = draw(st.none() | st.integers(1, high - low))
    else:
        low = round(draw(st.floats(0.001 if log else -100, 100)), 3)
        high = round(low + draw(st.floats(0.01, 500)), 3)
        step = draw(st.none() | st.sampled_from([0.001, 0.01, 0.05, 0.1, 0.25, 1.0, 7.0]))
        assume(high > low and (step is None or step <= high - low))
    space = {"min": str(low), "max": str(high), "distribution": distribution}
    if step is not None:
        space["step"] = str(step)
    return {"name": name, "parameterType": kind, "feasibleSpace": space}


@st.composite
def list_doc(draw, name: str = "c") -> dict:
    kind = draw(st.sampled_from(["discrete", "categorical"]))
    size = draw(st.integers(1, 5))
    values = ["0.10", "1e-3", "2", "-7.5", "30"] if kind == "discrete" else ["sgd", "Adam", "a b", "0.10", "x"]
    return {"name": name, "parameterType": kind, "feasibleSpace": {"list": values[:size]}}


def parameter(doc: dict) -> Parameter:
    space, problems = parse_search_space([doc])
    assert not problems, [str(p) for p in problems]
    return space.parameters[0]


def assert_feasible(p: Parameter, value) -> None:
    if p.choices:
        assert isinstance(value, str) and value in p.choices  # exactly as written
        return
    assert p.low <= value <= p.high, (value, p)
    if p.kind is Kind.INT:
        assert isinstance(value, int) and "." not in p.format(value)
    if p.step is not None:
        index = (value - p.low) / p.step
        assert abs(index - round(index)) < 1e-6, (value, p)


@BOUNDED
@given(doc=numeric_doc() | list_doc(), u=st.floats(0.0, 1.0))
def test_every_internal_value_maps_to_a_feasible_value(doc, u):
    p = parameter(doc)
    codec = codec_for(p)
    # the internal ranges: [0, 1] for quantiles, the cell edges for grid and choice indices
    cells = len(p.choices) if p.choices else (p.cardinality() or 1)
    internal = u if codec.shape == "unit" else -0.5 + u * cells
    assert_feasible(p, codec.from_internal(internal))


@BOUNDED
@given(doc=numeric_doc() | list_doc(), u=st.floats(0.0, 1.0))
def test_feasible_values_survive_the_round_trip(doc, u):
    p = parameter(doc)
    codec = codec_for(p)
    value = codec.from_internal(u if codec.shape == "unit" else u * ((p.cardinality() or 1) - 1))
    again = codec.from_internal(codec.converter(value))
    if p.kind is Kind.DOUBLE and p.step is None:
        assert math.isclose(again, value, rel_tol=1e-9, abs_tol=1e-9)
    else:
        assert again == value


@BOUNDED
@given(docs=st.lists(numeric_doc() | list_doc(), min_size=1, max_size=4), algorithm=st.sampled_from(["tpe", "anneal"]))
def test_backend_suggestions_stay_feasible_after_modelling(docs, algorithm):
    docs = [{**doc, "name": f"p{i}"} for i, doc in enumerate(docs)]
    settings_ = {"n_startup_jobs": 0} if algorithm == "tpe" else {}
    experiment = make_experiment("hyperopt", algorithm, docs, settings_, max_trials=1, parallel=1)
    random_start = make_experiment("hyperopt", "random", docs, max_trials=1, parallel=1)
    prior = BACKEND.suggest(SuggestionRequest(random_start, (), 6, seed=1)).points
    history = tuple(Trial(f"t{i}", point, TrialState.COMPLETED, float(i % 4)) for i, point in enumerate(prior))
    for point in BACKEND.suggest(SuggestionRequest(experiment, history, 3, seed=2)).points:
        for p in experiment.space:
            assert_feasible(p, point[p.name])


@pytest.mark.parametrize("distribution", ["normal", "logNormal"])
def test_normal_priors_are_bell_shaped_and_never_pile_up_on_the_bounds(distribution):
    doc = {"name": "x", "parameterType": "double",
           "feasibleSpace": {"min": "1", "max": "1000", "distribution": distribution}}
    experiment = make_experiment("hyperopt", "random", [doc], max_trials=1, parallel=1)
    values = [p["x"] for p in BACKEND.suggest(SuggestionRequest(experiment, (), 600, seed=3)).points]
    axis = [math.log(v) for v in values] if distribution == "logNormal" else values
    low, high = (0.0, math.log(1000)) if distribution == "logNormal" else (1.0, 1000.0)
    centre, sigma = (low + high) / 2, (high - low) / 6
    inside_one_sigma = sum(abs(a - centre) <= sigma for a in axis) / len(axis)
    assert 0.6 < inside_one_sigma < 0.76  # 68% for a normal truncated at three sigmas
    assert abs(statistics.median(axis) - centre) < sigma / 4
    assert all(1 <= v <= 1000 for v in values)
    assert sum(v in (1.0, 1000.0) for v in values) <= 1


def test_uniform_grid_gives_both_ends_a_full_cell():
    doc = {"name": "n", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "4"}}
    experiment = make_experiment("hyperopt", "random", [doc], max_trials=1, parallel=1)
    codec = SpaceCodec(experiment.space)
    assert codec.codecs[0].shape == "grid"
    counts = {v: 0 for v in range(1, 5)}
    for seed in range(400):
        counts[BACKEND.suggest(SuggestionRequest(experiment, (), 1, seed=seed)).points[0]["n"]] += 1
    assert min(counts.values()) > 60, counts  # about 100 each; half-width end cells would give ~50
