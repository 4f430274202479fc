"""The per-parameter functions a call applies to every value of its history (model.Parameter picks them).

Module functions bound with functools.partial, not closures: an experiment still pickles.
"""

from __future__ import annotations

from collections.abc import Callable

Value = int | float | str


def parse_in_range(convert: Callable[[str], int | float], low: float, high: float,
                   general: Callable[[str], Value], text: str) -> Value:
    """A number that is its own value when in range; anything else, and every failure, the general parse."""
    try:
        number = convert(text)
    except ValueError:
        return general(text)
    return number if low <= number <= high else general(text)  # false for nan; ints compare exactly


def clamped_offset(first: int, last: int, value: Value) -> int:
    """Grid.nearest for ints with a step of 1, without the general case."""
    return min(max(int(value) - first, 0), last)


def cell_centre(indexer: Callable[[Value], int], size: int, value: Value) -> float:
    return (indexer(value) + 0.5) / size


def centre(_value: Value) -> float:
    return 0.5


def unit_from(axis: Callable[[Value], float], low: float, span: float, value: Value) -> float:
    return (axis(value) - low) / span


def double_identity(value: Value) -> Value:
    """What a double's text stands for: equal exactly when the texts are equal."""
    number = float(value) + 0.0  # -0.0 and 0.0 print alike
    return number if number == number else "nan"  # nan is not equal to itself, its text is
