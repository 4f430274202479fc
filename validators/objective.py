"""Check spec.objective: direction, metric names, goal and metric strategies."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from katib_suggestion.model import Direction, Objective
from katib_validators.problems import Problem
from katib_validators.spelling import did_you_mean

PATH = "spec.objective"
_DIRECTIONS = {d.value: d for d in Direction}
STRATEGIES = ("min", "max", "latest")


def parse_objective(raw: Any) -> tuple[Objective | None, list[Problem]]:
    """The typed Objective, or every problem of spec.objective."""
    if not isinstance(raw, Mapping):
        return None, [Problem(PATH, "give an objective with type and objectiveMetricName")]
    problems = []
    direction = _DIRECTIONS.get(raw.get("type")) if isinstance(raw.get("type"), str) else None
    if direction is None:
        hint = did_you_mean(raw.get("type"), _DIRECTIONS)
        problems.append(Problem(f"{PATH}.type", f"must be minimize or maximize{hint}", raw.get("type")))
    metric = raw.get("objectiveMetricName")
    if not isinstance(metric, str) or not metric.strip():
        problems.append(Problem(f"{PATH}.objectiveMetricName", "name the metric to optimise, e.g. accuracy", metric))
    goal, found = _goal(raw.get("goal"))
    problems += found + _additional(raw.get("additionalMetricNames"), metric)
    problems += _strategies(raw.get("metricStrategies"))
    if problems:
        return None, problems
    return Objective(direction, metric, goal), []


def _goal(goal: Any) -> tuple[float | None, list[Problem]]:
    if goal is None:
        return None, []
    # the CRD types goal as a number: a quoted "0.9" is refused by Kubernetes
    if isinstance(goal, bool) or not isinstance(goal, int | float) or not math.isfinite(goal):
        return None, [Problem(f"{PATH}.goal", "must be a finite number, written without quotes (goal: 0.99)", goal)]
    return float(goal), []


def _additional(names: Any, metric: Any) -> list[Problem]:
    if names is None:
        return []
    path = f"{PATH}.additionalMetricNames"
    if not isinstance(names, list):
        return [Problem(path, "must be a list of metric names", names)]
    problems = [Problem(f"{path}[{i}]", "each metric name must be a non-empty string", name)
                for i, name in enumerate(names) if not isinstance(name, str) or not name.strip()]
    if isinstance(metric, str) and metric in names:
        # upstream's webhook refuses this too
        problems.append(Problem(path, "must not repeat objectiveMetricName; remove it from this list", metric))
    return problems


def _strategies(raw: Any) -> list[Problem]:
    if raw is None:
        return []
    path = f"{PATH}.metricStrategies"
    if not isinstance(raw, list):
        return [Problem(path, "must be a list of {name, value} entries", raw)]
    problems, seen = [], set()
    for i, item in enumerate(raw):
        name = item.get("name") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not name:
            problems.append(Problem(f"{path}[{i}].name", "name the metric this strategy applies to", name))
        elif name in seen:
            problems.append(Problem(f"{path}[{i}].name", "a metric takes one strategy; remove the repeat", name))
        seen.add(name if isinstance(name, str) else None)
        value = item.get("value") if isinstance(item, Mapping) else None
        if value not in STRATEGIES:
            problems.append(Problem(f"{path}[{i}].value", f"must be one of {', '.join(STRATEGIES)}", value))
    return problems
