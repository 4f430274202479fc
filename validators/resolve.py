"""Find the algorithm an experiment names and check its settings and space against it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from katib_suggestion.model import Distribution, SearchSpace
from katib_validators.algorithm import Algorithm
from katib_validators.catalog import ALGORITHMS, backends_serving, served_by
from katib_validators.problems import Problem, guarded
from katib_validators.search_space import PARAMETERS_PATH
from katib_validators.servable import check_servable
from katib_validators.settings import SETTINGS_PATH
from katib_validators.upstream import keep_upstream_message

NAME_PATH = "spec.algorithm.algorithmName"


def candidates(raw: Any, backend: str | None) -> tuple[list[Algorithm], list[Problem]]:
    """The algorithms ``spec.algorithm`` may mean: one for a given backend, each owner for None."""
    name = raw.get("algorithmName") if isinstance(raw, Mapping) else None
    if not isinstance(name, str) or not name:
        return [], [Problem(NAME_PATH, "name the algorithm, for example tpe", name)]
    owners = backends_serving(name)
    if backend is None and owners:
        return [served_by(owner)[name] for owner in owners], []
    if backend is not None and name in served_by(backend):
        return [served_by(backend)[name]], []
    if keep_upstream_message(name):
        return [], [Problem(NAME_PATH, keep_upstream_message(name), name)]
    if backend is None:
        here = ", ".join(sorted({n for a in ALGORITHMS for n in a.names}))
        return [], [Problem(NAME_PATH, f"not served by katib-suggest; choose one of: {here}", name)]
    # the same words fit a server (ValidateAlgorithmSettings) and `validate --backend` offline
    images = f"image{'s' if len(owners) > 1 else ''}"
    elsewhere = f"; {name} is served by the {' and '.join(owners)} {images}" if owners else ""
    here = ", ".join(sorted(served_by(backend)))
    return [], [Problem(NAME_PATH, f"not served by the {backend} image{elsewhere}; the {backend} image serves: "
                        f"{here}", name)]


def raw_settings(raw: Any) -> tuple[list[tuple[str, str]], list[Problem]]:
    """``(name, value)`` pairs of spec.algorithm.algorithmSettings, and problems with its shape."""
    settings = raw.get("algorithmSettings") if isinstance(raw, Mapping) else None
    if settings is None:
        return [], []
    if not isinstance(settings, list):
        return [], [Problem(SETTINGS_PATH, "must be a list of {name, value} entries", settings)]
    pairs, problems = [], []
    for index, item in enumerate(settings):
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            problems.append(Problem(f"{SETTINGS_PATH}[{index}]", "each setting needs a name and a value", item))
            continue
        value = item.get("value")
        pairs.append((item["name"], "" if value is None else str(value)))
    return pairs, problems


def check_algorithm(algorithm: Algorithm, pairs: list[tuple[str, str]], space: SearchSpace | None,
                    spec: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Parsed settings, and the problems of settings and space for this one algorithm."""
    settings: dict[str, Any] = {}

    def parse() -> list[Problem]:
        nonlocal settings
        settings, found = algorithm.schema.parse(pairs, algorithm.key)
        return found

    problems = guarded(SETTINGS_PATH, parse)
    if space is not None:
        problems += guarded(PARAMETERS_PATH, lambda: _distributions(algorithm, space))
        for rule in algorithm.space_rules:
            problems += guarded(PARAMETERS_PATH, lambda rule=rule: rule(space, spec))
        if not problems:  # the cost depends on settings and space that are valid
            problems += guarded(PARAMETERS_PATH, lambda: check_servable(algorithm, settings, space, pairs))
    return settings, problems


def _distributions(algorithm: Algorithm, space: SearchSpace) -> list[Problem]:
    problems = []
    for index, parameter in enumerate(space):
        if parameter.is_numeric and parameter.distribution not in algorithm.distributions:
            supported = ", ".join(sorted(d.value for d in algorithm.distributions))
            problems.append(Problem(
                f"{PARAMETERS_PATH}[{index}].feasibleSpace.distribution",
                f"{algorithm.key} ({algorithm.backend}) supports {supported}; {_who_supports(parameter.distribution)}",
                parameter.distribution.value,
            ))
    return problems


def _who_supports(distribution: Distribution) -> str:
    names = sorted({f"{a.backend} {a.names[0]}" for a in ALGORITHMS if distribution in a.distributions})
    if names:
        return f"{distribution.value} is supported by: {', '.join(names)}"
    return f"no backend supports {distribution.value}; use uniform or logUniform"
