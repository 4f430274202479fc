"""Reject at validation what an algorithm cannot serve inside one call's time and memory budget."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from katib_suggestion.model import SearchSpace
from katib_validators.algorithm import Algorithm
from katib_validators.budget import (
    CALL_SECONDS,
    MAX_EXPERIMENT_BYTES,
    MAX_LIST_VALUES,
    MAX_PARAMETERS,
    MIB,
    MIN_MODEL_POINTS,
    MIN_WINDOW,
    CostModel,
    Sizes,
    largest,
    sizes_for,
)
from katib_validators.costs import cost_of
from katib_validators.problems import Problem
from katib_validators.search_space import PARAMETERS_PATH
from katib_validators.settings import SETTINGS_PATH


def check_servable(algorithm: Algorithm, settings: Mapping[str, Any], space: SearchSpace,
                   pairs: Sequence[tuple[str, str]]) -> list[Problem]:
    """Problems that would make a call of this algorithm overrun Katib's deadline or the memory limit."""
    problems = check_sizes(None, len(space), [len(p.choices) for p in space])
    if problems:
        return problems
    cost = cost_of(algorithm.backend, algorithm.key)
    if cost is None:
        return []
    sizes = sizes_for(cost, space, settings, 0 if cost.window == "free" else MIN_WINDOW)
    points = MIN_MODEL_POINTS
    if cost.fits(sizes, points):
        return []
    name = f"{algorithm.key} ({algorithm.backend})"
    default = algorithm.schema.lookup(cost.candidates).default if cost.candidates else 0
    lighter = replace(sizes, candidates=min(sizes.candidates, default))
    if sizes.longest and not cost.fits(lighter, points) and cost.fits(_shortened(lighter, 1), points):
        return [_long_list(cost, name, space, sizes, points)]
    most = largest(1, sizes.candidates, lambda c: cost.fits(replace(sizes, candidates=c), points))
    if sizes.candidates > 1 and cost.fits(replace(sizes, candidates=most), points):
        return [Problem(_setting_path(algorithm, cost.candidates, pairs),
                        f"{name} scores every candidate against every trial and parameter, "
                        f"{_estimate(cost, sizes, points)}; use at most {most}", sizes.candidates)]
    return [Problem(PARAMETERS_PATH, f"{len(space)} parameters are too many for {name}: "
                    f"{_estimate(cost, sizes, points)}; tune fewer parameters at once")]


def check_sizes(size: int | None, parameters: int, list_lengths: Sequence[int]) -> list[Problem]:
    """Problems of an Experiment larger than Katib can store (``size``: its serialized bytes, when known)."""
    if size is not None and size > MAX_EXPERIMENT_BYTES:
        return [Problem("spec", f"the Experiment is {size / MIB:.1f} MiB; Kubernetes stores objects of at most "
                        f"1.5 MiB and this server reads at most {MAX_EXPERIMENT_BYTES // MIB} MiB; shorten it")]
    if parameters > MAX_PARAMETERS:
        return [Problem(PARAMETERS_PATH, f"{parameters} parameters; at most {MAX_PARAMETERS} can be tuned at once")]
    values = sum(list_lengths)
    if values > MAX_LIST_VALUES:
        return [Problem(PARAMETERS_PATH, f"{values} list values in all; at most {MAX_LIST_VALUES} fit one "
                        "Experiment (Kubernetes stores an object of at most 1.5 MiB); shorten the lists")]
    return []


def _shortened(sizes: Sizes, length: int) -> Sizes:
    """``sizes`` with the longest list cut to ``length`` values."""
    return replace(sizes, longest=length, values=sizes.values - sizes.longest + length)


def _long_list(cost: CostModel, name: str, space: SearchSpace, sizes: Sizes, points: int) -> Problem:
    index = _longest(space, lambda p: bool(p.choices))
    longest = sizes.longest
    most = largest(1, longest, lambda n: cost.fits(_shortened(sizes, n), points))
    return Problem(f"{PARAMETERS_PATH}[{index}].feasibleSpace.list",
                   f"{name} weighs every value of a list against every trial, "
                   f"{_estimate(cost, sizes, points)}; use at most {most} values, or choose random, sobol or "
                   "hyperopt's tpe, which handle long lists cheaply", longest)


def _longest(space: SearchSpace, which) -> int:
    """Index of the parameter with the longest list among those ``which`` selects."""
    return max((i for i, p in enumerate(space) if which(p)), key=lambda i: len(space.parameters[i].choices))


def _estimate(cost: CostModel, sizes: Sizes, points: int) -> str:
    return (f"about {cost.batch_seconds(sizes, points):.0f} s and {cost.mib(sizes):.0f} MiB for {points} "
            f"suggestions at {sizes.trials} trials (one call may take {CALL_SECONDS:.0f} s and "
            f"{cost.budget_mib:.0f} MiB)")


def _setting_path(algorithm: Algorithm, name: str, pairs: Sequence[tuple[str, str]]) -> str:
    setting = algorithm.schema.lookup(name)
    for index, (given, _) in enumerate(pairs):
        if setting is not None and algorithm.schema.lookup(given) is setting:
            return f"{SETTINGS_PATH}[{index}].value"
    return SETTINGS_PATH

