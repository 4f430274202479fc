"""CMA-ES limits: goptuna's absolute sigma mapped onto our unit cube, and the sizes a call can afford."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from katib_suggestion.model import Parameter, SearchSpace
from katib_validators.problems import Problem
from katib_validators.search_space import PARAMETERS_PATH
from katib_validators.settings import SETTINGS_PATH, Setting

DEFAULT_UNIT_STEP = 1 / 6  # of each parameter's own range (goptuna: 1/6 of the narrowest, for all)
# Per-parameter step, as a fraction of its range, that CMA-ES can start from. Below the floor
# the distribution collapses to subnormal numbers within a few hundred generations (sigma
# 1e-300 failed after a few calls); far above the ceiling every draw is clipped to a corner
# and the step needs thousands of generations to shrink back (a budget, not a search).
MIN_UNIT_STEP = 1e-8
MAX_UNIT_STEP = 1e3
# Numeric parameters CMA-ES models: every generation of the replay decomposes the
# dimensions x dimensions covariance; at 100, 5,000 trials replay in about 3 s of one core.
MAX_DIMENSIONS = 100
# Each generation's update builds two popsize x d x d arrays of doubles: 2^20 cells keep
# them at 8 MiB each, inside the optuna image's memory limit (popsize 1e8 took 5.2 GiB).
MAX_POPULATION_CELLS = 2**20
MAX_POPSIZE = 1000
MIN_POPSIZE = 4  # below 4 CMA-ES has one parent and its rank-mu learning rate is 0 (divides by 0)

SIGMA = Setting(
    "sigma", "float", None,
    "initial step size, as goptuna (upstream's cmaes) reads it: absolute, in each parameter's own "
    "units (natural-log units for logUniform); unset or 0: 1/6 of each parameter's range",
    low=0, aliases=("sigma0",))
POPSIZE = Setting(
    "popsize", "int", None, "population per generation; unset: 4 + 3 ln(dimensions); at most "
    f"{MAX_POPULATION_CELLS:,} / dimensions^2", low=MIN_POPSIZE, high=MAX_POPSIZE, aliases=("population_size",))


def width(parameter: Parameter) -> float:
    """The span of ``parameter`` in goptuna's units: its own units, natural-log units on a log
    scale; a stepped or int range spans one cell per value, as our unit cube does."""
    if parameter.is_log:
        return math.log(parameter.high) - math.log(parameter.low)
    size = parameter.cardinality()
    return (parameter.high - parameter.low) if size is None else size * parameter.grid_step


def unit_steps(sigma: float | None, numeric: Sequence[Parameter]) -> list[float]:
    """Initial standard deviation per parameter as a fraction of its range.

    ``sigma`` is goptuna's: absolute, the same for every parameter; None or 0 means the default.
    On an int or stepped parameter it is never less than half a step: a narrower distribution
    rounds every draw to one value, and the rounded values then look like wild outliers to
    CMA-ES. A parameter with no range (min == max) keeps the default: it has nothing to explore.
    """
    if not sigma:
        return [DEFAULT_UNIT_STEP] * len(numeric)
    return [_unit_step(sigma, p) for p in numeric]


def _unit_step(sigma: float, parameter: Parameter) -> float:
    span = width(parameter)
    if span <= 0:
        return DEFAULT_UNIT_STEP
    size = parameter.cardinality()
    floor = 0.5 / size if size is not None and not parameter.is_log else 0.0
    return max(sigma / span, floor)


def max_popsize(dimensions: int) -> int:
    """The largest population one generation's update can afford for this many parameters."""
    return max(MIN_POPSIZE, min(MAX_POPSIZE, MAX_POPULATION_CELLS // max(dimensions, 1) ** 2))


def fits_budget(space: SearchSpace, spec: Mapping[str, Any]) -> list[Problem]:
    """Dimensions, popsize and sigma that every call can serve in time and memory."""
    numeric = [p for p in space if p.is_numeric]
    problems = []
    if len(numeric) > MAX_DIMENSIONS:
        problems.append(Problem(PARAMETERS_PATH, f"cmaes models at most {MAX_DIMENSIONS} int or double "
                                f"parameters (found {len(numeric)}); fix some, or choose tpe or random"))
    index, popsize = _given(spec, POPSIZE)
    if popsize and popsize > max_popsize(len(numeric)):
        problems.append(Problem(f"{SETTINGS_PATH}[{index}].value", f"with {len(numeric)} numeric parameters "
                                f"popsize can be at most {max_popsize(len(numeric))} (memory of one update)",
                                popsize))
    index, sigma = _given(spec, SIGMA)
    return problems + (_sigma_problems(index, sigma, numeric) if sigma else [])


def _sigma_problems(index: int, sigma: float, numeric: Sequence[Parameter]) -> list[Problem]:
    widths = [w for w in map(width, numeric) if w > 0]
    if not widths:
        return []
    low, high = MIN_UNIT_STEP * max(widths), MAX_UNIT_STEP * min(widths)
    if low <= sigma <= high:
        return []
    fix = (f"set sigma between {low:.6g} and {high:.6g}" if low <= high else
           "the parameters' ranges are too different for one sigma")
    return [Problem(
        f"{SETTINGS_PATH}[{index}].value",
        f"sigma is absolute (in each parameter's own units, natural-log units for logUniform) and must "
        f"be {MIN_UNIT_STEP:g} to {MAX_UNIT_STEP:g} times every parameter's range; {fix}, or leave it "
        f"unset for 1/6 of each range", sigma)]


def _given(spec: Mapping[str, Any], setting: Setting) -> tuple[int, Any]:
    """(index, parsed value) of ``setting`` in the raw spec; (-1, None) when absent or invalid,
    which the settings schema reports on its own."""
    algorithm = spec.get("algorithm")
    settings = algorithm.get("algorithmSettings") if isinstance(algorithm, Mapping) else None
    for index, item in enumerate(settings if isinstance(settings, list) else []):
        if isinstance(item, Mapping) and item.get("name") in (setting.name, *setting.aliases):
            try:
                return index, setting.parse(item.get("value"))
            except ValueError:
                return -1, None
    return -1, None
