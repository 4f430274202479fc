"""Abandoned work stops: a call whose client left stops at its next safe point and frees the worker.

No absolute times: the wire test counts the long call's model fits (it must stop
long before its plan's last one), and compares the short call's wait with the
long call's own pace measured in the same run.
"""

from __future__ import annotations

import random
import time

import grpc
import pytest
from katib_api import api_pb2 as pb
from katib_api import api_pb2_grpc
from katib_suggestion import edge
from katib_suggestion.cancellation import CancelToken, checkpoint, run_cancellable
from katib_suggestion.edge import status_of
from katib_suggestion.errors import CallAbandoned
from servers import in_process_server

pytest.importorskip("skopt")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

from katib_suggestion.backends import skopt_backend  # noqa: E402


def test_a_safe_point_outside_a_call_does_nothing():
    checkpoint()


def test_a_cancelled_call_stops_at_its_next_safe_point():
    token, reached = CancelToken(), []

    def work():
        for index in range(10):
            checkpoint()
            reached.append(index)
            if index == 2:
                token.cancel()

    with pytest.raises(CallAbandoned):
        run_cancellable(token, work)
    assert reached == [0, 1, 2]
    assert (token.safe_points, token.safe_points_at_cancel) == (4, 3)
    assert status_of(CallAbandoned("gone"))[0] is grpc.StatusCode.CANCELLED
    checkpoint()  # the token is gone with its call


def skopt_experiment(name: str, settings=()) -> pb.Experiment:
    e = pb.Experiment(name=name)
    e.spec.objective.type, e.spec.objective.objective_metric_name = pb.MINIMIZE, "loss"
    e.spec.algorithm.algorithm_name = "bayesianoptimization"
    for key, value in settings:
        e.spec.algorithm.algorithm_settings.add(name=key, value=value)
    for index in range(4):
        e.spec.parameter_specs.parameters.add(name=f"x{index}", parameter_type=pb.DOUBLE,
                                              feasible_space=pb.FeasibleSpace(min="0", max="1"))
    return e


def skopt_request(e: pb.Experiment, finished: int, count: int) -> pb.GetSuggestionsRequest:
    rng, trials = random.Random(1), []
    for index in range(finished):
        trial = pb.Trial(name=f"{e.name}-{index}")
        xs = [rng.random() for _ in range(4)]
        for i, x in enumerate(xs):
            trial.spec.parameter_assignments.assignments.add(name=f"x{i}", value=repr(x))
        trial.status.condition = pb.TrialStatus.SUCCEEDED
        trial.status.observation.metrics.add(name="loss", value=repr(sum((x - 0.3) ** 2 for x in xs)))
        trials.append(trial)
    return pb.GetSuggestionsRequest(experiment=e, trials=trials, current_request_number=count,
                                    total_request_number=finished + count)


@pytest.mark.parametrize("estimator", ["GP", "RF"])
def test_a_live_token_never_changes_the_answer(estimator):
    """The same call with and without someone able to cancel it: the same points, and its loops did poll."""
    from katib_suggestion.pipeline import Suggester
    from katib_suggestion.registry import load_backend

    suggester = Suggester("skopt", load_backend("skopt"))
    request = skopt_request(skopt_experiment("same", [("base_estimator", estimator), ("n_initial_points", "3")]), 8, 3)
    plain = suggester.suggest(request, {})
    token = CancelToken()
    watched = run_cancellable(token, suggester.suggest, request, {})
    assert watched == plain and token.safe_points >= 3 and not token.cancelled


class Recorded(CancelToken):
    made: list[CancelToken] = []

    def __init__(self) -> None:
        super().__init__()
        Recorded.made.append(self)


@pytest.mark.parametrize("leaves", ["cancel", "deadline"])
def test_an_abandoned_call_frees_the_worker_for_the_next_call(monkeypatch, leaves):
    """Issue 22: a long call Katib gave up on kept the one worker busy; a 1-point call waited 75 s."""
    fits = []
    monkeypatch.setattr(skopt_backend, "checkpoint", lambda: (fits.append(time.perf_counter()), checkpoint()))
    monkeypatch.setattr(edge, "CancelToken", Recorded)
    Recorded.made = []
    long_experiment = skopt_experiment("long", [("base_estimator", "RF"), ("n_initial_points", "0"),
                                                ("time_budget_seconds", "30")])
    long_call = skopt_request(long_experiment, 20, 1000)
    short_call = skopt_request(skopt_experiment("short"), 0, 1)
    with in_process_server("skopt") as (address, _), grpc.insecure_channel(address) as channel:
        stub = api_pb2_grpc.SuggestionStub(channel)
        stub.GetSuggestions(short_call, timeout=120)  # imports done before anything is measured
        started = time.perf_counter()
        pending = stub.GetSuggestions.future(long_call, timeout=600 if leaves == "cancel" else 3)
        while len(fits) < 3 and not pending.done():
            time.sleep(0.01)
        if leaves == "cancel":
            pending.cancel()
        else:
            with pytest.raises(grpc.RpcError) as error:
                pending.result()
            assert error.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        left, done_at_leave = time.perf_counter(), len(fits)
        reply = stub.GetSuggestions(short_call, timeout=600)
        answered = time.perf_counter()
    token = Recorded.made[1]
    planned = _planned_fits(long_call)
    pace = (left - started) / max(done_at_leave, 1)  # this machine's seconds per fit of the long call, now
    print(f"\nlong call ({leaves}): {done_at_leave} of {planned} fits done when the client left after "
          f"{left - started:.2f} s; stopped after {len(fits)} fits, {token.safe_points} safe points, "
          f"{token.safe_points - token.safe_points_at_cancel} after the cancel; longest CPU between safe points "
          f"{token.longest_gap * 1000:.0f} ms; short call answered {answered - left:.2f} s after the client left; "
          f"the long call would have run about {pace * (planned - done_at_leave):.1f} s more")
    assert len(reply.parameter_assignments) == 1
    assert token.cancelled and token.safe_points - token.safe_points_at_cancel <= 1
    assert len(fits) <= done_at_leave + 1 < planned
    assert answered - left < pace * (planned - done_at_leave) / 2


def _planned_fits(request: pb.GetSuggestionsRequest) -> int:
    """Safe points of skopt_backend the long call passes when nobody cancels it (one per fit, plus one)."""
    from test_skopt_cost import plan_of_message

    return plan_of_message(request).count + 1
