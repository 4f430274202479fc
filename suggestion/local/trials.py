"""Run an experiment's trials concurrently on this machine and keep score: progress, best trial, timings."""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from katib_api import api_pb2
from katib_suggestion.local.groups import ProcessGroups
from katib_suggestion.local.process import Outcome
from katib_suggestion.local.progress import Progress
from katib_suggestion.local.stopping import LocalStopping
from katib_suggestion.stop_signal import first_completed

# trial name, assignments -> outcome; runs in a worker thread
TrialFunction = Callable[[str, dict[str, str]], Outcome]


@dataclass
class Finished:
    name: str
    assignments: dict[str, str]
    outcome: Outcome
    started: datetime  # UTC
    ended: datetime

    @property
    def seconds(self) -> float:
        return (self.ended - self.started).total_seconds()


@dataclass
class LocalTrials:
    """The driver's TrialRunner: up to ``slots`` trials at once; they finish in whatever order they finish."""

    function: TrialFunction
    slots: int
    maximize: bool
    progress: Progress
    groups: ProcessGroups | None = None  # the trials' processes; None when a built-in function evaluates them
    stopping: LocalStopping | None = None  # spec.earlyStopping, applied to the trials' stdout as Katib does
    ended: list[Finished] = field(default_factory=list)  # in the order they ended, killed trials included

    def __post_init__(self):
        self._pool = ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix="trial")
        self._futures: dict[str, Future] = {}  # trials started and not yet collected

    def start(self, trial: api_pb2.Trial) -> None:
        assignments = {a.name: a.value for a in trial.spec.parameter_assignments.assignments}
        function = self.function
        if self.stopping is not None:
            function = functools.partial(function, watch=self.stopping.watch(trial.name))
        self._futures[trial.name] = self._pool.submit(_timed, function, trial.name, assignments)

    def wait(self, running: list[api_pb2.Trial]) -> list[tuple[api_pb2.Trial, float | None]]:
        """Trials that succeeded or failed; killed ones are kept here only (the experiment is stopping)."""
        by_future = {self._futures[t.name]: t for t in running if t.name in self._futures}
        done = first_completed(by_future)
        ended = []
        for future in done:
            item = self._collect(by_future[future].name)
            if item.outcome.early_stopped:
                ended.append((by_future[future], item.outcome.value, api_pb2.TrialStatus.EARLYSTOPPED))
            elif not item.outcome.killed:
                ended.append((by_future[future], item.outcome.value))
        return ended

    def close(self, reason: str) -> None:
        """End the trials still running (their process groups get TERM, then KILL) and record them."""
        if self.groups is not None:
            self.groups.end_all(reason)
        self._pool.shutdown(wait=True, cancel_futures=True)
        for name in [n for n, f in self._futures.items() if f.done() and not f.cancelled()]:
            self._collect(name)

    @property
    def completed(self) -> list[Finished]:
        """Succeeded and failed trials, in the order they ended."""
        return [f for f in self.ended if not f.outcome.killed]

    @property
    def failed(self) -> int:
        return sum(1 for f in self.ended if f.outcome.status == "Failed")

    @property
    def killed(self) -> int:
        return sum(1 for f in self.ended if f.outcome.killed)

    def best(self) -> Finished | None:
        succeeded = [f for f in self.ended if f.outcome.value is not None]
        if not succeeded:
            return None
        pick = max if self.maximize else min
        return pick(succeeded, key=lambda f: f.outcome.value)

    def _collect(self, name: str) -> Finished:
        outcome, started, ended, assignments = self._futures.pop(name).result()
        item = Finished(name, assignments, outcome, started, ended)
        self.ended.append(item)
        if not outcome.killed:
            self.progress.update(self._status())
        return item

    def _status(self) -> str:
        best = self.best()
        text = f"best {best.outcome.value:.6g} ({best.name})" if best else "no successful trial yet"
        return f"{text}, {self.failed} failed" if self.failed else text


def _timed(function: TrialFunction, name: str, assignments: dict[str, str]):
    started = datetime.now(UTC)
    try:
        outcome = function(name, assignments)
    except Exception as error:  # noqa: BLE001 - a crashing trial function is a failed trial
        outcome = Outcome(None, message=f"{type(error).__name__}: {error}")
    return outcome, started, datetime.now(UTC), assignments
