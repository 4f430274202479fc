"""Exact arithmetic on the numbers Katib carries as text: doubles by position, decimals as fractions, 64-bit ints."""

from __future__ import annotations

import math
import numbers
import struct
from fractions import Fraction

# Backends model a grid position as a float; up to here every position is exact.
EXACT_INDEX = 2**53
_SIGN = 1 << 63


def ordinal(x: float) -> int:
    """Position of a double among all doubles in increasing order (0.0 and -0.0 share 0)."""
    bits = struct.unpack("<q", struct.pack("<d", x))[0]
    return bits if bits >= 0 else -(bits & (_SIGN - 1))


def double_at(position: int) -> float:
    """The inverse of ``ordinal``."""
    bits = position if position >= 0 else -position | _SIGN
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def exact(number: float) -> Fraction:
    """A number as the decimal it prints as (0.1 -> 1/10): the grid users mean when they write it."""
    if isinstance(number, numbers.Integral):
        return Fraction(int(number))
    return Fraction(repr(float(number)))


def integer(text: str) -> int:
    """An int from its text, exactly (64-bit values do not pass through a double)."""
    try:
        return int(text)
    except ValueError:
        number = float(text)
        if not number.is_integer():  # also nan and inf
            raise ValueError(f"{text!r} is not an integer") from None
        return int(number)


def exp_clipped(y: float) -> float:
    """exp(y), or inf where it overflows (a hair above log(max double): callers clip it back)."""
    try:
        return math.exp(y)
    except OverflowError:
        return math.inf
