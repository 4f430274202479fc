"""Whole experiments driven like the Katib controller, through a real server process, with restarts."""

from __future__ import annotations

import copy
import hashlib
import math

import grpc
import pytest
from conftest import FINITE_PARAMETERS, MIXED_PARAMETERS, experiment_doc
from katib_api import api_pb2_grpc
from katib_suggestion.local.driver import ExperimentDriver
from katib_suggestion.wire import experiment_message
from katib_validators.catalog import ALGORITHMS
from servers import ServerProcess
from test_conformance import CASES, NORMAL_PARAMETERS

pytestmark = pytest.mark.slow
TRIALS, PARALLEL = 32, 4


def objective(values: dict[str, str]) -> float | None:
    """A training-run stand-in: best near lr=0.01, dropout 0.2, 4 layers; about 1 trial in 8 fails."""
    if int(hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest(), 16) % 8 == 0:
        return None
    loss = 0.0
    if "lr" in values:
        loss += (math.log10(float(values["lr"])) + 2) ** 2
    if "dropout" in values:
        loss += 4 * (float(values["dropout"]) - 0.2) ** 2
    loss += 0.1 * (int(values["layers"]) - 4) ** 2
    loss += {"sgd": 0.3, "adam": 0.0, "rmsprop": 0.1}[values["optimizer"]]
    return loss


def _doc(backend: str, key: str, extra: dict) -> dict:
    algorithm = next(a for a in ALGORITHMS if a.backend == backend and a.key == key)
    finite = any(rule.__name__ == "needs_finite_grid" for rule in algorithm.space_rules)
    parameters = copy.deepcopy(FINITE_PARAMETERS if finite else MIXED_PARAMETERS)
    if not finite and any(d.value == "normal" for d in algorithm.distributions):
        parameters += copy.deepcopy(NORMAL_PARAMETERS)
    return experiment_doc(algorithm.names[0], parameters, extra, name=f"e2e-{backend}-{key}",
                          max_trials=min(TRIALS, 24 if finite else TRIALS), parallel=PARALLEL)


@pytest.mark.parametrize("case", CASES)
def test_experiment_survives_a_restart_and_matches_an_uninterrupted_run(case):
    backend, key, extra = case
    experiment = experiment_message(_doc(backend, key, extra))
    # the uninterrupted run is served as the restarted one is, by `katib-suggest serve`: a server in
    # the test process runs skopt's BLAS under other thread settings, which can move the last digits
    uninterrupted = ServerProcess(backend)
    try:
        uninterrupted.wait_serving()
        with grpc.insecure_channel(uninterrupted.address) as channel:
            stub = api_pb2_grpc.SuggestionStub(channel)
            baseline = ExperimentDriver(experiment, lambda: stub, objective, seed=5).run()
    finally:
        uninterrupted.terminate()

    state = {"server": ServerProcess(backend), "restarts": 0}
    state["server"].wait_serving()
    channels = []

    def stub():
        channel = grpc.insecure_channel(state["server"].address)
        channels.append(channel)
        return api_pb2_grpc.SuggestionStub(channel)

    def restart_in_the_middle(round_: int) -> None:
        if round_ == 4:  # pod OOM-killed or rescheduled: no goodbye, a new process on the same address
            port = state["server"].port
            state["server"].kill()
            state["server"] = ServerProcess(backend, port=port)
            state["restarts"] += 1

    try:
        restarted = ExperimentDriver(experiment, stub, objective, seed=5).run(restart_in_the_middle)
    finally:
        state["server"].terminate()
        for channel in channels:
            channel.close()

    assert state["restarts"] == 1
    assert len(restarted.trials) == experiment.spec.max_trial_count
    assert restarted.repeats() == 0, "a suggestion repeated an earlier trial"
    assert all(failure.startswith("UNAVAILABLE") for failure in restarted.failed_calls), restarted.failed_calls
    # every answer is a pure function of the request, so the restart changed nothing
    assert restarted.assignments() == baseline.assignments()
    assert restarted.values() == baseline.values()
