"""Whether a value text is one Katib may be sent for a parameter, decided from the request's texts alone."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from fractions import Fraction

from katib_api import api_pb2

_INTEGER = re.compile(r"-?[0-9]+")
# A stepped double is on its grid when it is min + i * step (exact decimals) up to a
# few ulps: the texts may carry more digits than a double holds.
_ULPS = 4


def problem_of(spec: api_pb2.ParameterSpec, text: str) -> str | None:
    """Why ``text`` is not a feasible value of ``spec``, or None when it is."""
    space = spec.feasible_space
    if spec.parameter_type in (api_pb2.CATEGORICAL, api_pb2.DISCRETE):
        return None if text in space.list else f"{spec.name}={text!r} is not one of {list(space.list)[:8]}"
    if spec.parameter_type == api_pb2.INT:
        return _int_problem(spec.name, space, text)
    return _double_problem(spec.name, space, text)


def _int_problem(name: str, space: api_pb2.FeasibleSpace, text: str) -> str | None:
    if not _INTEGER.fullmatch(text):
        return f"{name}={text!r} is not an integer written as Katib substitutes it"
    value, low, high = int(text), int(space.min), int(space.max)
    if not low <= value <= high:
        return f"{name}={text} is outside [{low}, {high}]"
    if space.step.strip() and (value - low) % int(space.step):
        return f"{name}={text} is not min + i * step (min {low}, step {space.step})"
    return None


def _double_problem(name: str, space: api_pb2.FeasibleSpace, text: str) -> str | None:
    try:
        value = float(text)
    except ValueError:
        return f"{name}={text!r} is not a number"
    if not math.isfinite(value):
        return f"{name}={text!r} is not finite"
    if not float(space.min) <= value <= float(space.max):
        return f"{name}={text} is outside [{space.min}, {space.max}]"
    if not space.step.strip():
        return None
    low, step = Fraction(space.min.strip()), Fraction(space.step.strip())
    index = round((Fraction(value) - low) / step)
    nearest = float(low + index * step)
    tolerance = _ULPS * math.ulp(max(abs(value), abs(float(low))))
    if index < 0 or abs(value - nearest) > tolerance:
        return f"{name}={text} is not min + i * step (min {space.min}, step {space.step}; nearest {nearest!r})"
    return None


def feasible_key(specs: Sequence[api_pb2.ParameterSpec], values: Mapping[str, str]) -> tuple:
    """A point's identity as numbers where they are numbers (so "-0.0" and "0.0" are one point)."""
    return tuple(_number(spec, values.get(spec.name)) for spec in specs)


def _number(spec: api_pb2.ParameterSpec, text: str | None):
    if text is None or spec.parameter_type == api_pb2.CATEGORICAL:
        return text
    try:
        return int(text) if spec.parameter_type == api_pb2.INT else float(text)
    except ValueError:
        return text
