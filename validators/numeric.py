"""Parse the feasibleSpace of an int or double parameter: bounds, step and scale."""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from katib_suggestion.exact import exact
from katib_suggestion.model import Distribution, Kind, Parameter
from katib_validators.problems import Problem

# Katib and every backend carry ints as 64-bit; beyond that samplers overflow.
INT_LIMIT = 2**63 - 1
# A stepped double's grid position is a float in backends: past 2**53 steps they stop being exact.
MAX_STEPS = 2**53
_LOG = (Distribution.LOG_UNIFORM, Distribution.LOG_NORMAL)


def parse_numeric(name: Any, kind: Kind, space: Mapping[str, Any], distribution: Distribution,
                  where: str) -> tuple[Parameter | None, list[Problem]]:
    """An int/double Parameter from ``space`` (the feasibleSpace at ``where``), or problems."""
    problems: list[Problem] = []
    if given(space.get("list")):
        problems.append(Problem(f"{where}.list", f"{kind.value} parameters take min and max, not a list; "
                                "use parameterType discrete for a list of numbers"))
    low, low_text = _number(space.get("min"), kind, f"{where}.min", problems)
    high, high_text = _number(space.get("max"), kind, f"{where}.max", problems)
    step, step_text = (None, None)
    if given(space.get("step")):
        step, step_text = _number(space.get("step"), kind, f"{where}.step", problems)
    if problems:
        return None, problems
    problems = _check_bounds(low, high, low_text, high_text, kind, distribution, where)
    written = None
    if step is not None and kind is Kind.DOUBLE:
        written = (_written(low_text, low), _written(high_text, high), _written(step_text, step))
    if step is not None and not problems:
        problems = _check_step(written or (Fraction(low), Fraction(high), Fraction(step)), low, high, step_text,
                               where)
    if problems:
        return None, problems
    return Parameter(name=name, kind=kind, low=low, high=high, step=step, distribution=distribution,
                     written=written), []


def _written(text: str, number: float) -> Fraction:
    """The decimal a number's text means (a double only approximates it)."""
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        return exact(number)


def _check_bounds(low, high, low_text, high_text, kind, distribution, where) -> list[Problem]:
    problems = []
    if low > high:  # min == max holds the parameter fixed, as upstream's examples do
        problems.append(Problem(f"{where}.min", f"min must not exceed max ({high_text})", low_text))
    elif not math.isfinite(float(high) - float(low)):
        # samplers draw low + u * (high - low): an infinite width yields inf or crashes
        problems.append(Problem(f"{where}.max", "max - min is too large to sample; narrow the range", high_text))
    if distribution in _LOG and low <= 0:
        fix = "set min to 1" if kind is Kind.INT else "set min to a small positive value such as 1e-10"
        problems.append(Problem(f"{where}.min", f"{distribution.value} needs min > 0; {fix} or use "
                                "distribution uniform", low_text))
    return problems


def _check_step(grid: tuple[Fraction, Fraction, Fraction], low, high, step_text, where) -> list[Problem]:
    """A step that is positive, fits the range, and (for doubles) gives distinct doubles.

    ``grid`` is (min, max, step) exactly: decimal arithmetic, so 3.9999999999 - 1 is below 3."""
    origin, end, step = grid
    if step <= 0:
        return [Problem(f"{where}.step", "step must be greater than 0", step_text)]
    width = end - origin
    if width and step > width:
        return [Problem(f"{where}.step", f"step must not exceed max - min ({plain(high - low)})", step_text)]
    if isinstance(low, int):
        return []
    if width / step > MAX_STEPS:
        return [Problem(f"{where}.step", f"step is too small for the range (more than {MAX_STEPS} values); "
                        "use a larger step or none", step_text)]
    spacing = Fraction(math.ulp(max(abs(low), abs(high))))
    if step <= spacing and not ((origin / spacing).denominator == 1 and (step / spacing).denominator == 1):
        # unless min and step are whole multiples of the spacing: then every grid value is a double
        return [Problem(f"{where}.step", f"step is finer than the spacing of doubles near "
                        f"{plain(max(abs(low), abs(high)))} ({float(spacing)!r}), so grid values would collapse "
                        f"into the same number; use a step larger than {float(spacing)!r} or none", step_text)]
    return []


def given(value: Any) -> bool:
    return value not in (None, "", [])


def text_of(value: Any) -> str:
    # YAML may hand us numbers; Katib would carry them as their string form.
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def finite(text: str) -> float | None:
    try:
        number = float(text)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _number(raw: Any, kind: Kind, path: str, problems: list[Problem]) -> tuple[Any, str | None]:
    if not given(raw):
        problems.append(Problem(path, f"{kind.value} parameters need {path.rsplit('.', 1)[1]}"))
        return None, None
    if isinstance(raw, Mapping | list | tuple | set):
        problems.append(Problem(path, "must be a single number, written as a string such as \"0.01\"", raw))
        return None, None
    text = text_of(raw).strip()
    if kind is Kind.INT:
        return _integer(raw, text, path, problems)
    number = finite(text)
    if number is None:
        problems.append(Problem(path, "must be a finite number, such as 0.01 or 1e-3", raw))
    return number, text


def _integer(raw: Any, text: str, path: str, problems: list[Problem]) -> tuple[int | None, str | None]:
    try:
        number = int(text)  # ValueError also for more than 4300 digits
    except ValueError:
        problems.append(Problem(path, "must be a whole number, such as 1 or 32", raw))
        return None, None
    if abs(number) > INT_LIMIT:
        problems.append(Problem(path, f"must lie between -{INT_LIMIT} and {INT_LIMIT} (64-bit)", raw))
        return None, None
    return number, text


def plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(number)
