"""Map our parameters onto scikit-optimize dimensions and back, so every value is feasible."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from katib_suggestion.exact import EXACT_INDEX
from katib_suggestion.model import Kind, Parameter, Point, SearchSpace, Value
from skopt.space import Categorical, Dimension, Integer, Real
from skopt.utils import normalize_dimensions


@dataclass(frozen=True)
class Codec:
    """One parameter's skopt dimension and the conversions to and from it.

    With ``by_index`` skopt models a position in the value grid (steps on a
    linear scale, ints) or in ``order`` (discrete numbers, increasing): a GP then
    sees the ordering, and every answer is exactly a grid or listed value, 64-bit
    ints included. A grid with more positions than a double counts exactly is
    modelled as u in [0, 1] (``unit``). Log scales stay continuous in skopt (so
    log-uniform is honoured) and are snapped onto their step grid afterwards;
    doubles (and ints past 2**53) as their natural log on a uniform Real, which
    is what skopt's log-uniform prior does, minus its ``low * high > 0`` check
    that a subnormal min fails by underflow.
    """

    parameter: Parameter
    dimension: Dimension
    by_index: bool = False
    order: tuple[str, ...] = ()
    unit: bool = False
    log: bool = False

    def to_skopt(self, value: Value) -> Value:
        p = self.parameter
        if self.order:
            return self.order.index(p._parse_choice(str(value)))
        if self.by_index:
            return p.index_of(value)
        if self.unit:
            return p.to_unit(value)
        if self.log:
            return min(max(math.log(value), self.dimension.low), self.dimension.high)
        if p.kind is Kind.CATEGORICAL:
            return str(value)
        return int(value) if isinstance(self.dimension, Integer) else float(value)

    def from_skopt(self, internal: Value) -> Value:
        p = self.parameter
        if self.order:
            return self.order[int(internal)]
        if self.by_index:
            return p.value_at(min(max(int(internal), 0), p.cardinality() - 1))
        if self.unit:
            return p.from_unit(float(internal))
        if self.log:
            return p.snap(math.exp(min(float(internal), self.dimension.high)))
        if p.kind is Kind.CATEGORICAL:
            return str(internal)
        return p.snap(internal)


def codec_for(p: Parameter) -> Codec:
    if p.kind is Kind.CATEGORICAL:
        return Codec(p, Categorical(p.choices))
    if p.kind is Kind.DISCRETE:
        order = tuple(sorted(p.choices, key=float))
        return Codec(p, _positions(len(order)), order=order)
    if p.is_log:
        # skopt rounds Integer samples through int64 doubles: exact only up to 2**53
        if p.kind is Kind.INT and p.high <= EXACT_INDEX:
            return Codec(p, Integer(int(p.low), int(p.high), prior="log-uniform"))
        return Codec(p, Real(math.log(p.low), math.log(p.high)), log=True)
    if p.indexable:
        return Codec(p, _positions(p.cardinality()), by_index=True)
    if p.is_finite:
        return Codec(p, Real(0.0, 1.0), unit=True)
    return Codec(p, Real(p.low, p.high))


def _positions(size: int) -> Dimension:
    # skopt refuses an Integer whose bounds are equal; a one-value grid is a constant
    return Integer(0, size - 1) if size > 1 else Categorical((0,))


class SpaceCodec:
    """All codecs of a search space, in the space's parameter order."""

    def __init__(self, space: SearchSpace):
        self.codecs = tuple(codec_for(p) for p in space)
        self.dimensions = [c.dimension for c in self.codecs]

    @cached_property
    def unit_dimensions(self) -> list[Dimension]:
        """The dimensions with numbers mapped onto [0, 1], as skopt does for a GP only; made once per call
        (the plan counts their columns, the Optimizer is built on them).

        scikit-learn's trees read their input as float32: bounds beyond ~3.4e38
        overflow ("value too large for dtype float32") and tiny or narrow ranges
        collapse onto one float32 value. Trees only compare values, so the unit
        scale changes nothing else for numbers; log scales become linear in the
        exponent, as for the GP.
        """
        # normalize_dimensions sets the transform of the objects it is given: a copy keeps ours as they are
        return normalize_dimensions(copy.deepcopy(self.dimensions)).dimensions

    def to_skopt(self, point: Mapping[str, Value]) -> list[Value]:
        return [c.to_skopt(point[c.parameter.name]) for c in self.codecs]

    def from_skopt(self, x: Sequence[Value]) -> Point:
        return {c.parameter.name: c.from_skopt(v) for c, v in zip(self.codecs, x, strict=True)}
