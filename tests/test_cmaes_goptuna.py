"""cmaes with goptuna's settings (upstream's default image for cmaes): restarts, sigma, seeds, budgets."""

from __future__ import annotations

import json
import math
import statistics
import warnings
from pathlib import Path

import grpc
import pytest
from conftest import experiment_doc, make_experiment
from katib_api import api_pb2, api_pb2_grpc
from katib_suggestion.backends import cmaes_replay
from katib_suggestion.backends.cmaes_replay import cmaes_points, replay
from katib_suggestion.local.driver import ExperimentDriver
from katib_suggestion.model import SuggestionRequest, Trial, TrialState
from katib_suggestion.wire import experiment_message
from katib_validators.cmaes_rules import MAX_DIMENSIONS, max_popsize
from servers import in_process_server

_UNSOUND = cmaes_replay._unsound

# upstream's examples/v1beta1/hp-tuning/cma-es.yaml space
LR = {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.05"}}
MOMENTUM = {"name": "momentum", "parameterType": "double", "feasibleSpace": {"min": "0.5", "max": "0.9"}}
GOPTUNA_STYLE = {
    "bipop": {"restart_strategy": "bipop", "sigma": "0.01", "random_state": "-7"},
    "ipop": {"restart_strategy": "ipop", "random_state": "10"},
    "none-default-sigma": {"restart_strategy": "none", "sigma": "0"},
    "None-int64-seed": {"restart_strategy": "None", "random_state": str(2**63 - 1)},
    "unset": {},
}


@pytest.fixture(scope="module")
def stub():
    with in_process_server("optuna") as (address, _):
        with grpc.insecure_channel(address) as channel:
            yield api_pb2_grpc.SuggestionStub(channel)


def _validate(stub, doc) -> grpc.RpcError | None:
    try:
        stub.ValidateAlgorithmSettings(api_pb2.ValidateAlgorithmSettingsRequest(
            experiment=experiment_message(doc)), timeout=30)
    except grpc.RpcError as error:
        return error
    return None


@pytest.mark.parametrize("case,space", [*((case, "upstream-example") for case in sorted(GOPTUNA_STYLE)),
                                        ("bipop", "mixed")])
def test_goptuna_settings_round_trip_through_validate_and_suggestions(stub, case, space):
    parameters = [LR, MOMENTUM] if space == "upstream-example" else None
    doc = experiment_doc("cmaes", parameters, GOPTUNA_STYLE[case], name=f"cmaes-{case.lower()}",
                         max_trials=30, parallel=3)
    assert _validate(stub, doc) is None
    message = experiment_message(doc)

    def loss(values: dict[str, str]) -> float:
        return sum((float(v) - 0.3) ** 2 for k, v in values.items() if k in ("lr", "momentum", "dropout"))

    report = ExperimentDriver(message, lambda: stub, loss, seed=3).run()
    assert len(report.trials) == 30 and not report.failed_calls
    for trial in report.trials:
        values = {a.name: a.value for a in trial.spec.parameter_assignments.assignments}
        if space == "upstream-example":
            assert 0.01 <= float(values["lr"]) <= 0.05 and 0.5 <= float(values["momentum"]) <= 0.9
    given = dict(GOPTUNA_STYLE[case]).get("random_state")
    reply = stub.GetSuggestions(api_pb2.GetSuggestionsRequest(experiment=message, current_request_number=1,
                                                              total_request_number=1), timeout=30)
    returned = {s.name: s.value for s in reply.algorithm.algorithm_settings}
    assert given is None or returned["random_state"] == given  # the user's seed travels back unchanged


def _flat_history(experiment, size: int, seed: int = 1) -> tuple[Trial, ...]:
    """``size`` completed trials that all score the same: every CMA-ES run stalls (tolfun) and restarts."""
    points = cmaes_points(SuggestionRequest(experiment, (), size, seed)).points
    return tuple(Trial(f"t{i}", point, TrialState.COMPLETED, 1.0) for i, point in enumerate(points))


@pytest.fixture(scope="module")
def bipop():
    experiment = make_experiment("optuna", "cmaes", [LR, MOMENTUM], {"restart_strategy": "bipop"})
    return experiment, _flat_history(experiment, 1200)


def test_bipop_interlaces_large_and_small_runs(bipop):
    _, restarts = replay(*bipop)
    (first, default, _), *later = restarts.runs
    assert first == "first" and default == 4 + math.floor(3 * math.log(2)) and len(later) >= 5
    assert later[0] == ("large", 2 * default, 1.0)  # goptuna's order: the first restart is a large one
    large = [p for regime, p, _ in later if regime == "large"]
    small = [(p, scale) for regime, p, scale in later if regime == "small"]
    assert large == [default * 2 ** k for k in range(1, len(large) + 1)]  # large runs double each time
    assert small, "small runs are interlaced with the large ones"
    assert all(default <= p < large[-1] and 0.01 < scale <= 1 for p, scale in small)
    small_evaluations, large_evaluations = restarts.evaluations
    assert small_evaluations > 0 and large_evaluations > 0


def test_ipop_doubles_and_none_never_restarts():
    for strategy, expected in (("ipop", lambda n, d: [d * 2 ** k for k in range(n)]), ("none", None)):
        experiment = make_experiment("optuna", "cmaes", [LR, MOMENTUM], {"restart_strategy": strategy})
        _, restarts = replay(experiment, _flat_history(experiment, 600))
        popsizes = [p for _, p, _ in restarts.runs]
        if expected is None:
            assert len(popsizes) == 1
        else:
            assert len(popsizes) >= 3 and popsizes == expected(len(popsizes), popsizes[0])


def test_restarts_are_a_pure_function_of_the_history(bipop):
    experiment, history = bipop
    first = cmaes_points(SuggestionRequest(experiment, history, 5, 42)).points
    assert cmaes_points(SuggestionRequest(experiment, history, 5, 42)).points == first
    assert replay(experiment, history)[1].runs == replay(experiment, history)[1].runs


@pytest.mark.parametrize("sigma", [0.002, 0.004])
def test_sigma_is_absolute_as_in_goptuna(sigma):
    """lr spans 0.04 and momentum 0.4: the same absolute sigma is a 10x different share of each range."""
    experiment = make_experiment("optuna", "cmaes", [LR, MOMENTUM], {"sigma": str(sigma), "popsize": "400"})
    points = cmaes_points(SuggestionRequest(experiment, (), 400, 5)).points
    for name in ("lr", "momentum"):
        spread = statistics.pstdev(float(p[name]) for p in points)
        assert 0.8 * sigma < spread < 1.2 * sigma, (name, spread)


def test_sigma_on_a_log_scale_is_in_natural_log_units():
    lr = {"name": "lr", "parameterType": "double",
          "feasibleSpace": {"min": "0.0001", "max": "1", "distribution": "logUniform"}}
    experiment = make_experiment("optuna", "cmaes", [lr, MOMENTUM], {"sigma": "0.5", "popsize": "400"})
    points = cmaes_points(SuggestionRequest(experiment, (), 400, 5)).points
    spread = statistics.pstdev(math.log(float(p["lr"])) for p in points)
    assert 0.4 < spread < 0.6


@pytest.mark.parametrize("sigma", ["1e-300", "5e-324", "1e-9", "41", "1e300"])
def test_sigma_outside_the_sound_range_is_rejected_at_validate(stub, sigma):
    error = _validate(stub, experiment_doc("cmaes", [LR, MOMENTUM], {"sigma": sigma}))
    assert error is not None and error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "spec.algorithm.algorithmSettings[0].value: sigma is absolute" in error.details()
    assert "set sigma between 4e-09 and 40" in error.details()


@pytest.mark.parametrize("sigma", ["4.1e-09", "39.9", "-1"])
def test_sigma_edges(stub, sigma):
    error = _validate(stub, experiment_doc("cmaes", [LR, MOMENTUM], {"sigma": sigma}))
    if sigma == "-1":  # goptuna would silently use its default; a negative step is a mistake
        assert error is not None and "sigma must be float >= 0" in error.details()
    else:
        assert error is None


def test_smallest_sigma_converges_without_breaking():
    """At the smallest sigma the run collapses within a few generations; later calls still answer."""
    experiment = make_experiment("optuna", "cmaes", [LR, MOMENTUM], {"sigma": "4.1e-09"})
    history: tuple[Trial, ...] = ()
    for round_ in range(25):
        points = cmaes_points(SuggestionRequest(experiment, history, 6, round_)).points
        values = [(float(p["lr"]) - 0.02) ** 2 + (float(p["momentum"]) - 0.6) ** 2 for p in points]
        history += tuple(Trial(f"r{round_}-{i}", p, TrialState.COMPLETED, v) for i, (p, v) in
                         enumerate(zip(points, values, strict=True)))
        assert all(0.01 <= p["lr"] <= 0.05 and 0.5 <= p["momentum"] <= 0.9 for p in points)
    assert len(replay(experiment, history)[1].runs) == 1


def test_population_and_dimensions_are_bounded_at_validate(stub):
    error = _validate(stub, experiment_doc("cmaes", [LR, MOMENTUM], {"popsize": "100000000"}))
    assert error is not None and "popsize must be 4 <= int <= 1000" in error.details()
    wide = [{"name": f"x{i}", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}
            for i in range(MAX_DIMENSIONS)]
    error = _validate(stub, experiment_doc("cmaes", wide, {"popsize": str(max_popsize(MAX_DIMENSIONS) + 1)}))
    assert error is not None and f"popsize can be at most {max_popsize(MAX_DIMENSIONS)}" in error.details()
    assert _validate(stub, experiment_doc("cmaes", wide, {"popsize": str(max_popsize(MAX_DIMENSIONS))})) is None
    error = _validate(stub, experiment_doc("cmaes", [*wide, LR]))
    assert error is not None and f"cmaes models at most {MAX_DIMENSIONS} int or double" in error.details()


UNITS = {"name": "units", "parameterType": "int", "feasibleSpace": {"min": "0", "max": "1000"}}


def _unsound_history(experiment) -> tuple[Trial, ...]:
    """30 rounds that converge below one step of ``units`` (its rounded values become outliers), then 30
    trials far outside the distribution, better than all of them (they can overflow the step size)."""
    history: tuple[Trial, ...] = ()
    for round_ in range(30):
        points = cmaes_points(SuggestionRequest(experiment, history, 6, round_)).points
        history += tuple(Trial(f"r{round_}-{i}", p, TrialState.COMPLETED,
                               (p["lr"] - 0.02) ** 2 + (p["units"] - 300.4) ** 2) for i, p in enumerate(points))
    return history + tuple(Trial(f"far-{i}", {"lr": 0.05, "units": 1000}, TrialState.COMPLETED, -1.0 - i)
                           for i in range(30))


@pytest.mark.parametrize("strategy", ["none", "bipop"])
def test_rounding_and_outliers_never_break_the_replay(strategy, monkeypatch):
    """Converging below one step of an int parameter makes its rounded values outliers, and trials
    far outside the distribution can overflow the step size: the last sound state is kept."""
    experiment = make_experiment("optuna", "cmaes", [LR, UNITS], {"restart_strategy": strategy})
    verdicts = []

    def spy(optimizer) -> bool:
        verdicts.append(_UNSOUND(optimizer))
        return verdicts[-1]

    monkeypatch.setattr(cmaes_replay, "_unsound", spy)
    history = _unsound_history(experiment)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow inside the library would surface here
        points = cmaes_points(SuggestionRequest(experiment, history, 6, 99)).points
    assert all(0.01 <= p["lr"] <= 0.05 and 0 <= p["units"] <= 1000 for p in points)
    assert any(verdicts), "the history drove the distribution out of double precision: the path under test ran"


UNSOUND_ANSWERS = Path(__file__).parent / "data" / "cmaes-unsound-answers.json"


def test_the_rare_retelling_gives_the_answers_it_gave_before_the_replay_got_cheaper():
    """_unsound_history, seeded, for every restart strategy: answers written by the code that kept a
    deep copy of each run's start (issue 25) must come out of the run rebuilt from its settings."""
    answers = []
    for strategy in ("none", "bipop", "ipop"):
        experiment = make_experiment("optuna", "cmaes", [LR, UNITS], {"restart_strategy": strategy, "random_state": 3})
        answers.append(cmaes_points(SuggestionRequest(experiment, _unsound_history(experiment), 6, 99)).points)
    assert answers == json.loads(UNSOUND_ANSWERS.read_text())
