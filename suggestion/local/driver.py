"""Drive an experiment against a suggestion server the way the Katib controller does.

Every call carries the whole experiment and every trial so far with its latest
condition; ``current_request_number`` is the number of free parallel slots and
``total_request_number`` counts every assignment requested, this call included.
The reply's algorithm settings are merged into every later request, as the
controller does through the Suggestion status. Trials finish out of order.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import grpc
from katib_api import api_pb2, api_pb2_grpc

Condition = api_pb2.TrialStatus.TrialConditionType
# evaluate(assignments) -> objective value; None or an exception makes the trial fail
Evaluate = Callable[[dict[str, str]], float | None]


def too_many_failures(failed: int, max_failed: int | None) -> bool:
    """Katib's rule: the Experiment fails as soon as failed trials reach maxFailedTrialCount (and one failed)."""
    return max_failed is not None and failed > 0 and failed >= int(max_failed)


class UnexpectedReply(AssertionError):
    """GetSuggestions answered with a different number of assignments than asked for."""


class TrialRunner(Protocol):
    """Optional hook: runs trials for real instead of evaluating a random subset in turn."""

    def start(self, trial: api_pb2.Trial) -> None:
        """The trial was just created (RUNNING): start it."""

    def wait(self, running: list[api_pb2.Trial]) -> list[tuple[api_pb2.Trial, float | None]]:
        """Block until at least one running trial ends; return (trial, objective value or None), or
        (trial, value, condition) for a trial that ended otherwise than succeeded or failed (EARLYSTOPPED).

        May return nothing when the trials that ended were killed because ``stop`` became true."""


@dataclass
class DriverReport:
    trials: list[api_pb2.Trial]
    calls: int = 0
    failed_calls: list[str] = field(default_factory=list)

    def values(self) -> list[float]:
        return [float(t.status.observation.metrics[0].value) for t in self.trials
                if t.status.condition == Condition.SUCCEEDED]

    def assignments(self) -> list[tuple[tuple[str, str], ...]]:
        """Each trial's (name, value) assignments as the server sent them, in creation order."""
        return [tuple((a.name, a.value) for a in t.spec.parameter_assignments.assignments) for t in self.trials]

    def repeats(self) -> int:
        """Trials whose assignments equal an earlier trial's (in any order): a GPU spent on a known answer."""
        keys = self.assignments()
        return len(keys) - len({tuple(sorted(key)) for key in keys})


class ExperimentDriver:
    """A bounded, single-threaded stand-in for Katib's experiment and suggestion controllers."""

    def __init__(self, experiment: api_pb2.Experiment, stub: Callable[[], api_pb2_grpc.SuggestionStub],
                 evaluate: Evaluate, *, seed: int = 0, max_failed: int | None = None,
                 call_timeout: float = 60.0, retry_for: float = 30.0,
                 runner: TrialRunner | None = None, stop: Callable[[], bool] | None = None):
        self.experiment = api_pb2.Experiment()
        self.experiment.CopyFrom(experiment)
        self.stub = stub  # called before every request, so a test can point it at a restarted server
        self.evaluate = evaluate
        self.rng = random.Random(seed)
        self.max_failed = max_failed  # maxFailedTrialCount: the experiment fails when failed trials reach it
        self.call_timeout, self.retry_for = call_timeout, retry_for
        self.report = DriverReport(trials=[])
        self.requested = 0
        self.runner = runner  # None: `evaluate` random subsets of the running trials, one round at a time
        self.stop = stop  # e.g. the objective's goal was reached: create no more trials

    def run(self, between_rounds: Callable[[int], None] | None = None) -> DriverReport:
        """Create and finish trials until maxTrialCount are done, too many failed, or ``stop`` says so."""
        spec = self.experiment.spec
        round_ = 0
        while not self._too_many_failures() and not (self.stop and self.stop()):
            running = [t for t in self.report.trials if t.status.condition == Condition.RUNNING]
            free = min(spec.parallel_trial_count - len(running), spec.max_trial_count - len(self.report.trials))
            if free > 0:
                self._create(free)
            elif not running:
                break
            self._finish_some()
            round_ += 1
            if between_rounds:
                between_rounds(round_)
        return self.report

    def _too_many_failures(self) -> bool:
        failed = sum(1 for t in self.report.trials if t.status.condition == Condition.FAILED)
        return too_many_failures(failed, self.max_failed)

    def _create(self, count: int) -> None:
        self.requested += count
        reply = self._call(count)
        for assignment in reply.parameter_assignments:
            name = assignment.trial_name or f"{self.experiment.name}-{self.rng.getrandbits(40):010x}"
            trial = api_pb2.Trial(name=name)
            trial.spec.objective.CopyFrom(self.experiment.spec.objective)
            trial.spec.parameter_assignments.assignments.extend(assignment.assignments)
            trial.spec.labels.update(assignment.labels)
            trial.status.condition = Condition.RUNNING
            self.report.trials.append(trial)
            if self.runner:
                self.runner.start(trial)
        self._merge_settings(reply.algorithm)

    def _call(self, count: int) -> api_pb2.GetSuggestionsReply:
        request = api_pb2.GetSuggestionsRequest(
            experiment=self.experiment, trials=self.report.trials,
            current_request_number=count, total_request_number=self.requested)
        deadline = time.monotonic() + self.retry_for
        while True:
            self.report.calls += 1
            try:
                reply = self.stub().GetSuggestions(request, timeout=self.call_timeout)
            except grpc.RpcError as error:
                self.report.failed_calls.append(f"{error.code().name}: {error.details()}")
                # the controller retries with backoff; only an unreachable server is worth waiting for,
                # and not once the run is told to stop (Ctrl-C while the server is down)
                if error.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline or \
                        (self.stop is not None and self.stop()):
                    raise
                time.sleep(0.2)
                continue
            if len(reply.parameter_assignments) != count:
                raise UnexpectedReply(f"asked for {count} assignments, got {len(reply.parameter_assignments)}")
            return reply

    def _merge_settings(self, algorithm: api_pb2.AlgorithmSpec) -> None:
        settings = self.experiment.spec.algorithm.algorithm_settings
        for setting in algorithm.algorithm_settings:
            existing = next((s for s in settings if s.name == setting.name), None)
            if existing is not None:
                existing.value = setting.value
            else:
                settings.add(name=setting.name, value=setting.value)

    def _finish_some(self) -> None:
        running = [t for t in self.report.trials if t.status.condition == Condition.RUNNING]
        if not running:
            return
        if self.runner:
            for trial, value, *condition in self.runner.wait(running):
                self._record(trial, value, *condition)
            return
        for trial in self.rng.sample(running, self.rng.randint(1, len(running))):
            self._finish(trial)

    def _finish(self, trial: api_pb2.Trial) -> None:
        assignments = {a.name: a.value for a in trial.spec.parameter_assignments.assignments}
        try:
            value = self.evaluate(assignments)
        except Exception:  # noqa: BLE001 - a crashing trial is a failed trial
            value = None
        self._record(trial, value)

    def _record(self, trial: api_pb2.Trial, value: float | None, condition: int = Condition.SUCCEEDED) -> None:
        if value is None:
            # an early-stopped trial that reported no objective: Katib leaves it out of later requests
            trial.status.condition = Condition.EARLYSTOPPED if condition == Condition.EARLYSTOPPED else Condition.FAILED
            return
        trial.status.condition = condition
        trial.status.observation.metrics.add(
            name=self.experiment.spec.objective.objective_metric_name, value=repr(float(value)))
