"""Early stopping in `katib-suggest run`: rules from the service's own code, applied as Katib's collector does."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from katib_suggestion.local.process import Collector
from katib_suggestion.model import Direction, Objective
from katib_suggestion.stopping import plan
from katib_suggestion.stopping.rules import CurveState, RuleTracker, StopRule
from katib_suggestion.stopping.wire import RulesRequest


class LocalStopping:
    """Plays Katib's DB manager (every trial's reported objective values) and its early-stopping
    service (rules for each new trial from those values, with the same code the server runs)."""

    def __init__(self, spec: Mapping[str, Any], collector: Collector):
        block = spec["earlyStopping"]
        self._algorithm = block["algorithmName"]
        self._settings = tuple((s["name"], s["value"]) for s in block.get("algorithmSettings") or [])
        plan.validate(self._algorithm, self._settings)  # the same check as ValidateEarlyStoppingSettings
        objective = spec["objective"]
        self.objective = Objective(Direction(objective["type"]), objective["objectiveMetricName"])
        self.collector = collector
        self._lock = threading.Lock()
        self._values: dict[str, list[float]] = {}
        self._states: dict[str, CurveState] = {}  # in creation order

    def rules(self) -> list[StopRule]:
        """What GetEarlyStoppingRules answers now, for the trials about to be created."""
        with self._lock:
            trials = tuple(self._states.items())
            snapshot = {name: tuple(values) for name, values in self._values.items()}
        request = RulesRequest("local", self._algorithm, self._settings, self.objective, trials, "local")
        return plan.stopping_rules(request, lambda: lambda name, _metric: snapshot.get(name, ()))

    def watch(self, trial: str) -> TrialWatch:
        """The collector of a trial being created now: it carries the rules of this moment."""
        rules = self.rules()
        with self._lock:
            self._states[trial] = CurveState.RUNNING
            self._values[trial] = []
        return TrialWatch(self, trial, rules)

    def record(self, trial: str, values: list[float], state: CurveState | None = None) -> None:
        with self._lock:
            self._values[trial] = list(values)
            if state is not None:
                self._states[trial] = state


class TrialWatch:
    """One trial's side of Katib's file metrics collector: reads its stdout as it grows, reports the
    objective values (to the DB manager, here ``LocalStopping``) and applies the rules."""

    def __init__(self, owner: LocalStopping, trial: str, rules: list[StopRule]):
        self._owner, self.trial, self.rules = owner, trial, rules
        self._tracker = RuleTracker(rules, owner.objective.metric_name, owner.objective.maximize)
        self._values: list[float] = []

    def follow(self, stdout: Path) -> Callable[[], bool]:
        offset, pending = 0, b""

        def check() -> bool:
            nonlocal offset, pending
            with stdout.open("rb") as stream:
                stream.seek(offset)
                chunk = stream.read()
            offset += len(chunk)
            *lines, pending = (pending + chunk).split(b"\n")
            return any([self._line(line.decode(errors="replace")) for line in lines])

        return check

    def _line(self, line: str) -> bool:
        stop = False
        for name, value in self._owner.collector.line_values(line):
            if name == self._owner.objective.metric_name:
                self._values.append(value)
            if not stop and self._tracker.armed:
                stop = self._tracker.report(name, value)
        self._owner.record(self.trial, self._values)
        return stop

    def ended(self, objective_values: list[float], status: str) -> None:
        self._owner.record(self.trial, objective_values, _STATES.get(status, CurveState.FAILED))


_STATES = {"Succeeded": CurveState.SUCCEEDED, "EarlyStopped": CurveState.STOPPED, "Killed": CurveState.STOPPED}
