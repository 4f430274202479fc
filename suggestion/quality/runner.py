"""One benchmark run = one experiment driven like the Katib controller drives it; many runs in a process pool.

A run's points come from one of three places: a fresh server of ours (the
default), a running server at an address (anyone's), or a reference arm (the
library used directly, see reference.py). The driver is the same for all three.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import grpc
from katib_api import api_pb2_grpc
from katib_suggestion.local.driver import Condition, ExperimentDriver
from katib_suggestion.quality.problems import PROBLEMS, search_space
from katib_suggestion.server import Config, make_server
from katib_suggestion.wire import experiment_message
from katib_validators.catalog import ALGORITHMS
from katib_validators.experiment import parse_experiment

PARALLEL = 4  # default parallelTrialCount: batches and out-of-order finishes, as on a cluster
OURS, REFERENCE = "ours", "reference"  # who proposes the points of a run
# Seconds one GetSuggestions may take here. Katib allows 60 and then retries the same request, which a
# server that is a pure function of the request answers the same way: waiting longer gives the answer
# the retry would, so a busy machine slows the benchmark down instead of losing runs. Speed is the
# latency benchmark's business; the server's own time budget still applies (its answers count as degraded).
CALL_TIMEOUT = 900.0
# labels of answers that are not the algorithm's best effort (skopt_backend.DEGRADED_LABEL, pipeline.FALLBACK_LABEL)
DEGRADED_LABEL = "katib-suggest/degraded"
ORIGIN_LABEL, FALLBACK_ORIGIN = "katib-suggest/origin", "uniform-fallback"


@dataclass(frozen=True)
class Task:
    backend: str
    algorithm: str  # the catalog key, e.g. "tpe"
    problem: str
    seed: int
    budget: int
    settings: tuple[tuple[str, str], ...] = ()  # algorithm settings besides random_state
    parallel: int = PARALLEL
    arm: str = OURS
    address: str | None = None  # a running server to benchmark (arm OURS) instead of a fresh one of ours
    command: str | None = None  # or a command that starts one per run ({port}: where it must listen)
    name: str | None = None  # the algorithmName sent; None: upstream's name for the algorithm

    @property
    def cell(self) -> str:
        """The cell this run belongs to; the arm is not part of it (the reference arm of a cell shares its key)."""
        return cell_key(self.backend, self.algorithm, self.problem, self.parallel)


def cell_key(backend: str, algorithm: str, problem: str, parallel: int) -> str:
    return f"{backend}/{algorithm}/{problem}/p{parallel}"


@dataclass
class RunResult:
    task: Task
    losses: list[float | None]  # per trial, in creation order; None: the trial failed
    seconds: float
    calls: int
    degraded: int = 0  # trials whose answer was degraded (time budget) or filled in at random
    repeated: int | None = None  # trials that repeat an earlier trial's assignments; None: not counted (older runs)

    def to_json(self) -> dict:
        return {**asdict(self), "task": asdict(self.task)}


def experiment_doc(task: Task) -> dict:
    """The Experiment resource of a run; grid gets the finite variant of the space."""
    algorithm = next(a for a in ALGORITHMS if a.backend == task.backend and a.key == task.algorithm)
    finite = any(rule.__name__ == "needs_finite_grid" for rule in algorithm.space_rules)
    return {"metadata": {"name": f"quality-{task.problem}-{task.seed}"},
            "spec": {"parameters": search_space(PROBLEMS[task.problem], finite),
                     "objective": {"type": "minimize", "objectiveMetricName": "loss"},
                     "algorithm": {"algorithmName": task.name or algorithm.names[0],
                                   "algorithmSettings": [{"name": "random_state", "value": str(task.seed)},
                                                         *({"name": k, "value": v} for k, v in task.settings)]},
                     "maxTrialCount": task.budget, "parallelTrialCount": task.parallel}}


def accepts(task: Task) -> list[str]:
    """Problems that keep this algorithm from running this problem (e.g. cmaes on a 1-D space)."""
    _, problems = parse_experiment(experiment_doc(task), task.backend)
    return [str(p) for p in problems]


def run_one(task: Task) -> RunResult:
    """One experiment, driven like the Katib controller drives it, against the task's proposer."""
    doc = experiment_doc(task)
    began = time.perf_counter()
    with _proposer(task, doc) as stub:
        driver = ExperimentDriver(experiment_message(doc), lambda: stub, PROBLEMS[task.problem].function,
                                  seed=task.seed, call_timeout=CALL_TIMEOUT)
        report = driver.run()
    losses = [float(t.status.observation.metrics[0].value) if t.status.condition == Condition.SUCCEEDED else None
              for t in report.trials]
    degraded = sum(1 for t in report.trials if is_degraded(t.spec.labels))
    return RunResult(task, losses, time.perf_counter() - began, report.calls, degraded, report.repeats())


def is_degraded(labels) -> bool:
    return DEGRADED_LABEL in labels or labels.get(ORIGIN_LABEL) == FALLBACK_ORIGIN


@contextmanager
def _proposer(task: Task, doc: dict) -> Iterator:
    """What the driver calls GetSuggestions on: a reference arm, another server, or a fresh server of ours."""
    if task.arm == REFERENCE:
        from katib_suggestion.quality.reference import ReferenceStub, make_arm

        experiment, problems = parse_experiment(doc, task.backend)
        if problems:
            raise ValueError(f"{task.cell}: {'; '.join(map(str, problems))}")
        yield ReferenceStub(make_arm(task.backend, experiment, task.seed), experiment.space)
        return
    if task.address:
        with grpc.insecure_channel(task.address) as channel:
            yield api_pb2_grpc.SuggestionStub(channel)
        return
    if task.command:
        from katib_suggestion.quality.external import started

        with started(task.command) as address, grpc.insecure_channel(address) as channel:
            yield api_pb2_grpc.SuggestionStub(channel)
        return
    running = make_server(Config(backend=task.backend, host="127.0.0.1", port=0, max_workers=2))
    running.server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield api_pb2_grpc.SuggestionStub(channel)
    finally:
        running.server.stop(None).wait()


@dataclass(frozen=True)
class RunFailure:
    task: Task
    error: str


class RunsFailed(Exception):
    """Some runs could not finish; the others finished (and reached ``on_result``)."""

    def __init__(self, failures: list[RunFailure]):
        super().__init__(f"{len(failures)} runs failed")
        self.failures = failures


def attempt(task: Task) -> RunResult | RunFailure:
    """run_one, with a failure returned as a value (it crosses process boundaries as text)."""
    try:
        return run_one(task)
    except Exception as error:  # noqa: BLE001 - reported with every other failure once the runs end
        details = error.details() if isinstance(error, grpc.RpcError) else ""
        return RunFailure(task, f"{type(error).__name__}: {details or error}")


def execute(tasks: list[Task], workers: int, ray_address: str | None = None,
            on_result: Callable[[RunResult], None] | None = None) -> list[RunResult]:
    """Every task's result, in task order; ``workers`` <= 1 runs them in this process.

    A failing run does not stop the others: RunsFailed lists the failures once all have ended.
    """
    if ray_address:
        from katib_suggestion.quality.ray_pool import run_on_ray

        stream = run_on_ray(tasks, ray_address, workers)
    elif workers <= 1:
        stream = (attempt(task) for task in tasks)
    else:
        from katib_suggestion.quality.pool import pool_results

        stream = pool_results(attempt, tasks, workers)
    results, failures = {}, []
    try:
        for result in stream:
            if isinstance(result, RunFailure):
                failures.append(result)
                continue
            results[result.task] = result
            if on_result:
                on_result(result)
    finally:  # Ctrl-C while a result is recorded: the workers must end now, not when the stream is collected
        getattr(stream, "close", lambda: None)()
    if failures:
        raise RunsFailed(failures)
    return [results[task] for task in tasks]
