"""Stop rules as Katib's metrics collector applies them, and the learning curves they are computed from."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field


class Comparison(enum.Enum):
    EQUAL = "equal"
    LESS = "less"
    GREATER = "greater"


class CurveState(enum.Enum):
    """What became of a trial, as far as its learning curve is concerned."""

    SUCCEEDED = "succeeded"  # ran to the end
    RUNNING = "running"  # created or running: its curve may still grow
    STOPPED = "stopped"  # early-stopped or killed: its curve ends early
    FAILED = "failed"  # failed, or no usable metrics


@dataclass(frozen=True)
class StopRule:
    """One early-stopping rule: the collector stops the trial when every rule of it has been met.

    ``start_step`` 0 means "at every report"; n >= 1 means "at the n-th report of ``metric``".
    """

    metric: str
    threshold: float
    comparison: Comparison
    start_step: int = 0


@dataclass(frozen=True)
class Curve:
    """The objective values a trial reported, in the order it reported them."""

    name: str
    state: CurveState
    values: tuple[float, ...] = field(default=())

    def best(self, step: int, maximize: bool) -> float:
        """The best of the first ``step`` reports: what the collector compares at that report."""
        head = self.values[:step]
        return max(head) if maximize else min(head)


def worse(maximize: bool) -> Comparison:
    """The comparison that says "worse than the threshold" for this direction."""
    return Comparison.LESS if maximize else Comparison.GREATER


class RuleTracker:
    """Katib's file metrics collector (``updateStopRules``), for one trial, report by report.

    - The objective metric is judged by the best value reported so far (min or max by the
      objective's direction); every other metric by the value just reported.
    - A rule with ``start_step`` n >= 1 is compared once, at exactly the n-th report of its
      metric: the collector counts down one counter per metric name and compares only when it
      reaches zero. Rules that share a metric also share that counter (counted down once per rule
      still waiting), which is why our algorithms never give two rules on one metric.
    - A met rule is removed; the trial is stopped when none is left (the rules are ANDed).
    """

    def __init__(self, rules: Sequence[StopRule], objective_metric: str, maximize: bool):
        self.waiting = list(rules)
        self._objective, self._maximize = objective_metric, maximize
        self._countdown = {r.metric: r.start_step for r in rules if r.start_step != 0}
        self._best: float | None = None
        self.armed = bool(rules)

    @property
    def stopped(self) -> bool:
        return self.armed and not self.waiting

    def report(self, metric: str, value: float) -> bool:
        """Feed one reported value; True once the trial must stop."""
        for rule in [r for r in self.waiting if r.metric == metric]:
            if self._met(rule, value):
                self.waiting.remove(rule)
        return self.stopped

    def _met(self, rule: StopRule, value: float) -> bool:
        if rule.metric == self._objective:
            if self._best is None or (value > self._best if self._maximize else value < self._best):
                self._best = value
            value = self._best
        if rule.metric in self._countdown:
            self._countdown[rule.metric] -= 1
            if self._countdown[rule.metric] != 0:
                return False
        if rule.comparison is Comparison.EQUAL:
            return value == rule.threshold
        if rule.comparison is Comparison.LESS:
            return value < rule.threshold
        return value > rule.threshold
