"""Exact arithmetic on the numbers Katib carries as text: doubles by position, decimals as fractions, 64-bit ints."""

from __future__ import annotations

import math
import numbers
import struct
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Grid:
    """The values (a + i * b) / d for i in 0 .. size-1: a stepped range in exact integers.

    Positions come from floats first (fast) and are confirmed exactly; only a
    value off the grid, or a guess more than one position out, takes fractions.
    """

    a: int
    b: int
    d: int
    size: int
    origin: float  # a / d and b / d, rounded: for guessing positions
    spacing: float

    @classmethod
    def of(cls, low: Fraction, high: Fraction, step: Fraction) -> Grid:
        d = math.lcm(low.denominator, step.denominator)
        a, b = low.numerator * (d // low.denominator), step.numerator * (d // step.denominator)
        return cls(a, b, d, math.floor((high - low) / step) + 1, a / d, b / d)

    def integer(self, index: int) -> int:
        return (self.a + index * self.b) // self.d

    def double(self, index: int) -> float:
        return (self.a + index * self.b) / self.d  # int / int rounds correctly, once

    def nearest(self, x: int | float) -> int:
        """The position nearest to ``x``, clamped (exact for ints, to a double's precision otherwise)."""
        if isinstance(x, int) and self.d == 1:
            quotient, remainder = divmod(x - self.a, self.b)
            index = quotient + (2 * remainder >= self.b)
        else:
            index = round((x - self.origin) / self.spacing)
        return min(max(index, 0), self.size - 1)

    def position(self, value: float) -> int | None:
        """The position whose double is ``value``, or None when it is not a grid value."""
        guess = self.nearest(value)
        for index in (guess, guess - 1, guess + 1):
            if 0 <= index < self.size and self.double(index) == value:
                return index
        index = min(max(round((Fraction(value) * self.d - self.a) / self.b), 0), self.size - 1)
        return index if self.double(index) == value else None
