"""Property tests: any document validates or yields problems; no check ever raises or crashes."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from katib_suggestion.model import Kind, SuggestionRequest
from katib_suggestion.pipeline import with_seed
from katib_suggestion.registry import load_backend
from katib_validators.catalog import ALGORITHMS, served_by
from katib_validators.experiment import parse_experiment
from katib_validators.katib_config import check_katib_config
from katib_validators.problems import Problem
from katib_validators.resource import check_resource

BOUNDED = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
anything = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)
numbers = (st.sampled_from(["0", "1", "-1", "0.5", "1e-3", "1e308", "-1e308", "1e-320", "nan", "inf", "", " 2 ",
                            "1.0", "9" * 30, "1_0", "0x10"])
           | st.integers(-10**20, 10**20).map(str) | st.floats(allow_nan=True).map(repr) | anything)


def maybe(strategy):
    """The strategy's value, or any value at all, or the key left out (None is dropped)."""
    return st.one_of(strategy, anything, st.just(None))


def mapping(**fields):
    return st.fixed_dictionaries({k: maybe(v) for k, v in fields.items()}).map(
        lambda d: {k: v for k, v in d.items() if v is not None})


names = st.sampled_from(sorted({n for a in ALGORITHMS for n in a.names}))
feasible = mapping(min=numbers, max=numbers, step=numbers,
                   list=st.lists(numbers | st.text(max_size=3), max_size=4),
                   distribution=st.sampled_from(["uniform", "logUniform", "normal", "logNormal", "x"]))
parameter = mapping(name=st.text(max_size=4), parameterType=st.sampled_from(["int", "double", "discrete",
                                                                             "categorical", "unknown"]),
                    feasibleSpace=feasible)
setting = mapping(name=st.sampled_from(sorted({s.name for a in ALGORITHMS for s in a.schema.settings}))
                  | st.text(max_size=4), value=numbers)
spec = mapping(
    parameters=st.lists(parameter, max_size=4),
    objective=mapping(type=st.sampled_from(["minimize", "maximize"]), goal=st.floats(),
                      objectiveMetricName=st.text(max_size=4), additionalMetricNames=st.lists(anything, max_size=2),
                      metricStrategies=st.lists(mapping(name=st.text(max_size=3), value=st.text(max_size=3)))),
    algorithm=mapping(algorithmName=names, algorithmSettings=st.lists(setting, max_size=3)),
    maxTrialCount=st.integers(-2, 2**32), parallelTrialCount=st.integers(-2, 50),
    maxFailedTrialCount=st.integers(-2, 50), resumePolicy=st.text(max_size=4),
    trialTemplate=mapping(primaryContainerName=st.text(max_size=3), trialSpec=anything,
                          trialParameters=st.lists(mapping(name=st.text(max_size=3), reference=st.text(max_size=3)))),
)
small = st.sampled_from(["-10", "-1", "0", "0.001", "0.1", "0.5", "1", "2", "3", "10", "100", "1e-9", "1e9"])
numeric_space = st.fixed_dictionaries({"min": small, "max": small}, optional={
    "step": small, "distribution": st.sampled_from(["uniform", "logUniform", "normal", "logNormal"])})
plausible = st.one_of(
    st.fixed_dictionaries({"name": st.sampled_from("abcd"), "parameterType": st.sampled_from(["int", "double"]),
                           "feasibleSpace": numeric_space}),
    st.fixed_dictionaries({"name": st.sampled_from("abcd"),
                           "parameterType": st.sampled_from(["discrete", "categorical"]),
                           "feasibleSpace": st.fixed_dictionaries({"list": st.lists(small, min_size=1, max_size=4)})}),
)
plausible_spaces = st.lists(plausible, min_size=1, max_size=3, unique_by=lambda p: p["name"])
documents = mapping(apiVersion=st.just("kubeflow.org/v1beta1"), kind=st.just("Experiment"),
                    metadata=mapping(name=st.from_regex(r"[a-z][-a-z0-9]{0,45}", fullmatch=True)), spec=spec) \
    | anything


def _well_formed(problems: list) -> None:
    assert all(isinstance(p, Problem) and isinstance(p.path, str) and p.message for p in problems)
    # the fallback of `guarded` means a check raised: no generated input may reach it
    assert not any("could not be checked" in p.message for p in problems), [str(p) for p in problems]
    for p in problems:
        str(p)


@BOUNDED
@given(documents, st.sampled_from([None, *dict.fromkeys(a.backend for a in ALGORITHMS)]))
def test_any_document_validates_or_has_problems(doc, backend):
    experiment, problems = parse_experiment(doc, backend)
    assert (experiment is None) == bool(problems)
    _well_formed(problems)
    _well_formed(check_resource(doc))


@BOUNDED
@given(maybe(mapping(runtime=mapping(suggestions=st.lists(
    mapping(algorithmName=names | st.text(max_size=4),
            image=st.sampled_from(["ghcr.io/katib-suggest/katib-suggest-optuna:1", "x/katib-suggest-nope",
                                   "katib-suggest-hyperopt@sha256:0", "docker.io/kubeflowkatib/x:v1"])
            | st.text(max_size=6)), max_size=4)))))
def test_any_katib_config_validates_or_has_problems(config):
    _well_formed(check_katib_config(config))


@BOUNDED
@given(st.lists(parameter, min_size=1, max_size=4) | plausible_spaces)
def test_accepted_spaces_keep_the_model_invariants(parameters):
    experiment, problems = parse_experiment({"metadata": {"name": "p"}, "spec": {
        "parameters": parameters, "objective": {"type": "minimize", "objectiveMetricName": "loss"},
        "algorithm": {"algorithmName": "hyperopt-random"}, "maxTrialCount": 1}}, None)
    _well_formed(problems)
    if experiment is None:
        return
    for p in experiment.space:
        if p.is_numeric:
            assert p.low <= p.high and math.isfinite(float(p.high) - float(p.low))
            assert not p.is_log or p.low > 0
            assert p.step is None or 0 < p.step <= p.high - p.low or p.low == p.high
            assert p.kind is not Kind.INT or isinstance(p.low, int)
        else:
            assert p.choices and len(set(p.choices)) == len(p.choices)
        assert p.cardinality() >= 1


_OPTUNA = load_backend("optuna")


def test_what_optuna_accepts_it_can_suggest_for():
    accepted: list[str] = []

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None,
              derandomize=True)
    @given(plausible_spaces, st.sampled_from(sorted(served_by("optuna"))))
    def check(parameters, algorithm):
        experiment, _ = parse_experiment({"metadata": {"name": "p"}, "spec": {
            "parameters": parameters, "objective": {"type": "minimize", "objectiveMetricName": "loss"},
            "algorithm": {"algorithmName": algorithm}, "maxTrialCount": 1}}, "optuna")
        if experiment is not None:
            accepted.append(algorithm)
            proposal = _OPTUNA.suggest(SuggestionRequest(with_seed(experiment), (), 1, 1))
            assert len(proposal.points) == 1

    check()
    # guards the generator: a strategy that never yields a valid space would test nothing
    assert len(accepted) >= 10
