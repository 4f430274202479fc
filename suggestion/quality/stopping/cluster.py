"""A simulated cluster for the early-stopping benchmark: trials advance one epoch per tick, in parallel.

Time is counted in epochs, not seconds, so results depend on the seed only. Each trial carries the
rules given when it was created and meets them exactly as Katib's metrics collector would.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from katib_api import api_pb2
from katib_suggestion.model import Direction, Objective
from katib_suggestion.quality.stopping.arms import Arm
from katib_suggestion.quality.stopping.curves import CurveProblem
from katib_suggestion.stopping.rules import Curve, CurveState, RuleTracker

OBJECTIVE = Objective(Direction.MINIMIZE, "loss")
EARLYSTOPPED = api_pb2.TrialStatus.EARLYSTOPPED


@dataclass
class _Running:
    values: Mapping[str, str]
    tracker: RuleTracker
    reported: list[float] = field(default_factory=list)


class SimulatedCluster:
    """The driver's TrialRunner for curve problems: one epoch per running trial per tick."""

    def __init__(self, problem: CurveProblem, arm: Arm):
        self.problem, self.arm = problem, arm
        self.epochs = 0  # training epochs spent, over every trial
        self.curves: dict[str, Curve] = {}  # what the DB manager would hold, in creation order
        self._running: dict[str, _Running] = {}

    def start(self, trial: api_pb2.Trial) -> None:
        rules = self.arm.rules(OBJECTIVE, list(self.curves.values()), len(self.curves)) if self.arm.rules else []
        values = {a.name: a.value for a in trial.spec.parameter_assignments.assignments}
        self._running[trial.name] = _Running(values, RuleTracker(rules, OBJECTIVE.metric_name, False))
        self.curves[trial.name] = Curve(trial.name, CurveState.RUNNING)

    def wait(self, running: list[api_pb2.Trial]) -> list[tuple]:
        """Tick until at least one trial ends; each ended trial's observation is its best value (Katib's
        default strategy for a minimised objective)."""
        while True:
            ended = [self._tick(trial) for trial in running]
            ended = [item for item in ended if item is not None]
            if ended:
                return ended

    def _tick(self, trial: api_pb2.Trial) -> tuple | None:
        state = self._running[trial.name]
        step = len(state.reported) + 1
        state.reported.append(self.problem.curve(state.values, step)[-1])
        self.epochs += 1
        stopped = state.tracker.report(OBJECTIVE.metric_name, state.reported[-1])
        done = stopped or step == self.problem.epochs
        status = CurveState.STOPPED if stopped else CurveState.SUCCEEDED if done else CurveState.RUNNING
        self.curves[trial.name] = Curve(trial.name, status, tuple(state.reported))
        if not done:
            return None
        del self._running[trial.name]
        return (trial, min(state.reported), EARLYSTOPPED) if stopped else (trial, min(state.reported))
