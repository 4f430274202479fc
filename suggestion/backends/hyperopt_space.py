"""Map our parameters onto hyperopt expressions and back, every value inside [min, max]."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from statistics import NormalDist

from katib_suggestion.backends.hyperopt_lib import hp
from katib_suggestion.model import Distribution, Parameter, Point, SearchSpace, Value

# Upstream Katib reads min and max of a (log)normal parameter as the mean plus and
# minus three standard deviations; we keep that reading so experiments behave alike.
_SIGMAS = 3.0
_STANDARD = NormalDist()
_P_LOW, _P_HIGH = _STANDARD.cdf(-_SIGMAS), _STANDARD.cdf(_SIGMAS)
_NORMALS = frozenset({Distribution.NORMAL, Distribution.LOG_NORMAL})


@dataclass(frozen=True)
class Codec:
    """One parameter as hyperopt sees it, and the conversions between the two views.

    Three shapes, each bounded so no sample can fall outside the feasible range:

    * ``choice``: discrete and categorical lists as an index (``hp.randint``);
      the value returned is the list entry exactly as written.
    * ``grid``: uniform ints and stepped uniform doubles as their grid index
      (``hp.quniform`` over [-0.5, n - 0.5]), so TPE knows the values are
      discrete and every grid value, the two ends included, gets a full cell.
      Upstream's ``quniform(min, max, step)`` rounds to multiples of the step,
      which leave the range when min is not one.
    * ``unit``: everything else as the quantile u in [0, 1] of the parameter's
      prior (``hp.uniform(0, 1)``), mapped through the inverse CDF and then
      snapped onto the step grid. For uniform and log-uniform that is an affine
      (or log-affine) change of variable, identical to ``hp.uniform`` /
      ``hp.loguniform``. For normal and log-normal the prior is a normal
      truncated at min and max (the ±3σ upstream uses): clamping hyperopt's
      unbounded normal instead would pile the tails onto the two bounds, and
      more so once TPE centres kernels near an edge, while the quantile view
      keeps the bell shape and gives TPE a bounded dimension to model.
    """

    parameter: Parameter
    shape: str

    def expression(self):
        p = self.parameter
        if self.shape == "choice":
            return hp.randint(p.name, len(p.choices))
        if self.shape == "grid":
            return hp.quniform(p.name, -0.5, p.cardinality() - 0.5, 1)
        return hp.uniform(p.name, 0.0, 1.0)

    @cached_property
    def converter(self) -> Callable[[Value], float]:
        """A value -> its internal number (the inverse of from_internal), with the shape chosen and the
        prior's constants worked out once: a replay converts every value of the history."""
        p = self.parameter
        if self.shape in ("choice", "grid"):
            return p.indexer
        low, high = _scale(p)
        normal = _normal(p, low, high)
        axis = math.log if p.is_log else float
        if normal is None:
            return partial(_uniform_quantile, p.low, p.high, axis, low, high - low)
        return partial(_normal_quantile, p.low, p.high, axis, *normal)

    def from_internal(self, internal: float) -> Value:
        p = self.parameter
        if self.shape in ("choice", "grid"):
            last = (len(p.choices) if self.shape == "choice" else p.cardinality()) - 1
            # float rounding at the cell edges must not step off the ends
            return p.value_at(min(max(int(round(float(internal))), 0), last))
        return p.snap(_inverse_quantile(p, float(internal)))


def codec_for(parameter: Parameter) -> Codec:
    if parameter.choices:
        return Codec(parameter, "choice")
    if parameter.indexable and parameter.distribution is Distribution.UNIFORM:
        return Codec(parameter, "grid")
    # grids past 2**53 positions (64-bit ints) too: the quantile maps back exactly via snap
    return Codec(parameter, "unit")


def _scale(p: Parameter) -> tuple[float, float]:
    """The range on the axis the distribution is defined on (log axis for log kinds)."""
    return (math.log(p.low), math.log(p.high)) if p.is_log else (p.low, p.high)


# Where a value sits in the parameter's prior, as a probability in [0, 1]; trials may sit a
# rounding error outside [first, last], so the value is clamped first.
def _uniform_quantile(first: float, last: float, axis, low: float, span: float, value: Value) -> float:
    return min(max((axis(min(max(float(value), first), last)) - low) / span, 0.0), 1.0)


def _normal_quantile(first: float, last: float, axis, mu: float, sigma: float, value: Value) -> float:
    y = axis(min(max(float(value), first), last))
    return min(max((_STANDARD.cdf((y - mu) / sigma) - _P_LOW) / (_P_HIGH - _P_LOW), 0.0), 1.0)


def _inverse_quantile(p: Parameter, u: float) -> float:
    low, high = _scale(p)
    u = min(max(u, 0.0), 1.0)
    normal = _normal(p, low, high)
    if normal is not None:
        mu, sigma = normal
        y = mu + sigma * _STANDARD.inv_cdf(_P_LOW + u * (_P_HIGH - _P_LOW))
    else:
        y = low + u * (high - low)
    return math.exp(y) if p.is_log else y


def _normal(p: Parameter, low: float, high: float) -> tuple[float, float] | None:
    """(mu, sigma) of a normal prior; None for uniform, and for a range so narrow that sigma
    underflows to 0 (a few subnormals wide), where the bell is indistinguishable from flat."""
    if p.distribution not in _NORMALS:
        return None
    sigma = (high - low) / (2 * _SIGMAS)
    return (low + (high - low) / 2, sigma) if sigma > 0 else None  # low + high may overflow


class SpaceCodec:
    """All codecs of a search space, and the hyperopt search space they form."""

    def __init__(self, space: SearchSpace):
        self.space = space
        self.codecs = tuple(codec_for(p) for p in space)
        self._converters = [(c.parameter.name, c.converter) for c in self.codecs]

    def expression(self) -> dict:
        return {c.parameter.name: c.expression() for c in self.codecs}

    def to_vals(self, point: Mapping[str, Value]) -> dict[str, list[float]]:
        """A point as hyperopt's ``misc.vals`` (one value per label)."""
        return {name: [convert(point[name])] for name, convert in self._converters}

    def from_vals(self, vals: Mapping[str, Sequence[float]]) -> Point:
        return {c.parameter.name: c.from_internal(vals[c.parameter.name][0]) for c in self.codecs}
