"""Map our parameters onto scikit-optimize dimensions and back, so every value is feasible."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from katib_suggestion.model import Kind, Parameter, Point, SearchSpace, Value
from skopt.space import Categorical, Dimension, Integer, Real


@dataclass(frozen=True)
class Codec:
    """One parameter's skopt dimension and the conversions to and from it.

    With ``by_index`` skopt models a position in the value grid (steps on a
    linear scale) or in ``order`` (discrete numbers, increasing): a GP then
    sees the ordering, and every answer is exactly a grid or listed value.
    Log scales stay continuous in skopt (so log-uniform is honoured) and are
    snapped onto their step grid afterwards.
    """

    parameter: Parameter
    dimension: Dimension
    by_index: bool = False
    order: tuple[str, ...] = ()

    def to_skopt(self, value: Value) -> Value:
        p = self.parameter
        if self.order:
            return self.order.index(p._parse_choice(str(value)))
        if self.by_index:
            return p.index_of(value)
        if p.kind is Kind.CATEGORICAL:
            return str(value)
        return int(value) if p.kind is Kind.INT else float(value)

    def from_skopt(self, internal: Value) -> Value:
        if self.order:
            return self.order[int(internal)]
        if self.by_index:
            return self.parameter.value_at(int(internal))
        if self.parameter.kind is Kind.CATEGORICAL:
            return str(internal)
        return self.parameter.snap(float(internal))


def codec_for(p: Parameter) -> Codec:
    if p.kind is Kind.CATEGORICAL:
        return Codec(p, Categorical(p.choices))
    if p.kind is Kind.DISCRETE:
        order = tuple(sorted(p.choices, key=float))
        return Codec(p, _positions(len(order)), order=order)
    prior = "log-uniform" if p.is_log else "uniform"
    if p.is_log and p.kind is Kind.INT:
        return Codec(p, Integer(int(p.low), int(p.high), prior=prior))
    if p.is_log:
        return Codec(p, Real(p.low, p.high, prior=prior))
    if p.kind is Kind.INT and p.step in (None, 1):
        return Codec(p, Integer(int(p.low), int(p.high)))
    if p.step is None:
        return Codec(p, Real(p.low, p.high))
    return Codec(p, _positions(p.cardinality()), by_index=True)


def _positions(size: int) -> Dimension:
    # skopt refuses an Integer whose bounds are equal; a one-value grid is a constant
    return Integer(0, size - 1) if size > 1 else Categorical((0,))


class SpaceCodec:
    """All codecs of a search space, in the space's parameter order."""

    def __init__(self, space: SearchSpace):
        self.codecs = tuple(codec_for(p) for p in space)
        self.dimensions = [c.dimension for c in self.codecs]

    def to_skopt(self, point: Mapping[str, Value]) -> list[Value]:
        return [c.to_skopt(point[c.parameter.name]) for c in self.codecs]

    def from_skopt(self, x: Sequence[Value]) -> Point:
        return {c.parameter.name: c.from_skopt(v) for c, v in zip(self.codecs, x, strict=True)}
