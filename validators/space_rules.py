"""Search-space rules that only some algorithms need."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from katib_suggestion.model import Kind, SearchSpace
from katib_validators.problems import Problem
from katib_validators.search_space import PARAMETERS_PATH


def needs_finite_grid(space: SearchSpace, spec: Mapping[str, Any]) -> list[Problem]:
    """Grid search: every double needs a step, and the grid must hold maxTrialCount points."""
    problems = [
        Problem(f"{PARAMETERS_PATH}[{i}].feasibleSpace.step",
                "grid needs a step for every double parameter, for example step: \"0.1\"")
        for i, p in enumerate(space) if p.kind is Kind.DOUBLE and p.step is None
    ]
    if problems:
        return problems
    size = space.cardinality()
    max_trials = _int(spec.get("maxTrialCount"))
    if max_trials and size is not None and max_trials > size:
        problems.append(Problem(
            "spec.maxTrialCount",
            f"the grid has only {size} points; set maxTrialCount to at most {size} "
            "or widen the search space",
            max_trials,
        ))
    return problems


def needs_two_numeric(space: SearchSpace, spec: Mapping[str, Any]) -> list[Problem]:
    """CMA-ES models a covariance: it needs at least two int or double parameters."""
    numeric = sum(1 for p in space if p.is_numeric)
    if numeric >= 2:
        return []
    return [Problem(PARAMETERS_PATH, f"cmaes needs at least two int or double parameters (found {numeric}); "
                    "add one or choose tpe")]


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
