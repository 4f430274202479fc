"""Map our parameters onto optuna distributions and back, exactly (steps, logs, lists)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from katib_suggestion.model import Kind, Parameter, Point, SearchSpace, Value
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution


@dataclass(frozen=True)
class Codec:
    """One parameter's optuna distribution and the conversions to and from it.

    Stepped linear dimensions are modelled by their grid index, so ranges
    that the step does not divide need no adjustment and every sample is on
    the grid. Log dimensions are modelled continuously and snapped onto the
    step grid afterwards, since optuna cannot combine log with a step.
    """

    parameter: Parameter
    distribution: BaseDistribution
    by_index: bool

    def to_optuna(self, value: Value) -> Value:
        return self.parameter.index_of(value) if self.by_index else value

    def from_optuna(self, internal: Value) -> Value:
        if self.by_index:
            return self.parameter.value_at(int(internal))
        if self.parameter.is_numeric:
            return self.parameter.snap(internal)
        return internal


def codec_for(p: Parameter) -> Codec:
    if p.choices:
        return Codec(p, CategoricalDistribution(p.choices), False)
    if p.is_log:
        if p.kind is Kind.INT:
            return Codec(p, IntDistribution(int(p.low), int(p.high), log=True), False)
        return Codec(p, FloatDistribution(p.low, p.high, log=True), False)
    if p.kind is Kind.INT and p.step in (None, 1):
        return Codec(p, IntDistribution(int(p.low), int(p.high)), False)
    if p.step is not None:
        return Codec(p, IntDistribution(0, p.cardinality() - 1), True)
    return Codec(p, FloatDistribution(p.low, p.high), False)


class SpaceCodec:
    """All codecs of a search space."""

    def __init__(self, space: SearchSpace):
        self.codecs = {p.name: codec_for(p) for p in space}
        self.distributions = {name: c.distribution for name, c in self.codecs.items()}

    def to_optuna(self, point: Mapping[str, Value]) -> dict[str, Value]:
        return {name: codec.to_optuna(point[name]) for name, codec in self.codecs.items()}

    def from_optuna(self, params: Mapping[str, Value]) -> Point:
        return {name: codec.from_optuna(params[name]) for name, codec in self.codecs.items()}
