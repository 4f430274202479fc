"""Search-space rules that only some algorithms need."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from katib_suggestion.model import Kind, SearchSpace
from katib_validators.counts import INT32_MAX
from katib_validators.problems import Problem
from katib_validators.search_space import PARAMETERS_PATH


def needs_finite_grid(space: SearchSpace, spec: Mapping[str, Any]) -> list[Problem]:
    """Grid search: every double needs a step (the size check is fits_the_experiment's)."""
    return [
        Problem(f"{PARAMETERS_PATH}[{i}].feasibleSpace.step",
                "grid needs a step for every double parameter, for example step: \"0.1\"")
        for i, p in enumerate(space) if p.kind is Kind.DOUBLE and p.step is None and not p.is_fixed
    ]


def fits_the_experiment(space: SearchSpace, spec: Mapping[str, Any]) -> list[Problem]:
    """Every algorithm: the space must hold as many distinct points as Katib will ask for,
    or a later GetSuggestions fails and the experiment hangs."""
    size = space.cardinality()
    if size >= INT32_MAX:  # Katib's request counter is an int32: it cannot ask for more
        return []
    max_trials = _int(spec.get("maxTrialCount"))
    what = _describe(space, size)
    if max_trials <= 0:
        return [Problem("spec.maxTrialCount", f"{what}, and without maxTrialCount Katib keeps asking for "
                        f"new ones until the goal is reached; set maxTrialCount to at most {size} "
                        "or widen the search space")]
    if max_trials > size:
        return [Problem("spec.maxTrialCount", f"{what}; set maxTrialCount to at most {size} "
                        "or widen the search space", max_trials)]
    return []


def _describe(space: SearchSpace, size: int) -> str:
    """'the search space has only N distinct points (a x b x c ...)' with what each counts."""
    parts = []
    for parameter in space:
        count = parameter.cardinality()
        if parameter.choices:
            parts.append(f"{parameter.name}: {count} listed")
        elif parameter.is_finite:
            parts.append(f"{parameter.name}: {count} on the grid")
        else:
            parts.append(f"{parameter.name}: {count} doubles between min and max")
    return f"the search space has only {size} distinct point{'s' if size != 1 else ''} ({'; '.join(parts)})"


def needs_two_numeric(space: SearchSpace, spec: Mapping[str, Any]) -> list[Problem]:
    """CMA-ES models a covariance: it needs at least two int or double parameters to tune."""
    numeric = sum(1 for p in space if p.is_numeric and not p.is_fixed)
    if numeric >= 2:
        return []
    fixed = sum(1 for p in space if p.is_numeric and p.is_fixed)
    note = f", not counting {fixed} held fixed by min == max" if fixed else ""
    return [Problem(PARAMETERS_PATH, f"cmaes needs at least two int or double parameters to tune (found "
                    f"{numeric}{note}); add one or choose tpe")]


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
