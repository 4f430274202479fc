"""Run an experiment's trials concurrently on this machine and keep score: progress, best trial, plot."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from katib_api import api_pb2
from katib_suggestion.local.process import Outcome
from katib_suggestion.local.progress import Progress

# trial name, assignments -> outcome; runs in a worker thread
TrialFunction = Callable[[str, dict[str, str]], Outcome]


@dataclass
class Finished:
    name: str
    assignments: dict[str, str]
    outcome: Outcome


@dataclass
class LocalTrials:
    """The driver's TrialRunner: up to ``slots`` trials at once; they finish in whatever order they finish."""

    function: TrialFunction
    slots: int
    maximize: bool
    progress: Progress
    finished: list[Finished] = field(default_factory=list)
    processes: set = field(default_factory=set)  # live trial processes, killed when the experiment ends

    def __post_init__(self):
        self._pool = ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix="trial")
        self._futures: dict[str, Future] = {}
        self._lock = threading.Lock()

    def start(self, trial: api_pb2.Trial) -> None:
        assignments = {a.name: a.value for a in trial.spec.parameter_assignments.assignments}
        self._futures[trial.name] = self._pool.submit(self.function, trial.name, assignments)

    def wait(self, running: list[api_pb2.Trial]) -> list[tuple[api_pb2.Trial, float | None]]:
        by_future = {self._futures[t.name]: t for t in running}
        done, _ = wait(by_future, return_when=FIRST_COMPLETED)
        ended = []
        for future in done:
            trial = by_future[future]
            outcome = _outcome_of(future)
            assignments = {a.name: a.value for a in trial.spec.parameter_assignments.assignments}
            self.finished.append(Finished(trial.name, assignments, outcome))
            self.progress.update(self._status())
            ended.append((trial, outcome.value))
        return ended

    def best(self) -> Finished | None:
        succeeded = [f for f in self.finished if f.outcome.value is not None]
        if not succeeded:
            return None
        pick = max if self.maximize else min
        return pick(succeeded, key=lambda f: f.outcome.value)

    def close(self) -> None:
        for process in list(self.processes):
            process.kill()  # the experiment is over: Katib deletes the trials still running
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _status(self) -> str:
        best = self.best()
        failed = sum(1 for f in self.finished if f.outcome.value is None)
        text = f"best {best.outcome.value:.6g} ({best.name})" if best else "no successful trial yet"
        return f"{text}, {failed} failed" if failed else text


def _outcome_of(future: Future) -> Outcome:
    try:
        return future.result()
    except Exception as error:  # noqa: BLE001 - a crashing trial function is a failed trial
        return Outcome(None, message=f"{type(error).__name__}: {error}")


def convergence_plot(finished: list[Finished], maximize: bool, metric: str, title: str, path: Path) -> str:
    """Best-so-far vs trials finished, with every trial's value; returns a note for the user."""
    try:
        import matplotlib
    except ImportError:
        return "no plot: matplotlib is missing; install it with pip install 'katib-suggest[bench]'"
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    xs, values, curve = _series(finished, maximize)
    figure, axes = plt.subplots(figsize=(7, 4))
    axes.scatter(xs, values, s=18, color="0.6", label="trial")
    axes.step(range(1, len(curve) + 1), [float("nan") if v is None else v for v in curve], where="post",
              color="tab:blue", linewidth=2, label="best so far")
    failed = [i for i, item in enumerate(finished, 1) if item.outcome.value is None]
    if failed and values:
        axes.scatter(failed, [min(values) if not maximize else max(values)] * len(failed), marker="x",
                     color="tab:red", label="failed")
    # losses spanning decades (a bad trial can be 100x the best) would flatten the best-so-far line
    log = values and min(values) > 0 and max(values) / min(values) > 50
    axes.set(title=title, xlabel="trials finished", ylabel=f"{metric} (log scale)" if log else metric,
             yscale="log" if log else "linear")
    axes.grid(alpha=0.3)
    axes.legend()
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return f"convergence plot: {path}"


def _series(finished: list[Finished], maximize: bool) -> tuple[list[int], list[float], list[float | None]]:
    """Positions and values of successful trials, and the best value so far after each trial."""
    xs, values, best, curve = [], [], None, []
    for index, item in enumerate(finished, 1):
        value = item.outcome.value
        if value is not None:
            xs.append(index)
            values.append(value)
            best = value if best is None else (max if maximize else min)(best, value)
        curve.append(best)
    return xs, values, curve
