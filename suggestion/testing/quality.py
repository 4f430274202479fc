"""The quality hook of the kit: an algorithm against a reference arm on the benchmark problems.

The reference is either another algorithm we serve, ``("optuna", "random")``,
or the library used directly: a factory ``(experiment, seed) -> Arm`` whose arm
is asked for points and told results as a user without Katib would drive it
(one optimizer object for the whole run). Both arms face the same simulated
Katib controller (``katib_suggestion.local.driver``: parallel trials finishing
out of order), the same problems, seeds and budgets; only who proposes differs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from katib_api import api_pb2
from katib_suggestion.local.driver import Condition, ExperimentDriver
from katib_suggestion.model import Experiment, Point, SearchSpace
from katib_suggestion.quality.problems import PROBLEMS
from katib_suggestion.quality.runner import Task, experiment_doc, run_one
from katib_suggestion.quality.scoring import Scores, Summary, regret_curve, summarise
from katib_suggestion.wire import experiment_message
from katib_validators.experiment import parse_experiment


class Arm(Protocol):
    """A library driven directly for one experiment (minimises); points are numbered in asking order."""

    def ask(self, count: int) -> list[Point]: ...

    def tell(self, results: list[tuple[int, float | None]]) -> None:
        """(point number, loss) of points whose trials ended; None: the trial failed."""


ArmFactory = Callable[[Experiment, int], Arm]
Reference = tuple[str, str] | ArmFactory


@dataclass(frozen=True)
class Row:
    problem: str
    arm: str
    final: Summary  # normalised regret of the best trial at the budget (0: optimum, 1: a typical random trial)
    auc: Summary  # mean of the best-so-far regret curve (lower: found good points sooner)


def compare(backend: str, algorithm: str, *references: Reference, problems: Sequence[str] = ("branin",),
            seeds: Iterable[int] = range(5), budget: int | None = None,
            settings: tuple[tuple[str, str], ...] = ()) -> list[Row]:
    """Rows for ``backend/algorithm``, then each reference, per problem (budget: the problem's own)."""
    rows = []
    seeds = list(seeds)
    for problem in problems:
        length = budget or PROBLEMS[problem].budget
        tasks = [Task(backend, algorithm, problem, seed, length, settings) for seed in seeds]
        rows.append(_row(problem, f"{backend}/{algorithm}", [run_one(t).losses for t in tasks], length))
        for reference in references:
            if callable(reference):
                name = getattr(reference, "__name__", "reference")
                rows.append(_row(problem, f"{name} (reference)", [_run_arm(reference, t) for t in tasks], length))
            else:
                ref = [Task(reference[0], reference[1], problem, seed, length) for seed in seeds]
                rows.append(_row(problem, "/".join(reference), [run_one(t).losses for t in ref], length))
    return rows


def _row(problem: str, arm: str, runs: list[list[float | None]], budget: int) -> Row:
    scores = [Scores.of(regret_curve(problem, losses, budget)) for losses in runs]
    return Row(problem, arm, summarise([s.final for s in scores]), summarise([s.auc for s in scores]))


def markdown(rows: list[Row]) -> str:
    lines = ["| problem | arm | final regret (95% CI) | area under the curve (95% CI) |", "|---|---|---|---|"]
    lines += [f"| {r.problem} | {r.arm} | {r.final} | {r.auc} |" for r in rows]
    return "\n".join(lines)


def _run_arm(factory: ArmFactory, task: Task) -> list[float | None]:
    doc = experiment_doc(task)
    experiment, problems = parse_experiment(doc, task.backend)
    assert not problems, [str(p) for p in problems]
    stub = _ArmStub(factory(experiment, task.seed), experiment.space)
    report = ExperimentDriver(experiment_message(doc), lambda: stub, PROBLEMS[task.problem].function,
                              seed=task.seed).run()
    return [float(t.status.observation.metrics[0].value) if t.status.condition == Condition.SUCCEEDED else None
            for t in report.trials]


class _ArmStub:
    """Answers the driver's GetSuggestions from an arm: tells what ended since the last call, then asks."""

    def __init__(self, arm: Arm, space: SearchSpace):
        self.arm, self.space, self.told = arm, space, set()

    def GetSuggestions(self, request: api_pb2.GetSuggestionsRequest, timeout: float | None = None):  # noqa: N802
        ended = [(i, _loss(t)) for i, t in enumerate(request.trials)
                 if i not in self.told and t.status.condition not in (Condition.CREATED, Condition.RUNNING)]
        if ended:
            self.arm.tell(ended)
            self.told.update(i for i, _ in ended)
        reply = api_pb2.GetSuggestionsReply()
        for point in self.arm.ask(request.current_request_number) if request.current_request_number else []:
            reply.parameter_assignments.add().assignments.extend(
                api_pb2.ParameterAssignment(name=k, value=v) for k, v in self.space.format(point).items())
        return reply


def _loss(trial: api_pb2.Trial) -> float | None:
    if trial.status.condition != Condition.SUCCEEDED or not trial.status.observation.metrics:
        return None
    return float(trial.status.observation.metrics[0].value)
