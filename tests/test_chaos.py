"""Restarts at any moment lose nothing; many experiments on one server do not talk across."""

from __future__ import annotations

import random
import threading
import time

import grpc
import pytest
from conftest import MIXED_PARAMETERS, experiment_doc
from katib_api import api_pb2_grpc
from katib_suggestion.local.driver import ExperimentDriver
from katib_suggestion.wire import experiment_message
from servers import ServerProcess, in_process_server
from test_experiment_e2e import objective

pytestmark = pytest.mark.slow


def _uninterrupted(experiment):
    with in_process_server("optuna") as (address, _), grpc.insecure_channel(address) as channel:
        stub = api_pb2_grpc.SuggestionStub(channel)
        return ExperimentDriver(experiment, lambda: stub, objective, seed=9).run()


class Chaos:
    """Kills the server with SIGKILL at random moments and starts a new one on the same port."""

    def __init__(self, restarts: int, seed: int):
        self.server = ServerProcess("optuna")
        self.server.wait_serving()
        self.rng = random.Random(seed)
        self.wanted, self.restarts = restarts, 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while self.restarts < self.wanted and not self.done.wait(self.rng.uniform(0.1, 0.8)):
            port = self.server.port
            self.server.kill()
            self.server = ServerProcess("optuna", port=port)
            self.restarts += 1
            self.server.wait_serving()

    def stub(self):
        return api_pb2_grpc.SuggestionStub(grpc.insecure_channel(self.server.address))


def test_sigkill_at_random_moments_loses_nothing():
    experiment = experiment_message(experiment_doc("tpe", MIXED_PARAMETERS, name="chaos-tpe", max_trials=120,
                                                   parallel=4))
    baseline = _uninterrupted(experiment)
    chaos = Chaos(restarts=6, seed=20261123)
    chaos.thread.start()
    try:
        # slow trials down a little, so the kills land before, during and after calls
        report = ExperimentDriver(experiment, chaos.stub, lambda v: (time.sleep(0.08), objective(v))[1],
                                  seed=9, retry_for=60).run()
    finally:
        chaos.done.set()
        chaos.thread.join(timeout=60)
        chaos.server.terminate()
    print(f"chaos: {chaos.restarts} restarts survived, {len(report.failed_calls)} calls failed during downtime")
    assert chaos.restarts == 6
    assert len(report.trials) == 120
    assert report.repeats() == 0
    assert all(failure.startswith("UNAVAILABLE") for failure in report.failed_calls), report.failed_calls
    assert report.assignments() == baseline.assignments()


ALGORITHMS = ["tpe", "multivariate-tpe", "random", "cmaes", "sobol", "tpe"]


def test_concurrent_experiments_match_their_serial_runs():
    experiments = [experiment_message(experiment_doc(algorithm, MIXED_PARAMETERS, name=f"concurrent-{i}",
                                                     max_trials=24, parallel=3))
                   for i, algorithm in enumerate(ALGORITHMS)]
    with in_process_server("optuna") as (address, _), grpc.insecure_channel(address) as channel:
        stub = api_pb2_grpc.SuggestionStub(channel)
        serial = [ExperimentDriver(e, lambda: stub, objective, seed=i).run() for i, e in enumerate(experiments)]
        parallel: dict[int, object] = {}

        def drive(index, experiment):
            parallel[index] = ExperimentDriver(experiment, lambda: stub, objective, seed=index).run()

        threads = [threading.Thread(target=drive, args=(i, e)) for i, e in enumerate(experiments)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    for index, report in enumerate(serial):
        assert parallel[index].assignments() == report.assignments(), \
            f"experiment {index} answered differently in parallel"
