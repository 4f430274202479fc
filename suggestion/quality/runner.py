"""One benchmark run = one experiment through a real gRPC server; many runs in a process pool."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from multiprocessing import get_context

import grpc
from katib_api import api_pb2_grpc
from katib_suggestion.local.driver import Condition, ExperimentDriver
from katib_suggestion.quality.problems import PROBLEMS, search_space
from katib_suggestion.server import Config, make_server
from katib_suggestion.wire import experiment_message
from katib_validators.catalog import ALGORITHMS
from katib_validators.experiment import parse_experiment

PARALLEL = 4  # parallelTrialCount of every run: batches and out-of-order finishes, as on a cluster


@dataclass(frozen=True)
class Task:
    backend: str
    algorithm: str  # the catalog key, e.g. "tpe"
    problem: str
    seed: int
    budget: int
    settings: tuple[tuple[str, str], ...] = ()  # algorithm settings besides random_state

    @property
    def cell(self) -> str:
        return f"{self.backend}/{self.algorithm}/{self.problem}"


@dataclass
class RunResult:
    task: Task
    losses: list[float | None]  # per trial, in creation order; None: the trial failed
    seconds: float
    calls: int

    def to_json(self) -> dict:
        return {**asdict(self), "task": asdict(self.task)}


def experiment_doc(task: Task) -> dict:
    """The Experiment resource of a run; grid gets the finite variant of the space."""
    algorithm = next(a for a in ALGORITHMS if a.backend == task.backend and a.key == task.algorithm)
    finite = any(rule.__name__ == "needs_finite_grid" for rule in algorithm.space_rules)
    return {"metadata": {"name": f"quality-{task.problem}-{task.seed}"},
            "spec": {"parameters": search_space(PROBLEMS[task.problem], finite),
                     "objective": {"type": "minimize", "objectiveMetricName": "loss"},
                     "algorithm": {"algorithmName": algorithm.names[0],
                                   "algorithmSettings": [{"name": "random_state", "value": str(task.seed)},
                                                         *({"name": k, "value": v} for k, v in task.settings)]},
                     "maxTrialCount": task.budget, "parallelTrialCount": PARALLEL}}


def accepts(task: Task) -> list[str]:
    """Problems that keep this algorithm from running this problem (e.g. cmaes on a 1-D space)."""
    _, problems = parse_experiment(experiment_doc(task), task.backend)
    return [str(p) for p in problems]


def run_one(task: Task) -> RunResult:
    """A fresh in-process server on a loopback port, driven like the Katib controller drives it."""
    problem = PROBLEMS[task.problem]
    running = make_server(Config(backend=task.backend, host="127.0.0.1", port=0, max_workers=2))
    running.server.start()
    began = time.perf_counter()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = api_pb2_grpc.SuggestionStub(channel)
            driver = ExperimentDriver(experiment_message(experiment_doc(task)), lambda: stub,
                                      problem.function, seed=task.seed)
            report = driver.run()
    finally:
        running.server.stop(None).wait()
    losses = [float(t.status.observation.metrics[0].value) if t.status.condition == Condition.SUCCEEDED else None
              for t in report.trials]
    return RunResult(task, losses, time.perf_counter() - began, report.calls)


def execute(tasks: list[Task], workers: int, ray_address: str | None = None,
            on_result: Callable[[RunResult], None] | None = None) -> list[RunResult]:
    """Every task's result, in task order; ``workers`` <= 1 runs them in this process."""
    if ray_address:
        from katib_suggestion.quality.ray_pool import run_on_ray

        stream = run_on_ray(tasks, ray_address, workers)
    elif workers <= 1:
        stream = (run_one(task) for task in tasks)
    else:
        stream = _pool(tasks, workers)
    results = {}
    for result in stream:
        results[result.task] = result
        if on_result:
            on_result(result)
    return [results[task] for task in tasks]


def _pool(tasks: Iterable[Task], workers: int) -> Iterator[RunResult]:
    # spawn, not fork: forking a process that already runs gRPC threads can deadlock the child
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(run_one, task) for task in tasks]
        for future in as_completed(futures):
            yield future.result()
