"""Parse ``spec.parameters`` into a typed SearchSpace, collecting every problem."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from katib_suggestion.model import Distribution, Kind, Parameter, SearchSpace
from katib_validators.numeric import finite, given, parse_numeric, text_of
from katib_validators.problems import Problem
from katib_validators.spelling import did_you_mean

PARAMETERS_PATH = "spec.parameters"
_KINDS = {kind.value: kind for kind in Kind}
_DISTRIBUTIONS = {d.value: d for d in Distribution}


def parse_search_space(raw: Any, path: str = PARAMETERS_PATH) -> tuple[SearchSpace | None, list[Problem]]:
    """A SearchSpace when ``raw`` (the YAML list of parameters) is valid, else problems."""
    if not isinstance(raw, list) or not raw:
        return None, [Problem(path, "list at least one parameter to tune")]
    problems: list[Problem] = []
    parameters: list[Parameter] = []
    first_use: dict[str, int] = {}
    for index, item in enumerate(raw):
        where = f"{path}[{index}]"
        if not isinstance(item, Mapping):
            problems.append(Problem(where, "each parameter is a mapping with name, parameterType and feasibleSpace"))
            continue
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(Problem(f"{where}.name", "give the parameter a non-empty name", name))
        elif name in first_use:
            problems.append(Problem(f"{where}.name", f"name already used by {path}[{first_use[name]}]; "
                                    "names must be unique", name))
        else:
            first_use[name] = index
        parameter, found = _parse_parameter(item, where)
        problems.extend(found)
        if parameter is not None:
            parameters.append(parameter)
    if problems:
        return None, problems
    return SearchSpace(tuple(parameters)), []


def _parse_parameter(item: Mapping[str, Any], where: str) -> tuple[Parameter | None, list[Problem]]:
    kind_text = item.get("parameterType")
    kind = _KINDS.get(kind_text) if isinstance(kind_text, str) else None
    if kind is None:
        hint = did_you_mean(kind_text, _KINDS)
        return None, [Problem(f"{where}.parameterType", f"must be one of int, double, discrete, categorical{hint}",
                              kind_text)]
    space = item.get("feasibleSpace")
    if not isinstance(space, Mapping):
        return None, [Problem(f"{where}.feasibleSpace", "give a feasibleSpace (min/max for int and double, "
                                                        "list for discrete and categorical)", space)]
    where = f"{where}.feasibleSpace"
    distribution, problems = _parse_distribution(space.get("distribution"), where)
    if kind in (Kind.INT, Kind.DOUBLE):
        parameter, found = parse_numeric(item.get("name"), kind, space, distribution, where)
    else:
        parameter, found = _parse_list(item.get("name"), kind, space, where)
    problems += found
    return (parameter if not problems else None), problems


def _parse_distribution(text: Any, where: str) -> tuple[Distribution, list[Problem]]:
    if text in (None, ""):
        return Distribution.UNIFORM, []
    if isinstance(text, str) and text in _DISTRIBUTIONS:
        return _DISTRIBUTIONS[text], []
    names = ", ".join(_DISTRIBUTIONS)
    hint = did_you_mean(text, _DISTRIBUTIONS)
    return Distribution.UNIFORM, [Problem(f"{where}.distribution", f"must be one of {names}{hint}", text)]


def _parse_list(name, kind, space, where) -> tuple[Parameter | None, list[Problem]]:
    # A distribution on a list is ignored, as upstream does (its defaulting even adds uniform).
    problems = [Problem(f"{where}.{field}", f"{kind.value} parameters take a list, not {field}", space.get(field))
                for field in ("min", "max", "step") if given(space.get(field))]
    values = space.get("list")
    if not isinstance(values, list) or not values:
        return None, problems + [Problem(f"{where}.list", "give a non-empty list of values")]
    texts = [text_of(v) for v in values]
    seen: dict[Any, int] = {}
    for index, text in enumerate(texts):
        key: Any = text
        if kind is Kind.DISCRETE:
            number = finite(text)
            if number is None:
                problems.append(Problem(f"{where}.list[{index}]", "discrete values must be numbers; "
                                        "use parameterType categorical for strings", text))
                continue
            key = number
        if key in seen:
            problems.append(Problem(f"{where}.list[{index}]", f"duplicate of list[{seen[key]}]; list each value once",
                                    text))
        else:
            seen[key] = index
    if problems:
        return None, problems
    return Parameter(name=name, kind=kind, choices=tuple(texts)), []
