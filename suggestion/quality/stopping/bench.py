"""Run the early-stopping benchmark: every (problem, suggestion algorithm, stopping arm, seed) once."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from katib_suggestion.local.driver import Condition, ExperimentDriver
from katib_suggestion.quality.stopping.arms import ARMS
from katib_suggestion.quality.stopping.cluster import SimulatedCluster
from katib_suggestion.quality.stopping.curves import CURVE_PROBLEMS, CurveProblem
from katib_suggestion.quality.stopping.reference_pruners import OPTUNA_ARMS, run_optuna
from katib_suggestion.wire import experiment_message

PARALLEL = 4
ALGORITHMS = ("random", "tpe")
_SERVERS: dict = {}  # backend -> (stub, server), one per worker process: the servers are stateless


@dataclass(frozen=True)
class StopTask:
    problem: str
    algorithm: str
    arm: str
    seed: int
    parallel: int = PARALLEL


@dataclass(frozen=True)
class StopResult:
    task: StopTask
    epochs: int  # training epochs spent by every trial together
    final: float  # the final value of the configuration Katib would report as best
    stopped: int  # trials stopped early

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, line: dict) -> StopResult:
        return cls(**{**line, "task": StopTask(**line["task"])})


def experiment_doc(problem: CurveProblem, task: StopTask) -> dict:
    return {"metadata": {"name": f"stopping-{problem.name}-{task.seed}"},
            "spec": {"parameters": [dict(p) for p in problem.parameters],
                     "objective": {"type": "minimize", "objectiveMetricName": "loss"},
                     "algorithm": {"algorithmName": task.algorithm,
                                   "algorithmSettings": [{"name": "random_state", "value": str(task.seed)}]},
                     "maxTrialCount": problem.budget, "parallelTrialCount": task.parallel}}


def run_task(task: StopTask) -> StopResult:
    problem = CURVE_PROBLEMS[task.problem]
    if task.arm in OPTUNA_ARMS:
        return StopResult(task, *run_optuna(problem, task.algorithm, task.arm, task.seed, task.parallel))
    cluster = SimulatedCluster(problem, ARMS[task.arm])
    stub = _stub(task.algorithm)
    report = ExperimentDriver(experiment_message(experiment_doc(problem, task)), lambda: stub, lambda _: None,
                              seed=task.seed, call_timeout=900.0, runner=cluster).run()
    observed = [t for t in report.trials if t.status.condition in (Condition.SUCCEEDED, Condition.EARLYSTOPPED)
                and t.status.observation.metrics]
    # Katib's optimal trial: the best observation, early-stopped trials included
    best = min(observed, key=lambda t: float(t.status.observation.metrics[0].value))
    final = problem.final({a.name: a.value for a in best.spec.parameter_assignments.assignments})
    stopped = sum(1 for t in report.trials if t.status.condition == Condition.EARLYSTOPPED)
    return StopResult(task, cluster.epochs, final, stopped)


def _stub(algorithm: str):
    import grpc
    from katib_api import api_pb2_grpc
    from katib_suggestion.deploy.routes import preferred
    from katib_suggestion.server import Config, make_server

    backend = preferred(algorithm)
    if backend not in _SERVERS:
        running = make_server(Config(backend=backend, host="127.0.0.1", port=0))
        running.server.start()
        running.mark_serving()
        channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
        _SERVERS[backend] = (api_pb2_grpc.SuggestionStub(channel), running)
    return _SERVERS[backend][0]


def run_all(tasks: list[StopTask], workers: int, progress=None) -> list[StopResult]:
    """Every task's result, in task order; ``workers`` <= 1 runs them in this process. The worker
    pool is the quality benchmark's: one Ctrl-C ends every worker within seconds."""
    if workers <= 1:
        stream = (run_task(task) for task in tasks)
    else:
        from katib_suggestion.quality.pool import pool_results

        stream = pool_results(run_task, tasks, workers)
    by_task = {}
    try:
        for result in stream:
            by_task[result.task] = result
            if progress:
                progress(result)
    finally:  # Ctrl-C while a result is recorded: the workers must end now, not when the stream is collected
        getattr(stream, "close", lambda: None)()
    return [by_task[task] for task in tasks]
