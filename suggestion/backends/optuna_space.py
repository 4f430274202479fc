"""Map our parameters onto optuna distributions and back, exactly (steps, logs, lists, 64-bit ints)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property

from katib_suggestion.model import Kind, Parameter, Point, SearchSpace, Value
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

# optuna's TPE models a log-scaled int value by value: an int in [11, 5440837] with 5,000
# candidates and 920 trials took over 300 s of one core for 11 points (adversarial campaign,
# seed 22). Wider ranges are modelled as log-scaled doubles and snapped onto the ints.
LOG_INT_VALUES = 10_000


@dataclass(frozen=True)
class Codec:
    """One parameter's optuna distribution and the conversions to and from it.

    ``shape`` is one of:

    * ``index``: linear ints and stepped doubles as their grid position
      (0 .. n-1), so every sample is on the grid, ranges the step does not
      divide need no adjustment, and 64-bit ints never pass through a double;
    * ``unit``: a grid too large for exact float positions (ints wider than
      2**53), as u in [0, 1] mapped onto it exactly;
    * ``value``: log scales and continuous doubles as themselves (optuna cannot
      combine log with a step), snapped onto the grid and into [min, max];
    * ``choice``: lists.
    """

    parameter: Parameter
    distribution: BaseDistribution
    shape: str

    @cached_property
    def converter(self) -> Callable[[Value], Value]:
        """``to_optuna`` as one function, chosen once: a replay converts every value of the history."""
        p = self.parameter
        if self.shape == "index":
            return p.indexer
        if self.shape == "unit":
            return p.unit
        if self.shape == "value" and isinstance(self.distribution, FloatDistribution):
            return float  # rounds monotonically, so it stays inside the float bounds
        return _same

    def from_optuna(self, internal: Value) -> Value:
        p = self.parameter
        if self.shape == "index":
            return p.value_at(min(max(int(internal), 0), p.cardinality() - 1))
        if self.shape == "unit":
            return p.from_unit(internal)
        if self.shape == "value":
            return p.snap(internal)
        return internal


def _same(value: Value) -> Value:
    return value


def codec_for(p: Parameter) -> Codec:
    if p.choices:
        return Codec(p, CategoricalDistribution(p.choices), "choice")
    if p.is_log:
        if p.kind is Kind.INT and p.cardinality() <= LOG_INT_VALUES:
            return Codec(p, IntDistribution(int(p.low), int(p.high), log=True), "value")
        return Codec(p, FloatDistribution(float(p.low), float(p.high), log=True), "value")
    if p.indexable:
        return Codec(p, IntDistribution(0, p.cardinality() - 1), "index")
    if p.is_finite:
        return Codec(p, FloatDistribution(0.0, 1.0), "unit")
    return Codec(p, FloatDistribution(p.low, p.high), "value")


class SpaceCodec:
    """All codecs of a search space."""

    def __init__(self, space: SearchSpace):
        self.codecs = {p.name: codec_for(p) for p in space}
        self.distributions = {name: c.distribution for name, c in self.codecs.items()}
        self._converters = [(name, c.converter) for name, c in self.codecs.items()]

    def to_optuna(self, point: Mapping[str, Value]) -> dict[str, Value]:
        return {name: convert(point[name]) for name, convert in self._converters}

    def from_optuna(self, params: Mapping[str, Value]) -> Point:
        return {name: codec.from_optuna(params[name]) for name, codec in self.codecs.items()}
