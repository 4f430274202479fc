"""The skopt plan's prediction holds at its edges: measured CPU seconds against the plan's own, as a ratio.

Issue 22: two accepted calls took 65 s and 82 s of one core on a plan made for
20, because the tree estimators' cost had drifted 3-4x from the constants. This
samples requests at the largest histories, batches and dimensions each
estimator accepts, with a small budget (so each call costs about a second),
and checks the CPU seconds of the call against the sum of its plans'
predictions (one per round of the core's deduplication). A ratio, not a time:
a loaded machine slows the wall clock, not the CPU seconds of the call, by much.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from katib_api import api_pb2 as pb

pytest.importorskip("skopt")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

from conftest import make_experiment  # noqa: E402
from cpu_time import least_cpu  # noqa: E402
from katib_suggestion.backends import skopt_backend, skopt_budget  # noqa: E402
from katib_suggestion.batch import suggest_unique  # noqa: E402
from katib_suggestion.model import SearchSpace, SuggestionRequest, Trial, TrialState  # noqa: E402
from katib_suggestion.pipeline import Suggester  # noqa: E402
from katib_validators.skopt_algorithms import MAX_DIMENSIONS  # noqa: E402

# The plan aims at SAFETY of the budget on the calibration machine, so a node 1/SAFETY
# times slower still keeps the budget; a measurement beyond that ratio breaks the promise.
MARGIN = 1 / skopt_budget.SAFETY
BUDGET = 1.0  # seconds: the smallest budget a user may set, so every case is cheap
RECORDED = sorted((Path(__file__).parent / "data" / "recorded").glob("*.GetSuggestionsRequest.bin"))
SPACES = {
    "one-double": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
    "widest": [{"name": f"x{i}", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}
               for i in range(MAX_DIMENSIONS)],
    "list": [{"name": "x", "parameterType": "int", "feasibleSpace": {"min": "-5", "max": "5000"}},
             {"name": "c", "parameterType": "categorical",
              "feasibleSpace": {"list": [f"v{i}" for i in range(MAX_DIMENSIONS - 1)]}}],
}


def edge_request(estimator: str, space: str, history: int, pending: int, count: int, extra: dict) -> SuggestionRequest:
    experiment = make_experiment("skopt", "bayesianoptimization", SPACES[space], {
        "base_estimator": estimator, "time_budget_seconds": BUDGET, "n_initial_points": 0, **extra})
    rng, trials = random.Random(history), []
    for index in range(history + pending):
        point = experiment.space.from_unit([rng.random() for _ in experiment.space])
        done = index < history
        trials.append(Trial(f"t{index}", point, TrialState.COMPLETED if done else TrialState.PENDING,
                            rng.random() if done else None))
    return SuggestionRequest(experiment, tuple(trials), count, seed=history + count)


@st.composite
def edges(draw, estimator: str):
    top = skopt_budget.GP_MAX_WINDOW if estimator == "GP" else skopt_budget.MAX_WINDOW
    extra = {"acq_func": draw(st.sampled_from(["gp_hedge", "EI"]))}
    if estimator == "GP":
        extra["acq_optimizer"] = draw(st.sampled_from(["lbfgs", "sampling"]))
    return (draw(st.sampled_from(sorted(SPACES))), draw(st.sampled_from([top, top + 1, 2 * top])),
            draw(st.sampled_from([0, 40])), draw(st.sampled_from([1, 4, 1000])), extra)


@pytest.mark.parametrize("estimator", ["GP", "RF", "ET", "GBRT"])
def test_measured_cpu_stays_within_the_plans_prediction_at_the_edges(monkeypatch, estimator):
    planned, choose = [], skopt_backend.plan_of

    def recorded(*args):
        planned.append(choose(*args))
        return planned[-1]

    monkeypatch.setattr(skopt_backend, "plan_of", recorded)

    top = skopt_budget.GP_MAX_WINDOW if estimator == "GP" else skopt_budget.MAX_WINDOW

    @settings(max_examples=3, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @example(("widest", 2 * top, 40, 1000, {"acq_func": "gp_hedge"}))  # every limit at once
    @given(edges(estimator))
    def check(edge):
        request = edge_request(estimator, *edge)
        planned.clear()
        measured, batch = least_cpu(suggest_unique, skopt_backend.BACKEND, request)
        predicted = sum(plan.seconds() for plan in planned[:len(planned) // 2])
        print(f"\n{estimator} {edge}: {len(planned)} plan(s) {[p.count for p in planned]} model points, "
              f"measured {measured:.2f} s, predicted {predicted:.2f} s")
        assert len(batch.points) == request.count
        assert planned
        assert measured <= MARGIN * predicted, (edge, measured, predicted)

    check()


def plan_of_message(request: pb.GetSuggestionsRequest) -> skopt_budget.Plan:
    """The plan the server makes for a GetSuggestionsRequest, without running it."""
    from katib_suggestion import wire
    from katib_suggestion.backends.skopt_history import split
    from katib_suggestion.backends.skopt_space import SpaceCodec

    experiment = Suggester("skopt", skopt_backend.BACKEND).experiment(request.experiment)
    history = wire.trials_to_history(request.trials, experiment.space, experiment.objective).trials
    free = SearchSpace(tuple(p for p in experiment.space if not p.is_fixed))  # as the backend sees it
    ask = SuggestionRequest(replace(experiment, space=free), tuple(history), request.current_request_number, 0)
    codec = SpaceCodec(free)
    told = split(ask, codec)
    return skopt_backend.plan_of(ask, codec, told, ask.count - skopt_backend._random_count(ask, told))


@pytest.mark.parametrize("path", RECORDED, ids=lambda path: path.name.split(".")[0])
def test_the_recorded_requests_are_planned_within_their_budget_and_cost_what_was_planned(monkeypatch, path):
    """Issue 22's two requests took 65 and 82 s of one core on a plan made for 20 s. As recorded, the
    plan now predicts at most SAFETY of the budget; measured with the smallest budget (to stay cheap),
    the call costs at most MARGIN times its plan's prediction."""
    request = pb.GetSuggestionsRequest.FromString(path.read_bytes())
    plan = plan_of_message(request)
    assert 1 <= plan.count < request.current_request_number and "random-rest" in plan.degraded
    assert plan.seconds() <= 20 * skopt_budget.SAFETY
    request.experiment.spec.algorithm.algorithm_settings.add(name="time_budget_seconds", value=str(BUDGET))
    planned, choose = [], skopt_backend.plan_of
    monkeypatch.setattr(skopt_backend, "plan_of", lambda *args: planned.append(choose(*args)) or planned[-1])
    measured, reply = least_cpu(Suggester("skopt", skopt_backend.BACKEND).suggest, request, {})
    predicted = sum(plan.seconds() for plan in planned[:len(planned) // 2])
    print(f"\n{path.name}: as recorded {plan.count} model points, predicted {plan.seconds():.2f} s; "
          f"with a {BUDGET:g} s budget measured {measured:.2f} s, predicted {predicted:.2f} s")
    assert len(reply.parameter_assignments) == request.current_request_number
    assert measured <= MARGIN * predicted
